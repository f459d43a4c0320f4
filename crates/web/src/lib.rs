//! Bonafide's HTTP JSON API (axum), under `/api/v1`, with RFC 9457 problem details for every error.
//!
//! The app is built as a value ([`Application::build`]) so tests run exactly what `serve` runs.
#![deny(missing_docs)]

pub mod error;
pub mod extract;
pub mod observe;
mod openapi;
mod portal;
pub mod proxy;
mod routes;
mod serve;

pub use bonafide_app::install_tls_provider;
pub use bonafide_app::webhooks::{EVENT_KINDS, WebhookPolicy};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use bonafide_app::App;
use std::sync::Arc;
use std::time::Duration;
use tower_http::map_request_body::MapRequestBodyLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyDeadlineLayer;

/// Settings of the HTTP adapter itself (the use cases' settings are [`bonafide_app::Settings`]).
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Mark cookies `Secure` (and name them `__Host-…`): on whenever the portal is reached over HTTPS,
    /// directly or through a proxy.
    pub secure_cookies: bool,
    /// Largest report accepted (a reported email, or JSON with a long transcript), in bytes.
    pub report_body_limit: usize,
    /// Reverse proxies whose forwarding headers name the client ([`proxy`]); none by default, so the
    /// headers are ignored.
    pub trusted_proxies: Vec<proxy::Cidr>,
    /// How long a request's head may take to arrive, from its first byte (or from the accept, on a new
    /// connection); a connection that has not sent it whole by then is closed.
    pub header_read_timeout: Duration,
    /// How long a request's body may take to arrive, from the end of its head; a body not read whole by
    /// then is answered 408 and the connection closed.
    pub body_read_timeout: Duration,
    /// How long a keep-alive connection may sit between requests with nothing read or written.
    pub idle_timeout: Duration,
    /// Connections served at once; one more is answered 503 (with `Retry-After`) and closed. Keep it
    /// below the process's open-files limit (`ulimit -n`), which the database pool and logs share.
    pub max_connections: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            body_limit: 64 * 1024,
            secure_cookies: false,
            report_body_limit: 2 * 1024 * 1024,
            trusted_proxies: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

/// What every handler can reach: the use cases and the adapter's settings.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub app: App,
    /// The adapter's settings.
    pub config: Arc<WebConfig>,
}

impl AppState {
    /// The state serving `app` with `config`.
    pub fn new(app: App, config: WebConfig) -> Self {
        Self { app, config: Arc::new(config) }
    }
}

/// The HTTP application.
pub struct Application;

impl Application {
    /// The complete router: API, health check, fallbacks and layers.
    pub fn build(state: AppState) -> Router {
        let body_limit = state.config.body_limit;
        let body_read_timeout = state.config.body_read_timeout;
        Router::new()
            .merge(routes::router(&state.config))
            .merge(portal::router())
            .fallback(routes::not_found)
            .method_not_allowed_fallback(routes::method_not_allowed)
            .layer(axum::middleware::from_fn(error::retry_reads))
            .layer(DefaultBodyLimit::max(body_limit))
            // One deadline for the whole body, counted from the end of the head: a body trickled a byte at
            // a time still ends (a timeout between frames would not). Extractors answer it 408.
            .layer(MapRequestBodyLayer::new(axum::body::Body::new))
            .layer(RequestBodyDeadlineLayer::new(body_read_timeout))
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
            // Outermost, so its span covers every other layer's logs.
            .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
            .with_state(state)
    }

    /// The router of the separate metrics listener (`metrics_listen`): `GET /metrics` without a token,
    /// and 404 for everything else. Serve it only where the operator's network alone reaches.
    pub fn metrics_router(state: AppState) -> Router {
        Router::new()
            .route("/metrics", axum::routing::get(routes::metrics::get_open))
            .fallback(routes::not_found)
            .method_not_allowed_fallback(routes::method_not_allowed)
            .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
            .with_state(state)
    }

    /// Starts the background work a server runs besides answering requests: webhook deliveries, the
    /// contact policy's acknowledgement reminders, writing the counted access decisions, the daily risk
    /// snapshot and sending drill messages.
    pub fn start_workers(state: &AppState) -> tokio::task::JoinHandle<()> {
        let app = state.app.clone();
        tokio::spawn(async move {
            tokio::join!(
                bonafide_app::webhooks::delivery_loop(app.clone()),
                bonafide_app::policy::reminder_loop(app.clone()),
                bonafide_app::decisions::flush_loop(app.clone()),
                bonafide_app::drills::sender::send_loop(app.clone()),
                bonafide_app::risk::snapshot_loop(app)
            );
        })
    }

    /// Serves `router` on `listener` until `shutdown` resolves, then lets the requests in flight finish.
    /// `config` gives the connection limits: the head and idle timeouts and the connection cap (the
    /// body's deadline is in [`Application::build`]). Handlers see the peer as
    /// `ConnectInfo<SocketAddr>`.
    pub fn serve(
        listener: tokio::net::TcpListener,
        router: Router,
        config: &WebConfig,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send + 'static {
        serve::run(listener, router, serve::Limits::of(config), shutdown)
    }
}
