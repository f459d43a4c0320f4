//! Announced outreach: proposed by IT, approved by a second person, shown to the employee once
//! approved, and then authorising contact like an assigned request does.

use crate::helpers::{TestApp, sams_call, spawn_app};
use bonafide_domain::Clock;
use bonafide_store::Backend;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

on_both!(
    outreach_needs_a_second_person_to_approve,
    employees_see_outreach_only_once_approved,
    invalid_outreach_names_the_offending_field,
    approved_outreach_authorises_the_staffer_to_call,
    regression_14_6_outreach_near_the_end_of_the_calendar_is_refused_on_both_adapters_not_a_panic,
);

fn at(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// An outreach from now for two hours, by phone, naming `email`.
fn proposal(app: &TestApp, email: &str) -> Value {
    let now = app.clock.now();
    json!({
        "employee_email": email,
        "reason": "Laptop recall",
        "channels": ["phone"],
        "starts_at": at(now),
        "ends_at": at(now + Duration::hours(2)),
    })
}

async fn propose(app: &TestApp, token: &str, body: Value) -> String {
    let r = app.post("/api/v1/outreach", token, body).await;
    assert_eq!((r.status, r.str("status")), (201, "pending"), "{}", r.text);
    r.str("id").to_owned()
}

async fn outreach_needs_a_second_person_to_approve(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let by_employee = app.post("/api/v1/outreach", &t.erin, proposal(&app, "finn@example.com")).await;
    assert_eq!((by_employee.status, by_employee.problem()), (403, "urn:bonafide:problem:forbidden"));
    assert_eq!(app.post("/api/v1/outreach", &t.admin, proposal(&app, "erin@example.com")).await.status, 403);
    let r = app.post("/api/v1/outreach", &t.sam, proposal(&app, "ERIN@example.com")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.str("status"), "pending");
    assert_eq!(r.body["staffer"], json!({ "staff_id": "IT-0042", "display_name": "Sam Carter" }));
    assert_eq!(r.body["employee"], json!({ "email": "erin@example.com", "display_name": "Erin Walsh" }));
    assert_eq!((r.str("reason"), r.body["channels"].clone()), ("Laptop recall", json!(["phone"])));
    assert_eq!(r.str("starts_at"), at(app.clock.now()));
    let id = r.str("id").to_owned();
    let approve = format!("/api/v1/outreach/{id}/approve");
    let own = app.post(&approve, &t.sam, json!({})).await;
    assert_eq!((own.status, own.problem()), (403, "urn:bonafide:problem:forbidden"), "the proposer");
    assert_eq!(app.post(&approve, &t.finn, json!({})).await.status, 403, "a plain employee");
    assert_eq!(app.post(&approve, &t.erin, json!({})).await.status, 403, "the employee named");
    assert_eq!(app.post(&approve, &t.auditor, json!({})).await.status, 403);
    let pending = app.get("/api/v1/outreach?scope=pending", &t.kim).await;
    assert_eq!(pending.body.as_array().unwrap().len(), 1);
    assert_eq!(pending.body[0]["id"], json!(id));
    let ok = app.post(&approve, &t.kim, json!({})).await;
    assert_eq!((ok.status, ok.str("status"), ok.str("id")), (200, "approved", id.as_str()));
    let again = app.post(&approve, &t.kim, json!({})).await;
    assert_eq!((again.status, again.problem()), (409, "urn:bonafide:problem:conflict"));
    assert_eq!(app.post(&approve, &t.admin, json!({})).await.status, 409);
    assert_eq!(app.get("/api/v1/outreach?scope=pending", &t.admin).await.body, json!([]));
    // A security admin may approve too.
    let other = propose(&app, &t.kim, proposal(&app, "finn@example.com")).await;
    let r = app.post(&format!("/api/v1/outreach/{other}/approve"), &t.admin, json!({})).await;
    assert_eq!((r.status, r.str("status")), (200, "approved"));
    for missing in ["0190c0de-0000-7000-8000-000000000000", "not-an-id"] {
        let r = app.post(&format!("/api/v1/outreach/{missing}/approve"), &t.kim, json!({})).await;
        assert_eq!((r.status, r.problem()), (404, "urn:bonafide:problem:not-found"), "{missing}");
    }
    app.drop_db().await;
}

async fn employees_see_outreach_only_once_approved(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let id = propose(&app, &t.sam, proposal(&app, "erin@example.com")).await;
    assert_eq!(app.get("/api/v1/outreach", &t.erin).await.body, json!([]), "pending: not shown to the employee");
    let sams = app.get("/api/v1/outreach", &t.sam).await;
    assert_eq!(sams.body[0]["id"], json!(id), "the proposer sees their own");
    let pending = app.get("/api/v1/outreach?scope=pending", &t.erin).await;
    assert_eq!((pending.status, pending.problem()), (403, "urn:bonafide:problem:forbidden"));
    let bad = app.get("/api/v1/outreach?scope=everything", &t.sam).await;
    assert_eq!((bad.status, bad.fields()), (422, vec!["scope"]));
    assert_eq!(app.post(&format!("/api/v1/outreach/{id}/approve"), &t.kim, json!({})).await.status, 200);
    let erins = app.get("/api/v1/outreach?scope=mine", &t.erin).await;
    assert_eq!(erins.body.as_array().unwrap().len(), 1);
    assert_eq!((erins.body[0]["id"].clone(), erins.body[0]["status"].clone()), (json!(id), json!("approved")));
    assert_eq!(app.get("/api/v1/outreach", &t.finn).await.body, json!([]), "only the employee named");
    app.drop_db().await;
}

async fn invalid_outreach_names_the_offending_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = app.clock.now();
    let with = |changes: Value| {
        let mut body = proposal(&app, "erin@example.com");
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases = [
        (with(json!({ "ends_at": at(now - Duration::minutes(5)) })), vec!["ends_at"]),
        (
            with(json!({ "starts_at": at(now - Duration::hours(3)), "ends_at": at(now - Duration::hours(1)) })),
            vec!["ends_at"],
        ),
        (with(json!({ "ends_at": at(now + Duration::days(15)) })), vec!["ends_at"]),
        (with(json!({ "employee_email": "nobody@example.com" })), vec!["employee_email"]),
        (with(json!({ "employee_email": "not an email" })), vec!["employee_email"]),
        (with(json!({ "employee_email": "sam.carter@example.com" })), vec!["employee_email"]),
        (with(json!({ "reason": "  " })), vec!["reason"]),
        (with(json!({ "channels": [] })), vec!["channels"]),
        (with(json!({ "channels": ["fax"] })), vec!["channels[0]"]),
        (with(json!({ "starts_at": "tomorrow" })), vec!["starts_at"]),
        (with(json!({ "reason": "", "employee_email": "nobody@example.com" })), vec!["reason", "employee_email"]),
    ];
    for (body, fields) in cases {
        let r = app.post("/api/v1/outreach", &app.tokens.sam, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.fields(), fields, "{body}: {}", r.text);
    }
    let mut missing = proposal(&app, "erin@example.com");
    missing.as_object_mut().unwrap().remove("ends_at");
    let r = app.post("/api/v1/outreach", &app.tokens.sam, missing).await;
    assert_eq!((r.status, r.fields()), (422, vec!["ends_at"]));
    assert_eq!(app.get("/api/v1/outreach", &app.tokens.sam).await.body, json!([]), "nothing was stored");
    app.drop_db().await;
}

async fn approved_outreach_authorises_the_staffer_to_call(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let id = propose(&app, &t.sam, proposal(&app, "erin@example.com")).await;
    let cold = app.open_check(&t.erin, sams_call()).await;
    assert_eq!(cold.str("verdict"), "unverified", "pending outreach authorises nothing");
    assert_eq!(cold.body["reasons"], json!(["no_open_request"]));
    assert_eq!(app.get("/api/v1/console/codes", &t.sam).await.body, json!([]));
    assert_eq!(app.post(&format!("/api/v1/outreach/{id}/approve"), &t.kim, json!({})).await.status, 200);
    let codes = app.get("/api/v1/console/codes", &t.sam).await;
    let entries = codes.body.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", codes.text);
    assert_eq!(entries[0]["outreach_id"], json!(id));
    assert!(entries[0].get("request_key").is_none());
    assert_eq!(entries[0]["employee"]["email"], "erin@example.com");
    let code = entries[0]["code"].as_str().unwrap().to_owned();
    let check = app.open_check(&t.erin, sams_call()).await;
    assert_eq!((check.str("verdict"), check.body["reasons"].clone()), ("challenge_required", json!([])));
    assert!(check.body.get("request").is_none(), "authorised by outreach, not a request");
    let by_email =
        app.open_check(&t.erin, json!({ "channel": "email", "caller_address": "sam.carter@example.com" })).await;
    assert_eq!(by_email.body["reasons"], json!(["channel_not_allowed"]), "the outreach announced phone only");
    let r = app.answer(check.str("id"), &t.erin, &code).await;
    assert_eq!((r.str("verdict"), r.body["reasons"].clone()), ("verified", json!([])));
    // Once the window is over, the same call is a cold call again.
    app.clock.advance(Duration::hours(2));
    assert_eq!(app.get("/api/v1/console/codes", &t.sam).await.body, json!([]));
    let late = app.open_check(&t.erin, sams_call()).await;
    assert_eq!(late.body["reasons"], json!(["no_open_request"]));
    app.drop_db().await;
}

/// Issue 14, point 6: the portal's outreach form panicked on a start near the year 9999, and the API
/// accepted outreach starting then.
async fn regression_14_6_outreach_near_the_end_of_the_calendar_is_refused_on_both_adapters_not_a_panic(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let mut far = proposal(&app, "erin@example.com");
    far["starts_at"] = json!("9999-12-31T23:00:00Z");
    far["ends_at"] = json!("9999-12-31T23:30:00Z");
    let r = app.post("/api/v1/outreach", &app.tokens.sam, far).await;
    assert_eq!((r.status, r.fields()), (422, vec!["starts_at"]), "{}", r.text);
    let mut next_year = proposal(&app, "erin@example.com");
    next_year["starts_at"] = json!(at(app.clock.now() + Duration::days(91)));
    next_year["ends_at"] = json!(at(app.clock.now() + Duration::days(92)));
    let r = app.post("/api/v1/outreach", &app.tokens.sam, next_year).await;
    assert_eq!((r.status, r.fields()), (422, vec!["starts_at"]), "more than 90 days ahead: {}", r.text);

    crate::portal::set_password(&app, "sam.carter@example.com").await;
    let seed = crate::portal::enrol_totp(&app, "sam.carter@example.com").await;
    let mut sam = crate::portal::signed_in(&app, "sam.carter@example.com", Some(&seed)).await;
    let console = sam.get("/console").await;
    let form = |start: &'static str, hours: &'static str| {
        [
            ("employee_email", "erin@example.com"),
            ("reason", "Recall"),
            ("channels", "phone"),
            ("starts_at", start),
            ("hours", hours),
        ]
    };
    for (start, hours) in [("9999-12-31T23:00", "4"), ("9999-12-31T23:00", "336"), ("2200-01-01T00:00", "4")] {
        let mut fields = vec![("csrf", console.csrf())];
        fields.extend(form(start, hours).iter().map(|(k, v)| (*k, (*v).to_owned())));
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = sam.post("/console/outreach", &fields).await;
        assert_eq!(page.status, 422, "{start} + {hours} h: {}", page.text);
    }
    assert!(app.store.pending_outreach(app.clock.now(), 10).await.unwrap().is_empty(), "nothing proposed");
    app.drop_db().await;
}
