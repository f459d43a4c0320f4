//! Bonafide's HTTP JSON API (axum), under `/api/v1`, with RFC 9457 problem details for every error.
//!
//! The app is built as a value ([`Application::build`]) so tests run exactly what `serve` runs.
#![deny(missing_docs)]

pub mod error;
pub mod extract;
mod portal;
mod routes;

pub use routes::webhooks::{EVENT_KINDS, WebhookPolicy};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use bonafide_auth::ChallengeSecret;
use bonafide_auth::passkey::RelyingParty;
use bonafide_domain::{Clock, ContactPolicy, PhoneRegion};
use bonafide_store::Store;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Settings the API needs besides the store and the secret.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Region used to read phone numbers written without a country code.
    pub default_region: PhoneRegion,
    /// The contact policy checked at verification time.
    pub policy: ContactPolicy,
    /// Directory look-ups allowed per person per minute.
    pub staff_lookups_per_minute: i64,
    /// Contact checks and challenge answers allowed per person per minute.
    pub checks_per_minute: i64,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Mark cookies `Secure` (and name them `__Host-…`): on whenever the portal is reached over HTTPS,
    /// directly or through a proxy.
    pub secure_cookies: bool,
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
    pub webhooks: WebhookPolicy,
    /// Largest report accepted (a reported email, or JSON with a long transcript), in bytes.
    pub report_body_limit: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            default_region: PhoneRegion::default(),
            policy: ContactPolicy::default(),
            staff_lookups_per_minute: 60,
            checks_per_minute: 30,
            body_limit: 64 * 1024,
            secure_cookies: false,
            session_idle: time::Duration::minutes(30),
            session_absolute: time::Duration::hours(12),
            public_url: None,
            company_domains: Vec::new(),
            company_name: "Bonafide".to_owned(),
            correlation: bonafide_store::CorrelationSettings::default(),
            webhooks: WebhookPolicy::default(),
            report_body_limit: 2 * 1024 * 1024,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub store: Store,
    /// The key challenge codes derive from.
    pub secret: Arc<ChallengeSecret>,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: Arc<WebConfig>,
    /// The WebAuthn relying party, when a public URL is configured.
    pub passkeys: Option<Arc<RelyingParty>>,
}

impl AppState {
    /// The state for `config`; passkeys are on when `config.public_url` is a valid relying party (the
    /// settings loader refuses an invalid one before this point).
    pub fn new(store: Store, secret: Arc<ChallengeSecret>, clock: Arc<dyn Clock>, config: Arc<WebConfig>) -> Self {
        let passkeys = config.public_url.as_deref().and_then(|url| match RelyingParty::new(url, "Bonafide") {
            Ok(rp) => Some(Arc::new(rp)),
            Err(e) => {
                tracing::warn!(error = %e, "passkeys are off");
                None
            }
        });
        Self { store, secret, clock, config, passkeys }
    }
}

/// The company setting with the IT service desk's official number, the one people are told to call.
pub(crate) const SERVICE_DESK_SETTING: &str = "service_desk_phone";

/// The number to tell people to call: the company's setting, else the first IT staffer's official number.
pub(crate) async fn service_desk_number(state: &AppState) -> Option<String> {
    if let Ok(Some(n)) = state.store.setting(SERVICE_DESK_SETTING).await
        && !n.is_empty()
    {
        return Some(n);
    }
    let staff = state.store.search_staff("IT-", 1).await.ok()?;
    staff.into_iter().next().and_then(|c| c.official_numbers.first().map(ToString::to_string))
}

/// A report handed over outside HTTP (the CLI): the API's JSON body, or a reported email (`.eml`).
#[derive(Debug, Clone)]
pub enum ReportInput {
    /// `POST /api/v1/reports`'s JSON.
    Json(Vec<u8>),
    /// An email as received.
    Email(Vec<u8>),
}

/// Files a report for `reporter` exactly as `POST /api/v1/reports` does (checked, correlated, committed and
/// audited); the answer is the API's answer.
pub async fn file_report(
    state: &AppState,
    reporter: &bonafide_store::Principal,
    input: ReportInput,
) -> Result<serde_json::Value, error::ApiError> {
    let via = extract::ClientAddr("cli".to_owned());
    let received = match input {
        ReportInput::Json(bytes) => {
            let body = extract::parse_json(&bytes)?;
            routes::reports::file(state, reporter, &via, body, None).await?
        }
        ReportInput::Email(bytes) => {
            let email = routes::reports::read_email(&bytes)?;
            routes::reports::file(state, reporter, &via, routes::reports::ReportBody::default(), Some(email)).await?
        }
    };
    serde_json::to_value(&received).map_err(|e| error::ApiError::MalformedBody(e.to_string()))
}

/// The HTTP application.
pub struct Application;

impl Application {
    /// The complete router: API, health check, fallbacks and layers.
    pub fn build(state: AppState) -> Router {
        let body_limit = state.config.body_limit;
        Router::new()
            .merge(routes::router(&state.config))
            .merge(portal::router())
            .fallback(routes::not_found)
            .method_not_allowed_fallback(routes::method_not_allowed)
            .layer(DefaultBodyLimit::max(body_limit))
            .layer(SetResponseHeaderLayer::overriding(
                HeaderName::from_static("x-content-type-options"),
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            // Pages carry no inline script or style, so the policy forbids both; nothing is framed.
            .layer(SetResponseHeaderLayer::overriding(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                     form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                ),
            ))
            .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
            .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
            .layer(SetResponseHeaderLayer::overriding(
                HeaderName::from_static("permissions-policy"),
                HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ))
            .layer(TraceLayer::new_for_http())
            .with_state(state)
    }

    /// Starts the background work a server runs besides answering requests: webhook deliveries.
    pub fn start_workers(state: &AppState) -> tokio::task::JoinHandle<()> {
        tokio::spawn(routes::webhooks::delivery_loop(state.clone()))
    }

    /// Serves `router` on `listener` until `shutdown` resolves.
    pub async fn serve(
        listener: tokio::net::TcpListener,
        router: Router,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    }
}
