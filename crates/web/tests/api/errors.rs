//! Malformed calls: every one is answered with problem details and the right status, never a 500.

use crate::helpers::{Body, spawn_app};
use bonafide_store::Backend;
use reqwest::Method;
use serde_json::json;

on_both!(
    a_body_that_is_not_json_is_a_bad_request,
    a_body_that_is_not_declared_json_is_unsupported,
    a_body_over_the_limit_is_too_large,
    unknown_routes_are_not_found,
    wrong_methods_are_not_allowed,
    malformed_query_strings_and_paths_are_problems,
);

async fn a_body_that_is_not_json_is_a_bad_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = Some(app.tokens.erin.as_str());
    for raw in ["{not json", "", "{\"summary\": \"x\"} trailing", "{\"summary\": "] {
        let body = Body::Raw("application/json", raw.as_bytes().to_vec());
        let r = app.send(Method::POST, "/api/v1/requests", token, body).await;
        assert_eq!((r.status, r.problem()), (400, "urn:bonafide:problem:malformed-body"), "{raw:?}: {}", r.text);
    }
    let body = Body::Raw("application/json", b"{\"code\": \"12".to_vec());
    let r = app.send(Method::POST, "/api/v1/checks/0190c0de-0000-7000-8000-000000000000/challenge", token, body).await;
    assert_eq!(r.status, 400);
    // JSON of the wrong shape is a 422, not a 400.
    let r = app.send(Method::POST, "/api/v1/requests", token, Body::Raw("application/json", b"[]".to_vec())).await;
    assert_eq!(r.status, 422, "{}", r.text);
    app.drop_db().await;
}

async fn a_body_that_is_not_declared_json_is_unsupported(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = Some(app.tokens.erin.as_str());
    let summary = br#"{"summary": "VPN drops"}"#.to_vec();
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/jsonp"] {
        let r = app.send(Method::POST, "/api/v1/requests", token, Body::Raw(content_type, summary.clone())).await;
        assert_eq!((r.status, r.problem()), (415, "urn:bonafide:problem:unsupported-media-type"), "{content_type}");
    }
    let bare = app.send(Method::POST, "/api/v1/requests", token, Body::Empty).await;
    assert_eq!(bare.status, 415, "no content type at all");
    let declared = Body::Raw("Application/JSON; charset=utf-8", summary);
    let r = app.send(Method::POST, "/api/v1/requests", token, declared).await;
    assert_eq!((r.status, r.str("key")), (201, "R-1001"), "parameters and case are fine: {}", r.text);
    app.drop_db().await;
}

async fn a_body_over_the_limit_is_too_large(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(bonafide_web::WebConfig::default().body_limit, 64 * 1024);
    let huge = json!({ "summary": "x".repeat(100 * 1024) });
    let r = app.post("/api/v1/requests", &app.tokens.erin, huge).await;
    assert_eq!((r.status, r.problem()), (413, "urn:bonafide:problem:payload-too-large"));
    let r = app
        .post("/api/v1/checks", &app.tokens.erin, json!({ "channel": "phone", "claimed_name": "y".repeat(100 * 1024) }))
        .await;
    assert_eq!(r.status, 413);
    // Just under the limit, the body is read and judged on its content.
    let long = json!({ "summary": "x".repeat(60 * 1024) });
    let r = app.post("/api/v1/requests", &app.tokens.erin, long).await;
    assert_eq!((r.status, r.fields()), (422, vec!["summary"]));
    app.drop_db().await;
}

async fn unknown_routes_are_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in
        ["/nope", "/api/v1/nope", "/api/v2/me", "/api/v1/requests/R-1001/reopen", "/api/v1/staff/IT-0042/photo/big"]
    {
        let with_token = app.get(path, &app.tokens.erin).await;
        assert_eq!((with_token.status, with_token.problem()), (404, "urn:bonafide:problem:not-found"), "{path}");
        let without = app.send(Method::GET, path, None, Body::Empty).await;
        assert_eq!(without.status, 404, "{path}");
    }
    let r = app.post("/api/v1/nope", &app.tokens.erin, json!({})).await;
    assert_eq!(r.status, 404);
    app.drop_db().await;
}

async fn wrong_methods_are_not_allowed(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = Some(app.tokens.erin.as_str());
    let cases = [
        (Method::DELETE, "/api/v1/requests"),
        (Method::PUT, "/api/v1/requests/R-1001"),
        (Method::GET, "/api/v1/checks"),
        (Method::GET, "/api/v1/requests/R-1001/assign"),
        (Method::POST, "/api/v1/me"),
        (Method::PATCH, "/api/v1/outreach"),
        (Method::POST, "/healthz"),
    ];
    for (method, path) in cases {
        let r = app.send(method.clone(), path, token, Body::Empty).await;
        assert_eq!((r.status, r.problem()), (405, "urn:bonafide:problem:method-not-allowed"), "{method} {path}");
    }
    app.drop_db().await;
}

async fn malformed_query_strings_and_paths_are_problems(backend: Backend) {
    let app = spawn_app(backend).await;
    let erin = &app.tokens.erin;
    // Regression: axum's own rejections used to answer plain text.
    let r = app.get("/api/v1/requests?scope=mine&scope=all", erin).await;
    assert_eq!((r.status, r.fields()), (422, vec!["scope"]), "{}", r.text);
    let r = app.get("/api/v1/outreach?scope=mine&scope=mine", erin).await;
    assert_eq!((r.status, r.fields()), (422, vec!["scope"]), "{}", r.text);
    let r = app.get("/api/v1/staff?query=a&query=b", erin).await;
    assert_eq!((r.status, r.fields()), (422, vec!["query"]), "{}", r.text);
    for path in ["/api/v1/requests/%FF", "/api/v1/staff/%FF%FE", "/api/v1/staff/%C3/photo", "/api/v1/checks/%FF"] {
        let r = app.get(path, erin).await;
        assert_eq!((r.status, r.problem()), (404, "urn:bonafide:problem:not-found"), "{path}: {}", r.text);
    }
    let r = app.post("/api/v1/outreach/%FF/approve", &app.tokens.kim, json!({})).await;
    assert_eq!(r.status, 404);
    // Undecodable bytes in a search are replaced, not refused; unknown parameters are ignored.
    let r = app.get("/api/v1/staff?query=%FF", erin).await;
    assert_eq!((r.status, r.body.clone()), (200, json!([])), "{}", r.text);
    let r = app.get("/api/v1/requests?page=2", erin).await;
    assert_eq!((r.status, r.body.clone()), (200, json!([])));
    app.drop_db().await;
}
