//! Passkeys in the portal: registering one on "My account", using one as the second factor after the
//! password, and signing in with one alone (passwordless; every ceremony requires user verification, so
//! the passkey is two factors by itself).
//!
//! Each ceremony has two halves. The page's script posts the form to `…/options` and gets
//! `{ceremony, options}`; the browser asks the authenticator; the script fills the form's hidden
//! `ceremony` and `credential` fields and submits it normally. The forms carry the CSRF token like every
//! other form (the passwordless one the pre-session token of the sign-in page), and a ceremony's state is
//! taken from the store once, so an answer cannot be replayed. Passkeys need the page to be served from the
//! configured public URL; elsewhere the forms stay hidden.

use crate::AppState;
use crate::extract::ClientAddr;
use crate::portal::html::{self, csrf_field, message, when};
use crate::portal::pages::EmptyForm;
use crate::portal::session::{self, AnyPerson, CsrfForm, Page, PendingSecondFactor, audit, pre_cookie};
use crate::portal::signin::{self, ACCOUNT_FAILURES, ADDRESS_FAILURES, FAILURE_WINDOW, LOCK};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use bonafide_auth::passkey::{PasskeyError, RelyingParty, ceremony_id};
use bonafide_domain::{PersonId, PersonStatus};
use bonafide_store::{AuditEvent, CeremonyKind, Outcome, Principal, SessionStage, StoredPasskey};
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::Arc;
use time::Duration;

/// How long the browser has to answer a challenge.
const CEREMONY_TTL: Duration = Duration::minutes(5);

/// A passkey form: hidden until the script finds WebAuthn support and the right origin.
pub(crate) fn form(
    rp: &RelyingParty,
    mode: &'static str,
    options_url: &str,
    action: &str,
    csrf: &str,
    button: &str,
    extra: Markup,
) -> Markup {
    html! {
        form.stack method="post" action=(action) hidden data-passkey=(mode) data-options=(options_url) data-origin=(rp.origin()) {
            (csrf_field(csrf))
            input type="hidden" name="ceremony";
            input type="hidden" name="credential";
            (extra)
            div.notice.error role="alert" data-passkey-status hidden {}
            button.big type="submit" { (button) }
        }
        p.muted data-passkey-hint { "Passkeys work at " (rp.origin()) " in a browser with JavaScript." }
    }
}

fn relying_party(state: &AppState) -> Result<Arc<RelyingParty>, Response> {
    state.passkeys.clone().ok_or_else(|| problem(StatusCode::NOT_FOUND, "Passkeys are not set up on this server."))
}

/// A JSON error for the page's script, which shows `detail` to the person.
fn problem(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({ "title": status.canonical_reason().unwrap_or("Error"), "status": status.as_u16(), "detail": detail });
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut()
        .insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/problem+json"));
    r
}

/// Keeps the ceremony's state and answers the script with its options.
async fn begin(
    state: &AppState,
    person: Option<PersonId>,
    kind: CeremonyKind,
    ceremony: Result<bonafide_auth::passkey::Ceremony, PasskeyError>,
) -> Response {
    let ceremony = match ceremony {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "passkey ceremony could not start");
            return problem(StatusCode::SERVICE_UNAVAILABLE, "Passkeys are unavailable just now.");
        }
    };
    let id = ceremony_id();
    let now = state.clock.now();
    if let Err(e) = state.store.put_ceremony(&id, person, kind, &ceremony.state, now, now + CEREMONY_TTL).await {
        tracing::error!(error = %e, "passkey ceremony could not be stored");
        return problem(StatusCode::SERVICE_UNAVAILABLE, "Passkeys are unavailable just now.");
    }
    let options: serde_json::Value = serde_json::from_str(&ceremony.options).unwrap_or_default();
    axum::Json(serde_json::json!({ "ceremony": id, "options": options })).into_response()
}

#[derive(Deserialize)]
pub(crate) struct Answer {
    ceremony: String,
    credential: String,
    #[serde(default)]
    name: String,
}

fn stored(keys: &[StoredPasskey]) -> Vec<String> {
    keys.iter().map(|k| k.stored.clone()).collect()
}

// ---- Registration ("My account") ----

