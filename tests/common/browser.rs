//! What the browser tests share (`tests/browser.rs`, `tests/browser_risk.rs`, each including this file
//! with `#[path]`): chromedriver and the demo started for a test (or the test skipped, with a message on
//! the terminal, when the browser is missing outside CI), a headless Chromium, the steps every story
//! takes (fill, click, wait for text or a path, sign in, enrol TOTP) and the screenshots kept when a step
//! fails.

use crate::common::{self, Kill};
use bonafide_auth::totp::{TotpSeed, code_at};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A step of a story: what went wrong, in words, when it fails.
pub type Step = Result<(), String>;

/// `what` failed with `e`.
pub fn fail(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// A port nothing listens on just now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Where the command `name` is on the `PATH`, if it is.
pub fn tool(name: &str) -> Option<String> {
    let found = Command::new("sh").args(["-c", &format!("command -v {name}")]).output().ok()?;
    let path = String::from_utf8(found.stdout).ok()?.trim().to_owned();
    (!path.is_empty()).then_some(path)
}

/// Says on the terminal that a test was skipped, and how to install what it needs. Written to the process's
/// standard error itself, not through `eprintln!`, which the test harness captures and shows only on failure.
fn skipped(why: &str, install: &str) {
    use std::io::Write as _;
    let line = format!("SKIPPED the browser test: {why}; install them with `{install}` (under CI=true this fails)\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// A running chromedriver and `bonafide demo`, each stopped when this is dropped.
pub struct Rig {
    /// The chromedriver's address.
    pub driver: String,
    /// The demo's base URL.
    pub base: String,
    /// The demo's credentials (`people`, each with `email`, `roles`, `api_token`, `password`).
    pub creds: serde_json::Value,
    _driver: Kill,
    _demo: Kill,
    _dir: tempfile::TempDir,
    profiles: Vec<tempfile::TempDir>,
}

/// Starts chromedriver and the demo; `None` when Chromium or chromedriver is missing outside CI (said
/// on the terminal). Under `CI=true` a missing browser fails the test.
pub async fn rig() -> Option<Rig> {
    rig_with(&[]).await
}

/// [`rig`] with `env` added to the demo's environment.
pub async fn rig_with(env: &[(String, String)]) -> Option<Rig> {
    let (Some(chromedriver), Some(_)) = (tool("chromedriver"), tool("chromium")) else {
        assert!(std::env::var("CI").is_err(), "CI must run the browser tests: install chromium and chromium-driver");
        skipped("chromium and chromedriver are not installed", "sudo apt-get install chromium chromium-driver");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let driver = Kill(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (demo, creds) = common::start_demo_with(dir.path(), env).await;
    let base = creds["base_url"].as_str().unwrap().to_owned();
    bonafide_web::install_tls_provider();
    common::wait_healthy(&reqwest::Client::new(), &base).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let driver_url = format!("http://127.0.0.1:{port}");
    Some(Rig { driver: driver_url, base, creds, _driver: driver, _demo: demo, _dir: dir, profiles: Vec::new() })
}

impl Rig {
    /// The demo person whose `key` is `value` (`"email"`, `"roles"`…).
    pub fn person(&self, key: &str, value: serde_json::Value) -> &serde_json::Value {
        let people = self.creds["people"].as_array().unwrap();
        people.iter().find(|p| p[key] == value).unwrap_or_else(|| panic!("no demo person with {key} {value}"))
    }

    /// A new headless Chromium with a profile of its own, 360 px wide (a phone).
    pub async fn browser(&mut self) -> Client {
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--window-size=360,800",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        self.profiles.push(profile);
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": tool("chromium").unwrap_or_else(|| "/usr/bin/chromium".into()), "args": args }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector).capabilities(caps).connect(&self.driver).await.unwrap()
    }
}

/// When `outcome` is a failure, keeps a screenshot and the page's source of each browser in
/// `target/browser-screenshots/` (`{prefix}-{name}.png` and `.html`); then closes the browsers.
pub async fn finish(prefix: &str, outcome: &Step, browsers: &[(&str, &Client)]) {
    if let Err(why) = outcome {
        let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-screenshots");
        let _ = std::fs::create_dir_all(&shots);
        for (name, c) in browsers {
            if let Ok(png) = c.screenshot().await {
                let _ = std::fs::write(shots.join(format!("{prefix}-{name}.png")), png);
            }
            if let Ok(html) = c.source().await {
                let _ = std::fs::write(shots.join(format!("{prefix}-{name}.html")), html);
            }
        }
        eprintln!("browser story failed: {why}; screenshots in {}", shots.display());
    }
    for (_, c) in browsers {
        let _ = (*c).clone().close().await;
    }
}

/// Types `text` into the field at `css`, replacing what it held.
pub async fn fill(c: &Client, css: &str, text: &str) -> Step {
    let field = c.find(Locator::Css(css)).await.map_err(|e| fail(css, e))?;
    field.clear().await.map_err(|e| fail(css, e))?;
    field.send_keys(text).await.map_err(|e| fail(css, e))
}

/// Clicks the element at `css`.
pub async fn click(c: &Client, css: &str) -> Step {
    c.find(Locator::Css(css)).await.map_err(|e| fail(css, e))?.click().await.map_err(|e| fail(css, e))
}

/// The text of the element at `css`.
pub async fn text_of(c: &Client, css: &str) -> Result<String, String> {
    c.find(Locator::Css(css)).await.map_err(|e| fail(css, e))?.text().await.map_err(|e| fail(css, e))
}

/// Waits (up to 10 s: a form's answer may still be loading) for `needle` to be on the page.
pub async fn expect_text(c: &Client, needle: &str) -> Step {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let html = c.source().await.map_err(|e| fail("page source", e))?;
        if html.contains(needle) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            return Err(format!("expected {needle:?} on {url}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next TOTP code that the server has not accepted yet: one step ahead (accepted as clock drift),
/// so signing in right after enrolling does not wait for the next 30 seconds.
pub fn totp_ahead(seed: &TotpSeed, steps: i64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    code_at(seed, now + 30 * steps)
}

/// Signs in at `base` with `email` and `password`.
pub async fn sign_in(c: &Client, base: &str, email: &str, password: &str) -> Step {
    c.goto(&format!("{base}/signin")).await.map_err(|e| fail("open /signin", e))?;
    fill(c, "#email", email).await?;
    fill(c, "#password", password).await?;
    click(c, "button[type=submit]").await
}

/// On the enrolment page: shows the QR code, reads the key, confirms with a code; returns the seed.
pub async fn enrol_totp(c: &Client) -> Result<TotpSeed, String> {
    click(c, "form[action='/account/totp/start'] button").await?;
    expect_text(c, "Scan this code").await?;
    let svg = c.find(Locator::Css(".qr svg")).await.map_err(|e| fail("QR code", e))?;
    svg.attr("viewBox").await.map_err(|e| fail("QR code", e))?.ok_or("the QR code has no viewBox")?;
    let key = text_of(c, "main code").await?;
    let seed = TotpSeed::from_bytes(base32_decode(&key).ok_or("the key is not base32")?).map_err(|e| fail("key", e))?;
    fill(c, "#code", &totp_ahead(&seed, 0)).await?;
    click(c, "form[action='/account/totp/confirm'] button").await?;
    expect_text(c, "Keep these recovery codes").await?;
    Ok(seed)
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut buffer, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for ch in text.trim().chars() {
        buffer = (buffer << 5) | u32::try_from(ALPHABET.find(ch)?).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}
