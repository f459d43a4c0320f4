//! Issue 14, point 9, the audit as promised: a verdict that changes on re-assessment, staff directory
//! look-ups (logged per person and minute), directory edits' old and new values, rejected password changes.

use crate::helpers::{sams_call, spawn_app};
use crate::portal::{PASSWORD, set_password, signed_in};
use bonafide_store::{AuditEntry, AuditFilter, Backend};
use serde_json::{Value, json};

on_both!(
    regression_14_9_a_verdict_changed_on_reassessment_is_audited_with_both_verdicts,
    regression_14_9_staff_lookups_are_logged_per_person_and_minute,
    regression_14_9_a_rejected_password_change_is_audited,
    regression_14_9_a_directory_edit_records_the_old_and_new_values,
    regression_14_9_walking_the_router_every_403_writes_one_access_denied,
);

async fn entries(app: &crate::helpers::TestApp, action: &str) -> Vec<AuditEntry> {
    let filter = AuditFilter { action_prefix: Some(action.to_owned()), ..AuditFilter::default() };
    app.store.audit_entries(&filter, 100).await.unwrap()
}

async fn regression_14_9_a_verdict_changed_on_reassessment_is_audited_with_both_verdicts(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = app.open_request(&t.erin, "VPN drops every hour").await;
    app.assign(&key, "IT-0042", &t.kim).await;
    let check = app.open_check(&t.erin, sams_call()).await;
    let id = check.str("id").to_owned();
    // A wrong code turns the verdict to `unverified` (`challenge_failed`); a second one leaves it so,
    // which is nothing to record beyond the failure; the right code turns it to `verified`.
    let code = app.console_code(&t.sam, &key).await;
    let failed = app.answer(&id, &t.erin, &crate::helpers::wrong(&code)).await;
    assert_eq!(failed.str("verdict"), "unverified", "{}", failed.text);
    app.answer(&id, &t.erin, &crate::helpers::wrong(&code)).await;
    let passed = app.answer(&id, &t.erin, &code).await;
    assert_eq!(passed.str("verdict"), "verified");
    let changed = entries(&app, "check.reassessed").await;
    let verdicts: Vec<(String, String)> = changed
        .iter()
        .rev()
        .map(|e| {
            let d: Value = serde_json::from_str(&e.detail).unwrap();
            (d["from"].as_str().unwrap().to_owned(), d["to"].as_str().unwrap().to_owned())
        })
        .collect();
    let expected = [("challenge_required", "unverified"), ("unverified", "verified")];
    assert_eq!(verdicts, expected.map(|(a, b)| (a.to_owned(), b.to_owned())), "oldest first");
    assert!(changed.iter().all(|e| e.target == id));
    app.drop_db().await;
}

async fn regression_14_9_staff_lookups_are_logged_per_person_and_minute(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    for query in ["sam", "carter", "IT-00"] {
        assert_eq!(app.get(&format!("/api/v1/staff?query={query}"), &t.erin).await.status, 200);
    }
    assert_eq!(app.get("/api/v1/staff/IT-0042", &t.erin).await.status, 200);
    app.get("/api/v1/staff?query=kim", &t.finn).await;
    let erin = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    let logged = app.store.staff_lookups(erin.id, 10).await.unwrap();
    assert_eq!(logged.len(), 1, "one row for the minute: {logged:?}");
    assert_eq!((logged[0].lookups, logged[0].last_query.as_str()), (4, "IT-0042"));
    app.advance(60);
    app.get("/api/v1/staff?query=novak", &t.erin).await;
    let logged = app.store.staff_lookups(erin.id, 10).await.unwrap();
    assert_eq!(logged.iter().map(|l| l.lookups).collect::<Vec<_>>(), [1, 4], "newest minute first");
    // The log is the rate limit's count: past it, look-ups are refused and still counted.
    for _ in 0..app.config_app().staff_lookups_per_minute {
        app.get("/api/v1/staff?query=x", &t.erin).await;
    }
    assert_eq!(app.get("/api/v1/staff?query=x", &t.erin).await.status, 429);
    let logged = app.store.staff_lookups(erin.id, 1).await.unwrap();
    assert_eq!(logged[0].lookups, app.config_app().staff_lookups_per_minute + 2);
    app.drop_db().await;
}

async fn regression_14_9_a_rejected_password_change_is_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let csrf = erin.get("/account").await.csrf();
    let weak = erin.post("/account/password", &[("csrf", &csrf), ("current", PASSWORD), ("new", "short")]).await;
    assert_eq!(weak.status, 422, "{}", weak.text);
    let wrong = erin
        .post("/account/password", &[("csrf", &csrf), ("current", "not it"), ("new", "a much longer passphrase")])
        .await;
    assert_ne!(wrong.status, 200, "{}", wrong.text);
    let refused = entries(&app, "factor.password_changed").await;
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused.iter().all(|e| e.outcome == "denied" && e.target == "erin@example.com"), "{refused:?}");
    assert!(refused.iter().all(|e| !e.detail.contains("short")), "the password itself is never written");
    app.drop_db().await;
}

