//! QPQ risk over the API: everyone's own score explained and advised, named people for security admins
//! only, aggregates for auditors, small groups hidden; the score follows the facts.

use crate::helpers::{seeded, spawn_app};
use bonafide_store::Backend;
use serde_json::{Value, json};

on_both!(
    a_score_is_explained_and_follows_the_facts,
    who_sees_what_of_risk,
    settings_are_versioned_checked_and_previewed,
    one_snapshot_a_day_keeps_the_trend_and_holds_the_tolerance,
    access_policies_see_the_risk_level_of_the_latest_snapshot,
    the_home_page_shows_ones_risk_and_what_lowers_it,
    the_departments_follow_every_change_made_anywhere,
);

/// An application over the test's store, as another instance (or the background job) runs it.
pub(crate) fn instance(app: &crate::helpers::TestApp) -> bonafide_app::App {
    let (secret, _) = bonafide_auth::ChallengeSecret::generate();
    bonafide_app::App::new(app.store.clone(), app.clock.clone(), std::sync::Arc::new(secret), app.config_app().clone())
}

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

/// The departments' profiles are kept between calls (`bench risk`), but never past a change: one through
/// this server, one written by another instance straight to the database.
async fn the_departments_follow_every_change_made_anywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let mean = |v: &Value| v[0]["mean"].as_f64().unwrap();
    let first = app.get("/api/v1/risk/departments", &t.admin).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(mean(&app.get("/api/v1/risk/departments", &t.auditor).await.body), mean(&first.body), "kept");
    let report =
        json!({ "channel": "phone", "caller_number": "+1 555 010 7777", "asked_for": ["mfa_code"], "complied": true });
    assert_eq!(app.post("/api/v1/reports", &t.erin, report).await.status, 201);
    let reported = app.get("/api/v1/risk/departments", &t.admin).await;
    assert!(mean(&reported.body) > mean(&first.body), "{} then {}", first.text, reported.text);
    // Another instance: Erin enrols an authenticator there.
    let erin = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    let now = app.clock_now();
    app.store.set_totp_pending(erin.id, "sealed", now).await.unwrap();
    assert!(app.store.confirm_totp(erin.id, 1, &[], now, &seeded("totp.confirmed")).await.unwrap());
    let enrolled = app.get("/api/v1/risk/departments", &t.admin).await;
    assert!(mean(&enrolled.body) < mean(&reported.body), "{} then {}", reported.text, enrolled.text);
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

async fn settings_are_versioned_checked_and_previewed(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    for (token, who) in [(&t.erin, "an employee"), (&t.sam, "IT staff"), (&t.auditor, "an auditor")] {
        assert_eq!(app.get("/api/v1/risk/settings", token).await.status, 403, "{who}");
        assert_eq!(app.put("/api/v1/risk/settings", token, json!({})).await.status, 403, "{who}");
        assert_eq!(app.post("/api/v1/risk/settings/preview", token, json!({})).await.status, 403, "{who}");
    }
    let defaults = app.get("/api/v1/risk/settings", &t.admin).await;
    assert_eq!((defaults.status, defaults.body["version"].clone()), (200, json!(0)), "{}", defaults.text);
    assert_eq!(defaults.body["settings"]["weights"]["passkey"], json!(-10.0));
    let bad = json!({ "weights": { "passkey": "lots" }, "tolerance": { "company": { "max_high_share": 3 } } });
    let r = app.put("/api/v1/risk/settings", &t.admin, bad).await;
    let mut fields = r.fields();
    fields.sort_unstable();
    assert_eq!((r.status, fields), (422, vec!["tolerance.company.max_high_share", "weights.passkey"]), "{}", r.text);
    assert_eq!(app.get("/api/v1/risk/settings", &t.admin).await.body["version"], json!(0), "nothing written");
    // A preview changes nothing; a strict tolerance breaches.
    let strict = json!({ "tolerance": { "company": { "max_high_share": 0 } }, "base": 60 });
    let preview = app.post("/api/v1/risk/settings/preview", &t.admin, strict.clone()).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert_eq!(preview.body[0]["breaches"], json!(["high_share"]), "{}", preview.text);
    assert_eq!(app.get("/api/v1/risk/settings", &t.admin).await.body["version"], json!(0));
    let saved = app.put("/api/v1/risk/settings", &t.admin, json!({ "weights": { "passkey": -15 } })).await;
    assert_eq!((saved.status, saved.body["version"].clone()), (200, json!(1)), "{}", saved.text);
    let me = app.get("/api/v1/risk/me", &t.erin).await;
    let passkey = me.body["advice"].as_array().unwrap().iter().find(|a| a["factor"] == "passkey").cloned();
    assert_eq!(passkey.map(|a| a["points"].clone()), Some(json!(-15.0)), "{}", me.text);
    assert_eq!(crate::portal::audited(&app, "risk.settings_published").await.len(), 1);
    app.drop_db().await;
}

