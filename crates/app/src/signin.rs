//! Sign-in: a password, then a second factor (TOTP, a passkey or a recovery code) when one is enrolled or
//! required; a passkey alone (passwordless: every ceremony requires user verification); sessions and
//! signing out, here or everywhere. Each session is created together with the audit entry of the step
//! that earned it.
//!
//! Failures say only "wrong email or password" or "wrong code". An unknown email costs the same Argon2id
//! work as a known one. Throttling counts failures per account (by the email typed, so unknown accounts
//! are throttled alike) and per client address: 5 account failures within 15 minutes lock the account for
//! 15 minutes, 30 address failures lock the address for 15 minutes. The trade-off: an attacker can keep a
//! known account locked by failing 5 times every 15 minutes, but never for longer than they keep trying,
//! and each lock ends by itself; the address limit slows one source spraying many accounts.

pub mod oidc;
pub(crate) mod passkeys;
mod throttle;

pub use passkeys::{CeremonyStart, passkey_options, passkey_second_factor, passwordless, passwordless_options};
pub use throttle::TRY_LATER;

use crate::access::anonymous;
use crate::{App, AppError, Caller, Via};
use bonafide_auth::{CsrfToken, SessionToken, TokenHash, password, recovery, totp};
use bonafide_domain::{Email, PersonId, PersonStatus, Role};
use bonafide_store::{AuditEvent, Credentials, NewSession, Outcome, Principal, SessionStage};
use secrecy::SecretString;

/// A live session, as an adapter found it from its cookie.
#[derive(Debug, Clone)]
pub struct Current {
    /// Whose, acting through the portal.
    pub caller: Caller,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    /// How far sign-in got.
    pub stage: SessionStage,
    token_hash: String,
}

/// A session just started: the token for the browser's cookie (shown once) and where sign-in goes on.
#[derive(Debug)]
pub struct Started {
    /// The cookie's value.
    pub token: SessionToken,
    /// How far sign-in got.
    pub stage: SessionStage,
    /// The cookie's lifetime, in seconds (the session's absolute expiry).
    pub max_age_seconds: i64,
}

/// What a sign-in step came to.
#[derive(Debug)]
pub enum SignIn {
    /// A new session (the earlier one, if any, has ended).
    Started(Started),
    /// Wrong credentials; counted.
    Wrong,
    /// Too many failures: locked for this many more minutes.
    Locked {
        /// Minutes left, rounded up.
        minutes: i64,
    },
    /// The password was right, but `local_passwords` keeps this person to single sign-on; audited.
    PasswordOff,
}

/// The live session whose cookie carries `token`, seen from `client`.
pub async fn current(app: &App, token: &str, client: &str) -> Result<Option<Current>, AppError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let hash = TokenHash::of(token);
    let Some(s) = app.store().session(hash.as_str(), app.now(), app.settings().session_idle).await? else {
        return Ok(None);
    };
    // The second factor is a property of the session, judged against the person's roles and the
    // company's rule now, not at sign-in: a signed-in session whose person must have an authenticator
    // and has none goes back to enrolment before anything else.
    let stage = if s.stage == SessionStage::ProviderMfa {
        // MFA happened at the identity provider (`signin::oidc`); adapters see a full session.
        SessionStage::Full
    } else if s.stage == SessionStage::Full && totp_required(app, &s.principal).await? {
        let creds = app.store().credentials(s.principal.id).await?;
        if creds.totp_sealed.is_none() && creds.passkeys == 0 { SessionStage::Enrol } else { SessionStage::Full }
    } else {
        s.stage
    };
    Ok(Some(Current {
        caller: Caller::new(s.principal, client, Via::Portal),
        csrf: s.csrf,
        stage,
        token_hash: hash.as_str().to_owned(),
    }))
}

/// What a person's sealed TOTP seed is bound to, so it cannot be copied to another person's row.
pub(crate) fn seal_context(person: PersonId) -> String {
    format!("totp:{person}")
}

