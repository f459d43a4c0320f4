//! Issue 19 §2: provisioning with SCIM 2.0. An identity provider's service token with the `scim` scope
//! creates, finds, pages, patches, replaces and deletes users (a delete suspends and keeps the person);
//! groups map to departments and roles; every refusal is a SCIM error (`application/scim+json`, status
//! as text, `scimType`), and a suspension ends the person's sessions and API tokens at once.

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use bonafide_app::scim::groups::GroupMapping;
use bonafide_store::{AuditFilter, Backend};
use reqwest::Method;
use serde_json::{Value, json};

on_both!(
    users_are_created_found_paged_and_read_back,
    filters_cover_eq_co_sw_and_or_and_bad_ones_are_invalid_filter,
    patch_and_put_change_users_and_if_match_guards_them,
    a_suspension_or_delete_ends_sessions_and_tokens_and_keeps_the_person,
    refusals_are_scim_errors,
    groups_map_to_departments_and_roles,
    discovery_describes_the_service,
);

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// An answer from the SCIM endpoint.
struct Answer {
    status: u16,
    body: Value,
    etag: String,
}

/// Sends a SCIM request and checks what every SCIM answer must satisfy: never a 500, SCIM's media
/// type, and errors in SCIM's error schema with the status as text.
async fn scim(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    if_match: Option<&str>,
) -> Answer {
    let client = reqwest::Client::new();
    let mut request = client.request(method.clone(), format!("{}/scim/v2{path}", app.base()));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.header("content-type", "application/scim+json").body(b.to_string());
    }
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let media = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert_ne!(status, 500, "{method} {path}: {text}");
    if status != 204 {
        assert_eq!(media, "application/scim+json", "{method} {path}: {text}");
    }
    if status >= 400 {
        assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "{text}");
        assert_eq!(body["status"], json!(status.to_string()), "{text}");
    }
    Answer { status, body, etag }
}

/// A service token made as the operator would (`bonafide token create --service NAME --scope …`).
async fn service_token(app: &TestApp, name: &str, scopes: &[&str]) -> String {
    let secret = std::sync::Arc::new(bonafide_auth::ChallengeSecret::from_hex(&"ab".repeat(32)).unwrap());
    let instance = bonafide_app::App::new(app.store.clone(), app.clock.clone(), secret, app.config_app().clone());
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let (_, token) = bonafide_app::resources::create_service_token(&instance, name, &scopes).await.unwrap();
    token.reveal().to_owned()
}

fn new_user(user_name: &str, email: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": user_name,
        "externalId": format!("okta-{user_name}"),
        "name": { "givenName": "Nia", "familyName": "Lund" },
        "emails": [{ "value": email, "primary": true, "type": "work" }],
        "title": "Analyst",
        "active": true,
        ENTERPRISE: { "department": "Finance", "employeeNumber": "E-1001" },
    })
}

