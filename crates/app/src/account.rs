//! Everyone's own account: API tokens (created, shown once, revoked), the password, the authenticator app
//! with its recovery codes, and passkeys. Every factor change commits with its audit entry.

use crate::access::EVERYONE;
use crate::signin::passkeys::{begin, relying_party, stored};
use crate::signin::{CeremonyStart, Current, Denied, Started, advance, open_seed, seal_context};
use crate::{Acting, App, AppError, Caller};
use bonafide_auth::{ApiToken, password, recovery, totp};
use bonafide_domain::{Email, TokenId};
use bonafide_store::{AuditEvent, CeremonyKind, Credentials, Outcome, SessionStage, StoredPasskey, TokenInfo};
use secrecy::SecretString;

/// How many recovery codes an enrolment gives.
const RECOVERY_CODES: usize = 10;

/// The account page's contents.
#[derive(Debug, Clone)]
pub struct Overview {
    /// What is enrolled.
    pub credentials: Credentials,
    /// API tokens, newest first.
    pub tokens: Vec<TokenInfo>,
    /// Passkeys, oldest first.
    pub passkeys: Vec<StoredPasskey>,
}

/// The caller's own account.
pub async fn overview(app: &App, who: &Caller) -> Result<Overview, AppError> {
    app.authorize(who, EVERYONE, "account.get").await?;
    let id = who.person.id;
    Ok(Overview {
        credentials: app.store().credentials(id).await?,
        tokens: app.store().tokens_of(id).await?,
        passkeys: app.store().passkeys_of(id).await?,
    })
}

/// A token just created; its value is shown this once and never stored.
#[derive(Debug)]
pub struct NewToken {
    /// Whose.
    pub email: Email,
    /// Its label.
    pub label: String,
    /// The token.
    pub token: ApiToken,
}

/// Creates an API token: for the caller themselves, or (the operator) for the person with `email`.
pub async fn create_token(app: &App, by: Acting<'_>, email: &str, label: &str) -> Result<NewToken, AppError> {
    let label: String = label.trim().chars().filter(|c| !c.is_control()).take(60).collect();
    if label.is_empty() {
        return Err(AppError::field("label", "give the token a label"));
    }
    let person = match by {
        Acting::Person(who) => {
            app.authorize(who, EVERYONE, "tokens.create").await?;
            who.person.clone()
        }
        Acting::Operator => crate::directory::principal_by_email(app, email).await?,
    };
    let token = ApiToken::generate();
    let event = AuditEvent::new(&by.actor(), "token.created", person.email.as_str(), Outcome::Ok)
        .with(serde_json::json!({ "label": label, "via": by.via().as_str() }));
    app.store().create_token(person.id, token.hash().as_str(), &label, app.now(), &event).await?;
    Ok(NewToken { email: person.email, label, token })
}