/// Opens a person's sealed TOTP seed.
pub(crate) fn open_seed(app: &App, person: PersonId, sealed: &str) -> Option<totp::TotpSeed> {
    let bytes = app.secret().seal_key().open(sealed, &seal_context(person)).ok()?;
    totp::TotpSeed::from_bytes(bytes).ok()
}

/// Whether `person` must enrol an authenticator before using the portal.
pub(crate) async fn totp_required(app: &App, person: &Principal) -> Result<bool, AppError> {
    if person.roles.has(Role::ItStaff) || person.roles.has(Role::SecurityAdmin) {
        return Ok(true);
    }
    crate::security::employee_totp_required(app).await
}

/// Creates a fresh session (a new token: sessions rotate at every step of sign-in) with `events`.
pub(crate) async fn start(
    app: &App,
    person: &Principal,
    stage: SessionStage,
    client: &str,
    events: &[&AuditEvent],
) -> Result<Started, AppError> {
    let now = app.now();
    let token = SessionToken::generate();
    let csrf = CsrfToken::generate();
    let hash = token.hash();
    let new = NewSession {
        token_hash: hash.as_str(),
        person: person.id,
        stage,
        csrf: csrf.as_str(),
        client,
        now,
        expires_at: now + app.settings().session_absolute,
    };
    app.store().create_session(&new, events).await?;
    Ok(Started { token, stage, max_age_seconds: app.settings().session_absolute.whole_seconds() })
}

/// Ends `current` and starts its successor at `stage` with `events`: how every later step of sign-in ends.
pub(crate) async fn advance(
    app: &App,
    current: &Current,
    stage: SessionStage,
    events: &[&AuditEvent],
) -> Result<Started, AppError> {
    app.store().delete_session(&current.token_hash, app.now(), &[]).await?;
    start(app, &current.caller.person, stage, &current.caller.client, events).await
}

/// Signs in with an email and password from `client`. The next stage is the second factor when one is
/// enrolled, enrolment when one is required and missing, else full.
pub async fn password(app: &App, client: &str, email: &str, password: SecretString) -> Result<SignIn, AppError> {
    let now = app.now();
    let typed = email.trim().to_lowercase();
    let who = anonymous(client, Some(&typed));
    let subjects = throttle::Subjects::new(&typed, client);
    if let Some(minutes) = throttle::locked(app, &subjects.both()).await? {
        app.audit_refusal(AuditEvent::new(&who, "signin.throttled", typed.clone(), Outcome::Denied)).await;
        return Ok(SignIn::Locked { minutes });
    }
    let person = match typed.parse::<Email>() {
        Ok(email) => app.store().person_by_email(&email).await?.filter(|p| p.status == PersonStatus::Active),
        Err(_) => None,
    };
    let creds = match &person {
        Some(p) => Some(app.store().credentials(p.id).await?),
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
        throttle::failed(app, &subjects.both_with_limits()).await?;
        app.audit_refusal(AuditEvent::new(&who, "signin.password", typed, Outcome::Denied)).await;
        return Ok(SignIn::Wrong);
    };
    let principal = Principal::from(person);
    let caller = Caller::new(principal.clone(), client, Via::Portal);
    throttle::clear(app, &subjects.account).await;
    if !oidc::password_allowed(app, &principal) {
        return Ok(oidc::password_off(app, &caller).await);
    }
    if let Some(fresh) = rehashed {
        let event = caller.event("factor.password_rehashed", principal.email.as_str());
        if let Err(e) = app.store().set_password_hash(principal.id, fresh.as_str(), now, &event).await {
            tracing::warn!(error = %e, "a password hash could not be upgraded");
        }
    }
    // Sessions that can no longer be used are removed as people sign in.
    let _ = app.store().purge_sessions(now, app.settings().session_idle).await;
    let stage = next_stage(app, &principal, &creds).await?;
    let event =
        caller.event("signin.password", principal.email.as_str()).with(serde_json::json!({ "next": stage.as_str() }));
    Ok(SignIn::Started(start(app, &principal, stage, client, &[&event]).await?))
}

