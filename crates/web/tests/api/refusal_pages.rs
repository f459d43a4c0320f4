//! Issue 15, point 13: a request the server cannot read is refused as RFC 9457 problem details on the
//! API and as a page in the portal's layout, never as axum's plain text ("Failed to buffer the request
//! body").

use crate::helpers::spawn_app;
use crate::portal::{Browser, Page, set_password, signed_in};
use bonafide_store::Backend;
use serde_json::json;

on_both!(
    regression_15_13_an_oversized_json_body_gets_a_problem,
    regression_15_13_an_oversized_form_gets_a_page,
    regression_15_13_a_malformed_form_or_address_gets_a_page,
);

/// Asserts `page` is a portal page with `status`, not plain text.
fn assert_page(page: &Page, status: u16, what: &str) {
    let content_type = page.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert_eq!((page.status, content_type), (status, "text/html; charset=utf-8"), "{what}: {}", page.text);
    assert!(page.text.contains("href=\"/assets/app.css\""), "{what}: in the portal's layout: {}", page.text);
}

async fn regression_15_13_an_oversized_json_body_gets_a_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    // `post` itself asserts that an error is problem details with its status repeated.
    let huge = json!({ "summary": "x".repeat(100 * 1024) });
    let r = app.post("/api/v1/requests", &app.tokens.erin, huge.clone()).await;
    assert_eq!((r.status, r.problem()), (413, "urn:bonafide:problem:payload-too-large"), "{}", r.text);
    let r = app.post("/api/v1/outreach", &app.tokens.sam, huge).await;
    assert_eq!((r.status, r.problem()), (413, "urn:bonafide:problem:payload-too-large"), "{}", r.text);
    app.drop_db().await;
}

async fn regression_15_13_an_oversized_form_gets_a_page(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    let big = "x".repeat(100 * 1024);
    let mut visitor = Browser::new(&app);
    let form = visitor.get("/signin").await;
    let csrf = form.csrf();
    for path in ["/signin", "/signin/passkey", "/signin/passkey/options"] {
        let sent = visitor.post(path, &[("csrf", &csrf), ("email", "erin@example.com"), ("password", &big)]).await;
        assert_page(&sent, 413, path);
        assert!(sent.text.contains("Too much data"), "{path}: {}", sent.text);
    }
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let report = erin.get("/report").await;
    let sent = erin.post("/report", &[("csrf", &report.csrf()), ("channel", "phone"), ("transcript", &big)]).await;
    assert_page(&sent, 413, "/report");
    app.drop_db().await;
}

async fn regression_15_13_a_malformed_form_or_address_gets_a_page(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    let mut visitor = Browser::new(&app);
    let form = visitor.get("/signin").await;
    let csrf = form.csrf();
    // Fields missing: axum's `Form` answered 422 in plain text.
    let sent = visitor.post("/signin", &[("email", "erin@example.com")]).await;
    assert_page(&sent, 422, "/signin without a password");
    let sent = visitor.post("/signin/passkey", &[("csrf", &csrf)]).await;
    assert_page(&sent, 422, "/signin/passkey without its answer");
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    // A path parameter that is not UTF-8 names nothing; a query parameter given twice cannot be read.
    assert_page(&erin.get("/checks/%FF").await, 404, "/checks/%FF");
    assert_page(&erin.get("/report?check=a&check=b").await, 400, "/report?check=a&check=b");
    app.drop_db().await;
}
