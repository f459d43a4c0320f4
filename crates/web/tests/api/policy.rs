//! The contact policy: versions written by security and read by everyone, refused naming each bad field,
//! acknowledged by each person (idempotent; a replaced version is a conflict), counted per department,
//! enforced by the version in force when a check is judged, and reminders sent once per person.

use crate::helpers::{TestApp, sams_call, spawn_app};
use crate::portal::audited;
use bonafide_app::policy;
use bonafide_auth::ChallengeSecret;
use bonafide_store::Backend;
use serde_json::{Value, json};
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

on_both!(
    versions_are_written_by_security_and_read_by_everyone,
    bad_rules_are_refused_naming_each_field_and_change_nothing,
    acknowledging_is_idempotent_and_a_replaced_version_is_a_conflict,
    acknowledgements_are_counted_per_department_for_security_readers,
    checks_are_judged_by_the_version_in_force_and_carry_its_number,
    reminders_are_sent_once_per_person_and_version_whoever_runs_them,
);

fn at(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// Password resets only on video or in person; no SMS; acknowledgements due in 7 days.
fn company_rules() -> Value {
    json!({
        "channels": ["phone", "video", "chat", "email", "in_person"],
        "categories": {"password_reset": ["video", "in_person"]},
        "service_desk_number": "+1 201 555 0100",
        "ack_due_days": 7,
    })
}

async fn publish(app: &TestApp, rules: Value) -> Value {
    let r = app.post("/api/v1/policy", &app.tokens.admin, json!({ "rules": rules, "text": "Our **rules**." })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

async fn versions_are_written_by_security_and_read_by_everyone(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    // Before any version, the built-in default is in force, as version 0.
    let none = app.get("/api/v1/policy", &t.erin).await;
    assert_eq!((none.status, none.body["version"].clone()), (200, json!(0)), "{}", none.text);
    assert_eq!(none.body["rules"]["face_to_face_only"], json!(["software_install", "login_walkthrough"]));
    assert_eq!(app.get("/api/v1/policy/versions", &t.erin).await.body, json!([]));
    let body = json!({ "rules": company_rules(), "text": "Our **rules**." });
    for (token, who) in [(&t.erin, "an employee"), (&t.sam, "IT staff"), (&t.auditor, "an auditor")] {
        let r = app.post("/api/v1/policy", token, body.clone()).await;
        assert_eq!((r.status, r.problem()), (403, "urn:bonafide:problem:forbidden"), "{who}");
    }
    let suspended = app.get("/api/v1/policy", &t.suspended).await;
    assert_eq!(suspended.status, 401, "{}", suspended.text);
    assert_eq!(app.get("/api/v1/policy", "not-a-token").await.status, 401);

    let v1 = publish(&app, company_rules()).await;
    assert_eq!((v1["version"].clone(), v1["text"].clone()), (json!(1), json!("Our **rules**.")));
    assert_eq!(v1["effective_at"], json!(at(app.clock_now())));
    assert_eq!(v1["ack_due_at"], json!(at(app.clock_now() + Duration::days(7))));
    assert_eq!(v1["rules"]["service_desk_number"], "+12015550100");
    assert_eq!(v1["rules"]["channels"], json!(["phone", "video", "chat", "email", "in_person"]));
    let words = v1["rules_in_words"].as_array().unwrap();
    assert!(words[0].as_str().unwrap().contains("password"), "the built-in rules come first: {words:?}");
    assert!(words.contains(&json!("Password reset requests are handled only on video or in person.")), "{words:?}");

    let current = app.get("/api/v1/policy", &t.finn).await;
    assert_eq!((current.body["version"].clone(), current.body.get("acknowledged_at")), (json!(1), None));
    let v2 = publish(&app, json!({})).await;
    assert_eq!(v2["version"], 2);
    let list = app.get("/api/v1/policy/versions", &t.erin).await;
    let numbers: Vec<&Value> = list.body.as_array().unwrap().iter().map(|v| &v["version"]).collect();
    assert_eq!(numbers, [&json!(2), &json!(1)]);
    let one = app.get("/api/v1/policy/versions/1", &t.erin).await;
    assert_eq!((one.status, one.body["rules"].clone()), (200, v1["rules"].clone()));
    for missing in ["3", "0", "x", "-1", "99999999999"] {
        let r = app.get(&format!("/api/v1/policy/versions/{missing}"), &t.erin).await;
        assert_eq!((r.status, r.problem()), (404, "urn:bonafide:problem:not-found"), "{missing}");
    }
    // Audited, and announced as events.
    let audit = audited(&app, "policy.published").await;
    assert_eq!(
        audit.iter().map(|(actor, target, _)| (actor.as_str(), target.as_str())).collect::<Vec<_>>(),
        [("ada.reyes@example.com", "2"), ("ada.reyes@example.com", "1")]
    );
    let events = app.get("/api/v1/events", &t.auditor).await;
    assert_eq!(events.text.matches("\"policy.published\"").count(), 2, "{}", events.text);
    // A version can be scheduled: it is in force only from its time.
    let later = app.clock_now() + Duration::hours(1);
    let r = app.post("/api/v1/policy", &t.admin, json!({ "rules": {}, "text": "", "effective_at": at(later) })).await;
    assert_eq!((r.status, r.body["version"].clone()), (201, json!(3)), "{}", r.text);
    assert_eq!(app.get("/api/v1/policy", &t.erin).await.body["version"], 2);
    app.advance(3600);
    assert_eq!(app.get("/api/v1/policy", &t.erin).await.body["version"], 3);
    app.drop_db().await;
}

async fn bad_rules_are_refused_naming_each_field_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = &app.tokens.admin;
    publish(&app, company_rules()).await;
    let bad = json!({
        "channels": ["phone", "fax"],
        "face_to_face_only": ["password"],
        "categories": {"password_reset": []},
        "contact_hours": {"zone": "Mars/Olympus", "days": ["mon"], "from": "8am", "to": "18:00"},
        "ack_due_days": 0,
    });
    let r = app.post("/api/v1/policy", admin, json!({ "rules": bad, "text": "" })).await;
    assert_eq!((r.status, r.problem()), (422, "urn:bonafide:problem:invalid-input"), "{}", r.text);
    let mut fields = r.fields();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "rules.ack_due_days",
            "rules.categories.password_reset",
            "rules.channels[1]",
            "rules.contact_hours.from",
            "rules.contact_hours.zone",
            "rules.face_to_face_only[0]",
        ]
    );
    let cases = [
        (json!({ "rules": {}, "text": "", "effective_at": "tomorrow" }), "effective_at"),
        (json!({ "rules": {}, "text": "", "effective_at": at(app.clock_now() - Duration::days(1)) }), "effective_at"),
        (json!({ "rules": {}, "text": "x".repeat(policy::MAX_TEXT + 1) }), "text"),
        (json!({ "rules": {}, "text": "a\u{0007}b" }), "text"),
        (json!({ "rules": [], "text": "" }), "rules"),
        (json!({ "rules": {"sms": true}, "text": "" }), "rules.sms"),
    ];
    for (body, field) in cases {
        let r = app.post("/api/v1/policy", admin, body.clone()).await;
        assert_eq!((r.status, r.fields()), (422, vec![field]), "{body}: {}", r.text);
    }
    for body in [json!({ "rules": {} }), json!({ "rules": {}, "text": "", "extra": 1 }), json!("policy")] {
        assert_eq!(app.post("/api/v1/policy", admin, body.clone()).await.status, 422, "{body}");
    }
    // A later version may not take effect before the newest one.
    let scheduled = at(app.clock_now() + Duration::days(2));
    assert_eq!(
        app.post("/api/v1/policy", admin, json!({ "rules": {}, "text": "", "effective_at": scheduled })).await.status,
        201
    );
    let earlier = at(app.clock_now() + Duration::days(1));
    let r = app.post("/api/v1/policy", admin, json!({ "rules": {}, "text": "", "effective_at": earlier })).await;
    assert_eq!((r.status, r.fields()), (422, vec!["effective_at"]), "{}", r.text);
    // Nothing was written by any refusal.
    let versions = app.get("/api/v1/policy/versions", admin).await;
    assert_eq!(versions.body.as_array().unwrap().len(), 2);
    assert_eq!(app.get("/api/v1/policy", admin).await.body["version"], 1);
    app.drop_db().await;
}

