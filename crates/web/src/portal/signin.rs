//! Sign-in: password, then a second factor (TOTP, a passkey or a recovery code) when one is enrolled or
//! required; sign-out here or everywhere. Passwordless sign-in with a passkey is in [`super::passkeys`].
//!
//! Failures say only "wrong email or password" or "wrong code". An unknown email costs the same Argon2id
//! work as a known one. Throttling counts failures per account (by the email typed, so unknown accounts
//! are throttled alike) and per client address: 5 account failures within 15 minutes lock the account for
//! 15 minutes, 30 address failures lock the address for 15 minutes. The trade-off: an attacker can keep a
//! known account locked by failing 5 times every 15 minutes, but never for longer than they keep trying,
//! and each lock ends by itself; the address limit slows one source spraying many accounts.

use crate::AppState;
use crate::extract::ClientAddr;
use crate::portal::html::{self, csrf_field, notice, page, respond};
use crate::portal::passkeys;
use crate::portal::session::{
    self, AnySession, CsrfForm, PendingSecondFactor, Viewer, audit, cookie, pre_cookie, session_cookie, set_cookie,
};
use axum::Form;
use axum::extract::Request;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bonafide_auth::{CsrfToken, SessionToken, password, recovery, totp};
use bonafide_domain::{Email, Role};
use bonafide_store::{Actor, AuditEvent, Credentials, NewSession, Outcome, Principal, SessionStage};
use maud::html;
use secrecy::SecretString;
use serde::Deserialize;
use time::Duration;

/// Account failures before a lock, and the window they are counted in.
pub(crate) const ACCOUNT_FAILURES: i64 = 5;
/// Address failures before a lock.
pub(crate) const ADDRESS_FAILURES: i64 = 30;
/// How long failures are counted, and how long a lock lasts.
pub(crate) const FAILURE_WINDOW: Duration = Duration::minutes(15);
pub(crate) const LOCK: Duration = Duration::minutes(15);
/// What a locked-out person is told.
pub(crate) const TRY_LATER: &str = "Too many attempts. Try again in 15 minutes, or call IT on the official number.";
/// The company setting that makes TOTP mandatory for every employee (IT staff and security admins
/// always need it).
pub(crate) const EMPLOYEE_TOTP_SETTING: &str = "employee_totp_required";

