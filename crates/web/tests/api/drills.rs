//! QPQ drills over HTTP: written, refused and launched by the right roles, sent through a chat webhook
//! receiver, graded on the landing page (a GET is only `opened`, the button is `clicked`, typing is
//! `complied` with nothing typed kept) and by reports (a drill report is a practice run that joins no
//! campaign; a real report that shares nothing with the drill is not swallowed), with results that
//! respect who may see people.

use crate::helpers::{TestApp, spawn_app_with};
use axum::http::Method;
use bonafide_store::Backend;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

on_both!(a_drill_is_sent_graded_on_the_procedure_and_reported_as_practice, drills_refuse_bad_input_and_the_wrong_roles,);

/// A chat webhook receiver: every request's `X-Bonafide-Drill` header and JSON body.
#[derive(Clone, Default)]
struct Chat(Arc<Mutex<Vec<(String, Value)>>>);

async fn chat_receiver() -> (String, Chat) {
    let chat = Chat::default();
    let seen = chat.clone();
    let app = axum::Router::new().route(
        "/chat",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let header = headers.get("x-bonafide-drill").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                seen.0.lock().unwrap().push((header, serde_json::from_slice(&body).unwrap_or(Value::Null)));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/chat", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, chat)
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The link token in a message.
fn token_in(text: &str) -> String {
    let at = text.find("/d/").expect("the message has the link") + 3;
    text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

fn person<'a>(results: &'a Value, email: &str) -> &'a Value {
    results["people"].as_array().unwrap().iter().find(|p| p["email"] == email).unwrap()
}

/// A page of the landing (HTML, not the API's problems): its status and text.
async fn page(app: &TestApp, method: Method, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let body: String = fields.iter().map(|(k, v)| format!("{k}={}", v.replace(' ', "+"))).collect::<Vec<_>>().join("&");
    let mut request = reqwest::Client::new().request(method.clone(), format!("{}{path}", app.base()));
    if method == Method::POST {
        request = request.header("content-type", "application/x-www-form-urlencoded").body(body);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    page(app, Method::POST, path, fields).await
}

async fn a_drill_is_sent_graded_on_the_procedure_and_reported_as_practice(backend: Backend) {
    let (url, chat) = chat_receiver().await;
    let app = spawn_app_with(backend, |c| c.app.drills.chat_webhook_url = Some(url)).await;
    let t = &app.tokens;
    let drill = json!({
        "name": "December slow logins", "scenario": "slow-logins", "channel": "chat",
        "targets": { "emails": ["erin@example.com", "Finn@Example.com"] },
    });
    let created = app.post("/api/v1/drills", &t.admin, drill).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.str("status"), "draft");
    assert_eq!(created.body["scenario"]["claimed_staff_id"], "IT-4471");
    let id = created.str("id").to_owned();
    assert_eq!(app.get("/api/v1/drills", &t.auditor).await.body.as_array().map(Vec::len), Some(1));

    let launched = app.post(&format!("/api/v1/drills/{id}/launch"), &t.admin, json!({})).await;
    assert_eq!(launched.status, 200, "{}", launched.text);
    assert_eq!(launched.str("status"), "running");
    assert_eq!(launched.body["target_count"], 2);
    assert_eq!(app.post(&format!("/api/v1/drills/{id}/launch"), &t.admin, json!({})).await.status, 409);

    // Sent through the chat webhook: one message each, the link unique, the header genuine.
    wait_for("both messages", || chat.0.lock().unwrap().len() == 2).await;
    let sent = chat.0.lock().unwrap().clone();
    let mut tokens = std::collections::HashMap::new();
    for (header, body) in &sent {
        let email = body["email"].as_str().unwrap().to_owned();
        let text = body["text"].as_str().unwrap();
        assert!(text.contains("slow logins"), "{text}");
        let check = json!({ "header": header, "recipient": email });
        let verified = app.post("/api/v1/drills/verify-header", &t.admin, check).await;
        assert_eq!(verified.body["genuine"], true, "{}", verified.text);
        let copied = json!({ "header": header, "recipient": "someone.else@example.com" });
        assert_eq!(app.post("/api/v1/drills/verify-header", &t.admin, copied).await.body["genuine"], false);
        tokens.insert(email, token_in(text));
    }
    let (erin, finn) = (&tokens["erin@example.com"], &tokens["finn@example.com"]);
    assert_ne!(erin, finn);
    let results = |who: &'static str| {
        let token = if who == "admin" { t.admin.clone() } else { t.auditor.clone() };
        let id = id.clone();
        let app = &app;
        async move { app.get(&format!("/api/v1/drills/{id}/results"), &token).await }
    };

    // A GET is an open, never a click: scanners fetch links.
    let (status, opened) = page(&app, Method::GET, &format!("/d/{erin}"), &[]).await;
    assert_eq!(status, 200);
    assert!(opened.contains("Continue") && !opened.contains("practice drill"), "{opened}");
    let r = results("admin").await;
    assert_eq!(person(&r.body, "erin@example.com")["outcome"], "ignored");
    assert!(person(&r.body, "erin@example.com")["opened_at"].is_string());
    assert_eq!(page(&app, Method::GET, "/d/not-a-token", &[]).await.0, 404);

    // Typing into the page is compliance; only the count of characters is kept.
    let marker = "Zq7-secret-typed-PASSWORD";
    let (status, lesson) = form(&app, &format!("/d/{erin}"), &[("username", "erin"), ("secret", marker)]).await;
    assert_eq!(status, 200);
    assert!(lesson.contains("This was a practice drill") && lesson.contains("<mark"), "{lesson}");
    assert!(lesson.contains("Nobody, IT included"), "the policy's rules are in the lesson");
    assert!(!lesson.contains(marker));
    let r = results("admin").await;
    let erin_result = person(&r.body, "erin@example.com");
    assert_eq!(erin_result["outcome"], "complied");
    assert_eq!(erin_result["typed_chars"], 4 + marker.len());
    assert!(erin_result["lesson_read_at"].is_null());
    let (status, read) = form(&app, &format!("/d/{erin}/read"), &[]).await;
    assert_eq!(status, 200);
    assert!(read.contains("marked read"));
    // Finn's lesson does not exist before a mistake.
    assert_eq!(form(&app, &format!("/d/{finn}/read"), &[]).await.0, 404);

    // A report naming the drill's number is the drill's result, a practice run: no campaign.
    let report = json!({ "channel": "chat", "caller_number": "+1 415 555 0142", "claimed_name": "IT Service Desk" });
    let filed = app.post("/api/v1/reports", &t.finn, report.clone()).await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    assert!(filed.str("practice").starts_with("Well done"), "{}", filed.text);
    assert!(filed.body.get("campaign_id").is_none());
    // Someone the drill was not sent to who reports the same number files a real report.
    let real = app.post("/api/v1/reports", &t.sam, report).await;
    assert_eq!(real.status, 201);
    assert!(real.body.get("practice").is_none(), "{}", real.text);
    let listed = app.get("/api/v1/reports?scope=all", &t.admin).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1), "only the real report is a report: {}", listed.text);

    let r = results("admin").await;
    assert_eq!(person(&r.body, "finn@example.com")["outcome"], "reported");
    assert_eq!(r.body["totals"]["outcomes"]["complied"], 1);
    assert_eq!(r.body["totals"]["outcomes"]["reported"], 1);
    assert_eq!(r.body["totals"]["opened"], 1, "Finn never opened it");

    // Auditors read aggregates of groups of at least the minimum size only.
    let audited = results("auditor").await;
    assert_eq!(audited.status, 200);
    assert!(audited.body.get("people").is_none_or(Value::is_null), "{}", audited.text);
    assert!(audited.body["departments"].as_array().unwrap().iter().all(|d| d["counts"].is_null()));
    assert_eq!(audited.body["totals"]["targets"], 2);
    let csv = app.get(&format!("/api/v1/drills/{id}/results?format=csv"), &t.admin).await.text;
    assert!(csv.starts_with("email,name,department,outcome"), "{csv}");
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.contains("erin@example.com,Erin Walsh,Finance,complied,sent"), "{csv}");

    // A person's history: security admins only.
    let history = app.get("/api/v1/people/erin@example.com/drills", &t.admin).await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert_eq!(history.body[0]["outcome"], "complied");
    assert_eq!(history.body[0]["repeat_mistake"], false);
    assert_eq!(app.get("/api/v1/people/erin@example.com/drills", &t.auditor).await.status, 403);
    assert_eq!(app.get("/api/v1/people/nobody@example.com/drills", &t.admin).await.status, 404);

    // The company's switch makes results anonymous, for security admins too.
    assert_eq!(app.put("/api/v1/drills/settings", &t.auditor, json!({ "anonymous": true })).await.status, 403);
    assert_eq!(app.put("/api/v1/drills/settings", &t.admin, json!({ "anonymous": true })).await.status, 200);
    let anonymous = results("admin").await;
    assert_eq!(anonymous.body["anonymous"], true);
    assert!(anonymous.body.get("people").is_none_or(Value::is_null));
    assert_eq!(app.get("/api/v1/people/erin@example.com/drills", &t.admin).await.status, 403);

    // Stopping ends it; the typed text is in no row of the database (the backup holds every row).
    assert_eq!(app.post(&format!("/api/v1/drills/{id}/stop"), &t.admin, json!({})).await.body["status"], "stopped");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.backup");
    app.store.backup(&file, &|_, _| {}).await.unwrap();
    let everything = std::fs::read(&file).unwrap();
    let has = |needle: &str| everything.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(has("erin@example.com") && has("December slow logins"), "the backup holds the drill's rows");
    assert!(!has(marker), "what was typed reached the database");
}

