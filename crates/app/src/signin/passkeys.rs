//! Passkey ceremonies for sign-in: as the second factor after the password, and alone (passwordless).
//!
//! Each ceremony has two halves: its options (kept server-side with its state, for five minutes) and the
//! authenticator's answer. A ceremony's state is taken from the store once, so an answer cannot be
//! replayed, and one started for one person cannot be finished by another.

use super::throttle::{self, Subjects};
use super::{Current, Denied, SignIn, advance, start};
use crate::access::anonymous;
use crate::{App, AppError, Caller, Via};
use bonafide_auth::passkey::{Ceremony, PasskeyError, RelyingParty, ceremony_id};
use bonafide_domain::{PersonId, PersonStatus};
use bonafide_store::{AuditEvent, CeremonyKind, Outcome, Principal, SessionStage, StoredPasskey};
use time::Duration;

/// How long the browser has to answer a challenge.
const CEREMONY_TTL: Duration = Duration::minutes(5);

/// A ceremony begun: its id (sent back with the answer) and the options for the browser, as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyStart {
    /// The ceremony's id.
    pub id: String,
    /// `PublicKeyCredentialCreationOptions` or `…RequestOptions`, as JSON text.
    pub options: String,
}

/// The relying party, or `NotFound` when passkeys are off on this server.
pub(crate) fn relying_party(app: &App) -> Result<&RelyingParty, AppError> {
    app.passkeys().ok_or(AppError::NotFound)
}

/// Keeps the ceremony's state and answers with its options.
pub(crate) async fn begin(
    app: &App,
    person: Option<PersonId>,
    kind: CeremonyKind,
    ceremony: Result<Ceremony, PasskeyError>,
) -> Result<CeremonyStart, AppError> {
    let ceremony = ceremony.map_err(|e| {
        tracing::error!(error = %e, "passkey ceremony could not start");
        AppError::Conflict("passkeys are unavailable just now".into())
    })?;
    let id = ceremony_id();
    let now = app.now();
    app.store().put_ceremony(&id, person, kind, &ceremony.state, now, now + CEREMONY_TTL).await?;
    Ok(CeremonyStart { id, options: ceremony.options })
}

/// The stored form of `keys`, as the relying party reads them.
pub(crate) fn stored(keys: &[StoredPasskey]) -> Vec<String> {
    keys.iter().map(|k| k.stored.clone()).collect()
}

/// Options for using one of the session's person's passkeys as the second factor.
pub async fn passkey_options(app: &App, current: &Current) -> Result<CeremonyStart, AppError> {
    let rp = relying_party(app)?;
    if current.stage != SessionStage::SecondFactor {
        return Err(AppError::Conflict("no second factor is due".into()));
    }
    let keys = app.store().passkeys_of(current.caller.person.id).await?;
    if keys.is_empty() {
        return Err(AppError::Conflict("you have no passkey; use your authenticator code".into()));
    }
    begin(app, Some(current.caller.person.id), CeremonyKind::SecondFactor, rp.start_authentication(&stored(&keys)))
        .await
}

/// Checks the authenticator's answer to a second-factor ceremony.
pub async fn passkey_second_factor(
    app: &App,
    current: &Current,
    ceremony: &str,
    credential: &str,
) -> Result<SignIn, AppError> {
    let rp = relying_party(app)?;
    if current.stage != SessionStage::SecondFactor {
        return Err(AppError::Conflict("no second factor is due".into()));
    }
    let now = app.now();
    let caller = &current.caller;
    let email = caller.person.email.as_str();
    let account = Subjects::account_of(email);
    if let Some(minutes) = throttle::locked(app, &[&account]).await? {
        app.audit_refusal(caller.event("signin.throttled", email).denied()).await;
        return Ok(SignIn::Locked { minutes });
    }
    let taken = app.store().take_ceremony(ceremony, CeremonyKind::SecondFactor, now).await?;
    let verified = match taken.filter(|t| t.person == Some(caller.person.id)) {
        None => Err("unknown or expired ceremony".to_owned()),
        Some(taken) => {
            let keys = app.store().passkeys_of(caller.person.id).await?;
            rp.finish_authentication(&taken.state, credential, &stored(&keys)).map_err(|e| e.to_string())
        }
    };
    match verified {
        Err(why) => {
            throttle::failed(app, &[(&account, throttle::ACCOUNT_FAILURES)]).await?;
            let event = caller
                .event("signin.passkey", email)
                .with(serde_json::json!({ "why": why, "step": "second_factor" }))
                .denied();
            app.audit_refusal(event).await;
            Ok(SignIn::Wrong)
        }
        Ok(asserted) => {
            app.store().passkey_used(&asserted.id, asserted.updated.as_deref(), now).await?;
            let event = caller
                .event("signin.passkey", email)
                .with(serde_json::json!({ "passkey": asserted.id, "step": "second_factor" }));
            Ok(SignIn::Started(advance(app, current, SessionStage::Full, &[&event]).await?))
        }
    }
}

