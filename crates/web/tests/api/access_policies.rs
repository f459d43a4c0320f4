//! Access policies: resources registered by security, Cedar policies validated against the generated
//! schema (each error at its line and column, the version in force unchanged), and decisions from the
//! directory: a suspended person denied whatever the policies say, the next decision after a change.

use crate::helpers::{TestApp, seeded, spawn_app};
use bonafide_domain::PersonStatus;
use bonafide_store::Backend;
use serde_json::{Value, json};

on_both!(
    security_registers_resources_and_others_are_refused,
    policies_are_validated_against_the_schema_and_versioned,
    decisions_follow_the_directory_and_the_policies,
    services_ask_with_their_own_tokens_and_nginx_gets_204_or_403,
    a_change_on_one_instance_decides_the_next_decision_on_another,
    allows_on_resources_not_high_are_counted,
    a_decision_made_again_follows_the_clock,
);

fn payroll() -> Value {
    json!({ "id": "payroll-db", "kind": "database", "name": "Payroll", "owner_department": "Finance", "sensitivity": "high", "tags": ["pii"] })
}

async fn security_registers_resources_and_others_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    for (token, who) in [(&t.erin, "an employee"), (&t.sam, "IT staff"), (&t.auditor, "an auditor")] {
        let r = app.post("/api/v1/resources", token, payroll()).await;
        assert_eq!((r.status, r.problem()), (403, "urn:bonafide:problem:forbidden"), "{who}");
    }
    assert_eq!(app.get("/api/v1/resources", &t.erin).await.status, 403);
    assert_eq!(app.get("/api/v1/resources", &t.suspended).await.status, 401);
    let r = app.post("/api/v1/resources", &t.admin, payroll()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!((r.str("id"), r.str("sensitivity"), r.body["tags"].clone()), ("payroll-db", "high", json!(["pii"])));
    let again = app.post("/api/v1/resources", &t.admin, payroll()).await;
    assert_eq!(again.status, 409, "{}", again.text);
    let bad =
        json!({ "id": "Payroll DB", "kind": "spreadsheet", "name": "", "sensitivity": "extreme", "tags": ["OK?"] });
    let r = app.post("/api/v1/resources", &t.admin, bad).await;
    assert_eq!(r.status, 422);
    let mut fields = r.fields();
    fields.sort_unstable();
    assert_eq!(fields, ["id", "kind", "name", "sensitivity", "tags[0]"]);
    let list = app.get("/api/v1/resources", &t.auditor).await;
    assert_eq!(list.body.as_array().map(Vec::len), Some(1), "{}", list.text);
    let mut changed = payroll();
    changed["sensitivity"] = json!("medium");
    assert_eq!(app.put("/api/v1/resources/payroll-db", &t.auditor, changed.clone()).await.status, 403);
    let r = app.put("/api/v1/resources/payroll-db", &t.admin, changed.clone()).await;
    assert_eq!((r.status, r.str("sensitivity")), (200, "medium"), "{}", r.text);
    let mut renamed = changed.clone();
    renamed["id"] = json!("other-db");
    assert_eq!(app.put("/api/v1/resources/payroll-db", &t.admin, renamed).await.fields(), ["id"]);
    let mut without_id = changed.clone();
    without_id.as_object_mut().unwrap().remove("id");
    assert_eq!(app.put("/api/v1/resources/nope", &t.admin, without_id).await.status, 404);
    assert_eq!(app.get("/api/v1/resources/payroll-db", &t.auditor).await.str("sensitivity"), "medium");
    assert_eq!(app.delete("/api/v1/resources/payroll-db", &t.auditor).await.status, 403);
    assert_eq!(app.delete("/api/v1/resources/payroll-db", &t.admin).await.status, 204);
    assert_eq!(app.delete("/api/v1/resources/payroll-db", &t.admin).await.status, 404);
    assert_eq!(app.get("/api/v1/resources/payroll-db", &t.admin).await.status, 404);
    app.drop_db().await;
}

const POLICIES: &str = "@id(\"finance-with-mfa\")\npermit (principal in Department::\"Finance\", action == Action::\"access\", resource)\nwhen { context.mfa };\n\n@id(\"high-needs-managed-device\")\nforbid (principal, action, resource)\nwhen { resource.sensitivity == \"high\" && !context.device_managed };\n";

