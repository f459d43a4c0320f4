//! Contact checks: the employee enters what the caller claims, the genuine staffer reads out the code
//! their console shows, and wrong codes lock the check and alert security.

use crate::helpers::{TestApp, sams_call, spawn_app, wrong};
use bonafide_domain::verification::ChallengeState;
use bonafide_domain::{Assessment, CheckId, Clock, Reason, Verdict};
use bonafide_store::Backend;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

on_both!(
    a_genuine_call_from_the_assignee_is_verified_with_the_console_code,
    a_code_is_accepted_for_one_more_step_and_no_longer,
    only_the_assignee_sees_the_code,
    a_cold_call_is_unverified,
    a_caller_claiming_an_unknown_staff_id_is_unverified,
    a_call_from_an_unofficial_number_or_a_suspended_staffer_is_unverified,
    asking_for_a_password_is_never_verified_even_with_the_right_code,
    five_wrong_codes_lock_the_check_and_alert_security,
    regression_14_4_ten_wrong_codes_across_checks_lock_the_request_and_alert_security,
    a_stale_assessment_never_overwrites_a_lock,
    only_security_admins_see_alerts,
    a_check_is_private_to_the_employee_who_opened_it,
    invalid_checks_name_the_offending_field,
    the_console_is_for_it_staff_only,
);

/// Erin's request, assigned to Sam; returns its key.
async fn erins_request_assigned_to_sam(app: &TestApp) -> String {
    let key = app.open_request(&app.tokens.erin, "VPN drops every hour").await;
    app.assign(&key, "IT-0042", &app.tokens.kim).await;
    key
}

async fn a_genuine_call_from_the_assignee_is_verified_with_the_console_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = erins_request_assigned_to_sam(&app).await;
    let check = app.open_check(&t.erin, sams_call()).await;
    assert_eq!(check.str("verdict"), "challenge_required", "{}", check.text);
    assert_eq!(check.body["reasons"], json!([]));
    assert_eq!(check.body["attempts_left"], 5);
    assert_eq!(check.body["staff"]["staff_id"], "IT-0042");
    assert_eq!(check.body["staff"]["display_name"], "Sam Carter");
    assert_eq!(check.body["staff"]["team"], "Service Desk");
    assert_eq!(check.body["staff"]["photo_url"], "/api/v1/staff/IT-0042/photo");
    assert_eq!(check.body["request"], json!({ "key": key, "summary": "VPN drops every hour" }));
    assert!(check.str("advice").contains("code"), "{}", check.text);
    let id = check.str("id").to_owned();

    let codes = app.get("/api/v1/console/codes", &t.sam).await;
    assert_eq!(codes.status, 200);
    let entries = codes.body.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", codes.text);
    let entry = &entries[0];
    assert_eq!(entry["request_key"], json!(key));
    assert_eq!(entry["employee"], json!({ "email": "erin@example.com", "display_name": "Erin Walsh" }));
    let code = entry["code"].as_str().unwrap();
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    assert!(entry.get("outreach_id").is_none());
    // The clock stands at hh:mm:10; the code rotates on the next minute and is accepted one more.
    let instant = |key: &str| OffsetDateTime::parse(entry[key].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(instant("rotates_at") - app.clock.now(), Duration::seconds(50));
    assert_eq!(instant("valid_until") - instant("rotates_at"), Duration::seconds(60));

    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let r = app.answer(&id, &t.erin, &spaced).await;
    assert_eq!(r.str("verdict"), "verified", "{}", r.text);
    assert_eq!((r.body["reasons"].clone(), r.body["attempts_left"].clone()), (json!([]), json!(5)));
    let read = app.get(&format!("/api/v1/checks/{id}"), &t.erin).await;
    assert_eq!((read.status, read.str("verdict"), read.str("id")), (200, "verified", id.as_str()));
    assert_eq!(read.body["request"]["key"], json!(key));
    // A passed check stays passed: a wrong code afterwards changes nothing.
    let after = app.answer(&id, &t.erin, &wrong(code)).await;
    assert_eq!((after.str("verdict"), after.body["attempts_left"].clone()), ("verified", json!(5)));
    app.drop_db().await;
}

