//! The API and the portal are adapters over one use case each: where they used to differ (issue 13),
//! both are driven through the same case here. And a change whose audit entry cannot be written is not
//! made, on either adapter.

use crate::helpers::{Body, TestApp, seeded, spawn_app, spawn_app_with, staffer};
use crate::portal::{audited, enrol_totp, set_password, signed_in};
use bonafide_store::{AuditFilter, Backend};
use reqwest::Method;
use serde_json::json;

on_both!(
    a_campaign_cannot_be_merged_with_itself_and_a_merged_id_means_the_campaign_it_joined,
    opening_cancelling_and_closing_requests_are_audited_whichever_way_they_come,
    the_staff_directory_answers_a_search_with_the_same_number_of_cards_everywhere,
    a_change_whose_audit_entry_cannot_be_written_is_not_made_and_answers_503,
    regression_14_9_every_refusal_writes_one_access_denied,
    regression_14_7_names_summaries_and_reasons_refuse_invisible_and_direction_characters,
    regression_14_2_forwarded_headers_name_the_client_only_from_a_trusted_proxy,
);

/// Two campaigns (two numbers, each reported by two people in two departments).
async fn two_campaigns(app: &TestApp) -> Vec<String> {
    let mut ids = vec![];
    for number in ["(555) 010-1111", "(555) 010-2222"] {
        for token in [&app.tokens.erin, &app.tokens.finn] {
            let r = json!({ "channel": "phone", "caller_number": number, "claimed_name": "Mike from IT" });
            let filed = app.post("/api/v1/reports", token, r).await;
            if let Some(c) = filed.body["campaign_id"].as_str() {
                ids.push(c.to_owned());
            }
        }
    }
    assert_eq!(ids.len(), 2, "two campaigns");
    ids
}

async fn a_campaign_cannot_be_merged_with_itself_and_a_merged_id_means_the_campaign_it_joined(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = two_campaigns(&app).await;
    let (a, b) = (&ids[0], &ids[1]);
    set_password(&app, "ada.reyes@example.com").await;
    let seed = enrol_totp(&app, "ada.reyes@example.com").await;
    let mut ada = signed_in(&app, "ada.reyes@example.com", Some(&seed)).await;
    let csrf = ada.get(&format!("/security/campaigns/{a}")).await.csrf();

    // Itself, by its own id: refused by both.
    let api = app.post(&format!("/api/v1/campaigns/{a}/merge"), &app.tokens.admin, json!({ "campaign_id": a })).await;
    assert_eq!((api.status, api.fields()), (422, vec!["campaign_id"]));
    let portal = ada.post(&format!("/security/campaigns/{a}/merge"), &[("csrf", &csrf), ("campaign_id", a)]).await;
    assert_eq!(portal.status, 422, "{}", portal.text);
    assert!(portal.text.contains("cannot be merged with itself"), "{}", portal.text);

    // B joins A; B's id now names A, on the portal as on the API.
    let merged =
        app.post(&format!("/api/v1/campaigns/{a}/merge"), &app.tokens.admin, json!({ "campaign_id": b })).await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    let again = ada.post(&format!("/security/campaigns/{a}/merge"), &[("csrf", &csrf), ("campaign_id", b)]).await;
    assert_eq!(again.status, 422, "B is A now: merging it into A is merging A with itself: {}", again.text);
    let api = app.post(&format!("/api/v1/campaigns/{b}/merge"), &app.tokens.admin, json!({ "campaign_id": a })).await;
    assert_eq!(api.status, 422, "{}", api.body);
    let status =
        ada.post(&format!("/security/campaigns/{b}/status"), &[("csrf", &csrf), ("status", "contained")]).await;
    assert_eq!((status.status, status.location.clone()), (303, format!("/security/campaigns/{a}")), "{}", status.text);
    let a_now = app.get(&format!("/api/v1/campaigns/{a}"), &app.tokens.admin).await;
    assert_eq!((a_now.str("status"), a_now.body["report_count"].as_i64()), ("contained", Some(4)));
    // One merge happened, and each status change is audited with the id it was made to.
    assert_eq!(audited(&app, "campaign.merged").await.len(), 1);
    let changed = audited(&app, "campaign.status").await;
    assert_eq!(changed.iter().map(|(_, target, _)| target.as_str()).collect::<Vec<_>>(), [a.as_str()]);
    app.drop_db().await;
}

