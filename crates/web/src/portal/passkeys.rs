//! Passkeys in the portal: registering one on "My account", using one as the second factor after the
//! password, and signing in with one alone (passwordless; every ceremony requires user verification, so
//! the passkey is two factors by itself).
//!
//! Each ceremony has two halves. The page's script posts the form to `…/options` and gets
//! `{ceremony, options}`; the browser asks the authenticator; the script fills the form's hidden
//! `ceremony` and `credential` fields and submits it normally. The forms carry the CSRF token like every
//! other form (the passwordless one the pre-session token of the sign-in page); the ceremonies themselves
//! are [`bonafide_app::signin`]'s and [`bonafide_app::account`]'s. Passkeys need the page to be served from
//! the configured public URL; elsewhere the forms stay hidden.

use crate::AppState;
use crate::extract::ClientAddr;
use crate::portal::forms::EmptyForm;
use crate::portal::html::{self, message};
use crate::portal::input::{PagePath, PlainForm};
use crate::portal::session::{self, CsrfForm, Page, PendingSecondFactor, pre_cookie};
use crate::portal::signin;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use bonafide_app::AppError;
use bonafide_app::access::{Everyone, Refusal};
use bonafide_app::account;
use bonafide_app::signin::{self as use_case, CeremonyStart, SignIn, TRY_LATER};
use serde::Deserialize;

/// A JSON error for the page's script, which shows `detail` to the person.
fn problem(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({ "title": status.canonical_reason().unwrap_or("Error"), "status": status.as_u16(), "detail": detail });
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut()
        .insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/problem+json"));
    r
}