async fn a_code_is_accepted_for_one_more_step_and_no_longer(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = erins_request_assigned_to_sam(&app).await;
    let first = app.open_check(&t.erin, sams_call()).await;
    let code = app.console_code(&t.sam, &key).await;
    app.advance(60);
    assert_ne!(app.console_code(&t.sam, &key).await, code, "the console shows the next code");
    let r = app.answer(first.str("id"), &t.erin, &code).await;
    assert_eq!(r.str("verdict"), "verified", "the previous step's code is still good: {}", r.text);

    let second = app.open_check(&t.erin, sams_call()).await;
    let code = app.console_code(&t.sam, &key).await;
    app.advance(120);
    let r = app.answer(second.str("id"), &t.erin, &code).await;
    assert_eq!(r.str("verdict"), "unverified", "two steps later the code is stale: {}", r.text);
    assert_eq!((r.body["reasons"].clone(), r.body["attempts_left"].clone()), (json!(["challenge_failed"]), json!(4)));
    let fresh = app.console_code(&t.sam, &key).await;
    let r = app.answer(second.str("id"), &t.erin, &fresh).await;
    assert_eq!((r.str("verdict"), r.body["reasons"].clone()), ("verified", json!([])), "a wrong code is not a lock");
    app.drop_db().await;
}

async fn only_the_assignee_sees_the_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = erins_request_assigned_to_sam(&app).await;
    let kims = app.get("/api/v1/console/codes", &t.kim).await;
    assert_eq!((kims.status, kims.body.clone()), (200, json!([])), "Kim assigned it but does not work it");
    // Kim claiming to be on the request is not enough, even when Kim reads out Kim's own code.
    let other = app.open_request(&t.finn, "Printer jam").await;
    app.assign(&other, "IT-0007", &t.sam).await;
    let kims_code_for_finn = app.console_code(&t.kim, &other).await;
    let kims_call = json!({ "channel": "phone", "claimed_staff_id": "IT-0007", "caller_number": "201-555-0107" });
    let check = app.open_check(&t.erin, kims_call.clone()).await;
    assert_eq!((check.str("verdict"), check.body["reasons"].clone()), ("unverified", json!(["not_assignee"])));
    let r = app.answer(check.str("id"), &t.erin, &kims_code_for_finn).await;
    assert_eq!((r.str("verdict"), r.body["attempts_left"].clone()), ("unverified", json!(5)), "nothing to answer");
    let named = json!({ "channel": "phone", "claimed_staff_id": "IT-0007", "request_key": key });
    let check = app.open_check(&t.erin, named).await;
    assert_eq!(check.body["reasons"], json!(["not_assignee"]));
    // A code bound to another employee's request does not verify Sam's call to Erin either.
    let sams_code_for_erin = app.console_code(&t.sam, &key).await;
    let check = app.open_check(&t.finn, kims_call).await;
    let r = app.answer(check.str("id"), &t.finn, &sams_code_for_erin).await;
    assert_eq!(r.str("verdict"), "unverified");
    assert_eq!(r.body["reasons"], json!(["challenge_failed"]));
    app.drop_db().await;
}

async fn a_cold_call_is_unverified(backend: Backend) {
    let app = spawn_app(backend).await;
    let check = app.open_check(&app.tokens.finn, sams_call()).await;
    assert_eq!(check.str("verdict"), "unverified");
    assert_eq!(check.body["reasons"], json!(["no_open_request"]));
    assert_eq!(check.body["staff"]["staff_id"], "IT-0042", "the caller is a real staffer, just not expected");
    assert!(check.body.get("request").is_none());
    assert!(check.str("advice").starts_with("Not verified"), "{}", check.text);
    // An open but unassigned request does not authorise anyone yet.
    app.open_request(&app.tokens.finn, "Printer jam").await;
    let check = app.open_check(&app.tokens.finn, sams_call()).await;
    assert_eq!((check.str("verdict"), check.body["reasons"].clone()), ("unverified", json!(["not_assignee"])));
    // Nothing to challenge: a code changes nothing and counts no attempt.
    let r = app.answer(check.str("id"), &app.tokens.finn, "123456").await;
    assert_eq!((r.str("verdict"), r.body["attempts_left"].clone()), ("unverified", json!(5)));
    assert_eq!(app.get("/api/v1/alerts", &app.tokens.admin).await.body, json!([]));
    app.drop_db().await;
}

