//! Sign-in: the health check is open, everything under `/api/v1` needs an active person's token, and
//! `/api/v1/me` says who that is.

use crate::helpers::{Body, spawn_app};
use bonafide_store::Backend;
use reqwest::Method;
use serde_json::json;

on_both!(
    the_health_check_needs_no_token,
    every_api_endpoint_refuses_a_missing_token,
    wrong_and_suspended_tokens_are_refused,
    me_describes_the_token_holder,
);

/// Every route under `/api/v1`, with ids of the right shape.
const ENDPOINTS: [(&str, &str); 19] = [
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/staff?query=sam"),
    ("GET", "/api/v1/staff/IT-0042"),
    ("GET", "/api/v1/staff/IT-0042/photo"),
    ("POST", "/api/v1/requests"),
    ("GET", "/api/v1/requests"),
    ("GET", "/api/v1/requests/R-1001"),
    ("POST", "/api/v1/requests/R-1001/assign"),
    ("POST", "/api/v1/requests/R-1001/resolve"),
    ("POST", "/api/v1/requests/R-1001/cancel"),
    ("POST", "/api/v1/requests/R-1001/close"),
    ("POST", "/api/v1/outreach"),
    ("GET", "/api/v1/outreach"),
    ("POST", "/api/v1/outreach/0190c0de-0000-7000-8000-000000000000/approve"),
    ("POST", "/api/v1/checks"),
    ("GET", "/api/v1/checks/0190c0de-0000-7000-8000-000000000000"),
    ("POST", "/api/v1/checks/0190c0de-0000-7000-8000-000000000000/challenge"),
    ("GET", "/api/v1/console/codes"),
    ("GET", "/api/v1/alerts"),
];

async fn the_health_check_needs_no_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.send(Method::GET, "/healthz", None, Body::Empty).await;
    assert_eq!((r.status, r.text.as_str()), (200, "ok"));
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    assert_eq!(r.header("cache-control"), "no-store");
    app.drop_db().await;
}

async fn every_api_endpoint_refuses_a_missing_token(backend: Backend) {
    let app = spawn_app(backend).await;
    for (method, path) in ENDPOINTS {
        let method: Method = method.parse().unwrap();
        let body = if method == Method::POST { Body::Json(json!({})) } else { Body::Empty };
        let r = app.send(method.clone(), path, None, body).await;
        assert_eq!(r.status, 401, "{method} {path}: {}", r.text);
        assert_eq!(r.header("content-type"), "application/problem+json", "{method} {path}");
        assert_eq!(r.problem(), "urn:bonafide:problem:unauthorized", "{method} {path}");
        assert_eq!(r.header("www-authenticate"), "Bearer", "{method} {path}");
    }
    app.drop_db().await;
}

async fn wrong_and_suspended_tokens_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    // Erin's token with its last hex digit changed.
    let (head, last) = app.tokens.erin.split_at(app.tokens.erin.len() - 1);
    let forged = format!("{head}{}", if last == "0" { "1" } else { "0" });
    assert_ne!(forged, app.tokens.erin);
    for token in [forged.as_str(), "bf_not-a-token", app.tokens.suspended.as_str()] {
        let r = app.get("/api/v1/me", token).await;
        assert_eq!((r.status, r.problem()), (401, "urn:bonafide:problem:unauthorized"), "{token}");
    }
    // The suspended staffer cannot use a single endpoint, the console included.
    let r = app.get("/api/v1/console/codes", &app.tokens.suspended).await;
    assert_eq!(r.status, 401);
    for header in ["Basic ZXJpbjpwYXNzd29yZA==", "Bearer", "Bearer ", app.tokens.erin.as_str()] {
        let r = app.get_authorized("/api/v1/me", header).await;
        assert_eq!(r.status, 401, "Authorization: {header}");
    }
    assert_eq!(app.get("/api/v1/me", &app.tokens.erin).await.status, 200, "the genuine token works");
    let lower = app.get_authorized("/api/v1/me", &format!("bearer {}", app.tokens.erin)).await;
    assert_eq!(lower.status, 200, "the scheme is case-insensitive");
    app.drop_db().await;
}

async fn me_describes_the_token_holder(backend: Backend) {
    let app = spawn_app(backend).await;
    let erin = app.get("/api/v1/me", &app.tokens.erin).await;
    assert_eq!(erin.status, 200);
    assert_eq!(
        erin.body,
        json!({
            "email": "erin@example.com",
            "display_name": "Erin Walsh",
            "roles": ["employee"],
            "department": "Finance",
        }),
        "no staff_id for someone who is not IT"
    );
    let sam = app.get("/api/v1/me", &app.tokens.sam).await;
    assert_eq!(
        sam.body,
        json!({
            "email": "sam.carter@example.com",
            "display_name": "Sam Carter",
            "roles": ["employee", "it_staff"],
            "department": "IT",
            "staff_id": "IT-0042",
        })
    );
    let admin = app.get("/api/v1/me", &app.tokens.admin).await;
    assert_eq!(admin.body["roles"], json!(["employee", "security_admin"]));
    assert!(admin.body.get("staff_id").is_none());
    let auditor = app.get("/api/v1/me", &app.tokens.auditor).await;
    assert_eq!(auditor.body["roles"], json!(["employee", "auditor"]));
    app.drop_db().await;
}