async fn policies_are_validated_against_the_schema_and_versioned(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let none = app.get("/api/v1/access-policies", &t.auditor).await;
    assert_eq!((none.status, none.body["version"].clone()), (200, json!(0)));
    let schema = app.get("/api/v1/access-policies/schema", &t.auditor).await;
    assert_eq!(schema.status, 200);
    assert!(schema.header("content-type").starts_with("text/plain"));
    assert!(schema.text.contains("entity Person in [Department, Role]") && schema.text.contains("action access"));
    assert_eq!(app.get("/api/v1/access-policies/schema", &t.erin).await.status, 403);
    assert_eq!(app.post("/api/v1/access-policies", &t.auditor, json!({ "policies": POLICIES })).await.status, 403);
    let r = app.post("/api/v1/access-policies", &t.admin, json!({ "policies": POLICIES })).await;
    assert_eq!((r.status, r.body["version"].clone()), (201, json!(1)), "{}", r.text);
    // A syntax error, then a policy naming what the schema does not have: each error at its line.
    let broken = "permit (principal, action, resource);\npermit (principal action, resource);";
    let r = app.post("/api/v1/access-policies", &t.admin, json!({ "policies": broken })).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["errors"][0]["field"], "policies");
    assert_eq!(r.body["errors"][0]["line"], 2, "{}", r.text);
    assert!(r.body["errors"][0]["column"].as_u64().unwrap() > 0);
    let unknown = "permit (principal, action, resource)\nwhen { principal.salary > 10 };\npermit (principal == Robot::\"r2\", action, resource);";
    let r = app.post("/api/v1/access-policies", &t.admin, json!({ "policies": unknown })).await;
    assert_eq!(r.status, 422, "{}", r.text);
    let lines: Vec<u64> = r.body["errors"].as_array().unwrap().iter().filter_map(|e| e["line"].as_u64()).collect();
    assert!(lines.contains(&2) && lines.contains(&3), "a bad attribute and an unknown entity type: {}", r.text);
    assert_eq!(app.post("/api/v1/access-policies", &t.admin, json!({ "rules": "" })).await.status, 422);
    // The version in force is unchanged by the refusals.
    let current = app.get("/api/v1/access-policies", &t.admin).await;
    assert_eq!((current.body["version"].clone(), current.body["policies"].clone()), (json!(1), json!(POLICIES)));
    app.drop_db().await;
}