async fn a_caller_claiming_an_unknown_staff_id_is_unverified(backend: Backend) {
    let app = spawn_app(backend).await;
    erins_request_assigned_to_sam(&app).await;
    let claim = json!({ "channel": "phone", "claimed_staff_id": "IT-4242", "caller_number": "(201) 555-0142" });
    let check = app.open_check(&app.tokens.erin, claim).await;
    assert_eq!(check.str("verdict"), "unverified");
    assert_eq!(check.body["reasons"], json!(["unknown_staff"]));
    assert!(check.body.get("staff").is_none(), "a spoofed number does not lend the caller a name");
    let by_name = json!({ "channel": "chat", "claimed_name": "Alex Helpdesk" });
    let check = app.open_check(&app.tokens.erin, by_name).await;
    assert_eq!(check.body["reasons"], json!(["unknown_staff"]));
    // A real staff id with someone else's name is a mismatch.
    let mixed = json!({ "channel": "phone", "claimed_staff_id": "IT-0042", "claimed_name": "Kim Novak" });
    let check = app.open_check(&app.tokens.erin, mixed).await;
    assert_eq!(check.body["reasons"], json!(["name_mismatch"]));
    app.drop_db().await;
}

async fn a_call_from_an_unofficial_number_or_a_suspended_staffer_is_unverified(backend: Backend) {
    let app = spawn_app(backend).await;
    erins_request_assigned_to_sam(&app).await;
    let spoof = json!({ "channel": "phone", "claimed_staff_id": "IT-0042", "caller_number": "+1 415 555 0100" });
    let check = app.open_check(&app.tokens.erin, spoof).await;
    assert_eq!((check.str("verdict"), check.body["reasons"].clone()), ("unverified", json!(["number_not_official"])));
    let hidden = json!({ "channel": "phone", "claimed_staff_id": "IT-0042", "caller_number": "Unknown" });
    let check = app.open_check(&app.tokens.erin, hidden).await;
    assert_eq!(check.body["reasons"], json!(["number_not_official"]));
    let pat = json!({ "channel": "phone", "claimed_staff_id": "IT-0099", "caller_number": "201-555-0199" });
    let check = app.open_check(&app.tokens.erin, pat).await;
    assert_eq!(check.str("verdict"), "unverified");
    let reasons = check.body["reasons"].as_array().unwrap();
    assert!(reasons.contains(&json!("staff_inactive")), "{}", check.text);
    app.drop_db().await;
}

async fn asking_for_a_password_is_never_verified_even_with_the_right_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = erins_request_assigned_to_sam(&app).await;
    let mut claim = sams_call();
    claim["asked_for"] = json!(["password"]);
    let check = app.open_check(&t.erin, claim).await;
    assert_eq!(check.str("verdict"), "unverified");
    assert_eq!(check.body["reasons"], json!(["sensitive_request"]));
    assert_eq!(check.body["staff"]["staff_id"], "IT-0042", "it is genuinely Sam, and still not acceptable");
    let code = app.console_code(&t.sam, &key).await;
    let r = app.answer(check.str("id"), &t.erin, &code).await;
    assert_eq!(r.str("verdict"), "unverified");
    assert_eq!(r.body["reasons"], json!(["sensitive_request"]));
    assert_eq!(r.body["attempts_left"], 5);
    assert_eq!(app.get(&format!("/api/v1/checks/{}", check.str("id")), &t.erin).await.str("verdict"), "unverified");
    // A software install is only acceptable face to face.
    let mut install = sams_call();
    install["asked_for"] = json!(["software_install"]);
    let check = app.open_check(&t.erin, install).await;
    assert_eq!(check.body["reasons"], json!(["channel_not_allowed"]));
    app.drop_db().await;
}

