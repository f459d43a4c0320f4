//! Several server instances on one PostgreSQL database: a check belongs to the database, not to the
//! instance that opened it, and the attempt limit holds however the answers are spread.

use crate::helpers::{Api, TestApp, sams_call, spawn_app, wrong};
use bonafide_domain::CheckId;
use bonafide_store::Backend;
use serde_json::json;

on_postgres!(
    a_check_opened_on_one_instance_is_answered_on_another,
    wrong_codes_on_two_instances_add_up_to_one_lock,
    concurrent_wrong_codes_on_two_instances_count_exactly_five,
);

/// Erin's request assigned to Sam and a check for Sam's call, opened on `on`; returns (check id, code).
async fn open_sams_call(app: &TestApp, on: &Api) -> (String, String) {
    let t = &app.tokens;
    let key = on.open_request(&t.erin, "VPN drops every hour").await;
    on.assign(&key, "IT-0042", &t.kim).await;
    let check = on.open_check(&t.erin, sams_call()).await;
    assert_eq!(check.str("verdict"), "challenge_required", "{}", check.text);
    (check.str("id").to_owned(), on.console_code(&t.sam, &key).await)
}

async fn a_check_opened_on_one_instance_is_answered_on_another(backend: Backend) {
    let app = spawn_app(backend).await;
    let b = app.spawn_instance().await;
    let (id, code) = open_sams_call(&app, &app.api).await;
    assert_eq!(b.console_code(&app.tokens.sam, "R-1001").await, code, "same secret, same clock, same code");
    let r = b.answer(&id, &app.tokens.erin, &code).await;
    assert_eq!((r.str("verdict"), r.body["reasons"].clone()), ("verified", json!([])));
    let read = app.get(&format!("/api/v1/checks/{id}"), &app.tokens.erin).await;
    assert_eq!(read.str("verdict"), "verified", "instance A sees what B recorded");
    app.drop_db().await;
}

async fn wrong_codes_on_two_instances_add_up_to_one_lock(backend: Backend) {
    let app = spawn_app(backend).await;
    let b = app.spawn_instance().await;
    let erin = &app.tokens.erin;
    let (id, code) = open_sams_call(&app, &b).await;
    let bad = wrong(&code);
    for (left, on) in [(4, &app.api), (3, &b), (2, &app.api), (1, &b)] {
        let r = on.answer(&id, erin, &bad).await;
        assert_eq!(
            (r.body["reasons"].clone(), r.body["attempts_left"].clone()),
            (json!(["challenge_failed"]), json!(left))
        );
    }
    let fifth = app.answer(&id, erin, &bad).await;
    assert_eq!(
        (fifth.body["reasons"].clone(), fifth.body["attempts_left"].clone()),
        (json!(["challenge_locked"]), json!(0))
    );
    let sixth = app.answer(&id, erin, &code).await;
    assert_eq!(sixth.str("verdict"), "unverified", "the right code after the lock");
    assert_eq!(sixth.body["reasons"], json!(["challenge_locked"]));
    let on_b = b.answer(&id, erin, &code).await;
    assert_eq!((on_b.str("verdict"), on_b.body["reasons"].clone()), ("unverified", json!(["challenge_locked"])));
    let alerts = b.get("/api/v1/alerts", &app.tokens.admin).await;
    assert_eq!(alerts.body.as_array().unwrap().len(), 1, "{}", alerts.text);
    assert_eq!(alerts.body[0]["check_id"], json!(id));
    app.drop_db().await;
}

async fn concurrent_wrong_codes_on_two_instances_count_exactly_five(backend: Backend) {
    let app = spawn_app(backend).await;
    let b = app.spawn_instance().await;
    let erin = &app.tokens.erin;
    let (id, code) = open_sams_call(&app, &app.api).await;
    let bad = wrong(&code);
    let attempts: Vec<_> = (0..10)
        .map(|i| {
            let on = if i % 2 == 0 { app.api.clone() } else { b.clone() };
            let (id, erin, bad) = (id.clone(), erin.clone(), bad.clone());
            tokio::spawn(async move { on.answer(&id, &erin, &bad).await })
        })
        .collect();
    let mut replies = Vec::new();
    for attempt in attempts {
        replies.push(attempt.await.unwrap());
    }
    let mut left: Vec<u64> = replies.iter().map(|r| r.body["attempts_left"].as_u64().unwrap()).collect();
    left.sort_unstable();
    assert_eq!(left, [0, 0, 0, 0, 0, 0, 1, 2, 3, 4], "each count seen once, then only the lock");
    for r in &replies {
        assert_eq!(r.str("verdict"), "unverified");
    }
    let check = app.store.check(id.parse::<CheckId>().unwrap()).await.unwrap().unwrap();
    assert_eq!((check.challenge.failures, check.challenge.locked), (5, true), "exactly five were counted");
    let alerts = app.get("/api/v1/alerts", &app.tokens.admin).await;
    let alerts = alerts.body.as_array().unwrap();
    assert_eq!(alerts.len(), 1, "one lock, one alert: {alerts:?}");
    assert_eq!(alerts[0]["kind"], "challenge_locked");
    let read = b.get(&format!("/api/v1/checks/{id}"), erin).await;
    assert_eq!(
        (read.body["attempts_left"].clone(), read.body["reasons"].clone()),
        (json!(0), json!(["challenge_locked"]))
    );
    app.drop_db().await;
}
