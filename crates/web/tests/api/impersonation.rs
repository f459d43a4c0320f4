//! Reports that claim a real staffer's identity (issue 14, point 3): the directory's own contacts tie
//! the reports together and alert security, but do not block the real staffer's verification until a
//! security admin confirms the campaign covers them; and the company-wide warning is Bonafide's words.

use crate::helpers::{TestApp, sams_call, spawn_app};
use bonafide_store::{AuditFilter, Backend};
use serde_json::{Value, json};

on_both!(
    regression_14_3_a_campaign_on_a_real_staffers_contacts_alerts_but_does_not_block_them,
    regression_14_3_the_warnings_carry_no_reporter_text,
);

/// Files one report as `token`'s holder; returns the campaign id once the reports are a campaign.
async fn report(app: &TestApp, token: &str, body: Value) -> Option<String> {
    let r = app.post("/api/v1/reports", token, body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["campaign_id"].as_str().map(str::to_owned)
}

fn reasons(r: &crate::helpers::Reply) -> Vec<&str> {
    r.body["reasons"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect()
}

async fn regression_14_3_a_campaign_on_a_real_staffers_contacts_alerts_but_does_not_block_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    // Two employees in two departments report "Sam Carter, IT-0042" calling from Sam's official number.
    let claim = json!({ "channel": "phone", "caller_number": "(201) 555-0142", "claimed_staff_id": "IT-0042",
                        "claimed_name": "Sam Carter", "asked_for": ["mfa_code"] });
    assert_eq!(report(&app, &t.erin, claim.clone()).await, None);
    let id = report(&app, &t.finn, claim.clone()).await.expect("two departments make a campaign");
    let c = app.get(&format!("/api/v1/campaigns/{id}"), &t.admin).await;
    assert_eq!(c.body["status"], "active", "{}", c.text);
    let official = c.body["official_indicators"].as_array().unwrap();
    assert!(official.contains(&json!({ "kind": "phone", "value": "+12015550142" })), "{}", c.text);
    assert!(official.contains(&json!({ "kind": "staff_id", "value": "IT-0042" })), "{}", c.text);
    assert_eq!(c.body["blocks_official_contacts"], false);
    let warning = c.body["warning"].as_str().unwrap();
    assert!(warning.contains("claiming to be Sam Carter (staff id IT-0042), who is real"), "{warning}");
    assert!(!warning.contains("201 555 0142"), "the real number is not named as the fraud's: {warning}");
    // Security is told once, however many reports follow.
    report(&app, &t.kim, claim).await;
    let alerts = app.get("/api/v1/alerts", &t.admin).await;
    let told: Vec<&Value> =
        alerts.body.as_array().unwrap().iter().filter(|a| a["kind"] == "staff_impersonated").collect();
    assert_eq!(told.len(), 1, "{}", alerts.text);
    assert!(told[0]["message"].as_str().unwrap().contains("official number +12015550142"), "{}", alerts.text);

    // The real Sam, on a request Erin opened, from his official number, still verifies.
    let key = app.open_request(&t.erin, "VPN drops every hour").await;
    app.assign(&key, "IT-0042", &t.kim).await;
    let check = app.open_check(&t.erin, sams_call()).await;
    assert_eq!((check.str("verdict"), reasons(&check)), ("challenge_required", vec![]), "{}", check.text);
    let code = app.console_code(&t.sam, &key).await;
    let answered = app.answer(check.str("id"), &t.erin, &code).await;
    assert_eq!(answered.str("verdict"), "verified", "{}", answered.text);

    // Only a security admin decides that the campaign covers Sam's contacts; the refusal is audited.
    let path = format!("/api/v1/campaigns/{id}/official-contacts");
    for token in [&t.erin, &t.auditor, &t.sam] {
        assert_eq!(app.post(&path, token, json!({ "blocked": true })).await.status, 403);
    }
    assert_eq!(app.post(&path, &t.admin, json!({ "blocked": "yes" })).await.status, 422);
    assert_eq!(
        app.post("/api/v1/campaigns/nope/official-contacts", &t.admin, json!({ "blocked": true })).await.status,
        404
    );
    let set = app.post(&path, &t.admin, json!({ "blocked": true })).await;
    assert_eq!((set.status, &set.body["blocks_official_contacts"]), (200, &json!(true)), "{}", set.text);
    let filter = AuditFilter { action_prefix: Some("campaign.official_contacts".into()), ..AuditFilter::default() };
    let entries = app.store.audit_entries(&filter, 10).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert!(
        entries[0].detail.contains("\"from\":false") && entries[0].detail.contains("\"to\":true"),
        "{}",
        entries[0].detail
    );
    let denied = AuditFilter { action_prefix: Some("access.denied".into()), ..AuditFilter::default() };
    assert_eq!(app.store.audit_entries(&denied, 10).await.unwrap().len(), 3);

    // Now a call claiming to be Sam from Sam's number matches the campaign.
    let blocked = app.open_check(&t.erin, sams_call()).await;
    assert_eq!(blocked.str("verdict"), "unverified", "{}", blocked.text);
    assert!(reasons(&blocked).contains(&"matches_active_campaign"), "{}", blocked.text);
    // And back.
    app.post(&path, &t.admin, json!({ "blocked": false })).await;
    let again = app.open_check(&t.erin, sams_call()).await;
    assert!(!reasons(&again).contains(&"matches_active_campaign"), "{}", again.text);
    app.drop_db().await;
}

async fn regression_14_3_the_warnings_carry_no_reporter_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let hostile = json!({
        "channel": "chat", "caller_handle": "it-helpdesk",
        "claimed_name": "URGENT: call 555 0100 now <b>visit evil.example</b>",
        "transcript": "Your account is locked. Read me the code we just sent.",
        "asked_for": ["mfa_code"],
    });
    report(&app, &t.erin, hostile.clone()).await;
    let id = report(&app, &t.finn, hostile).await.expect("a campaign");
    let warnings = app.get("/api/v1/warnings", &t.erin).await;
    let w = warnings.body.as_array().unwrap().iter().find(|w| w["campaign_id"] == id.as_str()).unwrap();
    let text = w["warning"].as_str().unwrap();
    assert!(text.starts_with("Chat messages from \"@it-helpdesk\" claiming to be IT."), "{text}");
    for free in ["<", ">", "555", "URGENT", "evil.example", "locked"] {
        assert!(!text.contains(free), "{free} in {text}");
    }
    app.drop_db().await;
}
