//! Bonafide's use cases, written once for the API, the portal and the command line.
//!
//! Each use case is a function taking the [`App`], the acting person ([`Caller`]) and a typed input, and
//! returning a typed output or an [`AppError`]. Authorisation lives here: every use case states the role
//! set it serves ([`access`]), and a refusal is audited from one place ([`App::authorize`]). Every change
//! commits together with its audit entry. The adapters (`bonafide-web`'s routes and pages, the `bonafide`
//! binary) authenticate, parse their own input format into these inputs and render the outputs; they
//! never reach the store.
#![deny(missing_docs)]

pub mod access;
pub mod account;
pub mod analyze;
pub mod audit;
pub mod backup;
pub mod campaigns;
pub mod checks;
pub mod console;
pub mod decisions;
pub mod directory;
pub mod drills;
mod error;
pub mod metrics;
pub mod outreach;
pub mod policy;
pub mod reports;
pub mod requests;
pub mod resources;
pub mod risk;
pub mod scim;
pub mod security;
pub mod signin;
pub mod webhooks;

pub use access::{Acting, Caller, RoleSet, Via};
pub use error::{AppError, FieldError};

/// The records use cases answer with, as the store reads them. Adapters render them; they cannot
/// reach the store through them.
pub mod records {
    pub use bonafide_store::{
        AccessPolicyRecord, Alert, AuditEntry, BackupSummary, Campaign, CampaignStatus, CheckFacts, CheckRecord,
        Credentials, Delivery, Event, GroupSnapshot, NewCheck, NewPerson, Outreach, PeoplePage, PeopleQuery, Person,
        Principal, ReportRecord, ResourceRecord, ScimRecord, Session, SessionStage, Sighted, StaffCandidate, StaffCard,
        StaffLookups, StoredPasskey, SupportRequest, TokenInfo, Webhook,
    };
}

/// Test databases and seeding helpers, for this workspace's tests.
#[cfg(feature = "testing")]
pub mod testing {
    pub mod smtp_sink;
    pub use bonafide_store::testing::*;
    pub use bonafide_store::{Backend, Store};
}

use bonafide_auth::ChallengeSecret;
use bonafide_auth::passkey::RelyingParty;
use bonafide_domain::{Clock, PhoneRegion};
use bonafide_store::Store;
use std::sync::Arc;

/// Makes ring the process's TLS crypto provider; later calls do nothing. reqwest is built without a
/// provider of its own (its `rustls` feature would compile aws-lc and trust the system store), so a
/// reqwest client built without a preconfigured TLS set-up (the webhook client has one) panics unless
/// this ran first. [`App::new`] calls it; so must a process that builds clients without an `App` (tests).
pub fn install_tls_provider() {
    // An error only says that a provider is installed already, which is what the caller wants.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Settings the use cases need (the HTTP adapter has its own for body limits and cookies).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Region used to read phone numbers written without a country code.
    pub default_region: PhoneRegion,
    /// Directory look-ups allowed per person per minute.
    pub staff_lookups_per_minute: i64,
    /// Contact checks and challenge answers allowed per person per minute.
    pub checks_per_minute: i64,
    /// A session without a request for this long ends.
    pub session_idle: time::Duration,
    /// A session ends this long after sign-in, however active.
    pub session_absolute: time::Duration,
    /// The URL people reach the portal at (`https://bonafide.example.com`). Passkeys are bound to its host
    /// and work only when it is set.
    pub public_url: Option<String>,
    /// The company's own email domains, for look-alike detection in reports.
    pub company_domains: Vec<String>,
    /// The company's name, as exports name the reporting organisation.
    pub company_name: String,
    /// How reports are correlated into campaigns.
    pub correlation: bonafide_store::CorrelationSettings,
    /// Where webhooks may point.
    pub webhooks: webhooks::WebhookPolicy,
    /// What membership of each SCIM group means (`scim_groups`).
    pub scim_groups: Vec<scim::groups::GroupMapping>,
    /// Single sign-on with OpenID Connect, when configured (`oidc_*`).
    pub sso: Option<signin::oidc::SsoSettings>,
    /// Who may still sign in with a password (`local_passwords`).
    pub local_passwords: signin::oidc::LocalPasswords,
    /// How drill messages go out (`smtp_*`, `drill_*`).
    pub drills: drills::DrillDelivery,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            default_region: PhoneRegion::default(),
            staff_lookups_per_minute: 60,
            checks_per_minute: 30,
            session_idle: time::Duration::minutes(30),
            session_absolute: time::Duration::hours(12),
            public_url: None,
            company_domains: Vec::new(),
            company_name: "Bonafide".to_owned(),
            correlation: bonafide_store::CorrelationSettings::default(),
            webhooks: webhooks::WebhookPolicy::default(),
            scim_groups: Vec::new(),
            sso: None,
            local_passwords: signin::oidc::LocalPasswords::On,
            drills: drills::DrillDelivery::default(),
        }
    }
}