async fn id_of(app: &TestApp, token: &str, user_name: &str) -> String {
    let filter = format!("userName eq \"{user_name}\"");
    let found = scim(app, Method::GET, &format!("/Users?filter={}", urlencode(&filter)), Some(token), None, None).await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    found.body["Resources"][0]["id"].as_str().unwrap().to_owned()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn scim_audit(app: &TestApp) -> Vec<(String, String, String)> {
    let filter = AuditFilter { action_prefix: Some("scim.".to_owned()), ..AuditFilter::default() };
    let entries = app.store.audit_entries(&filter, 100).await.unwrap();
    entries.into_iter().map(|e| (e.actor, e.action, e.target)).collect()
}

async fn users_are_created_found_paged_and_read_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let okta = service_token(&app, "okta", &["scim"]).await;
    let made =
        scim(&app, Method::POST, "/Users", Some(&okta), Some(new_user("nia", "nia.lund@example.com")), None).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let user = &made.body;
    assert_eq!((user["userName"].clone(), user["displayName"].clone()), (json!("nia"), json!("Nia Lund")));
    assert_eq!(user["emails"], json!([{ "value": "nia.lund@example.com", "primary": true }]));
    assert_eq!(user[ENTERPRISE], json!({ "department": "Finance", "employeeNumber": "E-1001" }));
    assert_eq!((user["externalId"].clone(), user["active"].clone()), (json!("okta-nia"), json!(true)));
    assert_eq!(user["meta"]["version"].as_str(), Some(made.etag.as_str()));
    let id = user["id"].as_str().unwrap();
    let read = scim(&app, Method::GET, &format!("/Users/{id}"), Some(&okta), None, None).await;
    assert_eq!((read.status, &read.body), (200, user));
    // The person is in the directory, an employee like anyone new.
    let person = app.store.person_by_email(&"nia.lund@example.com".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!((person.department.as_str(), person.id.to_string().as_str()), ("Finance", id));
    // The same userName again is a uniqueness conflict.
    let again = scim(&app, Method::POST, "/Users", Some(&okta), Some(new_user("nia", "other@example.com")), None).await;
    assert_eq!((again.status, again.body["scimType"].as_str()), (409, Some("uniqueness")));
    let shouted =
        scim(&app, Method::POST, "/Users", Some(&okta), Some(new_user("NIA", "nia2@example.com")), None).await;
    assert_eq!(shouted.status, 409, "userNames compare without case");
    let erins =
        scim(&app, Method::POST, "/Users", Some(&okta), Some(new_user("Erin@Example.com", "e2@example.com")), None)
            .await;
    assert_eq!(erins.status, 409, "a directory person's userName is their email");
    // A manager is another user's id, and must be one.
    let mut theo = new_user("theo", "theo@example.com");
    theo[ENTERPRISE]["manager"] = json!({ "value": id });
    let theo = scim(&app, Method::POST, "/Users", Some(&okta), Some(theo), None).await;
    assert_eq!(theo.status, 201, "{}", theo.body);
    assert_eq!(theo.body[ENTERPRISE]["manager"]["value"], json!(id));
    let mut nobody = new_user("ann", "ann@example.com");
    nobody[ENTERPRISE]["manager"] = json!({ "value": "not-an-id" });
    let refused = scim(&app, Method::POST, "/Users", Some(&okta), Some(nobody), None).await;
    assert_eq!((refused.status, refused.body["scimType"].as_str()), (400, Some("invalidValue")));
    // Pages: 7 seeded people + 2 (the suspended one too, as inactive).
    let all = scim(&app, Method::GET, "/Users", Some(&okta), None, None).await;
    assert_eq!((all.body["totalResults"].clone(), all.body["startIndex"].clone()), (json!(9), json!(1)));
    let page = scim(&app, Method::GET, "/Users?startIndex=3&count=4", Some(&okta), None, None).await;
    assert_eq!((page.body["startIndex"].clone(), page.body["itemsPerPage"].clone()), (json!(3), json!(4)));
    assert_eq!(page.body["Resources"][0]["id"], all.body["Resources"][2]["id"]);
    let past = scim(&app, Method::GET, "/Users?startIndex=50", Some(&okta), None, None).await;
    assert_eq!((past.body["totalResults"].clone(), past.body["Resources"].clone()), (json!(9), json!([])));
    let none = scim(&app, Method::GET, "/Users?count=0", Some(&okta), None, None).await;
    assert_eq!(none.body["itemsPerPage"], 0);
    let bad = scim(&app, Method::GET, "/Users?count=many", Some(&okta), None, None).await;
    assert_eq!(bad.status, 400);
    // attributes and excludedAttributes.
    let only = scim(&app, Method::GET, &format!("/Users/{id}?attributes=userName"), Some(&okta), None, None).await;
    assert!(only.body.get("userName").is_some() && only.body.get("title").is_none() && only.body.get("id").is_some());
    let without =
        scim(&app, Method::GET, &format!("/Users/{id}?excludedAttributes=title"), Some(&okta), None, None).await;
    assert!(without.body.get("title").is_none() && without.body.get("userName").is_some());
    let audit = scim_audit(&app).await;
    assert!(audit.iter().any(|(actor, action, target)| actor == "service:okta"
        && action == "scim.user_created"
        && target == "nia.lund@example.com"));
    app.drop_db().await;
}

async fn filters_cover_eq_co_sw_and_or_and_bad_ones_are_invalid_filter(backend: Backend) {
    let app = spawn_app(backend).await;
    let okta = service_token(&app, "okta", &["scim"]).await;
    assert_eq!(
        scim(&app, Method::POST, "/Users", Some(&okta), Some(new_user("nia", "nia.lund@example.com")), None)
            .await
            .status,
        201
    );
    let count = |filter: &'static str| {
        let (app, okta) = (&app, okta.clone());
        async move {
            let r =
                scim(app, Method::GET, &format!("/Users?filter={}", urlencode(filter)), Some(&okta), None, None).await;
            assert_eq!(r.status, 200, "{filter}: {}", r.body);
            r.body["totalResults"].as_u64().unwrap()
        }
    };
    assert_eq!(count(r#"userName eq "NIA""#).await, 1, "userName is case-insensitive");
    assert_eq!(count(r#"userName eq "erin@example.com""#).await, 1, "a directory person's userName is their email");
    assert_eq!(count(r#"emails.value eq "nia.lund@example.com""#).await, 1);
    assert_eq!(count(r#"emails.value co "example.com""#).await, 8);
    assert_eq!(count(r#"userName sw "sam""#).await, 1);
    assert_eq!(count(r#"externalId eq "okta-nia""#).await, 1);
    assert_eq!(count(r#"externalId eq "OKTA-NIA""#).await, 0, "externalId is case-exact");
    assert_eq!(count(r#"userName sw "erin" or userName sw "finn""#).await, 2);
    assert_eq!(count(r#"userName sw "erin" and emails.value co "finn""#).await, 0);
    assert_eq!(count(r#"(userName eq "nia" or userName eq "x") and externalId pr"#).await, 1);
    assert_eq!(count(r#"not (externalId pr)"#).await, 7);
    for bad in [
        "userName eq",
        "userName eq nia",
        r#"userName eq "nia"#,
        r#"title eq "x""#,
        r#"userName gt "a""#,
        r#"(userName eq "a""#,
        r#"userName eq "a" and"#,
        ")(",
    ] {
        let r = scim(&app, Method::GET, &format!("/Users?filter={}", urlencode(bad)), Some(&okta), None, None).await;
        assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("invalidFilter")), "{bad}");
    }
    let deep = format!("{}userName pr{}", "(".repeat(5000), ")".repeat(5000));
    let r = scim(&app, Method::GET, &format!("/Users?filter={}", urlencode(&deep)), Some(&okta), None, None).await;
    assert_eq!(r.body["scimType"].as_str(), Some("invalidFilter"));
    app.drop_db().await;
}

async fn patch_and_put_change_users_and_if_match_guards_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let okta = service_token(&app, "okta", &["scim"]).await;
    let made =
        scim(&app, Method::POST, "/Users", Some(&okta), Some(new_user("nia", "nia.lund@example.com")), None).await;
    let id = made.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Users/{id}");
    let ops = |ops: Value| json!({ "schemas": [PATCH], "Operations": ops });
    let patched = scim(
        &app,
        Method::PATCH,
        &path,
        Some(&okta),
        Some(ops(json!([
            { "op": "replace", "path": "title", "value": "Lead" },
            { "op": "add", "path": "emails", "value": [{ "value": "nia@example.com" }] },
            { "op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Sales" },
            { "op": "remove", "path": format!("{ENTERPRISE}:employeeNumber") },
        ]))),
        Some(&made.etag),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["title"], "Lead");
    assert_eq!(patched.body[ENTERPRISE], json!({ "department": "Sales" }));
    assert_eq!(patched.body["emails"].as_array().unwrap().len(), 2);
    assert_ne!(patched.etag, made.etag, "a change is a new version");
    // The old version no longer matches: 412, and nothing changes.
    let stale = scim(
        &app,
        Method::PATCH,
        &path,
        Some(&okta),
        Some(ops(json!([{ "op": "replace", "path": "title", "value": "X" }]))),
        Some(&made.etag),
    )
    .await;
    assert_eq!(stale.status, 412);
    let stale_put =
        scim(&app, Method::PUT, &path, Some(&okta), Some(new_user("nia", "nia.lund@example.com")), Some(&made.etag))
            .await;
    assert_eq!(stale_put.status, 412);
    let stale_delete = scim(&app, Method::DELETE, &path, Some(&okta), None, Some("W/\"0000\"")).await;
    assert_eq!(stale_delete.status, 412);
    assert_eq!(scim(&app, Method::GET, &path, Some(&okta), None, None).await.body["title"], "Lead");
    // Remove a value by filter, replace without a path.
    let more = scim(
        &app,
        Method::PATCH,
        &path,
        Some(&okta),
        Some(ops(json!([
            { "op": "remove", "path": "emails[value eq \"nia@example.com\"]" },
            { "op": "replace", "value": { "displayName": "Nia L.", "externalId": "okta-9" } },
        ]))),
        Some(&patched.etag),
    )
    .await;
    assert_eq!(more.status, 200, "{}", more.body);
    assert_eq!((more.body["displayName"].clone(), more.body["externalId"].clone()), (json!("Nia L."), json!("okta-9")));
    assert_eq!(more.body["emails"].as_array().unwrap().len(), 1);
    // PUT replaces everything it names; what it leaves out is gone.
    let replacement = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "nia",
        "displayName": "Nia Lund", "emails": [{ "value": "nia.lund@example.com", "primary": true }], "active": true });
    let put = scim(&app, Method::PUT, &path, Some(&okta), Some(replacement), Some(&more.etag)).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert!(
        put.body.get("title").is_none() && put.body.get(ENTERPRISE).is_none() && put.body.get("externalId").is_none()
    );
    // Bad bodies: not JSON, no userName, a bad email, a bad op, an unknown path.
    let client = reqwest::Client::new();
    let garbage = client
        .post(format!("{}/scim/v2/Users", app.base()))
        .bearer_auth(&okta)
        .header("content-type", "application/scim+json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let body: Value = garbage.json().await.unwrap();
    assert_eq!(body["scimType"], "invalidSyntax");
    for (body, scim_type) in [
        (json!({ "emails": [{ "value": "x@example.com" }] }), "invalidValue"),
        (json!({ "userName": "zed", "emails": [{ "value": "not an email" }] }), "invalidValue"),
        (json!({ "userName": "zed" }), "invalidValue"),
        (json!({ "userName": 5 }), "invalidValue"),
    ] {
        let r = scim(&app, Method::POST, "/Users", Some(&okta), Some(body.clone()), None).await;
        assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some(scim_type)), "{body}");
    }
    for (body, scim_type) in [
        (ops(json!([{ "op": "move", "path": "title", "value": "x" }])), "invalidSyntax"),
        (ops(json!([{ "op": "add", "path": "urn:nowhere:x", "value": "x" }])), "invalidPath"),
        (json!({ "Operations": [{ "op": "add", "path": "title", "value": "x" }] }), "invalidSyntax"),
        (ops(json!([{ "op": "replace", "path": "userName", "value": "" }])), "invalidValue"),
    ] {
        let r = scim(&app, Method::PATCH, &path, Some(&okta), Some(body.clone()), None).await;
        assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some(scim_type)), "{body}");
    }
    assert_eq!(
        scim(
            &app,
            Method::PATCH,
            "/Users/nope",
            Some(&okta),
            Some(ops(json!([{ "op": "remove", "path": "title" }]))),
            None
        )
        .await
        .status,
        404
    );
    let audit = scim_audit(&app).await;
    assert_eq!(audit.iter().filter(|(_, action, _)| action == "scim.user_replaced").count(), 3);
    // Each replacement names the attributes it changed, like a directory edit.
    let filter = AuditFilter { action_prefix: Some("scim.user_replaced".into()), ..AuditFilter::default() };
    let entries = app.store.audit_entries(&filter, 10).await.unwrap();
    let first = entries.iter().map(|e| e.detail.as_str()).find(|d| d.contains("\"employeeNumber\""));
    assert!(first.is_some_and(|d| d.contains("\"title\"") && d.contains("\"emails\"")), "{entries:?}");
    app.drop_db().await;
}

async fn a_suspension_or_delete_ends_sessions_and_tokens_and_keeps_the_person(backend: Backend) {
    let app = spawn_app(backend).await;
    let okta = service_token(&app, "okta", &["scim"]).await;
    let t = &app.tokens;
    // Erin is signed in to the portal and her API token works.
    crate::portal::set_password(&app, "erin@example.com").await;
    let mut erin = crate::portal::signed_in(&app, "erin@example.com", None).await;
    assert_eq!(erin.get("/").await.status, 200);
    assert_eq!(app.get("/api/v1/me", &t.erin).await.status, 200);
    let id = id_of(&app, &okta, "erin@example.com").await;
    let off = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "active", "value": false }] });
    let r = scim(&app, Method::PATCH, &format!("/Users/{id}"), Some(&okta), Some(off), None).await;
    assert_eq!((r.status, r.body["active"].clone()), (200, json!(false)), "{}", r.body);
    assert_ne!(erin.get("/").await.status, 200, "her session ended");
    assert_eq!(app.get("/api/v1/me", &t.erin).await.status, 401, "her token stopped working");
    // Reactivated, the old token stays revoked: a suspension ends access for good.
    let on = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "value": { "active": true } }] });
    assert_eq!(scim(&app, Method::PATCH, &format!("/Users/{id}"), Some(&okta), Some(on), None).await.status, 200);
    assert_eq!(app.get("/api/v1/me", &t.erin).await.status, 401);
    // Finn: DELETE suspends him at once and hides him from SCIM; he stays in the directory.
    crate::portal::set_password(&app, "finn@example.com").await;
    let mut finn = crate::portal::signed_in(&app, "finn@example.com", None).await;
    assert_eq!(finn.get("/").await.status, 200);
    let finn_id = id_of(&app, &okta, "finn@example.com").await;
    let gone = scim(&app, Method::DELETE, &format!("/Users/{finn_id}"), Some(&okta), None, None).await;
    assert_eq!(gone.status, 204);
    assert_ne!(finn.get("/").await.status, 200);
    assert_eq!(app.get("/api/v1/me", &t.finn).await.status, 401);
    assert_eq!(scim(&app, Method::GET, &format!("/Users/{finn_id}"), Some(&okta), None, None).await.status, 404);
    assert_eq!(scim(&app, Method::DELETE, &format!("/Users/{finn_id}"), Some(&okta), None, None).await.status, 404);
    let kept = app.store.person_by_email(&"finn@example.com".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(kept.status, bonafide_domain::PersonStatus::Suspended);
    // Provisioned again, he is the same person, with the same id.
    let back = json!({ "userName": "finn@example.com", "displayName": "Finn Hale", "active": true });
    let back = scim(&app, Method::POST, "/Users", Some(&okta), Some(back), None).await;
    assert_eq!((back.status, back.body["id"].as_str()), (201, Some(finn_id.as_str())), "{}", back.body);
    let audit = scim_audit(&app).await;
    for action in ["scim.user_suspended", "scim.user_reactivated", "scim.user_deleted", "scim.user_restored"] {
        assert!(audit.iter().any(|(_, a, _)| a == action), "{action}: {audit:?}");
    }
    // The audit trail is whole: the chain verifies.
    assert!(app.store.verify_audit(|_| {}).await.unwrap().broken.is_none());
    app.drop_db().await;
}

async fn refusals_are_scim_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let okta = service_token(&app, "okta", &["scim"]).await;
    let nginx = service_token(&app, "nginx", &["authorize"]).await;
    let t = &app.tokens;
    let none = scim(&app, Method::GET, "/Users", None, None, None).await;
    assert_eq!(none.status, 401);
    let wrong = scim(&app, Method::GET, "/Users", Some("not-a-token"), None, None).await;
    assert_eq!(wrong.status, 401);
    let unscoped = scim(&app, Method::GET, "/Users", Some(&nginx), None, None).await;
    assert_eq!(unscoped.status, 403);
    let unscoped_post =
        scim(&app, Method::POST, "/Users", Some(&nginx), Some(new_user("z", "z@example.com")), None).await;
    assert_eq!(unscoped_post.status, 403);
    for token in [&t.admin, &t.erin] {
        let person = scim(&app, Method::GET, "/Users", Some(token), None, None).await;
        assert_eq!(person.status, 403, "a person's token, even a security admin's");
    }
    let denied = app
        .store
        .audit_entries(&AuditFilter { action_prefix: Some("access.denied".into()), ..AuditFilter::default() }, 100)
        .await
        .unwrap();
    assert!(denied.iter().any(|e| e.actor == "service:nginx"));
    assert!(denied.iter().any(|e| e.actor == "ada.reyes@example.com" && e.target == "/scim/v2/Users"));
    assert_eq!(
        scim(&app, Method::GET, "/Users/00000000-0000-0000-0000-000000000000", Some(&okta), None, None).await.status,
        404
    );
    assert_eq!(scim(&app, Method::GET, "/Nowhere", Some(&okta), None, None).await.status, 404);
    assert_eq!(scim(&app, Method::DELETE, "/ServiceProviderConfig", Some(&okta), None, None).await.status, 405);
    let text = reqwest::Client::new()
        .post(format!("{}/scim/v2/Users", app.base()))
        .bearer_auth(&okta)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 400);
    assert!(app.store.person_by_email(&"z@example.com".parse().unwrap()).await.unwrap().is_none());
    app.drop_db().await;
}

async fn groups_map_to_departments_and_roles(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.app.scim_groups = vec![
            GroupMapping::parse("IT Helpdesk=department:Service Desk,role:it_staff").unwrap(),
            GroupMapping::parse("Auditors=role:auditor").unwrap(),
        ];
    })
    .await;
    let okta = service_token(&app, "okta", &["scim"]).await;
    let list = scim(&app, Method::GET, "/Groups", Some(&okta), None, None).await;
    assert_eq!(list.body["totalResults"], 2, "{}", list.body);
    let found = scim(
        &app,
        Method::GET,
        &format!("/Groups?filter={}", urlencode(r#"displayName eq "auditors""#)),
        Some(&okta),
        None,
        None,
    )
    .await;
    assert_eq!(found.body["totalResults"], 1);
    let auditors = found.body["Resources"][0].clone();
    assert_eq!(auditors["members"].as_array().unwrap().len(), 1, "Gus is an auditor: {auditors}");
    let gid = auditors["id"].as_str().unwrap();
    let erin = id_of(&app, &okta, "erin@example.com").await;
    let add =
        json!({ "schemas": [PATCH], "Operations": [{ "op": "add", "path": "members", "value": [{ "value": erin }] }] });
    let r = scim(&app, Method::PATCH, &format!("/Groups/{gid}"), Some(&okta), Some(add), None).await;
    assert_eq!((r.status, r.body["members"].as_array().map(Vec::len)), (200, Some(2)), "{}", r.body);
    let person = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    assert!(person.roles.has(bonafide_domain::Role::Auditor));
    let remove = json!({ "schemas": [PATCH], "Operations": [{ "op": "remove", "path": format!("members[value eq \"{erin}\"]") }] });
    let r = scim(&app, Method::PATCH, &format!("/Groups/{gid}"), Some(&okta), Some(remove), Some(&r.etag)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let person = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    assert!(!person.roles.has(bonafide_domain::Role::Auditor));
    // The helpdesk group: department and role.
    let helpdesk = scim(
        &app,
        Method::GET,
        &format!("/Groups?filter={}", urlencode(r#"displayName sw "IT""#)),
        Some(&okta),
        None,
        None,
    )
    .await;
    let hid = helpdesk.body["Resources"][0]["id"].as_str().unwrap().to_owned();
    let put = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "IT Helpdesk", "members": [{ "value": erin }] });
    let r = scim(&app, Method::PUT, &format!("/Groups/{hid}"), Some(&okta), Some(put), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let person = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    assert!(person.roles.has(bonafide_domain::Role::ItStaff) && person.department == "Service Desk");
    let stale = scim(
        &app,
        Method::PUT,
        &format!("/Groups/{hid}"),
        Some(&okta),
        Some(json!({ "displayName": "IT Helpdesk" })),
        Some("W/\"stale\""),
    )
    .await;
    assert_eq!(stale.status, 412);
    // A provider "creating" a mapped group finds it, and sets its members.
    let gus = id_of(&app, &okta, "gus.ortiz@example.com").await;
    let made = json!({ "displayName": "auditors", "members": [{ "value": gus }] });
    let made = scim(&app, Method::POST, "/Groups", Some(&okta), Some(made), None).await;
    assert_eq!((made.status, made.body["id"].as_str()), (201, Some(gid)), "{}", made.body);
    assert_eq!(made.body["members"].as_array().map(Vec::len), Some(1));
    // Groups are configuration: an unmapped name, a rename and a delete are refused.
    let unmapped =
        scim(&app, Method::POST, "/Groups", Some(&okta), Some(json!({ "displayName": "Everyone" })), None).await;
    assert_eq!((unmapped.status, unmapped.body["scimType"].as_str()), (400, Some("invalidValue")));
    let rename = scim(
        &app,
        Method::PUT,
        &format!("/Groups/{hid}"),
        Some(&okta),
        Some(json!({ "displayName": "Helpdesk" })),
        None,
    )
    .await;
    assert_eq!(rename.status, 400);
    assert_eq!(scim(&app, Method::DELETE, &format!("/Groups/{hid}"), Some(&okta), None, None).await.status, 400);
    let bogus = json!({ "schemas": [PATCH], "Operations": [{ "op": "add", "path": "members", "value": [{ "value": "nobody" }] }] });
    assert_eq!(scim(&app, Method::PATCH, &format!("/Groups/{hid}"), Some(&okta), Some(bogus), None).await.status, 400);
    assert!(scim_audit(&app).await.iter().any(|(_, a, t)| a == "scim.group_members_changed" && t == "Auditors"));
    app.drop_db().await;
}

async fn discovery_describes_the_service(backend: Backend) {
    let app = spawn_app(backend).await;
    let spc = scim(&app, Method::GET, "/ServiceProviderConfig", None, None, None).await;
    assert_eq!(
        (spc.body["patch"]["supported"].clone(), spc.body["etag"]["supported"].clone()),
        (json!(true), json!(true))
    );
    let types = scim(&app, Method::GET, "/ResourceTypes", None, None, None).await;
    assert_eq!(types.body["totalResults"], 2);
    assert_eq!(
        scim(&app, Method::GET, "/ResourceTypes/User", None, None, None).await.body["schemaExtensions"][0]["schema"],
        ENTERPRISE
    );
    let schemas = scim(&app, Method::GET, "/Schemas", None, None, None).await;
    let ids: Vec<&str> =
        schemas.body["Resources"].as_array().unwrap().iter().filter_map(|s| s["id"].as_str()).collect();
    assert!(ids.contains(&ENTERPRISE) && ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:User"));
    assert_eq!(scim(&app, Method::GET, &format!("/Schemas/{ENTERPRISE}"), None, None, None).await.status, 200);
    assert_eq!(scim(&app, Method::GET, "/Schemas/urn:nothing", None, None, None).await.status, 404);
    app.drop_db().await;
}