async fn one_snapshot_a_day_keeps_the_trend_and_holds_the_tolerance(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let (a, b) = (instance(&app), instance(&app));
    assert!(bonafide_app::risk::snapshot(&a).await.unwrap(), "the first instance takes the day");
    assert!(!bonafide_app::risk::snapshot(&b).await.unwrap(), "the second does not take it again");
    let day = bonafide_app::risk::day_of(app.clock_now());
    let snapshot = app.store.risk_day(&day).await.unwrap();
    // The snapshot and the live score agree on the day.
    let live = app.get("/api/v1/risk/people", &t.admin).await;
    assert_eq!(snapshot.len(), live.body.as_array().unwrap().len());
    for p in live.body.as_array().unwrap() {
        let person = app.store.person_by_email(&p["email"].as_str().unwrap().parse().unwrap()).await.unwrap().unwrap();
        let row = snapshot.iter().find(|s| s.person == person.id).unwrap();
        assert_eq!((row.score, row.level), (p["score"].as_f64().unwrap(), p["level"].as_str().unwrap()), "{p}");
    }
    let trend = app.get("/api/v1/risk/trend?days=90", &t.auditor).await;
    assert_eq!((trend.status, trend.body.as_array().unwrap().len()), (200, 1), "{}", trend.text);
    assert_eq!(trend.body[0]["day"], json!(day));
    assert_eq!(app.get("/api/v1/risk/trend", &t.erin).await.status, 403);
    assert_eq!(app.get("/api/v1/risk/trend?days=0", &t.admin).await.fields(), ["days"]);
    // Nobody tolerated at high: tomorrow's snapshot opens one breach and one alert.
    let strict = json!({ "base": 60, "tolerance": { "company": { "max_high_share": 0 } } });
    assert_eq!(app.put("/api/v1/risk/settings", &t.admin, strict).await.status, 200);
    app.advance(86_400);
    assert!(bonafide_app::risk::snapshot(&a).await.unwrap());
    let alerts =
        |r: &crate::helpers::Reply| r.body.as_array().unwrap().iter().filter(|x| x["kind"] == "risk_tolerance").count();
    let listed = app.get("/api/v1/alerts", &t.admin).await;
    assert_eq!(alerts(&listed), 1, "{}", listed.text);
    app.advance(86_400);
    assert!(bonafide_app::risk::snapshot(&b).await.unwrap());
    assert_eq!(alerts(&app.get("/api/v1/alerts", &t.admin).await), 1, "one alert while it lasts");
    // Everything tolerated: the breach ends with an event.
    let lax =
        json!({ "base": 60, "tolerance": { "company": { "max_high_share": 1, "no_privileged_critical": false } } });
    assert_eq!(app.put("/api/v1/risk/settings", &t.admin, lax).await.status, 200);
    app.advance(86_400);
    assert!(bonafide_app::risk::snapshot(&a).await.unwrap());
    let events = app.get("/api/v1/events", &t.admin).await;
    assert!(events.text.contains("risk.tolerance_restored"), "{}", events.text);
    assert_eq!(app.get("/api/v1/risk/trend", &t.admin).await.body.as_array().unwrap().len(), 4);
    // CSV exports.
    let csv = app.get("/api/v1/risk/departments?format=csv", &t.auditor).await;
    assert_eq!(csv.status, 200);
    assert!(csv.text.starts_with("department,people,mean,"), "{}", csv.text);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let people = app.get("/api/v1/risk/people?format=csv", &t.admin).await;
    assert!(people.text.contains("erin@example.com"), "{}", people.text);
    assert_eq!(app.get("/api/v1/risk/people?format=csv", &t.auditor).await.status, 403);
    assert_eq!(app.get("/api/v1/risk/departments?format=xml", &t.admin).await.fields(), ["format"]);
    app.drop_db().await;
}

async fn access_policies_see_the_risk_level_of_the_latest_snapshot(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let wiki = json!({ "id": "wiki", "kind": "app", "name": "Wiki", "sensitivity": "low" });
    assert_eq!(app.post("/api/v1/resources", &t.admin, wiki).await.status, 201);
    let level = app.get("/api/v1/risk/me", &t.erin).await.body["level"].as_str().unwrap().to_owned();
    let policies = format!(
        "@id(\"at-her-level\") permit (principal, action, resource) when {{ principal has risk_level && principal.risk_level == \"{level}\" }};"
    );
    assert_eq!(app.post("/api/v1/access-policies", &t.admin, json!({ "policies": policies })).await.status, 201);
    let ask = json!({ "principal": "erin@example.com", "action": "access", "resource": "wiki" });
    // Before the first snapshot nobody has a level; the snapshot changes the next decision.
    assert_eq!(app.post("/api/v1/authorize", &t.admin, ask.clone()).await.str("decision"), "deny");
    assert!(bonafide_app::risk::snapshot(&instance(&app)).await.unwrap());
    let d = app.post("/api/v1/authorize", &t.admin, ask.clone()).await;
    assert_eq!(d.str("decision"), "allow", "erin's level ({level}) is in the snapshot: {}", d.text);
    let other = if level == "critical" { "low" } else { "critical" };
    let policies = format!(
        "permit (principal, action, resource) when {{ principal has risk_level && principal.risk_level == \"{other}\" }};"
    );
    assert_eq!(app.post("/api/v1/access-policies", &t.admin, json!({ "policies": policies })).await.status, 201);
    assert_eq!(app.post("/api/v1/authorize", &t.admin, ask).await.str("decision"), "deny");
    app.drop_db().await;
}

async fn the_home_page_shows_ones_risk_and_what_lowers_it(backend: Backend) {
    let app = spawn_app(backend).await;
    crate::portal::set_password(&app, "erin@example.com").await;
    let mut b = crate::portal::signed_in(&app, "erin@example.com", None).await;
    let me = app.get("/api/v1/risk/me", &app.tokens.erin).await;
    let home = b.get("/").await;
    assert_eq!(home.status, 200, "{}", home.text);
    assert!(home.text.contains("Your QPQ risk"), "{}", home.text);
    let level = me.body["level"].as_str().unwrap();
    assert!(home.text.contains(&format!("badge risk-{level}")), "{}", home.text);
    assert!(home.text.contains("enrol an authenticator app: \u{2212}10"), "{}", home.text);
    app.drop_db().await;
}
