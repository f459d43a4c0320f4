//! Events and webhooks over HTTP: the JSON-lines event stream, signed deliveries to a real receiver,
//! retries with backoff after a failure, the delivery log, and the address policy.

use crate::helpers::{spawn_app, spawn_app_with};
use bonafide_app::webhooks::{HostLookup, StaticLookup, WebhookPolicy, allowed_addresses};
use bonafide_store::Backend;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

on_both!(
    events_stream_as_json_lines_and_webhooks_are_signed_retried_and_logged,
    webhook_addresses_are_restricted,
    regression_14_11_creation_refuses_a_name_that_resolves_to_refused_addresses,
);

/// One request the receiver got: its headers and body.
type Request = (axum::http::HeaderMap, Vec<u8>);

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Request>>>);

/// A receiver that fails its first request with 500 and accepts every later one.
async fn receiver() -> (String, Received) {
    let received = Received::default();
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let mut all = seen.0.lock().unwrap();
                all.push((headers, body.to_vec()));
                if all.len() == 1 { axum::http::StatusCode::INTERNAL_SERVER_ERROR } else { axum::http::StatusCode::OK }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn hmac(secret: &str, timestamp: &str, body: &[u8]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

async fn events_stream_as_json_lines_and_webhooks_are_signed_retried_and_logged(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.app.webhooks.allow_private = true).await;
    let t = &app.tokens;
    let (url, received) = receiver().await;
    let body = json!({ "url": url, "kinds": ["campaign.detected"] });
    assert_eq!(app.post("/api/v1/webhooks", &t.auditor, body.clone()).await.status, 403);
    let created = app.post("/api/v1/webhooks", &t.admin, body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created.str("secret").to_owned();
    let hook = created.str("id").to_owned();
    assert!(secret.starts_with("whsec_"));
    let listed = app.get("/api/v1/webhooks", &t.admin).await;
    assert!(listed.body[0].get("secret").is_none(), "the secret is shown once");

    for token in [&t.erin, &t.finn, &t.sam] {
        let r = json!({ "channel": "phone", "caller_number": "(555) 010-9999", "claimed_name": "Mike" });
        assert_eq!(app.post("/api/v1/reports", token, r).await.status, 201);
    }
    // The first attempt fails (500): logged, retried after the backoff.
    wait_for("the first attempt", || received.0.lock().unwrap().len() == 1).await;
    let log_path = format!("/api/v1/webhooks/{hook}/deliveries");
    let mut log = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        log = app.get(&log_path, &t.admin).await.body;
        if log[0]["attempts"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!((log[0]["status"].as_str(), log[0]["last_status"].as_i64()), (Some("pending"), Some(500)), "{log}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(received.0.lock().unwrap().len(), 1, "no retry before the backoff");
    app.advance(11);
    wait_for("the retry", || received.0.lock().unwrap().len() == 2).await;
    let (headers, body) = received.0.lock().unwrap()[1].clone();
    let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
    assert_eq!(header("x-bonafide-event"), "campaign.detected");
    let timestamp = header("x-bonafide-timestamp");
    assert_eq!(header("x-bonafide-signature"), hmac(&secret, &timestamp, &body), "signed with the webhook's secret");
    assert_ne!(header("x-bonafide-signature"), hmac("whsec_wrong", &timestamp, &body));
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["kind"], "campaign.detected");
    assert_eq!(event["data"]["report_count"], 2, "two departments make a campaign");
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.get(&log_path, &t.admin).await.body[0]["status"] != "delivered" {
        assert!(Instant::now() < deadline, "the delivery was not recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = app.get(&log_path, &t.admin).await.body;
    assert_eq!((log.as_array().unwrap().len(), log[0]["attempts"].as_i64()), (1, Some(2)), "{log}");

    // The same events as JSON lines for a SIEM, resumable from the last sequence number read.
    let lines =
        app.api.send(reqwest::Method::GET, "/api/v1/events", Some(&t.auditor), crate::helpers::Body::Empty).await;
    assert_eq!(lines.status, 200);
    let events = lines.text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).collect::<Vec<_>>();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    // The third report comes from a third department: the campaign escalates to high.
    assert_eq!(kinds, vec!["report.filed", "campaign.detected", "report.filed", "campaign.escalated", "report.filed"]);
    let last = events.last().unwrap()["seq"].as_i64().unwrap();
    let after = app
        .api
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/events?after={last}"),
            Some(&t.auditor),
            crate::helpers::Body::Empty,
        )
        .await;
    assert_eq!(after.text, "");
    assert_eq!(app.get("/api/v1/events", &t.erin).await.status, 403);
    assert_eq!(app.get("/api/v1/events?limit=0", &t.auditor).await.status, 422);

    let deleted = app
        .api
        .send(reqwest::Method::DELETE, &format!("/api/v1/webhooks/{hook}"), Some(&t.admin), crate::helpers::Body::Empty)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(app.get(&log_path, &t.admin).await.status, 404);
    app.drop_db().await;
}

async fn webhook_addresses_are_restricted(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    for url in ["http://siem.example.com/hook", "https://127.0.0.1/hook", "https://169.254.169.254/", "nonsense"] {
        let r = app.post("/api/v1/webhooks", &t.admin, json!({ "url": url })).await;
        assert_eq!((r.status, r.fields()), (422, vec!["url"]), "{url}");
    }
    let kinds = app
        .post("/api/v1/webhooks", &t.admin, json!({ "url": "https://siem.example.com/h", "kinds": ["everything"] }))
        .await;
    assert_eq!(kinds.fields(), vec!["kinds"]);
    assert_eq!(app.get("/api/v1/webhooks", &t.admin).await.body, json!([]), "nothing was added");
    app.drop_db().await;
}

/// Issue 14, point 11: creation resolves a host name as delivery does and refuses, with delivery's
/// message, a name whose every address is refused; a name that does not resolve now is accepted.
async fn regression_14_11_creation_refuses_a_name_that_resolves_to_refused_addresses(backend: Backend) {
    let table: Arc<dyn HostLookup> = Arc::new(StaticLookup::new([
        ("intranet.example.com", vec!["10.0.0.5".parse().unwrap()]),
        ("siem.example.com", vec!["93.184.215.14".parse().unwrap()]),
        ("mixed.example.com", vec!["127.0.0.1".parse().unwrap(), "93.184.215.14".parse().unwrap()]),
    ]));
    let lookup = table.clone();
    let app = spawn_app_with(backend, move |c| c.host_lookup = Some(lookup)).await;
    let t = &app.tokens;
    let refused = app.post("/api/v1/webhooks", &t.admin, json!({ "url": "https://intranet.example.com/hook" })).await;
    assert_eq!((refused.status, refused.fields()), (422, vec!["url"]), "{}", refused.body);
    let message = refused.body["errors"][0]["message"].as_str().unwrap();
    assert_eq!(message, "intranet.example.com resolves only to refused addresses: 10.0.0.5 (private)");
    // The function delivery's resolver refuses with, over the same lookup and policy.
    let delivery = allowed_addresses(&*table, &WebhookPolicy::default(), "intranet.example.com").await;
    assert_eq!(delivery.unwrap_err().to_string(), message);
    assert_eq!(app.get("/api/v1/webhooks", &t.admin).await.body, json!([]), "nothing was stored");

    for url in ["https://siem.example.com/hook", "https://mixed.example.com/hook", "https://unknown.example.com/hook"] {
        let added = app.post("/api/v1/webhooks", &t.admin, json!({ "url": url })).await;
        assert_eq!(added.status, 201, "{url}: {}", added.body);
    }
    let listed = app.get("/api/v1/webhooks", &t.admin).await.body;
    let urls: Vec<&str> = listed.as_array().unwrap().iter().map(|w| w["url"].as_str().unwrap()).collect();
    assert_eq!(urls.len(), 3, "{listed}");
    assert!(urls.contains(&"https://siem.example.com/hook"), "{listed}");
    app.drop_db().await;
}
