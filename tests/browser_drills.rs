//! A QPQ drill in a real browser (headless Chromium through chromedriver) against `bonafide demo`, its
//! messages written to an outbox folder (`BONAFIDE_DRILL_OUTBOX_DIR`) instead of being sent: the
//! security admin writes and launches an email drill through the API; the employee opens the link from
//! the `.eml` at a phone's width (360 px), sees the imitation portal with nothing wider than the page,
//! types into it and gets the lesson (the message with its signs marked, the company's rules, a practice
//! check) and marks it read; the security admin (enrolling TOTP, which the role requires) then reads the
//! drill's page at 1280 px: one `complied`, both charts; and at 360 px nothing is wider than the page.
//! When a step fails, a screenshot is kept in `target/browser-screenshots/`.
//!
//! Needs `chromium` and `chromedriver`, as `tests/browser.rs`; under `CI=true` a missing browser fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

#[path = "common/browser.rs"]
#[expect(dead_code, reason = "this story starts its rig with `rig_with`, not `rig`")]
mod chrome;
mod common;

use chrome::{Step, click, enrol_totp, expect_text, fail, fill, sign_in};
use fantoccini::Client;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// The page's width against the window's: nothing may scroll sideways.
const NO_SIDEWAYS_SCROLL: &str = "const el = document.documentElement;
    return { scroll: el.scrollWidth, inner: window.innerWidth, ok: el.scrollWidth <= window.innerWidth };";

/// At the browser's current width, the page does not scroll sideways.
async fn fits(c: &Client, what: &str) -> Step {
    let m = c.execute(NO_SIDEWAYS_SCROLL, vec![]).await.map_err(|e| fail("measuring the page", e))?;
    if m["ok"] != json!(true) {
        return Err(format!("{what} scrolls sideways: {m}"));
    }
    Ok(())
}

/// Base64 as lettre writes a body (lines of 76, padding), or `None` when it is not.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut buffer, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for b in text.bytes().filter(|b| !b.is_ascii_whitespace() && *b != b'=') {
        buffer = (buffer << 6) | u32::try_from(ALPHABET.iter().position(|a| *a == b)?).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// Quoted-printable: soft line breaks joined, `=XX` decoded.