async fn acknowledging_is_idempotent_and_a_replaced_version_is_a_conflict(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let r = app.post("/api/v1/policy/versions/1/acknowledge", &t.erin, json!({})).await;
    assert_eq!(r.status, 404, "nothing to acknowledge yet: {}", r.text);
    publish(&app, company_rules()).await;
    let first = app.post("/api/v1/policy/versions/1/acknowledge", &t.erin, json!({})).await;
    assert_eq!((first.status, first.body["version"].clone()), (200, json!(1)), "{}", first.text);
    let when = first.str("acknowledged_at").to_owned();
    assert_eq!(when, at(app.clock_now()));
    app.advance(60);
    let again = app.post("/api/v1/policy/versions/1/acknowledge", &t.erin, json!({})).await;
    assert_eq!((again.status, again.str("acknowledged_at")), (200, when.as_str()), "the first time stands");
    assert_eq!(app.get("/api/v1/policy", &t.erin).await.body["acknowledged_at"], json!(when));
    assert_eq!(app.get("/api/v1/policy", &t.finn).await.body.get("acknowledged_at"), None);
    assert_eq!(audited(&app, "policy.acknowledged").await.len(), 1, "once");
    assert_eq!(app.post("/api/v1/policy/versions/1/acknowledge", &t.suspended, json!({})).await.status, 401);

    publish(&app, json!({})).await;
    let stale = app.post("/api/v1/policy/versions/1/acknowledge", &t.finn, json!({})).await;
    assert_eq!((stale.status, stale.problem()), (409, "urn:bonafide:problem:conflict"), "{}", stale.text);
    assert!(stale.text.contains("version 2"), "{}", stale.text);
    assert_eq!(app.post("/api/v1/policy/versions/3/acknowledge", &t.finn, json!({})).await.status, 404);
    assert_eq!(app.get("/api/v1/policy", &t.erin).await.body.get("acknowledged_at"), None, "v2 is new to Erin");
    assert_eq!(app.post("/api/v1/policy/versions/2/acknowledge", &t.erin, json!({})).await.status, 200);
    app.drop_db().await;
}

