//! Bonafide's HTTP JSON API (axum), under `/api/v1`, with RFC 9457 problem details for every error.
//!
//! The app is built as a value ([`Application::build`]) so tests run exactly what `serve` runs.
#![deny(missing_docs)]

pub mod error;
pub mod extract;
mod portal;
pub mod proxy;
mod routes;

pub use bonafide_app::install_tls_provider;
pub use bonafide_app::webhooks::{EVENT_KINDS, WebhookPolicy};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use bonafide_app::App;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

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
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            body_limit: 64 * 1024,
            secure_cookies: false,
            report_body_limit: 2 * 1024 * 1024,
            trusted_proxies: Vec::new(),
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
        Router::new()
            .merge(routes::router(&state.config))
            .merge(portal::router())
            .fallback(routes::not_found)
            .method_not_allowed_fallback(routes::method_not_allowed)
            .layer(axum::middleware::from_fn(error::retry_reads))
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
        tokio::spawn(bonafide_app::webhooks::delivery_loop(state.app.clone()))
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