fn quoted_printable_decode(text: &str) -> Vec<u8> {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// The text of an `.eml`'s body, decoded by its `Content-Transfer-Encoding`.
fn body_of(eml: &str) -> String {
    let (head, body) = eml.split_once("\r\n\r\n").or_else(|| eml.split_once("\n\n")).expect("headers and a body");
    let encoding = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-transfer-encoding:").map(|v| v.trim().to_owned()))
        .unwrap_or_default();
    let bytes = match encoding.as_str() {
        "base64" => base64_decode(body).expect("a base64 body"),
        "quoted-printable" => quoted_printable_decode(body),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8(bytes).expect("a UTF-8 body")
}

/// The `.eml` files in `outbox` now.
fn emls(outbox: &Path) -> Vec<std::path::PathBuf> {
    let Ok(dir) = std::fs::read_dir(outbox) else { return Vec::new() };
    dir.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect()
}

/// The link token of the drill's message to Ana, once it is in `outbox` (up to 20 s): a file not among
/// `before` (the demo's own drills write there too), to her, of the re-enrolment scenario.
async fn token_in_outbox(outbox: &Path, before: &[std::path::PathBuf]) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        for path in emls(outbox).iter().filter(|p| !before.contains(p)) {
            let eml = std::fs::read_to_string(path).map_err(|e| fail("the .eml", e))?;
            let text = body_of(&eml);
            if !eml.contains("ana.lopez@example.com") || !(eml.contains("re-enrol") || text.contains("re-enrol")) {
                continue;
            }
            let at = text.find("/d/").ok_or_else(|| format!("no /d/ link in the message: {text}"))? + 3;
            let token: String =
                text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
            return if token.is_empty() { Err(format!("an empty link token: {text}")) } else { Ok(token) };
        }
        if Instant::now() > deadline {
            return Err(format!("no message to Ana in the outbox {} after 20 s", outbox.display()));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Writes and launches the email drill of Ana through the API as the security admin; its id.
async fn launch_drill(base: &str, token: &str) -> Result<String, String> {
    let http = reqwest::Client::new();
    let drill = json!({
        "name": "Browser drill", "scenario": "mfa-reenrol", "channel": "email",
        "targets": { "emails": ["ana.lopez@example.com"] },
    });
    let created = http.post(format!("{base}/api/v1/drills")).bearer_auth(token).json(&drill).send().await;
    let created = created.map_err(|e| fail("POST /api/v1/drills", e))?;
    let status = created.status();
    let body: Value = created.json().await.map_err(|e| fail("the drill", e))?;
    if status != 201 {
        return Err(format!("the drill was not created ({status}): {body}"));
    }
    let id = body["id"].as_str().ok_or("the drill has no id")?.to_owned();
    let launched = http.post(format!("{base}/api/v1/drills/{id}/launch")).bearer_auth(token).send().await;
    let launched = launched.map_err(|e| fail("launch", e))?;
    if launched.status() != 200 {
        return Err(format!("not launched ({}): {}", launched.status(), launched.text().await.unwrap_or_default()));
    }
    Ok(id)
}

/// The employee at 360 px: the imitation portal, typing into it, the lesson, marking it read.
async fn employee_falls_for_it(c: &Client, base: &str, token: &str) -> Step {
    c.goto(&format!("{base}/d/{token}")).await.map_err(|e| fail("open the drill's link", e))?;
    expect_text(c, "Continue").await?;
    fits(c, "the imitation portal").await?;
    fill(c, "#username", "ana.lopez").await?;
    fill(c, "#secret", "Spring2026!").await?;
    click(c, &format!("form[action='/d/{token}'] button[type=submit]")).await?;
    expect_text(c, "This was a practice drill").await?;
    let lesson = c
        .execute(
            "return { marks: document.querySelectorAll('mark').length,
                      rules: document.querySelectorAll('main ol li').length,
                      practice: [...document.querySelectorAll('a')].some(a => a.textContent.includes('Run a practice check')) };",
            vec![],
        )
        .await
        .map_err(|e| fail("reading the lesson", e))?;
    if lesson["marks"].as_u64().unwrap_or(0) == 0
        || lesson["rules"].as_u64().unwrap_or(0) == 0
        || lesson["practice"] != json!(true)
    {
        return Err(format!("the lesson lacks its marks, its rules or the practice check: {lesson}"));
    }
    fits(c, "the lesson").await?;
    click(c, &format!("form[action='/d/{token}/read'] button")).await?;
    expect_text(c, "marked read").await
}

/// What the drill's page shows, measured by the page itself.
const RESULTS: &str = "const cell = document.querySelector('td[data-outcome=complied]');
    return { complied: cell ? cell.textContent.trim() : null,
             charts: [...document.querySelectorAll('svg.chart')].map(s => s.id),
             people: !!document.getElementById('people') };";

/// The security admin reads the drill's page at 1280 px and at 360 px.
async fn security_reads_the_results(c: &Client, base: &str, email: &str, password: &str, id: &str) -> Step {
    c.set_window_size(1280, 900).await.map_err(|e| fail("window size", e))?;
    // The security admin's role needs a second factor: enrolling one signs them in fully.
    sign_in(c, base, email, password).await?;
    expect_text(c, "Your role needs a second factor").await?;
    enrol_totp(c).await?;
    c.goto(&format!("{base}/security/drills/{id}")).await.map_err(|e| fail("open the drill's page", e))?;
    expect_text(c, "Browser drill").await?;
    let m = c.execute(RESULTS, vec![]).await.map_err(|e| fail("reading the results", e))?;
    if m["complied"] != json!("1")
        || m["charts"] != json!(["outcomes-chart", "timeline-chart"])
        || m["people"] != json!(true)
    {
        return Err(format!("at 1280 px the results lack one complied, a chart or the people: {m}"));
    }
    c.set_window_size(360, 900).await.map_err(|e| fail("window size", e))?;
    c.refresh().await.map_err(|e| fail("reload", e))?;
    expect_text(c, "Browser drill").await?;
    fits(c, "the drill's page at 360 px").await
}

async fn story(employee: &Client, security: &Client, base: &str, outbox: &Path, admin: [&str; 3]) -> Step {
    let [email, password, api_token] = admin;
    let before = emls(outbox);
    let id = launch_drill(base, api_token).await?;
    let token = token_in_outbox(outbox, &before).await?;
    employee_falls_for_it(employee, base, &token).await?;
    security_reads_the_results(security, base, email, password, &id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_employee_falls_for_a_drill_on_a_phone_and_security_reads_the_results() {
    let outbox = tempfile::tempdir().unwrap();
    let env = [("BONAFIDE_DRILL_OUTBOX_DIR".to_owned(), outbox.path().display().to_string())];
    let Some(mut rig) = chrome::rig_with(&env).await else { return };
    let base = rig.base.clone();
    let rhea = rig.person("email", json!("rhea.grant@example.com")).clone();
    let field = |k: &str| rhea[k].as_str().unwrap_or_else(|| panic!("the demo's security admin has no {k}")).to_owned();
    let (email, password, api_token) = (field("email"), field("password"), field("api_token"));
    let (employee, security) = (rig.browser().await, rig.browser().await);
    let outcome = story(&employee, &security, &base, outbox.path(), [&email, &password, &api_token]).await;
    chrome::finish("drills", &outcome, &[("employee", &employee), ("security", &security)]).await;
    outcome.unwrap();
}
