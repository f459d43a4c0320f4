//! "My account", for everyone: password change, authenticator app with recovery codes, passkeys (in
//! [`super::passkeys`]), own API tokens (created, shown once; revoked), sign out everywhere.

use crate::AppState;
use crate::portal::forms::{CodeForm, EmptyForm, failed, messages};
use crate::portal::html::{csrf_field, message, notice, page, respond, trusted, when};
use crate::portal::input::PagePath;
use crate::portal::session::{CsrfForm, Page};
use crate::portal::signin;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bonafide_app::Acting;
use bonafide_app::access::Everyone;
use bonafide_app::account::{self, Overview, PasswordRefused};
use bonafide_app::records::SessionStage;
use bonafide_auth::qr;
use bonafide_domain::Role;
use maud::html;
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/account/tokens", post(token_create))
        .route("/account/tokens/{id}/revoke", post(token_revoke))
        .route("/account/totp", get(totp_page))
        .route("/account/totp/start", post(totp_start))
        .route("/account/totp/confirm", post(totp_confirm))
}

async fn account(p: Page<Everyone>, State(state): State<AppState>) -> Response {
    let Overview { credentials: creds, tokens, passkeys: keys } =
        match account::overview(&state.app, p.viewer.caller()).await {
            Ok(o) => o,
            Err(e) => return failed(e, &p.viewer),
        };
    let body = html! {
        h1 { "My account" }
        dl.facts {
            dt { "Email" } dd { (p.viewer.me.email) }
            dt { "Roles" } dd { (p.viewer.me.roles.iter().map(Role::as_str).collect::<Vec<_>>().join(", ")) }
            dt { "Authenticator app" } dd { @if creds.totp_sealed.is_some() { "Set up" } @else { "Not set up" } }
            dt { "Recovery codes left" } dd { (creds.recovery_codes_left) }
        }
        p { a.button.secondary href="/account/totp" { "Set up an authenticator app" } }
        h2 { "Change password" }
        form.stack method="post" action="/account/password" {
            (csrf_field(&p.viewer.csrf))
            div { label for="current" { "Current password" } input #current type="password" name="current" autocomplete="current-password" required; }
            div { label for="new" { "New password" span.hint { "At least 12 characters. A few unrelated words work well." } }
                  input #new type="password" name="new" autocomplete="new-password" required minlength="12"; }
            button type="submit" { "Change password" }
        }
        (super::passkey_forms::account_section(&state, &p.viewer.csrf, &keys))
        h2 { "API tokens" }
        p.muted { "For scripts and integrations. A token is shown once; Bonafide keeps only its hash." }
        @if tokens.is_empty() { p { "You have no API tokens." } }
        ul.plain {
            @for t in &tokens {
                li {
                    strong { (t.label) } " · created " (when(t.created_at))
                    @if let Some(r) = t.revoked_at { " · revoked " (when(r)) } @else {
                        form.inline method="post" action=(format!("/account/tokens/{}/revoke", t.id)) {
                            (csrf_field(&p.viewer.csrf)) " " button.secondary type="submit" { "Revoke" }
                        }
                    }
                }
            }
        }
        form.stack method="post" action="/account/tokens" {
            (csrf_field(&p.viewer.csrf))
            div { label for="label" { "New token's label" } input #label type="text" name="label" maxlength="60" required; }
            button.secondary type="submit" { "Create token" }
        }
        h2 { "Sessions" }
        form method="post" action="/signout" {
            (csrf_field(&p.viewer.csrf))
            input type="hidden" name="everywhere" value="1";
            button.danger type="submit" { "Sign out everywhere" }
        }
    };
    respond(StatusCode::OK, page("My account", Some(&p.viewer), body))
}

#[derive(Deserialize)]
struct TokenForm {
    label: String,
}

async fn token_create(
    p: Page<Everyone>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Response {
    let who = p.viewer.caller();
    let created = match account::create_token(&state.app, Acting::Person(who), "", &form.label).await {
        Ok(t) => t,
        Err(e) => {
            return match messages(&e) {
                Some(_) => message(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Token not created",
                    "Give the token a label.",
                    Some(&p.viewer),
                ),
                None => failed(e, &p.viewer),
            };
        }
    };
    let body = html! {
        h1 { "Token created" }
        p { "Copy it now: it is shown only this once. Treat it like a password." }
        pre.codes { (created.token.reveal()) }
        p { a href="/account" { "Back to my account" } }
    };
    respond(StatusCode::OK, page("Token created", Some(&p.viewer), body))
}

async fn token_revoke(
    p: Page<Everyone>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    match account::revoke_token(&state.app, p.viewer.caller(), &id).await {
        Ok(()) => Redirect::to("/account").into_response(),
        Err(e) => failed(e, &p.viewer),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
}

async fn change_password(
    p: Page<Everyone>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Response {
    let current = secrecy::SecretString::from(form.current);
    match account::change_password(&state.app, p.viewer.caller(), current, form.new).await {
        Ok(Ok(())) => {
            message(StatusCode::OK, "Password changed", "Your new password works from now on.", Some(&p.viewer))
        }
        Ok(Err(PasswordRefused::WrongCurrent)) => {
            message(StatusCode::UNAUTHORIZED, "Password not changed", "The current password is wrong.", Some(&p.viewer))
        }
        Ok(Err(PasswordRefused::Weak(why))) => {
            message(StatusCode::UNPROCESSABLE_ENTITY, "Password not changed", &why, Some(&p.viewer))
        }
        Err(e) => failed(e, &p.viewer),
    }
}

async fn totp_page(p: Page<Everyone>) -> Response {
    let mandatory = p.viewer.stage == SessionStage::Enrol;
    let body = html! {
        h1 { "Set up an authenticator app" }
        @if mandatory { (notice("Your role needs a second factor. Set it up to continue.", false)) }
        p { "You need an authenticator app on your phone (any app that supports TOTP codes)." }
        form method="post" action="/account/totp/start" {
            (csrf_field(&p.viewer.csrf))
            button.big type="submit" { "Show my QR code" }
        }
    };
    respond(StatusCode::OK, page("Authenticator app", Some(&p.viewer), body))
}

async fn totp_start(p: Page<Everyone>, State(state): State<AppState>, CsrfForm(_): CsrfForm<EmptyForm>) -> Response {
    let enrolment = match account::start_totp(&state.app, p.viewer.caller()).await {
        Ok(e) => e,
        Err(e) => return failed(e, &p.viewer),
    };
    let Ok(svg) = qr::qr_svg(&enrolment.uri) else {
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again",
            "The QR code could not be drawn.",
            Some(&p.viewer),
        );
    };
    let body = html! {
        h1 { "Scan this code" }
        div.qr { (trusted(svg)) }
        p { "Or type this key into the app: " code { (enrolment.key) } }
        form.stack method="post" action="/account/totp/confirm" {
            (csrf_field(&p.viewer.csrf))
            div {
                label for="code" { "The 6-digit code the app shows" }
                input.code #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required;
            }
            button.big type="submit" { "Confirm" }
        }
    };
    respond(StatusCode::OK, page("Scan the code", Some(&p.viewer), body))
}

async fn totp_confirm(
    p: Page<Everyone>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    let enrolled = match account::confirm_totp(&state.app, &p.viewer.current, &form.code).await {
        Ok(Some(e)) => e,
        Ok(None) => {
            return message(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Code not accepted",
                "That code did not match. Start again and type the code the app shows now.",
                Some(&p.viewer),
            );
        }
        Err(e) => return failed(e, &p.viewer),
    };
    let body = html! {
        h1 { "Authenticator app set up" }
        p { "Keep these recovery codes somewhere safe. Each works once if you lose your phone. They are shown only now." }
        pre.codes { @for c in &enrolled.recovery_codes { (c) "\n" } }
        p { a.button href="/" { "Continue" } }
    };
    let mut response = respond(StatusCode::OK, page("Recovery codes", Some(&p.viewer), body));
    // Enrolment completed sign-in: the browser takes the fresh session.
    if let Some(started) = &enrolled.session {
        response.headers_mut().append(header::SET_COOKIE, signin::session_cookie_for(&state, started));
    }
    response
}
