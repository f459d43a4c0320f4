//! Single sign-on pages ([`bonafide_app::signin::oidc`]): the "Sign in with …" button, the redirect to the
//! identity provider and the callback it sends the browser back to. The flow's state travels sealed in a
//! short-lived cookie; every check and the audit are the use case's.

use crate::AppState;
use crate::extract::ClientAddr;
use crate::portal::html::{self, page, respond};
use crate::portal::input::PageQuery;
use crate::portal::session::{self, cookie, session_cookie, set_cookie};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bonafide_app::records::SessionStage;
use bonafide_app::signin::oidc::{self as use_case, SsoOutcome, SsoRefusal};
use maud::{Markup, html};
use serde::Deserialize;

/// How long the flow cookie lives: the use case refuses a flow older than this anyway.
const FLOW_COOKIE_SECONDS: i64 = 600;

fn flow_cookie(secure: bool) -> &'static str {
    if secure { "__Host-bf_oidc" } else { "bf_oidc" }
}

/// The flow cookie. `SameSite=Lax`, unlike every other cookie: the provider sends the browser back with a
/// cross-site top-level navigation, which would leave a `Strict` cookie behind.
fn set_flow_cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let text = set_cookie(flow_cookie(secure), value, max_age, secure);
    let text = text.to_str().unwrap_or_default().replace("SameSite=Strict", "SameSite=Lax");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("bf_invalid=; Max-Age=0"))
}

/// The sign-in page's button, when single sign-on is on.
pub(crate) fn signin_section(state: &AppState) -> Markup {
    html! {
        @if let Some(name) = state.app.sso_name() {
            p { a.button.big #sso href="/signin/oidc" { "Sign in with " (name) } }
        }
    }
}

/// `GET /signin/oidc`: to the provider, with a fresh state, nonce and PKCE challenge.
pub(crate) async fn start(State(state): State<AppState>) -> Response {
    match use_case::begin(&state.app).await {
        Ok(begun) => {
            let secure = state.config.secure_cookies;
            let mut response = Redirect::to(&begun.url).into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, set_flow_cookie(&begun.sealed, FLOW_COOKIE_SECONDS, secure));
            response
        }
        Err(bonafide_app::AppError::NotFound) => {
            html::message(StatusCode::NOT_FOUND, "Not found", "Single sign-on is not set up on this server.", None)
        }
        Err(bonafide_app::AppError::Conflict(m)) => {
            html::message(StatusCode::SERVICE_UNAVAILABLE, "Try again", &m, None)
        }
        Err(e) => session::server_error(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct Callback {
    state: Option<String>,
    code: Option<String>,
}

/// `GET /signin/oidc/callback`: the provider's answer.
pub(crate) async fn callback(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    PageQuery(q): PageQuery<Callback>,
) -> Response {
    let secure = state.config.secure_cookies;
    let sealed = cookie(&headers, flow_cookie(secure)).unwrap_or("");
    let done =
        use_case::finish(&state.app, &client.0, sealed, q.state.as_deref().unwrap_or(""), q.code.as_deref()).await;
    let mut response = match done {
        Ok(SsoOutcome::Started(started)) => {
            // A page, not a redirect: after the provider's cross-site navigation the browser would not
            // send the new `Strict` session cookie on a redirect; a same-site reload does.
            let next = match started.stage {
                SessionStage::SecondFactor => "/signin/second-factor",
                SessionStage::Enrol => "/account/totp",
                SessionStage::Full | SessionStage::ProviderMfa => "/",
            };
            let body = html! {
                meta http-equiv="refresh" content={ "0;url=" (next) };
                h1 { "Signed in" }
                p { a #continue href=(next) { "Continue" } }
            };
            let mut r = respond(StatusCode::OK, page("Signed in", None, body));
            let session = set_cookie(session_cookie(secure), started.token.reveal(), started.max_age_seconds, secure);
            r.headers_mut().append(header::SET_COOKIE, session);
            r
        }
        Ok(SsoOutcome::Refused(why)) => refused(&state, why),
        Err(bonafide_app::AppError::NotFound) => {
            html::message(StatusCode::NOT_FOUND, "Not found", "Single sign-on is not set up on this server.", None)
        }
        Err(e) => session::server_error(&e),
    };
    response.headers_mut().append(header::SET_COOKIE, set_flow_cookie("", 0, secure));
    response
}

fn refused(state: &AppState, why: SsoRefusal) -> Response {
    let name = state.app.sso_name().unwrap_or("your company's sign-in");
    let (title, text) = match why {
        SsoRefusal::Failed => (
            "Sign-in did not complete",
            format!("Bonafide could not confirm the answer from {name}. Start again from the sign-in page."),
        ),
        SsoRefusal::Email => (
            "No verified work email",
            format!("{name} did not vouch for a verified work email. Ask the security team to check your account."),
        ),
        SsoRefusal::Unknown => (
            "Not in the directory",
            "Bonafide has no active person with that work email. Ask the security team.".to_owned(),
        ),
        SsoRefusal::Mfa => (
            "Multi-factor sign-in required",
            format!(
                "Your company requires multi-factor authentication for Bonafide, and this sign-in at {name} did \
                 not use it. Sign in again at {name} with your second factor."
            ),
        ),
    };
    let body = html! { h1 { (title) } p { (text) } p { a href="/signin" { "Back to sign-in" } } };
    respond(StatusCode::FORBIDDEN, page(title, None, body))
}

/// The sign-in page's problem when `local_passwords` keeps this person to single sign-on.
pub(crate) fn password_off(state: &AppState) -> String {
    match state.app.sso_name() {
        Some(name) => format!("Passwords are off for your account: use “Sign in with {name}”."),
        None => "Passwords are off for your account.".to_owned(),
    }
}