pub(crate) async fn next_stage(app: &App, p: &Principal, creds: &Credentials) -> Result<SessionStage, AppError> {
    Ok(if creds.totp_sealed.is_some() || creds.passkeys > 0 {
        SessionStage::SecondFactor
    } else if totp_required(app, p).await? {
        SessionStage::Enrol
    } else {
        SessionStage::Full
    })
}

/// What the signed-in person has enrolled (for the second-factor page and the account page).
pub async fn credentials(app: &App, current: &Current) -> Result<Credentials, AppError> {
    Ok(app.store().credentials(current.caller.person.id).await?)
}

/// A second factor as typed.
#[derive(Debug, Clone)]
pub enum Factor {
    /// A TOTP code from the authenticator app.
    Totp(String),
    /// A one-time recovery code.
    Recovery(String),
}

/// The second step of sign-in for a session waiting for it: a TOTP code never accepted before, or an
/// unused recovery code.
pub async fn second_factor(app: &App, current: &Current, factor: Factor) -> Result<SignIn, AppError> {
    if current.stage != SessionStage::SecondFactor {
        return Err(AppError::Conflict("no second factor is due".into()));
    }
    let caller = &current.caller;
    let email = caller.person.email.as_str();
    let account = throttle::Subjects::account_of(email);
    if let Some(minutes) = throttle::locked(app, &[&account]).await? {
        app.audit_refusal(caller.event("signin.throttled", email).denied()).await;
        return Ok(SignIn::Locked { minutes });
    }
    let (action, accepted) = match &factor {
        Factor::Recovery(r) => ("signin.recovery_code", accept_recovery(app, caller, r).await?),
        Factor::Totp(code) => ("signin.totp", accept_totp(app, caller, code).await?),
    };
    if !accepted {
        throttle::failed(app, &[(&account, throttle::ACCOUNT_FAILURES)]).await?;
        app.audit_refusal(caller.event(action, email).denied()).await;
        return Ok(SignIn::Wrong);
    }
    let event = caller.event(action, email);
    Ok(SignIn::Started(advance(app, current, SessionStage::Full, &[&event]).await?))
}

async fn accept_totp(app: &App, who: &Caller, code: &str) -> Result<bool, AppError> {
    let creds = app.store().credentials(who.person.id).await?;
    let Some(sealed) = creds.totp_sealed else { return Ok(false) };
    let Some(seed) = open_seed(app, who.person.id, &sealed) else {
        tracing::error!(person = %who.person.id, "a stored TOTP seed cannot be opened");
        return Ok(false);
    };
    let last = app.store().totp_last_step(who.person.id).await?;
    let Some(step) = totp::verify(&seed, code, app.now().unix_timestamp(), Some(last)) else {
        return Ok(false);
    };
    // The database decides: only the UPDATE that moves the last step past this one accepts it.
    Ok(app.store().accept_totp_step(who.person.id, step).await?)
}

async fn accept_recovery(app: &App, who: &Caller, input: &str) -> Result<bool, AppError> {
    let Some(hash) = recovery::hash_recovery_input(input) else { return Ok(false) };
    Ok(app.store().use_recovery_code(who.person.id, &hash, app.now()).await?)
}

/// Ends `current`, or every session of its person with `everywhere`.
pub async fn sign_out(app: &App, current: &Current, everywhere: bool) -> Result<(), AppError> {
    let caller = &current.caller;
    let action = if everywhere { "signout.everywhere" } else { "signout" };
    let event = caller.event(action, caller.person.email.as_str());
    if everywhere {
        app.store().delete_sessions_of(caller.person.id, app.now(), &[&event]).await?;
    } else {
        app.store().delete_session(&current.token_hash, app.now(), &[&event]).await?;
    }
    Ok(())
}

/// Turns an event into its refusal.
pub(crate) trait Denied {
    fn denied(self) -> Self;
}

impl Denied for AuditEvent {
    fn denied(mut self) -> Self {
        self.outcome = Outcome::Denied;
        self
    }
}