async fn drills_refuse_bad_input_and_the_wrong_roles(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let t = &app.tokens;
    let good = json!({ "name": "Quota", "scenario": "mailbox-quota", "channel": "email", "targets": { "all": true } });
    for token in [&t.auditor, &t.erin, &t.sam] {
        assert_eq!(app.post("/api/v1/drills", token, good.clone()).await.status, 403);
    }
    for token in [&t.erin, &t.sam] {
        assert_eq!(app.get("/api/v1/drills", token).await.status, 403);
        assert_eq!(app.get("/api/v1/drills/scenarios", token).await.status, 403);
    }
    let cases = [
        (json!({ "name": "x", "scenario": "lottery", "channel": "email", "targets": { "all": true } }), "scenario"),
        (json!({ "name": "x", "scenario": "slow-logins", "channel": "email", "targets": {} }), "targets"),
        (
            json!({ "name": "x", "scenario": "slow-logins", "channel": "email", "targets": { "emails": ["nobody@example.com"] } }),
            "targets.emails",
        ),
        (
            json!({ "name": "x", "scenario": "slow-logins", "channel": "email", "targets": { "departments": ["Moon"] } }),
            "targets.departments",
        ),
        (
            json!({ "name": "x", "scenario": "slow-logins", "channel": "email", "targets": { "all": true }, "window_hours": 10000 }),
            "window_hours",
        ),
        (json!({ "name": " ", "scenario": "slow-logins", "channel": "email", "targets": { "all": true } }), "name"),
        (
            json!({ "name": "x", "scenario": { "sender_name": "IT", "body": "", "ask": "password" }, "channel": "email", "targets": { "all": true } }),
            "scenario.body",
        ),
    ];
    for (body, field) in cases {
        let r = app.post("/api/v1/drills", &t.admin, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert!(r.fields().contains(&field), "{body}: {:?}", r.fields());
    }
    assert_eq!(app.post("/api/v1/drills", &t.admin, json!({ "name": "x", "channel": "fax" })).await.status, 422);
    // Without a mail server, an email drill is written but cannot be launched.
    let created = app.post("/api/v1/drills", &t.admin, good).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.str("id");
    let launch = app.post(&format!("/api/v1/drills/{id}/launch"), &t.admin, json!({})).await;
    assert_eq!(launch.status, 422);
    assert!(launch.text.contains("smtp_url"), "{}", launch.text);
    assert_eq!(app.post(&format!("/api/v1/drills/{id}/launch"), &t.auditor, json!({})).await.status, 403);
    assert_eq!(app.post(&format!("/api/v1/drills/{id}/stop"), &t.admin, json!({})).await.status, 409);
    assert_eq!(app.get("/api/v1/drills/not-an-id", &t.admin).await.status, 404);
    assert_eq!(app.get(&format!("/api/v1/drills/{id}/results?format=xml"), &t.admin).await.status, 422);
    let scenarios = app.get("/api/v1/drills/scenarios", &t.auditor).await;
    assert_eq!(scenarios.body.as_array().map(Vec::len), Some(6));
}