async fn acknowledgements_are_counted_per_department_for_security_readers(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let none = app.get("/api/v1/policy/acknowledgements", &t.admin).await;
    assert_eq!((none.status, none.problem()), (409, "urn:bonafide:problem:conflict"), "{}", none.text);
    publish(&app, company_rules()).await;
    for token in [&t.erin, &t.sam] {
        assert_eq!(app.post("/api/v1/policy/versions/1/acknowledge", token, json!({})).await.status, 200);
    }
    for (token, who) in [(&t.erin, "an employee"), (&t.sam, "IT staff")] {
        let r = app.get("/api/v1/policy/acknowledgements", token).await;
        assert_eq!((r.status, r.problem()), (403, "urn:bonafide:problem:forbidden"), "{who}");
    }
    let r = app.get("/api/v1/policy/acknowledgements", &t.auditor).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Six active people (the suspended staffer is not counted), two acknowledged.
    assert_eq!(
        (r.body["version"].clone(), r.body["people"].clone(), r.body["acknowledged"].clone()),
        (json!(1), json!(6), json!(2))
    );
    let by_department: Vec<(String, i64, i64)> = r.body["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["department"].as_str().unwrap().to_owned(),
                d["people"].as_i64().unwrap(),
                d["acknowledged"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected = [("Audit", 1, 0), ("Finance", 1, 1), ("IT", 2, 1), ("Sales", 1, 0), ("Security", 1, 0)];
    assert_eq!(by_department, expected.map(|(d, p, a)| (d.to_owned(), p, a)));
    let it = r.body["departments"].as_array().unwrap().iter().find(|d| d["department"] == "IT").unwrap();
    assert_eq!(it["rate"], 0.5);
    let missing: Vec<&str> =
        r.body["missing"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(
        missing,
        ["gus.ortiz@example.com", "kim.novak@example.com", "finn@example.com", "ada.reyes@example.com"]
    );
    assert!(r.body["missing"].as_array().unwrap().iter().all(|m| m["overdue"] == false));
    assert_eq!(r.body["missing"][2]["department"], "Sales");
    app.advance(7 * 86_400);
    let due = app.get("/api/v1/policy/acknowledgements?version=1", &t.admin).await;
    assert!(due.body["missing"].as_array().unwrap().iter().all(|m| m["overdue"] == true), "{}", due.text);
    let bad = app.get("/api/v1/policy/acknowledgements?version=x", &t.admin).await;
    assert_eq!((bad.status, bad.fields()), (422, vec!["version"]));
    assert_eq!(app.get("/api/v1/policy/acknowledgements?version=9", &t.admin).await.status, 404);
    app.drop_db().await;
}

async fn checks_are_judged_by_the_version_in_force_and_carry_its_number(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let r =
        app.post("/api/v1/requests", &t.erin, json!({ "summary": "Locked out", "category": "password_reset" })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let key = r.str("key").to_owned();
    app.assign(&key, "IT-0042", &t.kim).await;
    let before = app.open_check(&t.erin, sams_call()).await;
    assert_eq!((before.str("verdict"), before.body["policy_version"].clone()), ("challenge_required", json!(0)));
    let first = before.str("id").to_owned();

    publish(&app, company_rules()).await;
    let phone = app.open_check(&t.erin, sams_call()).await;
    assert_eq!(phone.str("verdict"), "unverified", "{}", phone.text);
    assert_eq!(
        (phone.body["reasons"].clone(), phone.body["policy_version"].clone()),
        (json!(["channel_not_allowed"]), json!(1))
    );
    assert_eq!(
        phone.body["policy_rules_broken"],
        json!([{
            "rule": "categories",
            "explanation": "Password reset requests are handled only on video or in person. This was a phone call.",
        }])
    );
    let video = app.open_check(&t.erin, json!({ "channel": "video", "claimed_staff_id": "IT-0042" })).await;
    assert_eq!(
        (video.str("verdict"), video.body["policy_version"].clone()),
        ("challenge_required", json!(1)),
        "{}",
        video.text
    );
    assert_eq!(video.body.get("policy_rules_broken"), None);
    // The first check stays what it was judged by...
    let stored = app.get(&format!("/api/v1/checks/{first}"), &t.erin).await;
    assert_eq!((stored.str("verdict"), stored.body["policy_version"].clone()), ("challenge_required", json!(0)));
    // ...until it is answered: then the version in force judges it, as fresh facts would.
    let code = app.console_code(&t.sam, &key).await;
    let answered = app.answer(&first, &t.erin, &code).await;
    assert_eq!(
        (answered.str("verdict"), answered.body["policy_version"].clone()),
        ("unverified", json!(1)),
        "{}",
        answered.text
    );
    assert_eq!(app.get(&format!("/api/v1/checks/{first}"), &t.erin).await.body["policy_version"], 1);

    // Contact hours: every day but today, so now is outside them; approved outreach is not limited.
    let today = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [usize::from(app.clock_now().weekday().number_days_from_monday())];
    let days: Vec<&str> =
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].into_iter().filter(|d| *d != today).collect();
    publish(&app, json!({ "contact_hours": {"zone": "UTC", "days": days, "from": "00:00", "to": "24:00"} })).await;
    let out_of_hours = app.open_check(&t.erin, sams_call()).await;
    assert_eq!(out_of_hours.body["reasons"], json!(["outside_contact_hours"]), "{}", out_of_hours.text);
    assert_eq!(out_of_hours.body["policy_rules_broken"][0]["rule"], "contact_hours");
    let outreach = json!({
        "employee_email": "finn@example.com", "reason": "Laptop recall", "channels": ["phone"],
        "starts_at": at(app.clock_now()), "ends_at": at(app.clock_now() + Duration::hours(2)),
    });
    let proposed = app.post("/api/v1/outreach", &t.sam, outreach).await;
    assert_eq!(proposed.status, 201, "{}", proposed.text);
    let approve = format!("/api/v1/outreach/{}/approve", proposed.str("id"));
    assert_eq!(app.post(&approve, &t.kim, json!({})).await.status, 200);
    let announced = app.open_check(&t.finn, sams_call()).await;
    assert_eq!(
        (announced.str("verdict"), announced.body["reasons"].clone()),
        ("challenge_required", json!([])),
        "{}",
        announced.text
    );
    app.drop_db().await;
}

async fn reminders_are_sent_once_per_person_and_version_whoever_runs_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let instance = |app: &TestApp| {
        let secret = Arc::new(ChallengeSecret::from_hex(&"ab".repeat(32)).unwrap());
        bonafide_app::App::new(app.store.clone(), app.clock.clone(), secret, app.config_app().clone())
    };
    let (one, two) = (instance(&app), instance(&app));
    assert_eq!(policy::send_reminders(&one).await.unwrap(), None, "no version, nothing owed");
    publish(&app, company_rules()).await;
    assert_eq!(app.post("/api/v1/policy/versions/1/acknowledge", &t.erin, json!({})).await.status, 200);
    assert_eq!(policy::send_reminders(&one).await.unwrap(), None, "not due yet");
    app.advance(7 * 86_400);
    // Two instances at once: five people missing, each told once, one alert.
    let (a, b) = tokio::join!(policy::send_reminders(&one), policy::send_reminders(&two));
    let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
    assert_eq!((a.people + b.people, u8::from(a.alerted) + u8::from(b.alerted)), (5, 1), "{a:?} {b:?}");
    let again = policy::send_reminders(&one).await.unwrap().unwrap();
    assert_eq!((again.people, again.alerted), (0, false));
    let events = app.get("/api/v1/events", &t.auditor).await;
    assert_eq!(events.text.matches("policy.acknowledgement_overdue").count(), 5, "{}", events.text);
    assert!(!events.text.contains("erin@example.com"), "Erin acknowledged: {}", events.text);
    let alerts = app.get("/api/v1/alerts", &t.admin).await;
    let overdue: Vec<&Value> =
        alerts.body.as_array().unwrap().iter().filter(|a| a["kind"] == "policy_acknowledgement_overdue").collect();
    assert_eq!(overdue.len(), 1, "{}", alerts.text);
    assert!(overdue[0]["message"].as_str().unwrap().contains("5 people"), "{}", alerts.text);
    // Someone who acknowledges late is not told again, nor is anyone else.
    assert_eq!(app.post("/api/v1/policy/versions/1/acknowledge", &t.finn, json!({})).await.status, 200);
    assert_eq!(policy::send_reminders(&two).await.unwrap().unwrap().people, 0);
    app.drop_db().await;
}