/// Everything a use case can reach: the store, the clock, the secret, the settings and how webhook hosts
/// are resolved. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Store,
    clock: Arc<dyn Clock>,
    secret: Arc<ChallengeSecret>,
    settings: Arc<Settings>,
    passkeys: Option<Arc<RelyingParty>>,
    oidc: Option<Arc<bonafide_auth::oidc::Oidc>>,
    host_lookup: Arc<dyn webhooks::HostLookup>,
    policies: Arc<policy::PolicyCache>,
    /// The directory as access decisions read it, and the allows they counted.
    access_cache: Arc<decisions::AccessCache>,
    /// The departments' risk profiles, until the data or the settings change.
    risk_cache: Arc<risk::DepartmentsCache>,
    /// What this process counted, for `GET /metrics`.
    metrics: Arc<metrics::Metrics>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("settings", &self.settings)
            .field("host_lookup", &self.host_lookup)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The application over `store`; passkeys are on when `settings.public_url` is a valid relying party
    /// (the settings loader refuses an invalid one before this point).
    pub fn new(store: Store, clock: Arc<dyn Clock>, secret: Arc<ChallengeSecret>, settings: Settings) -> Self {
        install_tls_provider();
        let passkeys = settings.public_url.as_deref().and_then(|url| match RelyingParty::new(url, "Bonafide") {
            Ok(rp) => Some(Arc::new(rp)),
            Err(e) => {
                tracing::warn!(error = %e, "passkeys are off");
                None
            }
        });
        let oidc = match webhooks::sso_http_client() {
            Ok(http) => {
                if settings.sso.is_some() && settings.public_url.is_none() {
                    tracing::warn!("single sign-on is off: it needs public_url for its redirect URI");
                }
                signin::oidc::provider(&settings, http).map(Arc::new)
            }
            Err(e) => {
                tracing::error!(error = %e, "single sign-on is off");
                None
            }
        };
        let host_lookup = Arc::new(webhooks::SystemLookup);
        let (policies, access_cache, risk_cache, metrics) =
            (Arc::default(), Arc::default(), Arc::default(), Arc::default());
        let settings = Arc::new(settings);
        Self {
            store,
            clock,
            secret,
            settings,
            passkeys,
            oidc,
            host_lookup,
            policies,
            access_cache,
            risk_cache,
            metrics,
        }
    }

    /// The same application resolving webhook hosts through `lookup` (the system resolver by default):
    /// webhook creation and delivery both use it.
    #[must_use]
    pub fn with_host_lookup(self, lookup: Arc<dyn webhooks::HostLookup>) -> Self {
        Self { host_lookup: lookup, ..self }
    }

    /// The application as a server runs it: like [`App::new`], and when no company domains are
    /// configured, the domains the directory's people actually use (look-alikes are judged against them).
    pub async fn start(
        store: Store,
        clock: Arc<dyn Clock>,
        secret: Arc<ChallengeSecret>,
        mut settings: Settings,
    ) -> Result<Self, AppError> {
        if settings.company_domains.is_empty() {
            settings.company_domains = store.email_domains().await?;
        }
        Ok(Self::new(store, clock, secret, settings))
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Now, by the application's clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// What this process counted (the HTTP adapter records its requests here).
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    /// The WebAuthn relying party, when passkeys are on.
    pub fn passkeys(&self) -> Option<&RelyingParty> {
        self.passkeys.as_deref()
    }

    /// The single sign-on provider's name for the sign-in page, when single sign-on is on.
    pub fn sso_name(&self) -> Option<&str> {
        self.oidc.as_ref().and(self.settings.sso.as_ref()).map(|s| s.name.as_str())
    }

    pub(crate) fn oidc(&self) -> Option<&bonafide_auth::oidc::Oidc> {
        self.oidc.as_deref()
    }

    /// Writes what is still counted in memory and closes the store's connections (at shutdown).
    pub async fn close(&self) {
        if let Err(e) = decisions::flush_counts(self).await {
            tracing::warn!(error = %e, "the access decisions counted since the last minute are lost");
        }
        self.store.close().await;
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn secret(&self) -> &ChallengeSecret {
        &self.secret
    }

    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub(crate) fn host_lookup(&self) -> Arc<dyn webhooks::HostLookup> {
        self.host_lookup.clone()
    }

    /// Counts a hit on a per-person bucket and refuses once `limit` is passed in this minute.
    pub(crate) async fn rate_limit(&self, bucket: &str, limit: i64) -> Result<(), AppError> {
        let now = self.now().unix_timestamp();
        let minute = now.div_euclid(60);
        let hits = self.store.hit_rate_limit(bucket, minute).await?;
        if hits > limit {
            let retry_after = u64::try_from(60 - now.rem_euclid(60)).unwrap_or(60);
            return Err(AppError::RateLimited { retry_after });
        }
        Ok(())
    }
}