/// `POST /account/passkeys/options`.
pub(crate) async fn register_options(
    p: Page<AnyPerson>,
    State(state): State<AppState>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    let rp = match relying_party(&state) {
        Ok(rp) => rp,
        Err(r) => return r,
    };
    let me = &p.viewer.me;
    let existing = match state.store.passkeys_of(me.id).await {
        Ok(k) => stored(&k),
        Err(e) => return session::server_error(&e),
    };
    let ceremony = rp.start_registration(me.id.0, me.email.as_str(), me.display_name.as_str(), &existing);
    begin(&state, Some(me.id), CeremonyKind::Register, ceremony).await
}

/// `POST /account/passkeys`: checks the authenticator's answer and keeps the new passkey.
pub(crate) async fn register(
    p: Page<AnyPerson>,
    State(state): State<AppState>,
    CsrfForm(answer): CsrfForm<Answer>,
) -> Response {
    let rp = match relying_party(&state) {
        Ok(rp) => rp,
        Err(r) => return r,
    };
    let now = state.clock.now();
    let me = &p.viewer.me;
    let added = async {
        let taken = state.store.take_ceremony(&answer.ceremony, CeremonyKind::Register, now).await?;
        let Some(taken) = taken.filter(|t| t.person == Some(me.id)) else {
            return Ok(Err("unknown or expired ceremony".to_owned()));
        };
        let new = match rp.finish_registration(&taken.state, &answer.credential) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let name: String = answer.name.trim().chars().filter(|c| !c.is_control()).take(60).collect();
        let name = if name.is_empty() { "Passkey".to_owned() } else { name };
        match state.store.add_passkey(me.id, &new.id, &name, &new.stored, now).await {
            Ok(()) => Ok(Ok((new, name))),
            Err(bonafide_store::StoreError::Conflict(_)) => Ok(Err("already registered".to_owned())),
            Err(e) => Err(e),
        }
    }
    .await;
    match added {
        Err(e) => session::server_error(&e),
        Ok(Err(why)) => {
            let event = AuditEvent::new(&p.viewer.actor(), "factor.passkey.added", me.email.as_str(), Outcome::Denied)
                .with(serde_json::json!({ "why": why }));
            audit(&state, event).await;
            message(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Passkey not added",
                "Your device's answer could not be verified, or took too long. Go back to My account and try again.",
                Some(&p.viewer),
            )
        }
        Ok(Ok((new, name))) => {
            let event = AuditEvent::new(&p.viewer.actor(), "factor.passkey.added", me.email.as_str(), Outcome::Ok)
                .with(serde_json::json!({ "passkey": new.id, "name": name, "discoverable": new.discoverable }));
            audit(&state, event).await;
            Redirect::to("/account").into_response()
        }
    }
}

/// `POST /account/passkeys/{id}/delete`.
pub(crate) async fn remove(
    p: Page<AnyPerson>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    match state.store.delete_passkey(p.viewer.me.id, &id).await {
        Ok(true) => {
            let event =
                AuditEvent::new(&p.viewer.actor(), "factor.passkey.removed", p.viewer.me.email.as_str(), Outcome::Ok)
                    .with(serde_json::json!({ "passkey": id }));
            audit(&state, event).await;
            Redirect::to("/account").into_response()
        }
        Ok(false) => message(StatusCode::NOT_FOUND, "Not found", "You have no such passkey.", Some(&p.viewer)),
        Err(e) => session::server_error(&e),
    }
}

