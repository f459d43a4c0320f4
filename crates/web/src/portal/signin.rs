//! Sign-in pages ([`bonafide_app::signin`]): password, then a second factor (TOTP, a passkey or a recovery
//! code) when one is enrolled or required; sign-out here or everywhere. Passwordless sign-in with a passkey
//! is in [`super::passkeys`]. This file holds the cookies and the forms; throttling, the checks and the
//! audit are the use cases'.

use crate::AppState;
use crate::extract::ClientAddr;
use crate::portal::html::{self, csrf_field, notice, page, respond};
use crate::portal::input::PlainForm;
use crate::portal::passkey_forms as passkeys;
use crate::portal::session::{
    self, AnySession, CsrfForm, PendingSecondFactor, Viewer, cookie, pre_cookie, session_cookie, set_cookie,
};
use axum::extract::Request;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bonafide_app::access::Refusal;
use bonafide_app::records::{Credentials, SessionStage};
use bonafide_app::signin::{self as use_case, Factor, SignIn, Started, TRY_LATER};
use bonafide_auth::CsrfToken;
use maud::html;
use secrecy::SecretString;
use serde::Deserialize;

fn signin_form(state: &AppState, csrf: &str, email: &str, problem: Option<&str>) -> maud::Markup {
    page(
        "Sign in",
        None,
        html! {
            h1 { "Sign in to Bonafide" }
            @if let Some(p) = problem { (notice(p, true)) }
            (crate::portal::sso::signin_section(state))
            form.stack method="post" action="/signin" {
                (csrf_field(csrf))
                div {
                    label for="email" { "Work email" }
                    input #email type="email" name="email" autocomplete="username" required value=(email);
                }
                div {
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                }
                button.big type="submit" { "Sign in" }
            }
            (passkeys::signin_section(state, csrf))
            p.muted { "IT will never ask you for this password, on the phone or anywhere else." }
        },
    )
}

/// `GET /signin`.
pub(crate) async fn form(State(state): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    if let Ok(Some(v)) = session::current(&parts, &state).await
        && v.stage == SessionStage::Full
    {
        return Redirect::to("/").into_response();
    }
    let csrf = CsrfToken::generate();
    let mut response = respond(StatusCode::OK, signin_form(&state, csrf.as_str(), "", None));
    let secure = state.config.secure_cookies;
    response.headers_mut().append(header::SET_COOKIE, set_cookie(pre_cookie(secure), csrf.as_str(), 3600, secure));
    response
}

/// Login CSRF: a sign-in form's token must match the pre-session cookie set with the page.
pub(crate) fn login_csrf_ok(state: &AppState, headers: &HeaderMap, presented: &str) -> bool {
    let pre = cookie(headers, pre_cookie(state.config.secure_cookies)).unwrap_or("");
    !pre.is_empty() && CsrfToken::from_presented(pre).matches(presented)
}

/// The sign-in page again, with `problem`.
pub(crate) fn signin_again(state: &AppState, csrf: &str, status: StatusCode, problem: &str) -> Response {
    respond(status, signin_form(state, csrf, "", Some(problem)))
}

#[derive(Deserialize)]
pub(crate) struct SignInBody {
    csrf: String,
    email: String,
    password: String,
}

/// `POST /signin`.
pub(crate) async fn submit(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    PlainForm(body): PlainForm<SignInBody>,
) -> Response {
    let typed = body.email.trim().to_lowercase();
    if !login_csrf_ok(&state, &headers, &body.csrf) {
        state.app.record_refusal(None, &client.0, Some(&typed), Refusal::Csrf { path: "/signin" }).await;
        return html::message(StatusCode::FORBIDDEN, "Form expired", "Reload the sign-in page and try again.", None);
    }
    let again =
        |status: StatusCode, problem: &str| respond(status, signin_form(&state, &body.csrf, &typed, Some(problem)));
    match use_case::password(&state.app, &client.0, &typed, SecretString::from(body.password)).await {
        Ok(SignIn::Started(started)) => {
            let secure = state.config.secure_cookies;
            let mut response = signed_in(&state, &started);
            response.headers_mut().append(header::SET_COOKIE, set_cookie(pre_cookie(secure), "", 0, secure));
            response
        }
        Ok(SignIn::Wrong) => again(StatusCode::UNAUTHORIZED, "Wrong email or password."),
        Ok(SignIn::PasswordOff) => again(StatusCode::FORBIDDEN, &crate::portal::sso::password_off(&state)),
        Ok(SignIn::Locked { minutes }) => again(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many attempts. Try again in {minutes} minutes, or call IT on the official number."),
        ),
        Err(e) => session::server_error(&e),
    }
}

/// The `Set-Cookie` value that hands `started` to the browser.
pub(crate) fn session_cookie_for(state: &AppState, started: &Started) -> HeaderValue {
    let secure = state.config.secure_cookies;
    set_cookie(session_cookie(secure), started.token.reveal(), started.max_age_seconds, secure)
}