async fn five_wrong_codes_lock_the_check_and_alert_security(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = erins_request_assigned_to_sam(&app).await;
    let check = app.open_check(&t.erin, sams_call()).await;
    let id = check.str("id").to_owned();
    let code = app.console_code(&t.sam, &key).await;
    let bad = wrong(&code);
    for left in [4, 3, 2, 1] {
        let r = app.answer(&id, &t.erin, &bad).await;
        assert_eq!(r.str("verdict"), "unverified");
        assert_eq!(
            (r.body["reasons"].clone(), r.body["attempts_left"].clone()),
            (json!(["challenge_failed"]), json!(left))
        );
    }
    assert_eq!(app.get("/api/v1/alerts", &t.admin).await.body, json!([]), "no alert before the lock");
    let fifth = app.answer(&id, &t.erin, &bad).await;
    assert_eq!(fifth.str("verdict"), "unverified");
    assert_eq!(
        (fifth.body["reasons"].clone(), fifth.body["attempts_left"].clone()),
        (json!(["challenge_locked"]), json!(0))
    );
    let sixth = app.answer(&id, &t.erin, &code).await;
    assert_eq!(sixth.str("verdict"), "unverified", "even the right code is refused now");
    assert_eq!(
        (sixth.body["reasons"].clone(), sixth.body["attempts_left"].clone()),
        (json!(["challenge_locked"]), json!(0))
    );
    let seventh = app.answer(&id, &t.erin, &bad).await;
    assert_eq!(seventh.body["reasons"], json!(["challenge_locked"]), "more wrong codes change nothing");
    let stored = app.store.check(id.parse::<CheckId>().unwrap()).await.unwrap().unwrap().challenge;
    assert_eq!((stored.failures, stored.locked, stored.passed), (5, true, false), "nothing counted after the lock");
    let read = app.get(&format!("/api/v1/checks/{id}"), &t.erin).await;
    assert_eq!((read.str("verdict"), read.body["attempts_left"].clone()), ("unverified", json!(0)));
    assert_eq!(read.body["reasons"], json!(["challenge_locked"]));

    let alerts = app.get("/api/v1/alerts", &t.admin).await;
    assert_eq!(alerts.status, 200);
    let alerts = alerts.body.as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["kind"], "challenge_locked");
    assert_eq!(alerts[0]["severity"], "high");
    assert_eq!(alerts[0]["check_id"], json!(id));
    let message = alerts[0]["message"].as_str().unwrap();
    assert!(message.contains("erin@example.com") && message.contains("IT-0042"), "{message}");
    assert!(!message.contains(&code), "the alert never holds a code");
    // Another check on the same request is not locked.
    let fresh = app.open_check(&t.erin, sams_call()).await;
    let r = app.answer(fresh.str("id"), &t.erin, &code).await;
    assert_eq!(r.str("verdict"), "verified");
    app.drop_db().await;
}

