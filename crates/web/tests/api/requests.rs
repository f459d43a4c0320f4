//! Support requests: opening them, who sees which, and who may move them along.

use crate::helpers::spawn_app;
use bonafide_domain::Clock;
use bonafide_store::Backend;
use serde_json::{Value, json};

on_both!(
    an_employee_opens_a_request,
    invalid_requests_name_the_offending_field,
    each_role_lists_the_requests_it_may_see,
    other_peoples_requests_are_not_found,
    dispatchers_assign_to_active_it_staff_only,
    only_the_assignee_or_security_resolves,
    only_the_requester_cancels_and_only_once,
);

fn keys(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect()
}

async fn an_employee_opens_a_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({ "summary": "  VPN drops every hour ", "category": "Network", "channels": ["video", "chat"] });
    let r = app.post("/api/v1/requests", &app.tokens.erin, body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.str("key"), "R-1001");
    assert_eq!(r.str("status"), "open");
    assert_eq!(r.str("summary"), "VPN drops every hour");
    assert_eq!(r.str("category"), "network");
    assert_eq!(r.body["channels"], json!(["video", "chat"]), "in channel order");
    assert_eq!(r.body["requester"], json!({ "email": "erin@example.com", "display_name": "Erin Walsh" }));
    assert_eq!(r.body["assignee"], Value::Null);
    let opened = time::OffsetDateTime::parse(r.str("created_at"), &time::format_description::well_known::Rfc3339);
    assert_eq!(opened.unwrap(), app.clock.now());
    assert_eq!(r.str("updated_at"), r.str("created_at"));
    let second = app.post("/api/v1/requests", &app.tokens.finn, json!({ "summary": "Printer jam" })).await;
    assert_eq!((second.str("key"), second.body["channels"].clone()), ("R-1002", json!([])));
    let read = app.get("/api/v1/requests/r-1001", &app.tokens.erin).await;
    assert_eq!((read.status, read.str("key")), (200, "R-1001"));
    app.drop_db().await;
}

async fn invalid_requests_name_the_offending_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases = [
        (json!({ "summary": "   " }), "summary"),
        (json!({ "summary": "x".repeat(501) }), "summary"),
        (json!({ "summary": "ok", "channels": ["fax"] }), "channels[0]"),
        (json!({ "summary": "ok", "category": "two words" }), "category"),
        (json!({ "summary": "ok", "priority": "high" }), "priority"),
        (json!({ "summary": 42 }), "summary"),
        (json!({}), "summary"),
    ];
    for (body, field) in cases {
        let r = app.post("/api/v1/requests", &app.tokens.erin, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.problem(), "urn:bonafide:problem:invalid-input");
        assert_eq!(r.fields(), [field], "{body}: {}", r.text);
        assert!(!r.body["errors"][0]["message"].as_str().unwrap().is_empty());
    }
    let none = app.get("/api/v1/requests?scope=all", &app.tokens.admin).await;
    assert_eq!(none.body, json!([]), "nothing was stored");
    app.drop_db().await;
}

