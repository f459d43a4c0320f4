//! Shared by the integration tests that run the real binary.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A child process killed when dropped (also when a test fails).
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `bonafide ARGS` run in `dir` to its end, with none of the operator's `BONAFIDE_DB`, `BONAFIDE_SECRET`
/// or `BONAFIDE_CONFIG` leaking in.
#[allow(dead_code, reason = "each test binary compiles this module; not every test runs one-off commands")]
pub fn bonafide(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bonafide"))
        .args(args)
        .current_dir(dir)
        .env_remove("BONAFIDE_DB")
        .env_remove("BONAFIDE_SECRET")
        .env_remove("BONAFIDE_CONFIG")
        .output()
        .unwrap()
}

/// `bonafide demo` on a free port in `dir`, once its credentials file is written: the running process
/// and the credentials (`base_url`, `people` with tokens and the run's password). What it prints goes
/// to `dir/demo.out`.
#[allow(dead_code, reason = "each test binary compiles this module; the metrics test serves no demo")]
pub async fn start_demo(dir: &Path) -> (Kill, serde_json::Value) {
    start_demo_with(dir, &[]).await
}

/// [`start_demo`] with `env` added to the demo's environment (settings as `BONAFIDE_<KEY>`).
#[allow(dead_code, reason = "each test binary compiles this module; only the browser test sets settings")]
pub async fn start_demo_with(dir: &Path, env: &[(String, String)]) -> (Kill, serde_json::Value) {
    let out = std::fs::File::create(dir.join("demo.out")).expect("demo.out can be written");
    let child = Command::new(env!("CARGO_BIN_EXE_bonafide"))
        .args(["demo", "--listen", "127.0.0.1:0", "--credentials-out", "people.json"])
        .current_dir(dir)
        .env_remove("BONAFIDE_SECRET")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .expect("the bonafide binary starts");
    let demo = Kill(child);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(v) = std::fs::read(dir.join("people.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()) {
            return (demo, v);
        }
        assert!(Instant::now() < deadline, "the demo did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (up to 60 s) until `base` answers `GET /healthz`.
pub async fn wait_healthy(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

/// Sends `request` and reads its answer as JSON (any status).
#[allow(dead_code, reason = "each test binary compiles this module; the browser test reads no JSON")]
pub async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.expect("the server answers").json().await.expect("a JSON answer")
}