async fn decide(app: &TestApp, principal: &str, resource: &str, context: Value) -> Value {
    let body = json!({ "principal": principal, "action": "access", "resource": resource, "context": context });
    let r = app.post("/api/v1/authorize", &app.tokens.admin, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

async fn decisions_follow_the_directory_and_the_policies(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    assert_eq!(app.post("/api/v1/resources", &t.admin, payroll()).await.status, 201);
    let wiki = json!({ "id": "wiki", "kind": "app", "name": "Wiki", "sensitivity": "low" });
    assert_eq!(app.post("/api/v1/resources", &t.admin, wiki).await.status, 201);
    // Before any policies, everything is denied.
    let office = json!({ "mfa": true, "device_managed": true, "network": "office" });
    assert_eq!(decide(&app, "erin@example.com", "payroll-db", office.clone()).await["decision"], "deny");
    let r = app.post("/api/v1/access-policies", &t.admin, json!({ "policies": POLICIES })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let allowed = decide(&app, "ERIN@example.com", "payroll-db", office.clone()).await;
    assert_eq!(
        (allowed["decision"].clone(), allowed["policies"].clone()),
        (json!("allow"), json!(["finance-with-mfa"]))
    );
    let unmanaged = decide(&app, "erin@example.com", "payroll-db", json!({ "mfa": true, "network": "vpn" })).await;
    assert_eq!(
        (unmanaged["decision"].clone(), unmanaged["policies"].clone()),
        (json!("deny"), json!(["high-needs-managed-device"]))
    );
    assert_eq!(decide(&app, "finn@example.com", "payroll-db", office.clone()).await["decision"], "deny", "Sales");
    assert_eq!(decide(&app, "erin@example.com", "wiki", json!({})).await["decision"], "deny", "no MFA");
    // Denies and allows on a high resource are audited; an allow on a low one is not.
    assert_eq!(decide(&app, "erin@example.com", "wiki", json!({ "mfa": true })).await["decision"], "allow");
    let audited = crate::portal::audited(&app, "access.decided").await;
    assert_eq!(audited.len(), 5, "{audited:?}");
    // Unknown people, resources, actions and networks are named.
    let body = json!({ "principal": "nobody@example.com", "action": "fly", "resource": "moon", "context": { "network": "mars" } });
    let r = app.post("/api/v1/authorize", &t.admin, body).await;
    let mut fields = r.fields();
    fields.sort_unstable();
    assert_eq!((r.status, fields), (422, vec!["action", "context.network", "principal", "resource"]), "{}", r.text);
    for (token, who) in [(&t.erin, "an employee"), (&t.auditor, "an auditor"), (&t.sam, "IT staff")] {
        let body = json!({ "principal": "erin@example.com", "action": "access", "resource": "wiki" });
        assert_eq!(app.post("/api/v1/authorize", token, body).await.status, 403, "{who}");
    }
    // Who can reach what, before anyone asks (security admins and auditors).
    let who = app.get("/api/v1/resources/payroll-db/access", &t.auditor).await;
    assert_eq!((who.status, who.body["people"].clone()), (200, json!(["erin@example.com"])), "{}", who.text);
    let unmanaged = app.get("/api/v1/resources/payroll-db/access?device_managed=false", &t.admin).await;
    assert_eq!(unmanaged.body["people"], json!([]));
    let reach = app.get("/api/v1/people/Erin@example.com/access?network=vpn", &t.admin).await;
    assert_eq!((reach.status, reach.body["resources"].clone()), (200, json!(["payroll-db", "wiki"])), "{}", reach.text);
    assert_eq!(app.get("/api/v1/people/finn@example.com/access", &t.admin).await.body["resources"], json!([]));
    assert_eq!(app.get("/api/v1/people/nobody@example.com/access", &t.admin).await.status, 404);
    assert_eq!(app.get("/api/v1/resources/nope/access", &t.admin).await.status, 404);
    assert_eq!(app.get("/api/v1/resources/wiki/access?network=mars", &t.admin).await.fields(), ["network"]);
    for path in ["/api/v1/resources/wiki/access", "/api/v1/people/erin@example.com/access"] {
        assert_eq!(app.get(path, &t.erin).await.status, 403, "{path}");
        assert_eq!(app.get(path, &t.sam).await.status, 403, "{path}");
    }
    // A person suspended is denied at the next decision, whatever the policies say.
    let erin = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    let now = app.clock_now();
    app.store.set_person_status(erin.id, PersonStatus::Suspended, now, &seeded("person.suspended")).await.unwrap();
    let d = decide(&app, "erin@example.com", "payroll-db", office).await;
    assert_eq!((d["decision"].clone(), d["policies"].clone()), (json!("deny"), json!([])));
    assert!(d["errors"][0].as_str().unwrap().contains("suspended"), "{d}");
    let who = app.get("/api/v1/resources/payroll-db/access", &t.auditor).await;
    assert_eq!(who.body["people"], json!([]), "a suspended person reaches nothing");
    app.drop_db().await;
}

async fn a_change_on_one_instance_decides_the_next_decision_on_another(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let b = app.spawn_instance().await;
    let wiki = json!({ "id": "wiki", "kind": "app", "name": "Wiki", "sensitivity": "low" });
    assert_eq!(app.post("/api/v1/resources", &t.admin, wiki).await.status, 201);
    let everyone = "@id(\"everyone\")\npermit (principal, action == Action::\"access\", resource);";
    assert_eq!(app.post("/api/v1/access-policies", &t.admin, json!({ "policies": everyone })).await.status, 201);
    let ask = json!({ "principal": "finn@example.com", "action": "access", "resource": "wiki" });
    let on_b = |body: Value| async { b.post("/api/v1/authorize", &t.admin, body).await };
    assert_eq!(on_b(ask.clone()).await.str("decision"), "allow", "B has read the directory");
    // Instance A narrows the policies: B's very next decision follows them.
    let sales_only =
        format!("{everyone}\n@id(\"no-sales\")\nforbid (principal in Department::\"Sales\", action, resource);");
    assert_eq!(app.post("/api/v1/access-policies", &t.admin, json!({ "policies": sales_only })).await.status, 201);
    let d = on_b(ask.clone()).await;
    assert_eq!((d.str("decision"), d.body["policies"].clone()), ("deny", json!(["no-sales"])), "{}", d.text);
    // A registers a resource; B decides on it at once.
    let crm = json!({ "id": "crm", "kind": "app", "name": "CRM", "sensitivity": "medium" });
    assert_eq!(app.post("/api/v1/resources", &t.admin, crm).await.status, 201);
    let erin_crm = json!({ "principal": "erin@example.com", "action": "access", "resource": "crm" });
    assert_eq!(on_b(erin_crm).await.str("decision"), "allow");
    // A person suspended through another instance is denied by B's next decision.
    let erin = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    let other = bonafide_store::Store::connect(app.db_url()).await.unwrap();
    other
        .set_person_status(erin.id, PersonStatus::Suspended, app.clock_now(), &seeded("person.suspended"))
        .await
        .unwrap();
    other.close().await;
    let erin_wiki = json!({ "principal": "erin@example.com", "action": "access", "resource": "wiki" });
    let d = on_b(erin_wiki).await;
    assert_eq!(d.str("decision"), "deny", "{}", d.text);
    assert!(d.body["errors"][0].as_str().unwrap().contains("suspended"), "{}", d.text);
    app.drop_db().await;
}

async fn a_decision_made_again_follows_the_clock(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let wiki = json!({ "id": "wiki", "kind": "app", "name": "Wiki", "sensitivity": "low" });
    assert_eq!(app.post("/api/v1/resources", &t.admin, wiki).await.status, 201);
    // Closed during the next minute (UTC) only.
    let next = (app.clock_now() + time::Duration::minutes(1)).minute();
    let policies = format!(
        "@id(\"open\") permit (principal, action, resource);\n\
         @id(\"closed\") forbid (principal, action, resource) when {{ context.time.minute == {next} }};"
    );
    assert_eq!(app.post("/api/v1/access-policies", &t.admin, json!({ "policies": policies })).await.status, 201);
    let ask = json!({ "principal": "erin@example.com", "action": "access", "resource": "wiki" });
    for _ in 0..3 {
        assert_eq!(app.post("/api/v1/authorize", &t.admin, ask.clone()).await.str("decision"), "allow");
    }
    app.advance(60);
    let d = app.post("/api/v1/authorize", &t.admin, ask.clone()).await;
    assert_eq!((d.str("decision"), d.body["policies"].clone()), ("deny", json!(["closed"])), "{}", d.text);
    app.advance(60);
    assert_eq!(app.post("/api/v1/authorize", &t.admin, ask).await.str("decision"), "allow");
    app.drop_db().await;
}

async fn allows_on_resources_not_high_are_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    assert_eq!(app.post("/api/v1/resources", &t.admin, payroll()).await.status, 201);
    let wiki = json!({ "id": "wiki", "kind": "app", "name": "Wiki", "sensitivity": "low" });
    assert_eq!(app.post("/api/v1/resources", &t.admin, wiki).await.status, 201);
    let everyone = "@id(\"everyone\")\npermit (principal, action, resource);";
    assert_eq!(app.post("/api/v1/access-policies", &t.admin, json!({ "policies": everyone })).await.status, 201);
    let office = json!({ "mfa": true, "device_managed": true, "network": "office" });
    for (who, resource, action) in [
        ("erin@example.com", "wiki", "access"),
        ("finn@example.com", "wiki", "access"),
        ("erin@example.com", "wiki", "export"),
        ("erin@example.com", "payroll-db", "access"),
    ] {
        let body = json!({ "principal": who, "action": action, "resource": resource, "context": office });
        assert_eq!(app.post("/api/v1/authorize", &t.admin, body).await.str("decision"), "allow");
    }
    // The allow on the high resource is audited; the three on the wiki are counted.
    let audited = crate::portal::audited(&app, "access.decided").await;
    assert_eq!(audited.len(), 1, "{audited:?}");
    let counts = app.get("/api/v1/access/counts", &t.auditor).await;
    assert_eq!(counts.status, 200, "{}", counts.text);
    let rows: Vec<(String, String, i64)> = counts
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["resource"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
                c["allows"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, vec![("wiki".into(), "access".into(), 2), ("wiki".into(), "export".into(), 1)]);
    // Counted once: reading them again adds nothing.
    let again = app.get("/api/v1/access/counts?days=1", &t.admin).await;
    assert_eq!(again.body.as_array().unwrap().len(), 2, "{}", again.text);
    assert_eq!(app.get("/api/v1/access/counts?days=0", &t.admin).await.fields(), ["days"]);
    for (token, who) in [(&t.erin, "an employee"), (&t.sam, "IT staff")] {
        assert_eq!(app.get("/api/v1/access/counts", token).await.status, 403, "{who}");
    }
    app.drop_db().await;
}

/// A service token made as the operator would (`bonafide token create --service NAME --scope …`).
async fn service_token(app: &TestApp, name: &str, scopes: &[&str]) -> String {
    let secret = std::sync::Arc::new(bonafide_auth::ChallengeSecret::from_hex(&"ab".repeat(32)).unwrap());
    let instance = bonafide_app::App::new(app.store.clone(), app.clock.clone(), secret, app.config_app().clone());
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let (_, token) = bonafide_app::resources::create_service_token(&instance, name, &scopes).await.unwrap();
    token.reveal().to_owned()
}

async fn services_ask_with_their_own_tokens_and_nginx_gets_204_or_403(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    assert_eq!(app.post("/api/v1/resources", &t.admin, payroll()).await.status, 201);
    assert_eq!(app.post("/api/v1/access-policies", &t.admin, json!({ "policies": POLICIES })).await.status, 201);
    let nginx = service_token(&app, "nginx-intranet", &["authorize"]).await;
    let body = json!({ "principal": "erin@example.com", "action": "access", "resource": "payroll-db",
        "context": { "mfa": true, "device_managed": true, "network": "office" } });
    let r = app.post("/api/v1/authorize", &nginx, body.clone()).await;
    assert_eq!((r.status, r.str("decision")), (200, "allow"), "{}", r.text);
    // A service is not a person: it reaches nothing else.
    for path in ["/api/v1/me", "/api/v1/resources", "/api/v1/policy"] {
        assert_eq!(app.get(path, &nginx).await.status, 401, "{path}");
    }
    // A scope is needed; wrong scopes are refused when the token is made.
    let secret = std::sync::Arc::new(bonafide_auth::ChallengeSecret::from_hex(&"ab".repeat(32)).unwrap());
    let instance = bonafide_app::App::new(app.store.clone(), app.clock.clone(), secret, app.config_app().clone());
    for (name, scopes) in
        [("x", vec![]), ("x", vec!["everything".to_owned()]), ("Bad Name", vec!["authorize".to_owned()])]
    {
        assert!(
            bonafide_app::resources::create_service_token(&instance, name, &scopes).await.is_err(),
            "{name} {scopes:?}"
        );
    }
    let bare = bonafide_auth::ApiToken::generate();
    let audit = seeded("service_token.created");
    app.store.create_service_token("bare", &[], bare.hash().as_str(), app.clock_now(), &audit).await.unwrap();
    assert_eq!(app.post("/api/v1/authorize", bare.reveal(), body).await.status, 403, "no authorize scope");
    // nginx's auth_request: the person and context in headers, the answer in the status.
    let authz = |token: String, user: &'static str, mfa: &'static str, device: &'static str| {
        let request = reqwest::Client::new()
            .get(format!("{}/authz/payroll-db", app.base()))
            .bearer_auth(token)
            .header("X-Bonafide-User", user)
            .header("X-Bonafide-MFA", mfa)
            .header("X-Bonafide-Device", device)
            .header("X-Bonafide-Network", "office");
        async move { request.send().await.unwrap() }
    };
    let allowed = authz(nginx.clone(), "erin@example.com", "true", "managed").await;
    assert_eq!(allowed.status(), 204);
    assert_eq!(allowed.headers()["x-bonafide-decision-policies"], "finance-with-mfa");
    let denied = authz(nginx.clone(), "erin@example.com", "true", "unmanaged").await;
    assert_eq!(denied.status(), 403);
    assert_eq!(denied.headers()["x-bonafide-decision-policies"], "high-needs-managed-device");
    let stranger = authz(nginx.clone(), "nobody@example.com", "true", "managed").await;
    assert_eq!(stranger.status(), 403);
    assert!(stranger.headers()["x-bonafide-decision-error"].to_str().unwrap().contains("principal"));
    assert_eq!(authz("not-a-token".into(), "erin@example.com", "true", "managed").await.status(), 401);
    assert_eq!(authz(bare.reveal().to_owned(), "erin@example.com", "true", "managed").await.status(), 403);
    let refused = crate::portal::audited(&app, "access.denied").await;
    assert!(refused.iter().any(|(actor, target, _)| actor == "service:bare" && target == "authorize"), "{refused:?}");
    app.drop_db().await;
}