async fn each_role_lists_the_requests_it_may_see(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let erin_1 = app.open_request(&t.erin, "VPN drops").await;
    let erin_2 = app.open_request(&t.erin, "New monitor").await;
    let finn_1 = app.open_request(&t.finn, "Printer jam").await;
    app.assign(&erin_1, "IT-0042", &t.sam).await;
    let list = |token: &str, query: &str| {
        let (app, token, path) = (&app, token.to_owned(), format!("/api/v1/requests{query}"));
        async move { app.get(&path, &token).await }
    };
    assert_eq!(keys(&list(&t.erin, "").await.body), [erin_2.as_str(), erin_1.as_str()], "own, newest first");
    assert_eq!(keys(&list(&t.erin, "?scope=mine").await.body), [erin_2.as_str(), erin_1.as_str()]);
    assert_eq!(keys(&list(&t.finn, "").await.body), [finn_1.as_str()]);
    assert_eq!(keys(&list(&t.sam, "").await.body), [erin_1.as_str()], "IT sees what is assigned to them");
    assert!(keys(&list(&t.kim, "").await.body).is_empty());
    assert_eq!(keys(&list(&t.kim, "?scope=queue").await.body), [finn_1.as_str(), erin_2.as_str()]);
    assert_eq!(keys(&list(&t.sam, "?scope=mine").await.body), Vec::<&str>::new());
    assert_eq!(keys(&list(&t.admin, "").await.body), [finn_1.as_str(), erin_2.as_str(), erin_1.as_str()]);
    assert_eq!(keys(&list(&t.admin, "?scope=queue").await.body), [finn_1.as_str(), erin_2.as_str()]);
    for (token, query) in [(&t.erin, "?scope=all"), (&t.erin, "?scope=queue"), (&t.erin, "?scope=assigned")] {
        let r = list(token, query).await;
        assert_eq!((r.status, r.problem()), (403, "urn:bonafide:problem:forbidden"), "{query}");
    }
    assert_eq!(list(&t.sam, "?scope=all").await.status, 403, "only security admins see everything");
    assert_eq!(list(&t.auditor, "?scope=all").await.status, 403);
    let bad = list(&t.erin, "?scope=everything").await;
    assert_eq!((bad.status, bad.fields()), (422, vec!["scope"]));
    let assigned = &list(&t.sam, "").await.body[0];
    assert_eq!(assigned["assignee"], json!({ "staff_id": "IT-0042", "display_name": "Sam Carter" }));
    assert_eq!(assigned["status"], "assigned");
    app.drop_db().await;
}

async fn other_peoples_requests_are_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = app.open_request(&t.erin, "VPN drops").await;
    let path = format!("/api/v1/requests/{key}");
    let finn = app.get(&path, &t.finn).await;
    assert_eq!((finn.status, finn.problem()), (404, "urn:bonafide:problem:not-found"));
    assert_eq!(app.get(&path, &t.auditor).await.status, 404);
    // An open request is in the IT queue, so any IT staffer sees it, and security sees everything.
    assert_eq!(app.get(&path, &t.kim).await.status, 200);
    assert_eq!(app.get(&path, &t.admin).await.status, 200);
    app.assign(&key, "IT-0042", &t.admin).await;
    assert_eq!(app.get(&path, &t.sam).await.status, 200, "the assignee");
    assert_eq!(app.get(&path, &t.kim).await.status, 404, "assigned to someone else: no longer in the queue");
    for missing in ["R-9999", "nonsense", "R-", "-1"] {
        assert_eq!(app.get(&format!("/api/v1/requests/{missing}"), &t.erin).await.status, 404, "{missing}");
    }
    app.drop_db().await;
}

async fn dispatchers_assign_to_active_it_staff_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = app.open_request(&t.erin, "VPN drops").await;
    let assign = |token: &str, staff_id: &str| {
        let (app, token) = (&app, token.to_owned());
        let (path, body) = (format!("/api/v1/requests/{key}/assign"), json!({ "staff_id": staff_id }));
        async move { app.post(&path, &token, body).await }
    };
    let by_employee = assign(&t.finn, "IT-0042").await;
    assert_eq!((by_employee.status, by_employee.problem()), (403, "urn:bonafide:problem:forbidden"));
    assert_eq!(assign(&t.erin, "IT-0042").await.status, 403, "not even the requester");
    assert_eq!(assign(&t.auditor, "IT-0042").await.status, 403);
    for (staff_id, why) in [("IT-9999", "unknown"), ("IT-0099", "suspended"), ("bogus", "malformed")] {
        let r = assign(&t.sam, staff_id).await;
        assert_eq!((r.status, r.fields()), (422, vec!["staff_id"]), "{why}: {}", r.text);
    }
    assert_eq!(app.get(&format!("/api/v1/requests/{key}"), &t.erin).await.str("status"), "open", "unchanged");
    let r = assign(&t.sam, "it-0042").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.str("status"), "assigned");
    assert_eq!(r.body["assignee"], json!({ "staff_id": "IT-0042", "display_name": "Sam Carter" }));
    // The assignee may hand it on; a security admin may reassign any active request.
    let r = assign(&t.sam, "IT-0007").await;
    assert_eq!((r.status, r.body["assignee"]["staff_id"].clone()), (200, json!("IT-0007")));
    assert_eq!(assign(&t.sam, "IT-0042").await.status, 404, "no longer Sam's, no longer open");
    let r = assign(&t.admin, "IT-0042").await;
    assert_eq!((r.status, r.body["assignee"]["staff_id"].clone()), (200, json!("IT-0042")));
    // A staffer's own request cannot be assigned to them.
    let own = app.open_request(&t.kim, "My laptop").await;
    let r = app.post(&format!("/api/v1/requests/{own}/assign"), &t.sam, json!({ "staff_id": "IT-0007" })).await;
    assert_eq!((r.status, r.fields()), (422, vec!["staff_id"]));
    app.drop_db().await;
}