async fn regression_14_9_a_directory_edit_records_the_old_and_new_values(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let erin = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    crate::portal::set_password(&app, "ada.reyes@example.com").await;
    let seed = crate::portal::enrol_totp(&app, "ada.reyes@example.com").await;
    let mut ada = signed_in(&app, "ada.reyes@example.com", Some(&seed)).await;
    let page = ada.get(&format!("/security/people/{}", erin.id)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let saved = ada
        .post(
            &format!("/security/people/{}", erin.id),
            &[("csrf", &page.csrf()), ("display_name", "Erin Walsh"), ("department", "Treasury"), ("title", "Analyst")],
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    let edits = entries(&app, "directory.person_edited").await;
    assert_eq!(edits.len(), 1);
    let detail: Value = serde_json::from_str(&edits[0].detail).unwrap();
    assert_eq!(detail["from"]["department"], "Finance", "{detail}");
    assert_eq!(detail["to"]["department"], "Treasury", "{detail}");
    assert_eq!(detail["to"]["title"], "Analyst", "{detail}");
    assert!(detail["from"].get("email").is_none(), "only changed fields: {detail}");
    // A look-up shows on the person's page for security.
    app.get("/api/v1/staff?query=sam", &t.erin).await;
    let page = ada.get(&format!("/security/people/{}", erin.id)).await;
    assert!(page.text.contains("Staff directory look-ups") && page.text.contains("<code>sam</code>"), "{}", page.text);
    app.drop_db().await;
}

/// The API's routes as `routes.rs` declares them: (path, methods). Read from the source, so a route added
/// later is walked too.
fn api_routes() -> Vec<(String, Vec<reqwest::Method>)> {
    let source = include_str!("../../src/routes.rs");
    // The `router` function's body only (the file's tests quote route calls too).
    let start = source.find("pub(crate) fn router(").expect("router in routes.rs");
    let source = &source[start..];
    let source = &source[..source.find("\n}\n").expect("the end of router")];
    let mut routes = Vec::new();
    for segment in source.split(".route(").skip(1) {
        let Some(path) = segment.split('"').nth(1) else { continue };
        // The route's call ends where the next statement starts; its handlers are `get(..)`, `post(..)`, ….
        let call = segment.split("\n        .").next().unwrap_or(segment);
        let methods: Vec<reqwest::Method> =
            [("get(", "GET"), ("post(", "POST"), ("delete(", "DELETE"), ("put(", "PUT")]
                .iter()
                .filter(|(f, _)| call.contains(f))
                .map(|(_, m)| m.parse().unwrap())
                .collect();
        routes.push((path.to_owned(), methods));
    }
    routes
}

async fn regression_14_9_walking_the_router_every_403_writes_one_access_denied(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = app.open_request(&t.erin, "Printer jams").await;
    let check = app.open_check(&t.erin, sams_call()).await.str("id").to_owned();
    let report = app.post("/api/v1/reports", &t.erin, json!({ "channel": "phone" })).await.str("id").to_owned();
    let erin = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    let fill = |path: &str| {
        let other = uuid::Uuid::now_v7().to_string();
        let id = if path.contains("/checks/") {
            check.clone()
        } else if path.contains("/reports/") {
            report.clone()
        } else if path.contains("/people/") {
            erin.id.to_string()
        } else {
            other
        };
        path.replace("{key}", &key).replace("{staff_id}", "IT-0042").replace("{id}", &id)
    };
    // `/authz/…` answers a decision, not a role refusal: its 403 is a deny, audited as `access.decided`
    // (access_policies.rs), and it is walked there.
    let mut routes: Vec<_> = api_routes().into_iter().filter(|(p, _)| !p.starts_with("/authz/")).collect();
    assert!(routes.len() > 30, "the routes were read: {routes:?}");
    // The scopes a listing refuses by role.
    for scoped in ["/api/v1/requests?scope=all", "/api/v1/requests?scope=queue", "/api/v1/reports?scope=all"] {
        routes.push((scoped.to_owned(), vec![reqwest::Method::GET]));
    }
    routes.push(("/api/v1/outreach?scope=pending".to_owned(), vec![reqwest::Method::GET]));
    // The sequence numbers of the two newest access.denied entries: a refusal adds exactly one when the
    // newest is new and the one before it is not (counting would stop at the listing's cap).
    let filter = AuditFilter { action_prefix: Some("access.denied".to_owned()), ..AuditFilter::default() };
    let newest_two =
        || async { app.store.audit_entries(&filter, 2).await.unwrap().iter().map(|e| e.seq).collect::<Vec<_>>() };
    let mut refusals = 0;
    for (path, methods) in &routes {
        for method in methods {
            for token in [&t.erin, &t.sam, &t.auditor, &t.kim, &t.admin] {
                let before = newest_two().await.first().copied().unwrap_or(0);
                let body = if *method == reqwest::Method::GET {
                    crate::helpers::Body::Empty
                } else {
                    crate::helpers::Body::Json(json!({}))
                };
                let r = app.send(method.clone(), &fill(path), Some(token), body).await;
                if r.status == 403 {
                    refusals += 1;
                    let after = newest_two().await;
                    let one_new =
                        after.first().is_some_and(|s| *s > before) && after.get(1).is_none_or(|s| *s <= before);
                    assert!(one_new, "{method} {path}: a 403 writes one access.denied ({before} then {after:?})");
                }
            }
        }
    }
    assert!(refusals >= 40, "the walk met the role gates ({refusals} refusals)");
    app.drop_db().await;
}
