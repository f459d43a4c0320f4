//! Issue 19 §4, end to end on the real binary: `bonafide serve --log-json` with `metrics_listen`, a
//! service token made by `bonafide token create --service prometheus --scope metrics`, Prometheus's own
//! `promtool check metrics` on a real scrape, and the JSON log lines, each carrying its request's id and
//! no token.
//!
//! Needs `promtool` (Debian: `prometheus`; `.ci/run` installs it). Under `CI=true` a missing promtool
//! fails the test; elsewhere it is reported and skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::Kill;
use serde_json::Value;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn promtool() -> Option<String> {
    ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_owned)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until `dir/serve.log` has a line with `needle` in it.
async fn wait_for_log(path: &std::path::Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = std::fs::read_to_string(path).unwrap_or_default();
        if log.contains(needle) {
            return log;
        }
        assert!(Instant::now() < deadline, "no log line with {needle}:\n{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn promtool_accepts_a_real_scrape_and_every_log_line_is_json_with_its_request_id() {
    let Some(promtool) = promtool() else {
        assert!(std::env::var("CI").is_err(), "CI must run the metrics test: install prometheus (promtool)");
        let _ = std::io::stderr().write_all(b"SKIPPED the promtool test: promtool is not installed; install it with `sudo apt-get install prometheus` (under CI=true this fails)\n");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let log_path = dir.path().join("serve.log");
    let _serve = Kill(
        Command::new(env!("CARGO_BIN_EXE_bonafide"))
            .args(["serve", "--db", "sqlite://bonafide.db", "--listen", &format!("127.0.0.1:{port}"), "--log-json"])
            .current_dir(dir.path())
            .env("BONAFIDE_SECRET", "ab".repeat(32))
            .env("BONAFIDE_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    bonafide_web::install_tls_provider();
    let client = reqwest::Client::new();
    common::wait_healthy(&client, &base).await;

    let made = Command::new(env!("CARGO_BIN_EXE_bonafide"))
        .args(["token", "create", "--db", "sqlite://bonafide.db", "--service", "prometheus", "--scope", "metrics"])
        .arg("--json")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let token = serde_json::from_slice::<Value>(&made.stdout).unwrap()["api_token"].as_str().unwrap().to_owned();

    // Some traffic: a few routes, refusals, a raw path with an email in it and a client's request id.
    for path in ["/healthz", "/api/v1/staff/IT-0042", "/api/v1/people/erin@example.com/access", "/nowhere"] {
        client.get(format!("{base}{path}")).bearer_auth("wrong-token-1234").send().await.unwrap();
    }
    let traced = client.get(format!("{base}/healthz")).header("x-request-id", "metrics-test-41").send().await;
    assert_eq!(traced.unwrap().headers()["x-request-id"], "metrics-test-41");

    let scrape = client.get(format!("{base}/metrics")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(scrape.status(), 200);
    let text = scrape.text().await.unwrap();
    assert!(text.contains("route=\"/api/v1/staff/{staff_id}\""), "{text}");
    for personal in ["IT-0042", "erin", "example.com", "nowhere"] {
        assert!(!text.contains(personal), "the scrape holds {personal}:\n{text}");
    }
    let open = client.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await.unwrap();
    assert_eq!(open.status(), 200, "the metrics listener needs no token");
    let open = open.text().await.unwrap();
    assert!(open.contains("bonafide_build_info{version="), "{open}");
    let elsewhere = client.get(format!("http://127.0.0.1:{metrics_port}/api/v1/me")).send().await.unwrap();
    assert_eq!(elsewhere.status(), 404, "the metrics listener serves nothing else");

    for (what, scrape) in [("main listener", &text), ("metrics listener", &open)] {
        let mut check = Command::new(&promtool)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        check.stdin.take().unwrap().write_all(scrape.as_bytes()).unwrap();
        let out = check.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool refuses the {what}'s scrape: {}{}\n{scrape}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let log = wait_for_log(&log_path, "metrics-test-41").await;
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {l}")))
        .collect();
    let traced: Vec<&Value> = lines.iter().filter(|l| l["span"]["request_id"] == "metrics-test-41").collect();
    assert!(!traced.is_empty(), "no line carries the request id:\n{log}");
    assert!(traced.iter().any(|l| l["fields"]["status"] == 200), "the answer is logged:\n{log}");
    for secret in [token.as_str(), "wrong-token-1234", &"ab".repeat(32), "erin@example.com"] {
        assert!(!log.contains(secret), "the log holds {secret}:\n{log}");
    }
}
