//! Single sign-on with OpenID Connect: the provider vouches for an email, which must be verified and name
//! an active person in the directory. When the company demands MFA at the provider (`acr` or `amr`), a
//! token without it is refused; a token with it skips Bonafide's own second factor. Otherwise the usual
//! second factor follows. Every refusal is audited as `signin.oidc`, with its reason.
//!
//! Also here: who may still sign in with a password ([`LocalPasswords`]).

use super::{SignIn, Started, next_stage, start};
use crate::access::anonymous;
use crate::{App, AppError, Caller, Via};
use bonafide_auth::oidc::{Asserted, Oidc, OidcConfig, Pending};
use bonafide_domain::{Email, PersonStatus, Role};
use bonafide_store::{AuditEvent, Outcome, Principal, SessionStage};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// How long the browser may take at the provider.
const FLOW_SECONDS: i64 = 600;
/// What the sealed flow state is bound to.
const SEAL_CONTEXT: &str = "oidc:pending";

/// Who may still sign in with a password once single sign-on is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LocalPasswords {
    /// Everyone with a password (the default).
    #[default]
    On,
    /// Security admins and the break-glass account only.
    EmployeesOff,
    /// The break-glass account only.
    AllOff,
}

impl LocalPasswords {
    /// `on`, `employees_off` or `all_off`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "on" => Ok(Self::On),
            "employees_off" => Ok(Self::EmployeesOff),
            "all_off" => Ok(Self::AllOff),
            other => Err(format!("`{other}` is not one of on, employees_off, all_off")),
        }
    }
}

/// The single sign-on settings (`oidc_*`).
#[derive(Debug, Clone)]
pub struct SsoSettings {
    /// `oidc_issuer`.
    pub issuer: String,
    /// `oidc_client_id`.
    pub client_id: String,
    /// `oidc_client_secret` (file or environment), never logged.
    pub client_secret: Option<SecretString>,
    /// `oidc_scopes`, besides `openid`.
    pub scopes: Vec<String>,
    /// `oidc_email_claim`: the claim naming the person.
    pub email_claim: String,
    /// `oidc_required_acr`: the token's `acr` must be one of these.
    pub required_acr: Vec<String>,
    /// `oidc_required_amr`: the token's `amr` must hold one of these.
    pub required_amr: Vec<String>,
    /// `oidc_name`: the provider as the sign-in page names it.
    pub name: String,
    /// `oidc_break_glass_email`: the account that keeps its password under every `local_passwords`.
    pub break_glass: Option<Email>,
}

impl SsoSettings {
    /// The defaults for a provider at `issuer` that registered `client_id`.
    pub fn new(issuer: &str, client_id: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: None,
            scopes: vec!["email".to_owned()],
            email_claim: "email".to_owned(),
            required_acr: Vec::new(),
            required_amr: Vec::new(),
            name: "your company's sign-in".to_owned(),
            break_glass: None,
        }
    }

    /// Whether the company demands MFA at the provider.
    pub fn demands_mfa(&self) -> bool {
        !self.required_acr.is_empty() || !self.required_amr.is_empty()
    }

    fn mfa_asserted(&self, a: &Asserted) -> bool {
        let acr = self.required_acr.is_empty() || a.acr.as_ref().is_some_and(|v| self.required_acr.contains(v));
        let amr = self.required_amr.is_empty() || a.amr.iter().any(|m| self.required_amr.contains(m));
        acr && amr
    }
}

/// The provider client for `settings`, when single sign-on is configured and the portal has a public URL.
pub(crate) fn provider(settings: &crate::Settings, http: reqwest::Client) -> Option<Oidc> {
    let sso = settings.sso.as_ref()?;
    let base = settings.public_url.as_deref()?;
    Some(Oidc::new(
        OidcConfig {
            issuer: sso.issuer.clone(),
            client_id: sso.client_id.clone(),
            client_secret: sso.client_secret.clone(),
            redirect_url: format!("{}/signin/oidc/callback", base.trim_end_matches('/')),
            scopes: sso.scopes.clone(),
        },
        http,
    ))
}

/// Whether `person` may sign in with a password under `local_passwords`.
pub(crate) fn password_allowed(app: &App, person: &Principal) -> bool {
    let settings = app.settings();
    let break_glass = settings.sso.as_ref().and_then(|s| s.break_glass.as_ref()).is_some_and(|e| *e == person.email);
    match settings.local_passwords {
        LocalPasswords::On => true,
        LocalPasswords::EmployeesOff => break_glass || person.roles.has(Role::SecurityAdmin),
        LocalPasswords::AllOff => break_glass,
    }
}

/// A flow begun: where to send the browser, and the sealed state for its cookie.
#[derive(Debug)]
pub struct SsoStart {
    /// The provider's authorization URL.
    pub url: String,
    /// The flow's state, nonce and PKCE verifier, sealed under the server secret.
    pub sealed: String,
}

/// Why a single sign-on was refused; each has its own page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsoRefusal {
    /// The flow or the token failed a check, or the provider failed.
    Failed,
    /// The token carries no usable email, or says it is unverified.
    Email,
    /// The email names nobody active in the directory.
    Unknown,
    /// The company demands MFA at the provider and the token does not assert it.
    Mfa,
}

