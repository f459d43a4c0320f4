//! The portal: server-rendered pages for employees, IT staff and the security team. Works without
//! JavaScript; `app.js` adds code countdowns and drives passkey ceremonies (`navigator.credentials`). Everything it needs is served by the binary.

// A page handler's error is the page to show: a `Response`, which is larger than clippy's threshold.
#![allow(clippy::result_large_err)]

mod access;
mod account;
mod campaigns;
mod charts;
mod checks;
mod console;
mod directory;
mod drill_landing;
mod drills;
mod forms;
mod home;
pub(crate) mod html;
pub(crate) mod input;
mod markdown;
mod passkey_forms;
mod passkeys;
mod policy;
mod reports;
mod requests;
mod risk;
mod security;
pub(crate) mod session;
mod signin;
mod sso;
mod staff;
mod viewer;
mod webhooks;

use crate::AppState;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
        .route("/signin", get(signin::form).post(signin::submit))
        .route("/signin/second-factor", get(signin::second_factor).post(signin::second_factor_submit))
        .route("/signin/second-factor/passkey/options", post(passkeys::second_factor_options))
        .route("/signin/second-factor/passkey", post(passkeys::second_factor))
        .route("/signin/passkey/options", post(passkeys::passwordless_options))
        .route("/signin/passkey", post(passkeys::passwordless))
        .route("/account/passkeys/options", post(passkeys::register_options))
        .route("/account/passkeys", post(passkeys::register))
        .route("/account/passkeys/{id}/delete", post(passkeys::remove))
        .route("/signin/oidc", get(sso::start))
        .route("/signin/oidc/callback", get(sso::callback))
        .route("/signout", post(signin::sign_out))
        .route("/", get(home::home))
        .merge(checks::router())
        .merge(requests::router())
        .merge(staff::router())
        .merge(console::router())
        .merge(security::router())
        .merge(directory::router())
        .merge(account::router())
        .merge(reports::router())
        .merge(campaigns::router())
        .merge(webhooks::router())
        .merge(policy::router())
        .merge(access::router())
        .merge(risk::router())
        .merge(drills::router())
        .merge(drill_landing::router())
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let headers = r.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

async fn css() -> Response {
    asset(include_str!("../assets/app.css"), "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset(include_str!("../assets/app.js"), "text/javascript; charset=utf-8")
}