/// Options for signing in from `client` with whichever passkey the browser holds for this site; `Locked`
/// when the address is locked out.
pub async fn passwordless_options(app: &App, client: &str) -> Result<Result<CeremonyStart, SignIn>, AppError> {
    let rp = relying_party(app)?;
    if let Some(minutes) = throttle::locked(app, &[&Subjects::address_of(client)]).await? {
        return Ok(Err(SignIn::Locked { minutes }));
    }
    Ok(Ok(begin(app, None, CeremonyKind::Passwordless, rp.start_discoverable()).await?))
}

/// Signs in whoever the passkey in the answer belongs to, if it verifies.
pub async fn passwordless(app: &App, client: &str, ceremony: &str, credential: &str) -> Result<SignIn, AppError> {
    let rp = relying_party(app)?;
    let now = app.now();
    let who = anonymous(client, None);
    let address = Subjects::address_of(client);
    if let Some(minutes) = throttle::locked(app, &[&address]).await? {
        app.audit_refusal(AuditEvent::new(&who, "signin.throttled", "passkey", Outcome::Denied)).await;
        return Ok(SignIn::Locked { minutes });
    }
    match verify_passwordless(app, rp, ceremony, credential).await? {
        Err(why) => {
            throttle::failed(app, &[(&address, throttle::ADDRESS_FAILURES)]).await?;
            let event = AuditEvent::new(&who, "signin.passkey", "passkey", Outcome::Denied)
                .with(serde_json::json!({ "why": why, "step": "passwordless" }));
            app.audit_refusal(event).await;
            Ok(SignIn::Wrong)
        }
        Ok((principal, passkey)) => {
            let caller = Caller::new(principal.clone(), client, Via::Portal);
            let event = caller
                .event("signin.passkey", principal.email.as_str())
                .with(serde_json::json!({ "passkey": passkey, "step": "passwordless" }));
            let _ = app.store().purge_sessions(now, app.settings().session_idle).await;
            Ok(SignIn::Started(start(app, &principal, SessionStage::Full, client, &[&event]).await?))
        }
    }
}

/// The person a passwordless answer proves, or why it proves nobody.
async fn verify_passwordless(
    app: &App,
    rp: &RelyingParty,
    ceremony: &str,
    credential: &str,
) -> Result<Result<(Principal, String), String>, AppError> {
    let now = app.now();
    let Some(taken) = app.store().take_ceremony(ceremony, CeremonyKind::Passwordless, now).await? else {
        return Ok(Err("unknown or expired ceremony".into()));
    };
    let (uuid, id) = match rp.identify(credential) {
        Ok(x) => x,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let person = PersonId(uuid);
    let Some(key) = app.store().passkey_of(person, &id).await? else {
        return Ok(Err("unknown passkey".into()));
    };
    let asserted = match rp.finish_discoverable(&taken.state, credential, &key.stored) {
        Ok(a) => a,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let Some(p) = app.store().person_by_id(person).await?.filter(|p| p.status == PersonStatus::Active) else {
        return Ok(Err("person not active".into()));
    };
    app.store().passkey_used(&asserted.id, asserted.updated.as_deref(), now).await?;
    Ok(Ok((Principal::from(p), asserted.id)))
}
