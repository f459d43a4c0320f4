//! QPQ risk over the API: everyone's own score explained and advised, named people for security admins
//! only, aggregates for auditors, small groups hidden; the score follows the facts.

use crate::helpers::{seeded, spawn_app};
use bonafide_store::Backend;
use serde_json::{Value, json};

on_both!(a_score_is_explained_and_follows_the_facts, who_sees_what_of_risk);

fn points(v: &Value) -> f64 {
    v["factors"].as_array().unwrap().iter().map(|f| f["points"].as_f64().unwrap()).sum()
}

fn advised(v: &Value) -> Vec<String> {
    v["advice"].as_array().unwrap().iter().map(|a| a["factor"].as_str().unwrap().to_owned()).collect()
}

async fn a_score_is_explained_and_follows_the_facts(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let before = app.get("/api/v1/risk/me", &t.erin).await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(before.str("email"), "erin@example.com");
    // The score is the base plus its factors' points, and its level follows it.
    let score = before.body["score"].as_f64().unwrap();
    assert_eq!(score, (before.body["base"].as_f64().unwrap() + points(&before.body)).clamp(0.0, 100.0));
    assert!(advised(&before.body).contains(&"authenticator".to_owned()), "{}", before.text);
    let step = before.body["advice"].as_array().unwrap().iter().find(|a| a["factor"] == "authenticator").unwrap();
    assert_eq!(
        (step["step"].as_str().unwrap(), step["points"].as_f64().unwrap()),
        ("enrol an authenticator app", -10.0)
    );
    // Erin enrols an authenticator: 10 points less, and it is no longer advised.
    let erin = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    let now = app.clock_now();
    app.store.set_totp_pending(erin.id, "sealed", now).await.unwrap();
    assert!(app.store.confirm_totp(erin.id, 1, &[], now, &seeded("totp.confirmed")).await.unwrap());
    let enrolled = app.get("/api/v1/risk/me", &t.erin).await;
    assert_eq!(enrolled.body["score"].as_f64().unwrap(), (score - 10.0).max(0.0), "{}", enrolled.text);
    assert!(!advised(&enrolled.body).contains(&"authenticator".to_owned()));
    // She reports a contact she complied with: −4 for reporting, +25 for complying.
    let report =
        json!({ "channel": "phone", "caller_number": "+1 555 010 7777", "asked_for": ["mfa_code"], "complied": true });
    assert_eq!(app.post("/api/v1/reports", &t.erin, report).await.status, 201);
    let reported = app.get("/api/v1/risk/me", &t.erin).await;
    let factors: Vec<(String, f64)> = reported.body["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["factor"].as_str().unwrap().to_owned(), f["points"].as_f64().unwrap()))
        .collect();
    assert!(
        factors.contains(&("complied".into(), 25.0)) && factors.contains(&("reports_filed".into(), -4.0)),
        "{factors:?}"
    );
    app.drop_db().await;
}

async fn who_sees_what_of_risk(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    for (token, who) in [(&t.erin, "an employee"), (&t.sam, "IT staff"), (&t.auditor, "an auditor")] {
        assert_eq!(app.get("/api/v1/risk/people", token).await.status, 403, "{who}");
    }
    for (token, who) in [(&t.erin, "an employee"), (&t.sam, "IT staff")] {
        assert_eq!(app.get("/api/v1/risk/departments", token).await.status, 403, "{who}");
    }
    assert_eq!(app.get("/api/v1/risk/me", &t.suspended).await.status, 401);
    let people = app.get("/api/v1/risk/people", &t.admin).await;
    assert_eq!(people.status, 200, "{}", people.text);
    let scores: Vec<f64> = people.body.as_array().unwrap().iter().map(|p| p["score"].as_f64().unwrap()).collect();
    assert!(scores.len() >= 5 && scores.windows(2).all(|w| w[0] >= w[1]), "highest first: {scores:?}");
    let finance = app.get("/api/v1/risk/people?department=Finance", &t.admin).await;
    assert!(finance.body.as_array().unwrap().iter().all(|p| p["department"] == "Finance"), "{}", finance.text);
    assert_eq!(app.get("/api/v1/risk/people?level=extreme", &t.admin).await.fields(), ["level"]);
    // Auditors see aggregates: the company first; a department under five people shows nothing.
    let groups = app.get("/api/v1/risk/departments", &t.auditor).await;
    assert_eq!(groups.status, 200, "{}", groups.text);
    let all = groups.body.as_array().unwrap();
    assert_eq!(
        (all[0]["department"].clone(), all[0]["hidden"].clone()),
        (json!(null), json!(false)),
        "{}",
        groups.text
    );
    assert!(all[0]["mean"].is_number() && all[0]["by_level"]["low"].is_number());
    for g in &all[1..] {
        if g["hidden"] == json!(true) {
            assert!(g.get("mean").is_none() && g["people"] == 0, "{g}");
        }
    }
    assert!(all.iter().any(|g| g["hidden"] == json!(true)), "the test company has small departments: {}", groups.text);
    app.drop_db().await;
}