impl SsoRefusal {
    fn reason(self) -> &'static str {
        match self {
            Self::Failed => "token_or_flow",
            Self::Email => "email_unverified",
            Self::Unknown => "unknown_or_suspended",
            Self::Mfa => "no_mfa",
        }
    }
}

/// What a single sign-on came to.
#[derive(Debug)]
pub enum SsoOutcome {
    /// A new session.
    Started(Started),
    /// Refused, and audited.
    Refused(SsoRefusal),
}

#[derive(Serialize, Deserialize)]
struct Flow {
    pending: Pending,
    expires: i64,
}

/// Starts a sign-in at the provider; `NotFound` when single sign-on is off.
pub async fn begin(app: &App) -> Result<SsoStart, AppError> {
    let oidc = app.oidc().ok_or(AppError::NotFound)?;
    let auth = oidc.authorize().await.map_err(|e| {
        tracing::error!(error = %e, "single sign-on could not start");
        AppError::Conflict("your company's sign-in is unavailable just now".into())
    })?;
    let flow = Flow { pending: auth.pending, expires: app.now().unix_timestamp() + FLOW_SECONDS };
    // Serialising two strings and a number cannot fail; an empty seal would only be refused on return.
    let bytes = serde_json::to_vec(&flow).unwrap_or_default();
    Ok(SsoStart { url: auth.url, sealed: app.secret().seal_key().seal(&bytes, SEAL_CONTEXT) })
}

/// Finishes a sign-in: the provider sent the browser back with `state` and `code` (none when it
/// reported an error), and the browser brought `sealed` from [`begin`].
pub async fn finish(
    app: &App,
    client: &str,
    sealed: &str,
    state: &str,
    code: Option<&str>,
) -> Result<SsoOutcome, AppError> {
    let oidc = app.oidc().ok_or(AppError::NotFound)?;
    let sso = app.settings().sso.as_ref().ok_or(AppError::NotFound)?;
    let now = app.now().unix_timestamp();
    let flow = app
        .secret()
        .seal_key()
        .open(sealed, SEAL_CONTEXT)
        .ok()
        .and_then(|b| serde_json::from_slice::<Flow>(&b).ok())
        .filter(|f| f.expires > now);
    let (Some(flow), Some(code)) = (flow, code) else {
        return refuse(app, client, None, SsoRefusal::Failed, "no live flow or no code").await;
    };
    let asserted = match oidc.redeem(&flow.pending, state, code, &sso.email_claim, now).await {
        Ok(a) => a,
        Err(e) => return refuse(app, client, None, SsoRefusal::Failed, &e.to_string()).await,
    };
    let email = asserted.email.as_deref().map(|e| e.trim().to_lowercase()).unwrap_or_default();
    let parsed = email.parse::<Email>().ok().filter(|_| asserted.email_verified != Some(false));
    let Some(parsed) = parsed else {
        return refuse(app, client, Some(&email), SsoRefusal::Email, "no verified email").await;
    };
    let person = app.store().person_by_email(&parsed).await?;
    let Some(person) = person.filter(|p| p.status == PersonStatus::Active) else {
        return refuse(app, client, Some(&email), SsoRefusal::Unknown, "no active person").await;
    };
    let mfa = sso.demands_mfa() && sso.mfa_asserted(&asserted);
    if sso.demands_mfa() && !mfa {
        return refuse(app, client, Some(&email), SsoRefusal::Mfa, "the token does not assert MFA").await;
    }
    let principal = Principal::from(person);
    let stage = if mfa {
        SessionStage::ProviderMfa
    } else {
        next_stage(app, &principal, &app.store().credentials(principal.id).await?).await?
    };
    let caller = Caller::new(principal.clone(), client, Via::Portal);
    let event = caller
        .event("signin.oidc", principal.email.as_str())
        .with(serde_json::json!({ "next": stage.as_str(), "mfa_at_provider": mfa }));
    let _ = app.store().purge_sessions(app.now(), app.settings().session_idle).await;
    Ok(SsoOutcome::Started(start(app, &principal, stage, client, &[&event]).await?))
}

async fn refuse(
    app: &App,
    client: &str,
    email: Option<&str>,
    why: SsoRefusal,
    detail: &str,
) -> Result<SsoOutcome, AppError> {
    tracing::info!(reason = why.reason(), detail, "single sign-on refused");
    let who = anonymous(client, email);
    let event = AuditEvent::new(&who, "signin.oidc", email.unwrap_or("").to_owned(), Outcome::Denied)
        .with(serde_json::json!({ "reason": why.reason() }));
    app.audit_refusal(event).await;
    Ok(SsoOutcome::Refused(why))
}

/// The password step's answer when `local_passwords` keeps `person` from it.
pub(crate) async fn password_off(app: &App, caller: &Caller) -> SignIn {
    let event = caller
        .event("signin.password", caller.person.email.as_str())
        .with(serde_json::json!({ "reason": "local_passwords" }));
    app.audit_refusal(super::Denied::denied(event)).await;
    SignIn::PasswordOff
}
