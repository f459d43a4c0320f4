//! The database's connections cut under load, as a failover or an administrator ending backends does:
//! nothing answers 500, every refusal says when to try again, and nothing acknowledged is lost.

use crate::helpers::{TestApp, sams_call, spawn_app_with};
use bonafide_store::Backend;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

on_postgres!(regression_14_8_cut_connections_answer_503_and_lose_nothing);

/// What one client saw: the ids of what was acknowledged, and how many answers were "unavailable".
#[derive(Default)]
struct Seen {
    /// (the opener's token, the check's id): a check is only its opener's to read.
    checks: Vec<(String, String)>,
    reports: Vec<String>,
    unavailable: usize,
    answered: usize,
}

/// Opens checks, reads them back and files reports until `stop`; `Api::send` fails the test on a 500.
async fn client(app: Arc<TestApp>, token: String, stop: Arc<AtomicBool>) -> Seen {
    let mut seen = Seen::default();
    let note = |status: u16, retry_after: &str, seen: &mut Seen| {
        seen.answered += 1;
        if status == 503 {
            assert_eq!(retry_after, "1", "a 503 says when to retry");
            seen.unavailable += 1;
        }
        status
    };
    while !stop.load(Ordering::Relaxed) {
        let opened = app.post("/api/v1/checks", &token, sams_call()).await;
        if note(opened.status, opened.header("retry-after"), &mut seen) == 201 {
            let id = opened.str("id").to_owned();
            let read = app.get(&format!("/api/v1/checks/{id}"), &token).await;
            assert!(matches!(note(read.status, read.header("retry-after"), &mut seen), 200 | 503), "{}", read.text);
            seen.checks.push((token.clone(), id));
        } else {
            assert_eq!(opened.status, 503, "{}", opened.text);
        }
        let report = json!({ "channel": "phone", "caller_number": "555 010 9999", "asked_for": ["mfa_code"] });
        let filed = app.post("/api/v1/reports", &token, report).await;
        match note(filed.status, filed.header("retry-after"), &mut seen) {
            201 => seen.reports.push(filed.str("id").to_owned()),
            status => assert_eq!(status, 503, "{}", filed.text),
        }
    }
    seen
}

async fn regression_14_8_cut_connections_answer_503_and_lose_nothing(backend: Backend) {
    let app = Arc::new(spawn_app_with(backend, |c| c.app.checks_per_minute = 100_000).await);
    let key = app.open_request(&app.tokens.erin, "VPN drops every hour").await;
    app.assign(&key, "IT-0042", &app.tokens.kim).await;
    let key = app.open_request(&app.tokens.finn, "Printer jams").await;
    app.assign(&key, "IT-0042", &app.tokens.kim).await;

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = [&app.tokens.erin, &app.tokens.finn, &app.tokens.erin, &app.tokens.finn]
        .into_iter()
        .map(|token| tokio::spawn(client(app.clone(), token.clone(), stop.clone())))
        .collect();
    let mut ended = 0;
    for _ in 0..12 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        ended += app.cut_connections().await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut seen = Seen::default();
    for c in clients {
        let s = c.await.expect("a client saw no 500 and no malformed answer");
        seen.checks.extend(s.checks);
        seen.reports.extend(s.reports);
        seen.unavailable += s.unavailable;
        seen.answered += s.answered;
    }
    assert!(ended >= 12, "connections were cut under load ({ended})");
    assert!(!seen.checks.is_empty() && !seen.reports.is_empty(), "work got through between the cuts");

    // Everything acknowledged is there, read on a fresh connection.
    for (token, id) in &seen.checks {
        let r = app.get(&format!("/api/v1/checks/{id}"), token).await;
        assert_eq!(r.status, 200, "acknowledged check {id}: {}", r.text);
    }
    for id in &seen.reports {
        let r = app.get(&format!("/api/v1/reports/{id}"), &app.tokens.admin).await;
        assert_eq!(r.status, 200, "acknowledged report {id}: {}", r.text);
    }
    eprintln!(
        "{} answers, {} unavailable, {} checks and {} reports acknowledged, {ended} connections cut",
        seen.answered,
        seen.unavailable,
        seen.checks.len(),
        seen.reports.len()
    );
    Arc::try_unwrap(app).ok().expect("the clients are done").drop_db().await;
}