/// Issue 14, point 4: the limit of five is per check, so opening new checks used to give another five
/// guesses each. Ten wrong codes across checks within 15 minutes lock verification for the employee and
/// the request, and alert security; the lock ends after an hour.
async fn regression_14_4_ten_wrong_codes_across_checks_lock_the_request_and_alert_security(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = erins_request_assigned_to_sam(&app).await;
    let bad = wrong(&app.console_code(&t.sam, &key).await);
    let mut reasons = Vec::new();
    for _ in 0..3 {
        let id = app.open_check(&t.erin, sams_call()).await.str("id").to_owned();
        for _ in 0..4 {
            reasons.push(app.answer(&id, &t.erin, &bad).await.body["reasons"].clone());
        }
    }
    let failed = reasons.iter().take_while(|r| **r == json!(["challenge_failed"])).count();
    assert_eq!(failed, 9, "the tenth wrong code across checks locks: {reasons:?}");
    assert!(reasons[9..].iter().all(|r| *r == json!(["challenge_locked"])), "{reasons:?}");

    let code = app.console_code(&t.sam, &key).await;
    let fresh = app.open_check(&t.erin, sams_call()).await;
    assert_eq!((fresh.str("verdict"), fresh.body["attempts_left"].clone()), ("unverified", json!(0)));
    assert_eq!(fresh.body["reasons"], json!(["challenge_locked"]));
    let r = app.answer(fresh.str("id"), &t.erin, &code).await;
    assert_eq!((r.str("verdict"), r.body["reasons"].clone()), ("unverified", json!(["challenge_locked"])));
    let alerts = app.get("/api/v1/alerts", &t.admin).await.body;
    let locks: Vec<&str> = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "verification_locked")
        .map(|a| a["message"].as_str().unwrap())
        .collect();
    assert_eq!(locks.len(), 2, "the employee's and the request's: {alerts}");
    assert!(locks.iter().any(|m| m.contains(&key)) && locks.iter().all(|m| m.contains("erin@example.com")));

    app.advance(61 * 60);
    let code = app.console_code(&t.sam, &key).await;
    let later = app.open_check(&t.erin, sams_call()).await;
    let r = app.answer(later.str("id"), &t.erin, &code).await;
    assert_eq!(r.str("verdict"), "verified", "the lock ends after an hour");
    app.drop_db().await;
}

/// Regression: with answers racing on two instances, an answer that counted the 4th wrong code could
/// store its "challenge_failed" assessment after the 5th had stored "challenge_locked", and the check
/// then read as merely failed. The store now only takes an assessment made from the current state.
async fn a_stale_assessment_never_overwrites_a_lock(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = erins_request_assigned_to_sam(&app).await;
    let check = app.open_check(&t.erin, sams_call()).await;
    let id = check.str("id").to_owned();
    let bad = wrong(&app.console_code(&t.sam, &key).await);
    for _ in 0..5 {
        app.answer(&id, &t.erin, &bad).await;
    }
    let check_id: CheckId = id.parse().unwrap();
    let stale = Assessment {
        verdict: Verdict::Unverified,
        reasons: vec![Reason::ChallengeFailed],
        staffer: app.store.check(check_id).await.unwrap().unwrap().staffer,
        authority: None,
        breaches: vec![],
    };
    let seen = ChallengeState { failures: 4, last_failed: true, locked: false, passed: false };
    let stored = app.store.update_check_assessment(check_id, &stale, 0, seen, None, app.clock.now()).await.unwrap();
    assert!(!stored, "an assessment made before the lock is refused");
    let read = app.get(&format!("/api/v1/checks/{id}"), &t.erin).await;
    assert_eq!(read.body["reasons"], json!(["challenge_locked"]));
    let current = ChallengeState { failures: 5, last_failed: true, locked: true, passed: false };
    let locked = Assessment { reasons: vec![Reason::ChallengeLocked], ..stale };
    assert!(app.store.update_check_assessment(check_id, &locked, 0, current, None, app.clock.now()).await.unwrap());
    app.drop_db().await;
}

async fn only_security_admins_see_alerts(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    for (who, token) in [("employee", &t.erin), ("it_staff", &t.sam), ("auditor", &t.auditor)] {
        let r = app.get("/api/v1/alerts", token).await;
        assert_eq!((r.status, r.problem()), (403, "urn:bonafide:problem:forbidden"), "{who}");
    }
    let r = app.get("/api/v1/alerts", &t.admin).await;
    assert_eq!((r.status, r.body.clone()), (200, json!([])));
    // Every refusal is in the audit log, with who was refused and where.
    let filter = bonafide_store::AuditFilter { action_prefix: Some("access.denied".into()), ..Default::default() };
    let denied = app.store.audit_entries(&filter, 10).await.unwrap();
    let who: Vec<&str> = denied.iter().rev().map(|e| e.actor.as_str()).collect();
    assert_eq!(who, ["erin@example.com", "sam.carter@example.com", "gus.ortiz@example.com"]);
    assert!(denied.iter().all(|e| e.target == "/api/v1/alerts" && e.outcome == "denied"));
    app.drop_db().await;
}

