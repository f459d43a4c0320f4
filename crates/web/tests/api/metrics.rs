//! Issue 19 §4: `GET /metrics` for a service token with the `metrics` scope (the refusals are problems),
//! counters by route template and verdict with no personal data in them, gauges read from the database
//! so every instance agrees, and the request id every answer carries.

use crate::helpers::{Body, TestApp, sams_call, spawn_app, spawn_app_with, wrong};
use bonafide_store::Backend;
use reqwest::Method;
use serde_json::json;
use std::collections::HashSet;

on_both!(
    metrics_are_for_a_service_token_with_the_metrics_scope,
    metrics_count_by_route_template_and_verdict_and_name_nobody,
    every_answer_carries_a_request_id_of_its_own,
    a_failed_webhook_delivery_is_counted_and_waits_in_the_backlog,
    a_check_locked_by_wrong_codes_is_counted_once,
);

/// A service token made as the operator would (`bonafide token create --service NAME --scope …`).
async fn service_token(app: &TestApp, name: &str, scopes: &[&str]) -> String {
    let secret = std::sync::Arc::new(bonafide_auth::ChallengeSecret::from_hex(&"ab".repeat(32)).unwrap());
    let instance = bonafide_app::App::new(app.store.clone(), app.clock.clone(), secret, app.config_app().clone());
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let (_, token) = bonafide_app::resources::create_service_token(&instance, name, &scopes).await.unwrap();
    token.reveal().to_owned()
}

/// The value of the sample written exactly as `series` (name and labels), if there is one.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_are_for_a_service_token_with_the_metrics_scope(backend: Backend) {
    let app = spawn_app(backend).await;
    let none = app.send(Method::GET, "/metrics", None, Body::Empty).await;
    assert_eq!((none.status, none.problem()), (401, "urn:bonafide:problem:unauthorized"), "{}", none.text);
    assert_eq!(app.get("/metrics", "not-a-token").await.status, 401);
    assert_eq!(app.get_authorized("/metrics", "Basic cHJvbWV0aGV1czp4").await.status, 401);
    for (token, who) in [(&app.tokens.admin, "a security admin"), (&app.tokens.erin, "an employee")] {
        let r = app.get("/metrics", token).await;
        assert_eq!((r.status, r.problem()), (403, "urn:bonafide:problem:forbidden"), "{who}: {}", r.text);
    }
    let nginx = service_token(&app, "nginx", &["authorize"]).await;
    let r = app.get("/metrics", &nginx).await;
    assert_eq!((r.status, r.problem()), (403, "urn:bonafide:problem:forbidden"), "{}", r.text);
    let refusals = app.store.audit_entries(&Default::default(), 100).await.unwrap();
    assert!(
        refusals.iter().any(|e| e.action == "access.denied" && e.target == "metrics" && e.actor == "service:nginx"),
        "the refused service is in the audit log"
    );

    let prometheus = service_token(&app, "prometheus", &["metrics"]).await;
    let r = app.get("/metrics", &prometheus).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    let version = format!("bonafide_build_info{{version=\"{}\"}}", env!("CARGO_PKG_VERSION"));
    assert_eq!(sample(&r.text, &version), Some(1.0), "{}", r.text);
    // A service token reaches nothing else.
    assert_eq!(app.get("/api/v1/me", &prometheus).await.status, 401);
    app.drop_db().await;
}