/// The redirect to where `started`'s stage of sign-in continues, with its cookie.
pub(crate) fn signed_in(state: &AppState, started: &Started) -> Response {
    let next = match started.stage {
        SessionStage::SecondFactor => "/signin/second-factor",
        SessionStage::Enrol => "/account/totp",
        SessionStage::Full | SessionStage::ProviderMfa => "/",
    };
    let mut response = Redirect::to(next).into_response();
    response.headers_mut().append(header::SET_COOKIE, session_cookie_for(state, started));
    response
}

fn second_factor_form(state: &AppState, v: &Viewer, creds: &Credentials, problem: Option<&str>) -> maud::Markup {
    let totp = creds.totp_sealed.is_some();
    let passkey = creds.passkeys > 0 && state.app.passkeys().is_some();
    page(
        "Second step",
        None,
        html! {
            h1 { @if totp { "Enter your authenticator code" } @else { "Confirm with your passkey" } }
            @if let Some(p) = problem { (notice(p, true)) }
            @if totp {
                form.stack method="post" action="/signin/second-factor" {
                    (csrf_field(&v.csrf))
                    div {
                        label for="code" { "6-digit code" span.hint { "From the authenticator app you set up for Bonafide." } }
                        input.code #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required;
                    }
                    button.big type="submit" { "Continue" }
                }
            }
            @if passkey {
                @if let Some(rp) = state.app.passkeys() {
                    (passkeys::form(rp, "get", "/signin/second-factor/passkey/options", "/signin/second-factor/passkey", &v.csrf, "Use my passkey", html! {}))
                }
            }
            @if creds.passkeys > 0 && state.app.passkeys().is_none() {
                (notice("Passkeys are switched off on this server. Use a recovery code, or call IT on the official number.", true))
            }
            details {
                summary { "Lost your device? Use a recovery code" }
                form.stack method="post" action="/signin/second-factor" {
                    (csrf_field(&v.csrf))
                    div {
                        label for="recovery" { "Recovery code" }
                        input #recovery type="text" name="recovery" autocomplete="off" required;
                    }
                    button.secondary type="submit" { "Use recovery code" }
                }
            }
            form method="post" action="/signout" { (csrf_field(&v.csrf)) button.secondary type="submit" { "Cancel" } }
        },
    )
}

/// The second-factor page for `v`, offering what they enrolled.
pub(crate) async fn second_factor_page(
    state: &AppState,
    v: &Viewer,
    status: StatusCode,
    problem: Option<&str>,
) -> Response {
    match use_case::credentials(&state.app, &v.current).await {
        Ok(creds) => respond(status, second_factor_form(state, v, &creds, problem)),
        Err(e) => session::server_error(&e),
    }
}

/// `GET /signin/second-factor`.
pub(crate) async fn second_factor(
    PendingSecondFactor(v): PendingSecondFactor,
    State(state): State<AppState>,
) -> Response {
    second_factor_page(&state, &v, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub(crate) struct SecondFactorBody {
    code: Option<String>,
    recovery: Option<String>,
}

/// `POST /signin/second-factor`: a TOTP code (never one accepted before) or an unused recovery code.
pub(crate) async fn second_factor_submit(
    PendingSecondFactor(v): PendingSecondFactor,
    State(state): State<AppState>,
    CsrfForm(body): CsrfForm<SecondFactorBody>,
) -> Response {
    let factor = match (body.code, body.recovery) {
        (_, Some(r)) if !r.trim().is_empty() => Factor::Recovery(r),
        (code, _) => Factor::Totp(code.unwrap_or_default()),
    };
    let done = use_case::second_factor(&state.app, &v.current, factor).await;
    second_factor_done(&state, &v, done).await
}

/// The page after a second-factor attempt (TOTP, recovery code or passkey).
pub(crate) async fn second_factor_done(
    state: &AppState,
    v: &Viewer,
    done: Result<SignIn, bonafide_app::AppError>,
) -> Response {
    match done {
        Ok(SignIn::Started(started)) => signed_in(state, &started),
        Ok(SignIn::Wrong | SignIn::PasswordOff) => {
            second_factor_page(state, v, StatusCode::UNAUTHORIZED, Some("That code is wrong or was already used."))
                .await
        }
        Ok(SignIn::Locked { .. }) => second_factor_page(state, v, StatusCode::TOO_MANY_REQUESTS, Some(TRY_LATER)).await,
        Err(e) => session::server_error(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct SignOutBody {
    everywhere: Option<String>,
}

/// `POST /signout`: ends this session, or every session of the person with `everywhere`.
pub(crate) async fn sign_out(
    AnySession(v): AnySession,
    State(state): State<AppState>,
    CsrfForm(body): CsrfForm<SignOutBody>,
) -> Response {
    let secure = state.config.secure_cookies;
    if let Err(e) = use_case::sign_out(&state.app, &v.current, body.everywhere.is_some()).await {
        return session::server_error(&e);
    }
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(session_cookie(secure), "", 0, secure));
    response
}