async fn opening_cancelling_and_closing_requests_are_audited_whichever_way_they_come(backend: Backend) {
    let app = spawn_app(backend).await;
    let erin = &app.tokens.erin;
    let first = app.open_request(erin, "Printer jams").await;
    let second = app.open_request(erin, "Monitor flickers").await;
    assert_eq!(app.post(&format!("/api/v1/requests/{first}/cancel"), erin, json!({})).await.status, 200);
    assert_eq!(app.post(&format!("/api/v1/requests/{second}/close"), erin, json!({})).await.status, 200);
    set_password(&app, "erin@example.com").await;
    let mut portal = signed_in(&app, "erin@example.com", None).await;
    let form = portal.get("/requests/new").await;
    let opened = portal.post("/requests/new", &[("csrf", &form.csrf()), ("summary", "Keyboard missing keys")]).await;
    assert_eq!(opened.status, 303, "{}", opened.text);
    let filter = AuditFilter { action_prefix: Some("request.".into()), ..AuditFilter::default() };
    let mut entries = app.store.audit_entries(&filter, 20).await.unwrap();
    entries.reverse();
    let seen: Vec<(&str, &str)> = entries.iter().map(|e| (e.action.as_str(), e.actor.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("request.opened", "erin@example.com"),
            ("request.opened", "erin@example.com"),
            ("request.cancelled", "erin@example.com"),
            ("request.closed", "erin@example.com"),
            ("request.opened", "erin@example.com"),
        ]
    );
    let via: Vec<&str> =
        entries.iter().map(|e| if e.detail.contains("\"portal\"") { "portal" } else { "api" }).collect();
    assert_eq!(via, ["api", "api", "api", "api", "portal"]);
    assert_eq!(entries[2].target, first);
    app.drop_db().await;
}

async fn the_staff_directory_answers_a_search_with_the_same_number_of_cards_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let many: Vec<_> = (0..60)
        .map(|i| {
            let (email, name, id) = (format!("tech{i}@example.com"), format!("Tech Person{i}"), format!("IT-7{i:03}"));
            staffer(&email, &name, &id, "Desk", "201-555-0150")
        })
        .collect();
    app.store.import_people(&many, app.clock_now(), |_| {}, |_, _| seeded("directory.imported")).await.unwrap();
    let api = app.get("/api/v1/staff?query=Tech", &app.tokens.erin).await;
    let from_api = api.body.as_array().unwrap().len();
    set_password(&app, "erin@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let page = erin.get("/staff?query=Tech").await;
    let from_portal = page.text.matches("class=\"staffcard\"").count();
    assert_eq!((from_api, from_portal), (50, 50), "one limit for both");
    app.drop_db().await;
}

async fn a_change_whose_audit_entry_cannot_be_written_is_not_made_and_answers_503(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    set_password(&app, "ada.reyes@example.com").await;
    let seed = enrol_totp(&app, "ada.reyes@example.com").await;
    // Signed in first: a session, too, is created with its audit entry.
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let mut ada = signed_in(&app, "ada.reyes@example.com", Some(&seed)).await;
    let form = erin.get("/requests/new").await;
    let people = ada.get("/security/people").await;
    let erin_id = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap().id;
    app.refuse_audit_appends().await;

    let t = &app.tokens;
    let refused = [
        app.post("/api/v1/requests", &t.erin, json!({ "summary": "VPN drops" })).await,
        app.post("/api/v1/webhooks", &t.admin, json!({ "url": "https://siem.example.com/hook" })).await,
        app.send(Method::POST, "/api/v1/reports", Some(&t.erin), Body::Json(json!({ "channel": "phone" }))).await,
    ];
    for r in &refused {
        assert_eq!((r.status, r.problem()), (503, "urn:bonafide:problem:unavailable"), "{}", r.text);
    }
    let opened = erin.post("/requests/new", &[("csrf", &form.csrf()), ("summary", "Mouse is dead")]).await;
    assert_eq!(opened.status, 503, "{}", opened.text);
    let roles =
        ada.post(&format!("/security/people/{erin_id}/roles"), &[("csrf", &people.csrf()), ("roles", "auditor")]).await;
    assert_eq!(roles.status, 503, "{}", roles.text);

    // Nothing of it happened.
    assert_eq!(app.get("/api/v1/requests", &t.erin).await.body, json!([]));
    assert_eq!(app.get("/api/v1/requests?scope=all", &t.admin).await.body, json!([]));
    assert_eq!(app.get("/api/v1/webhooks", &t.admin).await.body, json!([]));
    assert_eq!(app.get("/api/v1/reports?scope=all", &t.admin).await.body, json!([]));
    let erin_now = app.store.person_by_id(erin_id).await.unwrap().unwrap();
    assert!(!erin_now.roles.has(bonafide_domain::Role::Auditor), "roles unchanged");
    app.drop_db().await;
}