async fn metrics_count_by_route_template_and_verdict_and_name_nobody(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let prometheus = service_token(&app, "prometheus", &["metrics"]).await;
    // Traffic full of emails, numbers and staff ids: in paths, bodies and queries.
    assert_eq!(app.get("/api/v1/staff/IT-0042", &t.erin).await.status, 200);
    assert_eq!(app.get("/api/v1/staff/IT-9999", &t.erin).await.status, 404);
    assert_eq!(app.get("/api/v1/staff?q=sam.carter%40example.com", &t.erin).await.status, 200);
    assert_eq!(app.get("/api/v1/people/erin@example.com/access", &t.admin).await.status, 200);
    assert_eq!(app.get("/no/such/page/finn@example.com", &t.erin).await.status, 404);
    let key = app.open_request(&t.erin, "VPN drops every hour").await;
    app.assign(&key, "IT-0042", &t.sam).await;
    let check = app.open_check(&t.erin, sams_call()).await;
    assert_eq!(check.str("verdict"), "challenge_required", "{}", check.text);
    let code = app.console_code(&t.sam, &key).await;
    let id = check.str("id").to_owned();
    assert_eq!(app.answer(&id, &t.erin, &code).await.str("verdict"), "verified");
    let again = app.open_check(&t.erin, sams_call()).await;
    assert_eq!(app.answer(again.str("id"), &t.erin, &wrong(&code)).await.str("verdict"), "unverified");
    let cold = json!({ "channel": "phone", "claimed_staff_id": "IT-0007", "caller_number": "+1 312 555 0188" });
    assert_eq!(app.open_check(&t.finn, cold).await.str("verdict"), "unverified");
    let ways = [
        ("(555) 010-9999", &t.erin),
        ("+1 555 010 9999", &t.finn),
        ("555.010.9999", &t.sam),
        ("1-555-010-9999", &t.kim),
    ];
    for (number, token) in ways {
        let report = json!({ "channel": "phone", "caller_number": number, "claimed_name": "Mike from IT",
            "caller_address": "helpdesk@examp1e.com", "asked_for": ["mfa_code"] });
        assert_eq!(app.post("/api/v1/reports", token, report).await.status, 201);
    }

    let text = app.get("/metrics", &prometheus).await.text;
    let requests = |method: &str, route: &str, status: u16| {
        sample(
            &text,
            &format!("bonafide_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}}"),
        )
    };
    assert_eq!(requests("GET", "/api/v1/staff/{staff_id}", 200), Some(1.0), "{text}");
    assert_eq!(requests("GET", "/api/v1/staff/{staff_id}", 404), Some(1.0), "{text}");
    assert_eq!(requests("GET", "/api/v1/people/{email}/access", 200), Some(1.0), "{text}");
    assert_eq!(requests("GET", "unmatched", 404), Some(1.0), "{text}");
    assert_eq!(requests("POST", "/api/v1/reports", 201), Some(4.0), "{text}");
    let count = "bonafide_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/staff/{staff_id}\"}";
    assert_eq!(sample(&text, count), Some(2.0), "{text}");
    // Each verdict decided counts: two checks opened awaiting a code, one verified by it, one turned
    // unverified by a wrong code, one cold call.
    assert_eq!(sample(&text, "bonafide_checks_total{verdict=\"challenge_required\"}"), Some(2.0), "{text}");
    assert_eq!(sample(&text, "bonafide_checks_total{verdict=\"verified\"}"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "bonafide_checks_total{verdict=\"unverified\"}"), Some(2.0), "{text}");
    let failed = "bonafide_check_reasons_total{verdict=\"unverified\",reason=\"challenge_failed\"}";
    assert_eq!(sample(&text, failed), Some(1.0), "{text}");
    let cold = "bonafide_check_reasons_total{verdict=\"unverified\",reason=\"no_open_request\"}";
    assert_eq!(sample(&text, cold), Some(1.0), "{text}");
    assert_eq!(sample(&text, "bonafide_challenge_failures_total"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "bonafide_challenge_passes_total"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "bonafide_challenge_locks_total"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "bonafide_reports_total"), Some(4.0), "{text}");
    assert_eq!(sample(&text, "bonafide_active_campaigns{severity=\"high\"}"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "bonafide_active_campaigns{severity=\"low\"}"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "bonafide_webhook_delivery_backlog"), Some(0.0), "{text}");
    assert!(text.contains("bonafide_db_pool_connections{pool="), "{text}");
    assert_eq!(text.contains("bonafide_sqlite_worker_queue_depth "), backend == Backend::Sqlite, "{text}");

    let erin = app.get("/api/v1/me", &t.erin).await;
    let mut personal = vec![
        "@",
        "example.com",
        "examp1e.com",
        "IT-00",
        "555",
        "0142",
        "erin",
        "Erin",
        "Sam",
        "Mike",
        "VPN",
        &key,
        &id,
        &code,
        erin.str("id"),
    ];
    personal.retain(|p| !p.is_empty());
    // Names and labels only: a sample's value is a number, and digits of a latency may spell anything.
    let named: Vec<&str> =
        text.lines().map(|l| if l.starts_with('#') { l } else { l.rsplit_once(' ').unwrap().0 }).collect();
    let named = named.join("\n");
    for p in personal {
        assert!(!named.contains(p), "the scrape holds `{p}`:\n{text}");
    }

    // State is read from the database: another instance reports the same campaigns, but counts only its
    // own requests.
    let other = app.spawn_instance().await;
    let there = other.get("/metrics", &prometheus).await.text;
    assert_eq!(sample(&there, "bonafide_active_campaigns{severity=\"high\"}"), Some(1.0), "{there}");
    assert_eq!(sample(&there, "bonafide_reports_total"), Some(0.0), "{there}");
    app.drop_db().await;
}