fn signin_form(state: &AppState, csrf: &str, email: &str, problem: Option<&str>) -> maud::Markup {
    page(
        "Sign in",
        None,
        html! {
            h1 { "Sign in to Bonafide" }
            @if let Some(p) = problem { (notice(p, true)) }
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
    Form(body): Form<SignInBody>,
) -> Response {
    let secure = state.config.secure_cookies;
    let now = state.clock.now();
    let typed = body.email.trim().to_lowercase();
    let who = Actor { id: None, label: typed.chars().take(254).collect(), client: client.0.clone() };
    if !login_csrf_ok(&state, &headers, &body.csrf) {
        audit(&state, AuditEvent::new(&who, "csrf.rejected", "/signin", Outcome::Denied)).await;
        return html::message(StatusCode::FORBIDDEN, "Form expired", "Reload the sign-in page and try again.", None);
    }
    let again =
        |problem: &str| respond(StatusCode::UNAUTHORIZED, signin_form(&state, &body.csrf, &typed, Some(problem)));
    let account = format!("account:{typed}");
    let address = format!("address:{}", client.0);
    match state.store.signin_locked_until(&[&account, &address], now).await {
        Ok(None) => {}
        Ok(Some(until)) => {
            let minutes = ((until - now).whole_seconds() + 59) / 60;
            audit(&state, AuditEvent::new(&who, "signin.throttled", typed.clone(), Outcome::Denied)).await;
            return respond(
                StatusCode::TOO_MANY_REQUESTS,
                signin_form(
                    &state,
                    &body.csrf,
                    &typed,
                    Some(&format!(
                        "Too many attempts. Try again in {minutes} minutes, or call IT on the official number."
                    )),
                ),
            );
        }
        Err(e) => return session::server_error(&e),
    }
    let password = SecretString::from(body.password);
    let person = match typed.parse::<Email>() {
        Ok(email) => match state.store.person_by_email(&email).await {
            Ok(p) => p.filter(|p| p.status == bonafide_domain::PersonStatus::Active),
            Err(e) => return session::server_error(&e),
        },
        Err(_) => None,
    };
    let creds = match &person {
        Some(p) => match state.store.credentials(p.id).await {
            Ok(c) => Some(c),
            Err(e) => return session::server_error(&e),
        },
        None => None,
    };
    let stored = creds.as_ref().and_then(|c| c.password_hash.clone());
    // Argon2id takes tens of milliseconds of CPU: off the async workers. Unknown accounts and accounts
    // without a password run the same work against a dummy hash. A hash made with older parameters is
    // replaced while the password is at hand.
    let (verified, rehashed) = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => {
            let hash = password::PasswordHash::from_stored(hash);
            let ok = password::verify_password(&hash, &password);
            let fresh =
                (ok && password::needs_rehash(&hash)).then(|| password::hash_password(&password).ok()).flatten();
            (ok, fresh)
        }
        None => {
            password::dummy_verify(&password);
            (false, None)
        }
    })
    .await
    .unwrap_or((false, None));
    let (Some(person), Some(creds), true) = (person, creds, verified) else {
        for (subject, limit) in [(&account, ACCOUNT_FAILURES), (&address, ADDRESS_FAILURES)] {
            if let Err(e) = state.store.record_signin_failure(subject, now, FAILURE_WINDOW, limit, LOCK).await {
                return session::server_error(&e);
            }
        }
        let event = AuditEvent::new(&who, "signin.password", typed.clone(), Outcome::Denied);
        audit(&state, event).await;
        return again("Wrong email or password.");
    };
    let _ = state.store.clear_signin_failures(&account).await;
    if let Some(fresh) = rehashed {
        let _ = state.store.set_password_hash(person.id, fresh.as_str(), now).await;
    }
    // Sessions that can no longer be used are removed as people sign in.
    let _ = state.store.purge_sessions(now, state.config.session_idle).await;
    let principal = Principal::from(person);
    let has_second = creds.totp_sealed.is_some() || creds.passkeys > 0;
    let stage = if has_second {
        SessionStage::SecondFactor
    } else if totp_required(&state, &principal).await {
        SessionStage::Enrol
    } else {
        SessionStage::Full
    };
    let actor = crate::extract::actor(&principal, &client);
    let event = AuditEvent::new(&actor, "signin.password", principal.email.as_str(), Outcome::Ok)
        .with(serde_json::json!({ "next": stage.as_str() }));
    audit(&state, event).await;
    let mut response = match start_session(&state, &principal, stage, &client).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    response.headers_mut().append(header::SET_COOKIE, set_cookie(pre_cookie(secure), "", 0, secure));
    response
}

/// Whether `p` must enrol TOTP before using the portal.
pub(crate) async fn totp_required(state: &AppState, p: &Principal) -> bool {
    if p.roles.has(Role::ItStaff) || p.roles.has(Role::SecurityAdmin) {
        return true;
    }
    matches!(state.store.setting(EMPLOYEE_TOTP_SETTING).await, Ok(Some(v)) if v == "true")
}

/// Creates a fresh session (a new token: sessions rotate at every step of sign-in) and redirects to
/// where that stage continues.
pub(crate) async fn start_session(
    state: &AppState,
    p: &Principal,
    stage: SessionStage,
    client: &ClientAddr,
) -> Result<Response, Response> {
    let secure = state.config.secure_cookies;
    let now = state.clock.now();
    let token = SessionToken::generate();
    let csrf = CsrfToken::generate();
    let hash = token.hash();
    let new = NewSession {
        token_hash: hash.as_str(),
        person: p.id,
        stage,
        csrf: csrf.as_str(),
        client: &client.0,
        now,
        expires_at: now + state.config.session_absolute,
    };
    state.store.create_session(&new).await.map_err(|e| session::server_error(&e))?;
    let next = match stage {
        SessionStage::SecondFactor => "/signin/second-factor",
        SessionStage::Enrol => "/account/totp",
        SessionStage::Full => "/",
    };
    let mut response = Redirect::to(next).into_response();
    let max_age = state.config.session_absolute.whole_seconds();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(session_cookie(secure), token.reveal(), max_age, secure));
    Ok(response)
}