/// Revokes the caller's own token `id`; someone else's is `NotFound`.
pub async fn revoke_token(app: &App, who: &Caller, id: &str) -> Result<(), AppError> {
    app.authorize(who, EVERYONE, "tokens.revoke").await?;
    let event = who
        .event("token.revoked", who.person.email.as_str())
        .with(serde_json::json!({ "token": id, "via": who.via.as_str() }));
    let id: TokenId = id.parse().map_err(|_| AppError::NotFound)?;
    if !app.store().revoke_token(who.person.id, id, app.now(), &event).await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Why a password was not changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRefused {
    /// The current password was wrong (audited).
    WrongCurrent,
    /// The new one breaks the password policy; the reason is a sentence for the person.
    Weak(String),
}

/// Changes the caller's password, given the current one.
pub async fn change_password(
    app: &App,
    who: &Caller,
    current: SecretString,
    new: String,
) -> Result<Result<(), PasswordRefused>, AppError> {
    app.authorize(who, EVERYONE, "account.password").await?;
    let email = who.person.email.as_str();
    let stored = app.store().credentials(who.person.id).await?.password_hash;
    let right = tokio::task::spawn_blocking(move || match stored {
        Some(h) => password::verify_password(&password::PasswordHash::from_stored(h), &current),
        None => false,
    })
    .await
    .unwrap_or(false);
    if !right {
        app.audit_refusal(who.event("factor.password_changed", email).denied()).await;
        return Ok(Err(PasswordRefused::WrongCurrent));
    }
    let hash = match new_password_hash(new, &who.person.email).await {
        Ok(h) => h,
        Err(why) => {
            // What was wrong with it, never the password itself.
            let refused = who.event("factor.password_changed", email).denied().with(serde_json::json!({
                "why": "the new password does not meet the policy", "via": who.via.as_str(),
            }));
            app.audit_refusal(refused).await;
            return Ok(Err(PasswordRefused::Weak(why)));
        }
    };
    let event = who.event("factor.password_changed", email);
    app.store().set_password_hash(who.person.id, &hash, app.now(), &event).await?;
    Ok(Ok(()))
}

/// Hashes a new password after checking it against the policy; the error is a sentence for the person.
pub async fn new_password_hash(password: String, email: &Email) -> Result<String, String> {
    password::check_password(&password, Some(email.as_str()))?;
    let secret = SecretString::from(password);
    tokio::task::spawn_blocking(move || password::hash_password(&secret))
        .await
        .map_err(|e| e.to_string())?
        .map(|h| h.as_str().to_owned())
        .map_err(|e| e.to_string())
}

/// Sets the password of the person with `email` without the current one: the operator (the demo gives
/// every example person this run's password), or a security admin resetting someone's. The policy is not
/// applied to a password the operator generated.
pub async fn set_password(app: &App, by: Acting<'_>, email: &str, new: &SecretString) -> Result<(), AppError> {
    if let Acting::Person(who) = by {
        app.authorize(who, crate::access::SECURITY_ADMINS, "account.set_password").await?;
    }
    let person = crate::directory::principal_by_email(app, email).await?;
    let secret = new.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash_password(&secret))
        .await
        .map_err(|e| AppError::Conflict(format!("the password could not be hashed: {e}")))?
        .map_err(|e| AppError::Conflict(format!("the password could not be hashed: {e}")))?;
    let event = AuditEvent::new(&by.actor(), "factor.password_set", person.email.as_str(), Outcome::Ok)
        .with(serde_json::json!({ "via": by.via().as_str() }));
    app.store().set_password_hash(person.id, hash.as_str(), app.now(), &event).await?;
    Ok(())
}

/// A seed being enrolled: what the person's authenticator app needs (shown to them only).
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    /// The `otpauth://` URI (for the QR code).
    pub uri: String,
    /// The seed in base32, for typing in.
    pub key: String,
}

/// Starts enrolling an authenticator app for the caller: a new seed, kept sealed until a code confirms it.
pub async fn start_totp(app: &App, who: &Caller) -> Result<TotpEnrolment, AppError> {
    app.authorize(who, EVERYONE, "account.totp").await?;
    let seed = totp::TotpSeed::generate();
    let sealed = app.secret().seal_key().seal(seed.expose_bytes(), &seal_context(who.person.id));
    app.store().set_totp_pending(who.person.id, &sealed, app.now()).await?;
    Ok(TotpEnrolment { uri: totp::otpauth_uri(&seed, "Bonafide", who.person.email.as_str()), key: seed.base32() })
}

/// An authenticator app enrolled.
#[derive(Debug)]
pub struct Enrolled {
    /// The recovery codes, shown this once.
    pub recovery_codes: Vec<String>,
    /// The new session, when enrolment was what sign-in waited for.
    pub session: Option<Started>,
}