/// The passkeys part of "My account".
pub(crate) fn account_section(state: &AppState, csrf: &str, keys: &[StoredPasskey]) -> Markup {
    html! {
        h2 { "Passkeys" }
        p.muted { "A passkey signs you in with your device's screen lock or a security key, without a password. It only works on this site, so it cannot be phished." }
        @if keys.is_empty() { p { "You have no passkeys." } }
        ul.plain {
            @for k in keys {
                li {
                    strong { (k.name) } " · added " (when(k.created_at))
                    @if let Some(t) = k.last_used_at { " · last used " (when(t)) }
                    form.inline method="post" action=(format!("/account/passkeys/{}/delete", k.id)) {
                        (csrf_field(csrf)) " " button.secondary type="submit" { "Remove" }
                    }
                }
            }
        }
        @match &state.passkeys {
            Some(rp) => {
                (form(rp, "create", "/account/passkeys/options", "/account/passkeys", csrf, "Add a passkey", html! {
                    div { label for="passkey-name" { "Name it" span.hint { "So you can tell your devices apart, e.g. “work laptop”." } }
                          input #passkey-name type="text" name="name" maxlength="60"; }
                }))
            }
            None => { p.muted { "Passkeys are not set up on this server (it needs a public URL)." } }
        }
    }
}

// ---- Second factor ----

/// `POST /signin/second-factor/passkey/options`.
pub(crate) async fn second_factor_options(
    PendingSecondFactor(v): PendingSecondFactor,
    State(state): State<AppState>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    let rp = match relying_party(&state) {
        Ok(rp) => rp,
        Err(r) => return r,
    };
    let keys = match state.store.passkeys_of(v.me.id).await {
        Ok(k) => k,
        Err(e) => return session::server_error(&e),
    };
    if keys.is_empty() {
        return problem(StatusCode::CONFLICT, "You have no passkey. Use your authenticator code.");
    }
    begin(&state, Some(v.me.id), CeremonyKind::SecondFactor, rp.start_authentication(&stored(&keys))).await
}

/// `POST /signin/second-factor/passkey`.
pub(crate) async fn second_factor(
    PendingSecondFactor(v): PendingSecondFactor,
    State(state): State<AppState>,
    CsrfForm(answer): CsrfForm<Answer>,
) -> Response {
    let rp = match relying_party(&state) {
        Ok(rp) => rp,
        Err(r) => return r,
    };
    let now = state.clock.now();
    let account = format!("account:{}", v.me.email.as_str());
    if let Ok(Some(_)) = state.store.signin_locked_until(&[&account], now).await {
        audit(&state, AuditEvent::new(&v.actor(), "signin.throttled", v.me.email.as_str(), Outcome::Denied)).await;
        return signin::second_factor_page(&state, &v, StatusCode::TOO_MANY_REQUESTS, Some(signin::TRY_LATER)).await;
    }
    let verified = async {
        let taken = state.store.take_ceremony(&answer.ceremony, CeremonyKind::SecondFactor, now).await?;
        let Some(taken) = taken.filter(|t| t.person == Some(v.me.id)) else {
            return Ok(Err("unknown or expired ceremony".to_owned()));
        };
        let keys = state.store.passkeys_of(v.me.id).await?;
        Ok::<_, bonafide_store::StoreError>(
            rp.finish_authentication(&taken.state, &answer.credential, &stored(&keys)).map_err(|e| e.to_string()),
        )
    }
    .await;
    match verified {
        Err(e) => session::server_error(&e),
        Ok(Err(why)) => {
            let _ = state.store.record_signin_failure(&account, now, FAILURE_WINDOW, ACCOUNT_FAILURES, LOCK).await;
            let event = AuditEvent::new(&v.actor(), "signin.passkey", v.me.email.as_str(), Outcome::Denied)
                .with(serde_json::json!({ "why": why, "step": "second_factor" }));
            audit(&state, event).await;
            signin::second_factor_page(&state, &v, StatusCode::UNAUTHORIZED, Some("That passkey could not be used."))
                .await
        }
        Ok(Ok(asserted)) => {
            let _ = state.store.passkey_used(&asserted.id, asserted.updated.as_deref(), now).await;
            let event = AuditEvent::new(&v.actor(), "signin.passkey", v.me.email.as_str(), Outcome::Ok)
                .with(serde_json::json!({ "passkey": asserted.id, "step": "second_factor" }));
            audit(&state, event).await;
            let _ = state.store.delete_session(&v.token_hash).await;
            match signin::start_session(&state, &v.me, SessionStage::Full, &v.client).await {
                Ok(r) | Err(r) => r,
            }
        }
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
    Form(form): Form<PreForm>,
) -> Response {
    let rp = match relying_party(&state) {
        Ok(rp) => rp,
        Err(r) => return r,
    };
    if !signin::login_csrf_ok(&state, &headers, &form.csrf) {
        let who = session::anonymous(&client);
        audit(&state, AuditEvent::new(&who, "csrf.rejected", "/signin/passkey/options", Outcome::Denied)).await;
        return problem(StatusCode::FORBIDDEN, "This page expired. Reload it and try again.");
    }
    let address = format!("address:{}", client.0);
    if let Ok(Some(_)) = state.store.signin_locked_until(&[&address], state.clock.now()).await {
        return problem(StatusCode::TOO_MANY_REQUESTS, signin::TRY_LATER);
    }
    begin(&state, None, CeremonyKind::Passwordless, rp.start_discoverable()).await
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
    Form(answer): Form<PasswordlessAnswer>,
) -> Response {
    let rp = match relying_party(&state) {
        Ok(rp) => rp,
        Err(_) => return Redirect::to("/signin").into_response(),
    };
    let who = session::anonymous(&client);
    if !signin::login_csrf_ok(&state, &headers, &answer.csrf) {
        audit(&state, AuditEvent::new(&who, "csrf.rejected", "/signin/passkey", Outcome::Denied)).await;
        return html::message(StatusCode::FORBIDDEN, "Form expired", "Reload the sign-in page and try again.", None);
    }
    let now = state.clock.now();
    let address = format!("address:{}", client.0);
    if let Ok(Some(_)) = state.store.signin_locked_until(&[&address], now).await {
        audit(&state, AuditEvent::new(&who, "signin.throttled", "passkey", Outcome::Denied)).await;
        return signin::signin_again(&state, &answer.csrf, StatusCode::TOO_MANY_REQUESTS, signin::TRY_LATER);
    }
    match verify_passwordless(&state, &rp, &answer).await {
        Err(e) => session::server_error(&e),
        Ok(Err(why)) => {
            let _ = state.store.record_signin_failure(&address, now, FAILURE_WINDOW, ADDRESS_FAILURES, LOCK).await;
            let event = AuditEvent::new(&who, "signin.passkey", "passkey", Outcome::Denied)
                .with(serde_json::json!({ "why": why, "step": "passwordless" }));
            audit(&state, event).await;
            signin::signin_again(&state, &answer.csrf, StatusCode::UNAUTHORIZED, "That passkey could not be used.")
        }
        Ok(Ok((principal, passkey))) => {
            let actor = crate::extract::actor(&principal, &client);
            let event = AuditEvent::new(&actor, "signin.passkey", principal.email.as_str(), Outcome::Ok)
                .with(serde_json::json!({ "passkey": passkey, "step": "passwordless" }));
            audit(&state, event).await;
            let _ = state.store.purge_sessions(now, state.config.session_idle).await;
            let mut response = match signin::start_session(&state, &principal, SessionStage::Full, &client).await {
                Ok(r) | Err(r) => r,
            };
            let secure = state.config.secure_cookies;
            response
                .headers_mut()
                .append(axum::http::header::SET_COOKIE, session::set_cookie(pre_cookie(secure), "", 0, secure));
            response
        }
    }
}

/// The person a passwordless answer proves, or why it proves nobody.
async fn verify_passwordless(
    state: &AppState,
    rp: &RelyingParty,
    answer: &PasswordlessAnswer,
) -> Result<Result<(Principal, String), String>, bonafide_store::StoreError> {
    let now = state.clock.now();
    let Some(taken) = state.store.take_ceremony(&answer.ceremony, CeremonyKind::Passwordless, now).await? else {
        return Ok(Err("unknown or expired ceremony".into()));
    };
    let (uuid, id) = match rp.identify(&answer.credential) {
        Ok(x) => x,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let person = PersonId(uuid);
    let Some(key) = state.store.passkey_of(person, &id).await? else {
        return Ok(Err("unknown passkey".into()));
    };
    let asserted = match rp.finish_discoverable(&taken.state, &answer.credential, &key.stored) {
        Ok(a) => a,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let Some(p) = state.store.person_by_id(person).await?.filter(|p| p.status == PersonStatus::Active) else {
        return Ok(Err("person not active".into()));
    };
    state.store.passkey_used(&asserted.id, asserted.updated.as_deref(), now).await?;
    Ok(Ok((Principal::from(p), asserted.id)))
}

/// The "Sign in with a passkey" form on the sign-in page, when passkeys are set up.
pub(crate) fn signin_section(state: &AppState, csrf: &str) -> Markup {
    match &state.passkeys {
        Some(rp) => html! {
            (form(rp, "get", "/signin/passkey/options", "/signin/passkey", csrf, "Sign in with a passkey", html! {}))
        },
        None => html! {},
    }
}