async fn every_answer_carries_a_request_id_of_its_own(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut seen = HashSet::new();
    for path in ["/healthz", "/healthz", "/api/v1/me", "/nowhere", "/metrics"] {
        let r = app.send(Method::GET, path, None, Body::Empty).await;
        let id = r.header("x-request-id").to_owned();
        assert!(!id.is_empty(), "{path} has no X-Request-Id");
        assert!(seen.insert(id.clone()), "{path}: {id} given twice");
    }
    let client = reqwest::Client::new();
    let with = |id: &'static str| client.get(format!("{}/healthz", app.base())).header("x-request-id", id).send();
    let kept = with("4f1c2a9e-lb-17").await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "4f1c2a9e-lb-17", "a sane id is kept");
    for bad in ["two words", "<script>", &*"x".repeat(65).leak()] {
        let replaced = with(bad).await.unwrap();
        let id = replaced.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(id != bad && id.len() == 32, "{bad:?} is replaced by a fresh id, not {id:?}");
    }
    app.drop_db().await;
}

async fn a_failed_webhook_delivery_is_counted_and_waits_in_the_backlog(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.app.webhooks.allow_private = true).await;
    let t = &app.tokens;
    let prometheus = service_token(&app, "prometheus", &["metrics"]).await;
    // An address nothing listens on: every attempt fails and is retried later.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/hook");
    let created = app.post("/api/v1/webhooks", &t.admin, json!({ "url": url, "kinds": ["report.filed"] })).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let report = json!({ "channel": "phone", "caller_number": "(555) 010-9999", "claimed_name": "Mike" });
    assert_eq!(app.post("/api/v1/reports", &t.erin, report).await.status, 201);
    let failed = "bonafide_webhook_deliveries_total{outcome=\"failed\"}";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let text = loop {
        let text = app.get("/metrics", &prometheus).await.text;
        if sample(&text, failed) == Some(1.0) {
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "the failed attempt was not counted:\n{text}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(sample(&text, "bonafide_webhook_delivery_backlog"), Some(1.0), "{text}");
    assert!(!text.contains(&url) && !text.contains("/hook"), "the webhook's address is not a label:\n{text}");
    app.drop_db().await;
}

async fn a_check_locked_by_wrong_codes_is_counted_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let prometheus = service_token(&app, "prometheus", &["metrics"]).await;
    let key = app.open_request(&t.erin, "VPN drops every hour").await;
    app.assign(&key, "IT-0042", &t.kim).await;
    let id = app.open_check(&t.erin, sams_call()).await.str("id").to_owned();
    let bad = wrong(&app.console_code(&t.sam, &key).await);
    for _ in 0..bonafide_domain::MAX_CHALLENGE_ATTEMPTS {
        app.answer(&id, &t.erin, &bad).await;
    }
    assert_eq!(app.answer(&id, &t.erin, &bad).await.body["reasons"], json!(["challenge_locked"]));
    let text = app.get("/metrics", &prometheus).await.text;
    assert_eq!(
        sample(&text, "bonafide_challenge_failures_total"),
        Some(5.0),
        "the locked check counts no more:\n{text}"
    );
    assert_eq!(sample(&text, "bonafide_challenge_locks_total"), Some(1.0), "{text}");
    app.drop_db().await;
}