/// Confirms the pending seed of the session's person with a code from the app; `None` when the code
/// does not match (audited). Enrolment replaces the recovery codes and, when sign-in waited for it,
/// completes sign-in with a fresh session.
pub async fn confirm_totp(app: &App, current: &Current, code: &str) -> Result<Option<Enrolled>, AppError> {
    let who = &current.caller;
    app.authorize(who, EVERYONE, "account.totp").await?;
    let now = app.now();
    let email = who.person.email.as_str();
    let creds = app.store().credentials(who.person.id).await?;
    let seed = creds.totp_pending.and_then(|sealed| open_seed(app, who.person.id, &sealed));
    let step = seed.and_then(|s| totp::verify(&s, code, now.unix_timestamp(), None));
    let codes = recovery::generate_recovery_codes(RECOVERY_CODES);
    let hashes: Vec<String> = codes.iter().map(|c| c.hash()).collect();
    let event = who.event("factor.totp_enrolled", email);
    let confirmed = match step {
        Some(step) => app.store().confirm_totp(who.person.id, step, &hashes, now, &event).await?,
        None => false,
    };
    if !confirmed {
        app.audit_refusal(who.event("factor.totp_enrolled", email).denied()).await;
        return Ok(None);
    }
    let session = if current.stage == SessionStage::Enrol {
        Some(advance(app, current, SessionStage::Full, &[]).await?)
    } else {
        None
    };
    Ok(Some(Enrolled { recovery_codes: codes.iter().map(|c| c.reveal().to_owned()).collect(), session }))
}

/// Options for registering a new passkey for the caller.
pub async fn passkey_options(app: &App, who: &Caller) -> Result<CeremonyStart, AppError> {
    app.authorize(who, EVERYONE, "passkeys.options").await?;
    let rp = relying_party(app)?;
    let me = &who.person;
    let existing = stored(&app.store().passkeys_of(me.id).await?);
    let ceremony = rp.start_registration(me.id.0, me.email.as_str(), me.display_name.as_str(), &existing);
    begin(app, Some(me.id), CeremonyKind::Register, ceremony).await
}

/// Checks the authenticator's answer to a registration ceremony and keeps the new passkey under `name`.
/// `Err(why)` inside when the answer does not verify, took too long or names a known passkey (audited).
pub async fn add_passkey(
    app: &App,
    who: &Caller,
    ceremony: &str,
    credential: &str,
    name: &str,
) -> Result<Result<(), String>, AppError> {
    app.authorize(who, EVERYONE, "passkeys.add").await?;
    let rp = relying_party(app)?;
    let now = app.now();
    let me = &who.person;
    let email = me.email.as_str();
    let refuse = |why: String| async move {
        let event = who.event("factor.passkey.added", email).with(serde_json::json!({ "why": why })).denied();
        app.audit_refusal(event).await;
        Ok(Err(why))
    };
    let taken = app.store().take_ceremony(ceremony, CeremonyKind::Register, now).await?;
    let Some(taken) = taken.filter(|t| t.person == Some(me.id)) else {
        return refuse("unknown or expired ceremony".into()).await;
    };
    let new = match rp.finish_registration(&taken.state, credential) {
        Ok(n) => n,
        Err(e) => return refuse(e.to_string()).await,
    };
    let name: String = name.trim().chars().filter(|c| !c.is_control()).take(60).collect();
    let name = if name.is_empty() { "Passkey".to_owned() } else { name };
    let event = who
        .event("factor.passkey.added", email)
        .with(serde_json::json!({ "passkey": new.id, "name": name, "discoverable": new.discoverable }));
    match app.store().add_passkey(me.id, &new.id, &name, &new.stored, now, &event).await {
        Ok(()) => Ok(Ok(())),
        Err(bonafide_store::StoreError::Conflict(_)) => refuse("already registered".into()).await,
        Err(e) => Err(e.into()),
    }
}

/// Removes the caller's own passkey `id`; someone else's is `NotFound`.
pub async fn remove_passkey(app: &App, who: &Caller, id: &str) -> Result<(), AppError> {
    app.authorize(who, EVERYONE, "passkeys.remove").await?;
    let event =
        who.event("factor.passkey.removed", who.person.email.as_str()).with(serde_json::json!({ "passkey": id }));
    if !app.store().delete_passkey(who.person.id, id, app.now(), &event).await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}