/// A ceremony's options for the page's script, or why there are none.
fn options(started: Result<CeremonyStart, AppError>) -> Response {
    match started {
        Ok(c) => {
            let options: serde_json::Value = serde_json::from_str(&c.options).unwrap_or_default();
            axum::Json(serde_json::json!({ "ceremony": c.id, "options": options })).into_response()
        }
        Err(AppError::NotFound) => problem(StatusCode::NOT_FOUND, "Passkeys are not set up on this server."),
        Err(AppError::Conflict(why)) => problem(StatusCode::CONFLICT, &super::forms::sentence(&why)),
        Err(e) => {
            tracing::error!(error = ?e, "passkey ceremony could not start");
            problem(StatusCode::SERVICE_UNAVAILABLE, "Passkeys are unavailable just now.")
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct Answer {
    ceremony: String,
    credential: String,
    #[serde(default)]
    name: String,
}

// ---- Registration ("My account") ----

/// `POST /account/passkeys/options`.
pub(crate) async fn register_options(
    p: Page<Everyone>,
    State(state): State<AppState>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    options(account::passkey_options(&state.app, p.viewer.caller()).await)
}

/// `POST /account/passkeys`: checks the authenticator's answer and keeps the new passkey.
pub(crate) async fn register(
    p: Page<Everyone>,
    State(state): State<AppState>,
    CsrfForm(answer): CsrfForm<Answer>,
) -> Response {
    let added = account::add_passkey(&state.app, p.viewer.caller(), &answer.ceremony, &answer.credential, &answer.name);
    match added.await {
        Ok(Ok(())) => Redirect::to("/account").into_response(),
        Ok(Err(_)) => message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Passkey not added",
            "Your device's answer could not be verified, or took too long. Go back to My account and try again.",
            Some(&p.viewer),
        ),
        Err(AppError::NotFound) => problem(StatusCode::NOT_FOUND, "Passkeys are not set up on this server."),
        Err(e) => session::server_error(&e),
    }
}

/// `POST /account/passkeys/{id}/delete`.
pub(crate) async fn remove(
    p: Page<Everyone>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    match account::remove_passkey(&state.app, p.viewer.caller(), &id).await {
        Ok(()) => Redirect::to("/account").into_response(),
        Err(AppError::NotFound) => {
            message(StatusCode::NOT_FOUND, "Not found", "You have no such passkey.", Some(&p.viewer))
        }
        Err(e) => session::server_error(&e),
    }
}

// ---- Second factor ----

/// `POST /signin/second-factor/passkey/options`.
pub(crate) async fn second_factor_options(
    PendingSecondFactor(v): PendingSecondFactor,
    State(state): State<AppState>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    options(use_case::passkey_options(&state.app, &v.current).await)
}

/// `POST /signin/second-factor/passkey`.
pub(crate) async fn second_factor(
    PendingSecondFactor(v): PendingSecondFactor,
    State(state): State<AppState>,
    CsrfForm(answer): CsrfForm<Answer>,
) -> Response {
    let done = use_case::passkey_second_factor(&state.app, &v.current, &answer.ceremony, &answer.credential).await;
    match done {
        Ok(SignIn::Wrong) => {
            signin::second_factor_page(&state, &v, StatusCode::UNAUTHORIZED, Some("That passkey could not be used."))
                .await
        }
        Err(AppError::NotFound) => problem(StatusCode::NOT_FOUND, "Passkeys are not set up on this server."),
        other => signin::second_factor_done(&state, &v, other).await,
    }
}

// ---- Passwordless ----

#[derive(Deserialize)]
pub(crate) struct PreForm {
    csrf: String,
}

/// `POST /signin/passkey/options`: a challenge for whichever passkey the browser holds for this site.
pub(crate) async fn passwordless_options(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    PlainForm(form): PlainForm<PreForm>,
) -> Response {
    if state.app.passkeys().is_none() {
        return problem(StatusCode::NOT_FOUND, "Passkeys are not set up on this server.");
    }
    if !signin::login_csrf_ok(&state, &headers, &form.csrf) {
        let path = "/signin/passkey/options";
        state.app.record_refusal(None, &client.0, None, Refusal::Csrf { path }).await;
        return problem(StatusCode::FORBIDDEN, "This page expired. Reload it and try again.");
    }
    match use_case::passwordless_options(&state.app, &client.0).await {
        Ok(Ok(started)) => options(Ok(started)),
        Ok(Err(_)) => problem(StatusCode::TOO_MANY_REQUESTS, TRY_LATER),
        Err(e) => options(Err(e)),
    }
}

#[derive(Deserialize)]
pub(crate) struct PasswordlessAnswer {
    csrf: String,
    ceremony: String,
    credential: String,
}

/// `POST /signin/passkey`: signs in whoever the passkey belongs to, if it verifies.
pub(crate) async fn passwordless(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    PlainForm(answer): PlainForm<PasswordlessAnswer>,
) -> Response {
    if state.app.passkeys().is_none() {
        return Redirect::to("/signin").into_response();
    }
    if !signin::login_csrf_ok(&state, &headers, &answer.csrf) {
        state.app.record_refusal(None, &client.0, None, Refusal::Csrf { path: "/signin/passkey" }).await;
        return html::message(StatusCode::FORBIDDEN, "Form expired", "Reload the sign-in page and try again.", None);
    }
    match use_case::passwordless(&state.app, &client.0, &answer.ceremony, &answer.credential).await {
        Ok(SignIn::Started(started)) => {
            let secure = state.config.secure_cookies;
            let mut response = signin::signed_in(&state, &started);
            response
                .headers_mut()
                .append(axum::http::header::SET_COOKIE, session::set_cookie(pre_cookie(secure), "", 0, secure));
            response
        }
        Ok(SignIn::Wrong | SignIn::PasswordOff) => {
            signin::signin_again(&state, &answer.csrf, StatusCode::UNAUTHORIZED, "That passkey could not be used.")
        }
        Ok(SignIn::Locked { .. }) => {
            signin::signin_again(&state, &answer.csrf, StatusCode::TOO_MANY_REQUESTS, TRY_LATER)
        }
        Err(e) => session::server_error(&e),
    }
}