async fn only_the_assignee_or_security_resolves(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = app.open_request(&t.erin, "VPN drops").await;
    let resolve = format!("/api/v1/requests/{key}/resolve");
    let r = app.post(&resolve, &t.sam, json!({})).await;
    assert_eq!((r.status, r.problem()), (403, "urn:bonafide:problem:forbidden"), "open: visible to IT, not theirs");
    app.assign(&key, "IT-0042", &t.kim).await;
    let finn = app.post(&resolve, &t.finn, json!({})).await;
    assert_eq!((finn.status, finn.problem()), (404, "urn:bonafide:problem:not-found"), "invisible to Finn");
    assert_eq!(app.post(&resolve, &t.kim, json!({})).await.status, 404, "assigned to Sam: invisible to Kim");
    let erin = app.post(&resolve, &t.erin, json!({})).await;
    assert_eq!((erin.status, erin.problem()), (403, "urn:bonafide:problem:forbidden"), "visible, not the assignee");
    let done = app.post(&resolve, &t.sam, json!({})).await;
    assert_eq!((done.status, done.str("status")), (200, "resolved"));
    let again = app.post(&resolve, &t.sam, json!({})).await;
    assert_eq!((again.status, again.problem()), (409, "urn:bonafide:problem:conflict"));
    // The requester closes it; then nothing moves any more.
    let closed = app.post(&format!("/api/v1/requests/{key}/close"), &t.erin, json!({})).await;
    assert_eq!((closed.status, closed.str("status")), (200, "closed"));
    assert_eq!(app.post(&format!("/api/v1/requests/{key}/close"), &t.erin, json!({})).await.status, 409);
    // A security admin resolves any assigned request.
    let other = app.open_request(&t.finn, "Printer jam").await;
    app.assign(&other, "IT-0007", &t.sam).await;
    let r = app.post(&format!("/api/v1/requests/{other}/resolve"), &t.admin, json!({})).await;
    assert_eq!((r.status, r.str("status")), (200, "resolved"));
    app.drop_db().await;
}

async fn only_the_requester_cancels_and_only_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = app.open_request(&t.erin, "VPN drops").await;
    app.assign(&key, "IT-0042", &t.kim).await;
    let cancel = format!("/api/v1/requests/{key}/cancel");
    let sam = app.post(&cancel, &t.sam, json!({})).await;
    assert_eq!((sam.status, sam.problem()), (403, "urn:bonafide:problem:forbidden"), "the assignee sees it");
    assert_eq!(app.post(&cancel, &t.admin, json!({})).await.status, 403, "not even security");
    assert_eq!(app.post(&cancel, &t.finn, json!({})).await.status, 404);
    let done = app.post(&cancel, &t.erin, json!({})).await;
    assert_eq!((done.status, done.str("status")), (200, "cancelled"));
    assert_eq!(done.body["assignee"]["staff_id"], "IT-0042", "the assignee is kept for the record");
    let again = app.post(&cancel, &t.erin, json!({})).await;
    assert_eq!((again.status, again.problem()), (409, "urn:bonafide:problem:conflict"));
    assert_eq!(app.get(&format!("/api/v1/requests/{key}"), &t.erin).await.str("status"), "cancelled");
    // A cancelled request no longer authorises its assignee: the console shows no code for it.
    let codes = app.get("/api/v1/console/codes", &t.sam).await;
    assert_eq!(codes.body, json!([]));
    app.drop_db().await;
}