/// Issue 14, point 9: about a quarter of the refusals were not audited (scope refusals, resolve, cancel
/// and close refusals, outreach self-approval). Every 403, from the role gates and from the use cases'
/// own rules, on the API and the portal, writes exactly one `access.denied`.
async fn regression_14_9_every_refusal_writes_one_access_denied(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = app.open_request(&t.erin, "Printer jams").await;
    let now = app.clock_now();
    let f = &time::format_description::well_known::Rfc3339;
    let outreach = json!({
        "employee_email": "erin@example.com", "reason": "Recall", "channels": ["phone"],
        "starts_at": now.format(f).unwrap(), "ends_at": (now + time::Duration::hours(2)).format(f).unwrap(),
    });
    let proposed = app.post("/api/v1/outreach", &t.sam, outreach).await;
    assert_eq!(proposed.status, 201, "{}", proposed.text);
    let own = proposed.str("id").to_owned();
    let api: Vec<(Method, String, &str)> = vec![
        (Method::GET, "/api/v1/requests?scope=all".into(), &t.erin),
        (Method::GET, "/api/v1/requests?scope=queue".into(), &t.erin),
        (Method::POST, format!("/api/v1/requests/{key}/resolve"), &t.erin),
        (Method::POST, format!("/api/v1/requests/{key}/cancel"), &t.sam),
        (Method::POST, format!("/api/v1/requests/{key}/close"), &t.sam),
        (Method::POST, format!("/api/v1/requests/{key}/assign"), &t.erin),
        (Method::POST, "/api/v1/outreach".into(), &t.erin),
        (Method::POST, format!("/api/v1/outreach/{own}/approve"), &t.sam),
        (Method::GET, "/api/v1/outreach?scope=pending".into(), &t.erin),
        (Method::GET, "/api/v1/reports?scope=all".into(), &t.erin),
        (Method::GET, "/api/v1/console/codes".into(), &t.erin),
        (Method::GET, "/api/v1/alerts".into(), &t.sam),
        (Method::GET, "/api/v1/campaigns".into(), &t.erin),
        (Method::POST, "/api/v1/webhooks".into(), &t.auditor),
        (Method::GET, "/api/v1/events".into(), &t.erin),
    ];
    let denied = || async {
        let filter = AuditFilter { action_prefix: Some("access.denied".into()), ..AuditFilter::default() };
        app.store.audit_entries(&filter, 1000).await.unwrap().len()
    };
    for (method, path, token) in api {
        let before = denied().await;
        let body = if method == Method::POST {
            Body::Json(json!({ "staff_id": "IT-0042", "url": "https://x.example.com/" }))
        } else {
            Body::Empty
        };
        let r = app.send(method.clone(), &path, Some(token), body).await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
        assert_eq!(denied().await, before + 1, "{method} {path} writes one access.denied");
    }
    set_password(&app, "erin@example.com").await;
    set_password(&app, "gus.ortiz@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let mut gus = signed_in(&app, "gus.ortiz@example.com", None).await;
    for (who, path) in [("erin", "/console"), ("erin", "/security/people"), ("gus", "/security")] {
        let browser = if who == "erin" { &mut erin } else { &mut gus };
        let before = denied().await;
        assert_eq!(browser.get(path).await.status, 403, "{path}");
        assert_eq!(denied().await, before + 1, "{path} writes one access.denied");
    }
    app.drop_db().await;
}

/// Issue 14, point 7: directory names took zero-width and bidirectional controls (`Omar\u{200B}
/// Far\u{202E}ouk` shows a reversed name no claim matches). Names, summaries and reasons refuse them on
/// every adapter; a report keeps them, since they are evidence.
async fn regression_14_7_names_summaries_and_reasons_refuse_invisible_and_direction_characters(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let r = app.post("/api/v1/requests", &t.erin, json!({ "summary": "VPN\u{200B} drops" })).await;
    assert_eq!((r.status, r.fields()), (422, vec!["summary"]), "{}", r.text);
    assert!(r.text.contains("U+200B"), "{}", r.text);
    let now = app.clock_now();
    let f = &time::format_description::well_known::Rfc3339;
    let outreach = json!({
        "employee_email": "erin@example.com", "reason": "Laptop \u{202E}llacer", "channels": ["phone"],
        "starts_at": now.format(f).unwrap(), "ends_at": (now + time::Duration::hours(2)).format(f).unwrap(),
    });
    let r = app.post("/api/v1/outreach", &t.sam, outreach).await;
    assert_eq!((r.status, r.fields()), (422, vec!["reason"]), "{}", r.text);

    set_password(&app, "ada.reyes@example.com").await;
    let seed = enrol_totp(&app, "ada.reyes@example.com").await;
    let mut ada = signed_in(&app, "ada.reyes@example.com", Some(&seed)).await;
    let people = ada.get("/security/people").await;
    let name = "Omar\u{200B} Far\u{202E}ouk";
    let added = ada
        .post("/security/people", &[("csrf", &people.csrf()), ("email", "omar@example.com"), ("display_name", name)])
        .await;
    assert_eq!(added.status, 422, "{}", added.text);
    let csv = format!("email,display_name,team\nomar@example.com,Omar Farouk,Desk\u{2066}\nlee@example.com,{name},\n");
    let imported = ada.post("/security/import", &[("csrf", &people.csrf()), ("csv", &csv)]).await;
    assert_eq!(imported.status, 422, "{}", imported.text);
    assert!(
        imported.text.contains("line 2: team") && imported.text.contains("line 3: display_name"),
        "{}",
        imported.text
    );
    assert!(
        app.store.person_by_email(&"omar@example.com".parse().unwrap()).await.unwrap().is_none(),
        "nothing imported"
    );

    // A report keeps what the caller wrote, invisible characters included: it is evidence.
    let claimed = "Sam\u{200B} Carter";
    let filed = app.post("/api/v1/reports", &t.erin, json!({ "channel": "phone", "claimed_name": claimed })).await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    let mine = app.get("/api/v1/reports", &t.erin).await;
    assert_eq!(mine.body[0]["claimed_name"], claimed);
    app.drop_db().await;
}

/// Issue 14, point 2: locks, rate limits and the audit keyed on the TCP peer only, which behind a load
/// balancer is everyone. A trusted proxy's `X-Forwarded-For` now names the client (the rightmost hop it
/// did not add itself); without `trusted_proxies` the header is ignored.
async fn regression_14_2_forwarded_headers_name_the_client_only_from_a_trusted_proxy(backend: Backend) {
    for (trusted, expected) in [(true, "198.51.100.4"), (false, "127.0.0.1")] {
        let app = spawn_app_with(backend, |c| {
            if trusted {
                c.web.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
            }
        })
        .await;
        bonafide_web::install_tls_provider();
        let refused = reqwest::Client::new()
            .get(format!("{}/api/v1/alerts", app.base()))
            .bearer_auth(&app.tokens.erin)
            .header("x-forwarded-for", "6.6.6.6, 198.51.100.4")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status().as_u16(), 403);
        let filter = AuditFilter { action_prefix: Some("access.denied".into()), ..AuditFilter::default() };
        let entries = app.store.audit_entries(&filter, 10).await.unwrap();
        assert_eq!(entries[0].client, expected, "trusted proxies: {trusted}");
        app.drop_db().await;
    }
}