fn second_factor_form(state: &AppState, v: &Viewer, creds: &Credentials, problem: Option<&str>) -> maud::Markup {
    let totp = creds.totp_sealed.is_some();
    let passkey = creds.passkeys > 0 && state.passkeys.is_some();
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
                @if let Some(rp) = &state.passkeys {
                    (passkeys::form(rp, "get", "/signin/second-factor/passkey/options", "/signin/second-factor/passkey", &v.csrf, "Use my passkey", html! {}))
                }
            }
            @if creds.passkeys > 0 && state.passkeys.is_none() {
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
    match state.store.credentials(v.me.id).await {
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
    let now = state.clock.now();
    let account = format!("account:{}", v.me.email.as_str());
    if let Ok(Some(_)) = state.store.signin_locked_until(&[&account], now).await {
        audit(&state, AuditEvent::new(&v.actor(), "signin.throttled", v.me.email.as_str(), Outcome::Denied)).await;
        return second_factor_page(&state, &v, StatusCode::TOO_MANY_REQUESTS, Some(TRY_LATER)).await;
    }
    let (action, accepted) = match (&body.code, &body.recovery) {
        (_, Some(r)) if !r.trim().is_empty() => ("signin.recovery_code", accept_recovery(&state, &v, r).await),
        (Some(code), _) => ("signin.totp", accept_totp(&state, &v, code).await),
        _ => ("signin.totp", Ok(false)),
    };
    match accepted {
        Err(r) => r,
        Ok(false) => {
            let _ = state.store.record_signin_failure(&account, now, FAILURE_WINDOW, ACCOUNT_FAILURES, LOCK).await;
            audit(&state, AuditEvent::new(&v.actor(), action, v.me.email.as_str(), Outcome::Denied)).await;
            second_factor_page(&state, &v, StatusCode::UNAUTHORIZED, Some("That code is wrong or was already used."))
                .await
        }
        Ok(true) => {
            audit(&state, AuditEvent::new(&v.actor(), action, v.me.email.as_str(), Outcome::Ok)).await;
            let _ = state.store.delete_session(&v.token_hash).await;
            match start_session(&state, &v.me, SessionStage::Full, &v.client).await {
                Ok(r) | Err(r) => r,
            }
        }
    }
}

async fn accept_totp(state: &AppState, v: &Viewer, code: &str) -> Result<bool, Response> {
    let creds = state.store.credentials(v.me.id).await.map_err(|e| session::server_error(&e))?;
    let Some(sealed) = creds.totp_sealed else { return Ok(false) };
    let seed = state
        .secret
        .seal_key()
        .open(&sealed, &seal_context(v.me.id))
        .map_err(|e| session::server_error(&e))
        .and_then(|bytes| totp::TotpSeed::from_bytes(bytes).map_err(|e| session::server_error(&e)))?;
    let last = state.store.totp_last_step(v.me.id).await.map_err(|e| session::server_error(&e))?;
    let Some(step) = totp::verify(&seed, code, state.clock.now().unix_timestamp(), Some(last)) else {
        return Ok(false);
    };
    // The database decides: only the UPDATE that moves the last step past this one accepts it.
    state.store.accept_totp_step(v.me.id, step).await.map_err(|e| session::server_error(&e))
}

async fn accept_recovery(state: &AppState, v: &Viewer, input: &str) -> Result<bool, Response> {
    let Some(hash) = recovery::hash_recovery_input(input) else { return Ok(false) };
    state.store.use_recovery_code(v.me.id, &hash, state.clock.now()).await.map_err(|e| session::server_error(&e))
}

/// What a person's sealed TOTP seed is bound to, so it cannot be copied to another person's row.
pub(crate) fn seal_context(person: bonafide_domain::PersonId) -> String {
    format!("totp:{person}")
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
    let everywhere = body.everywhere.is_some();
    let result = if everywhere {
        state.store.delete_sessions_of(v.me.id).await.map(drop)
    } else {
        state.store.delete_session(&v.token_hash).await
    };
    if let Err(e) = result {
        return session::server_error(&e);
    }
    let action = if everywhere { "signout.everywhere" } else { "signout" };
    audit(&state, AuditEvent::new(&v.actor(), action, v.me.email.as_str(), Outcome::Ok)).await;
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(session_cookie(secure), "", 0, secure));
    response
}

/// Hashes a new password after checking it against the policy; the error is a sentence for the person.
pub(crate) async fn new_password_hash(password: String, email: &Email) -> Result<String, String> {
    password::check_password(&password, Some(email.as_str()))?;
    let secret = SecretString::from(password);
    tokio::task::spawn_blocking(move || password::hash_password(&secret))
        .await
        .map_err(|e| e.to_string())?
        .map(|h| h.as_str().to_owned())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn seal_contexts_differ_per_person() {
        let (a, b) = (bonafide_domain::PersonId::new(), bonafide_domain::PersonId::new());
        assert_ne!(super::seal_context(a), super::seal_context(b));
    }
}