async fn a_check_is_private_to_the_employee_who_opened_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = erins_request_assigned_to_sam(&app).await;
    let check = app.open_check(&t.erin, sams_call()).await;
    let id = check.str("id");
    let code = app.console_code(&t.sam, &key).await;
    for token in [&t.finn, &t.sam, &t.admin] {
        let r = app.get(&format!("/api/v1/checks/{id}"), token).await;
        assert_eq!((r.status, r.problem()), (404, "urn:bonafide:problem:not-found"));
        let r = app.post(&format!("/api/v1/checks/{id}/challenge"), token, json!({ "code": code })).await;
        assert_eq!((r.status, r.problem()), (404, "urn:bonafide:problem:not-found"));
    }
    for bad in ["not-a-uuid", "0190c0de-0000-7000-8000-000000000000", "123"] {
        assert_eq!(app.get(&format!("/api/v1/checks/{bad}"), &t.erin).await.status, 404, "{bad}");
        let r = app.post(&format!("/api/v1/checks/{bad}/challenge"), &t.erin, json!({ "code": "123456" })).await;
        assert_eq!(r.status, 404, "{bad}");
    }
    let mine = app.get(&format!("/api/v1/checks/{id}"), &t.erin).await;
    assert_eq!((mine.str("verdict"), mine.body["attempts_left"].clone()), ("challenge_required", json!(5)));
    app.drop_db().await;
}

async fn invalid_checks_name_the_offending_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases = [
        (json!({ "channel": "fax" }), vec!["channel"]),
        (json!({ "claimed_name": "Sam" }), vec!["channel"]),
        (json!({ "channel": "phone", "claimed_staff_id": "forty-two" }), vec!["claimed_staff_id"]),
        (json!({ "channel": "phone", "request_key": "ticket 7" }), vec!["request_key"]),
        (json!({ "channel": "phone", "asked_for": ["password", "kidney"] }), vec!["asked_for[1]"]),
        (json!({ "channel": "phone", "claimed_name": "x".repeat(121) }), vec!["claimed_name"]),
        (json!({ "channel": "phone", "caller_number": "1\u{7}2" }), vec!["caller_number"]),
        (json!({ "channel": "phone", "mood": "urgent" }), vec!["mood"]),
        (
            json!({ "channel": "phone", "claimed_staff_id": "?", "request_key": "?" }),
            vec!["claimed_staff_id", "request_key"],
        ),
    ];
    for (body, fields) in cases {
        let r = app.post("/api/v1/checks", &app.tokens.erin, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.fields(), fields, "{body}: {}", r.text);
    }
    let check = app.open_check(&app.tokens.erin, sams_call()).await;
    let long = "1".repeat(33);
    let r = app
        .post(&format!("/api/v1/checks/{}/challenge", check.str("id")), &app.tokens.erin, json!({ "code": long }))
        .await;
    assert_eq!((r.status, r.fields()), (422, vec!["code"]));
    app.drop_db().await;
}

async fn the_console_is_for_it_staff_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    erins_request_assigned_to_sam(&app).await;
    for (who, token) in [("employee", &t.erin), ("security_admin", &t.admin), ("auditor", &t.auditor)] {
        let r = app.get("/api/v1/console/codes", token).await;
        assert_eq!((r.status, r.problem()), (403, "urn:bonafide:problem:forbidden"), "{who}");
    }
    assert_eq!(app.get("/api/v1/console/codes", &t.sam).await.body.as_array().unwrap().len(), 1);
    app.drop_db().await;
}
