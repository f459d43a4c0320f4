//! `bonafide serve`: migrate, then serve the API until SIGINT or SIGTERM.

use crate::operator::open_store;
use crate::settings::Settings;
use anyhow::Context;
use bonafide_app::{App, Settings as AppSettings};
use bonafide_auth::ChallengeSecret;
use bonafide_domain::SystemClock;
use bonafide_store::Store;
use bonafide_web::{AppState, Application, WebConfig};
use std::sync::Arc;

/// Starts logging to stderr; `RUST_LOG` filters (default `info`).
pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second initialisation (tests, demo after serve) is harmless; ignore it.
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// Runs `bonafide serve`.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let secret = settings.challenge_secret()?;
    let store = open_store(&settings.db).await?;
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let metrics = match &settings.metrics_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (metrics_listen)"))?,
        ),
        None => None,
    };
    tracing::info!(listen = %settings.listen, db = %settings.redacted_db(), "bonafide serving");
    if let Some(addr) = &settings.metrics_listen {
        tracing::info!(metrics_listen = %addr, "metrics served without a token");
    }
    serve_with_metrics(listener, metrics, store, secret, settings.app, settings.web).await
}

/// Serves the API and the portal on `listener` until a shutdown signal.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    store: Store,
    secret: ChallengeSecret,
    settings: AppSettings,
    web: WebConfig,
) -> anyhow::Result<()> {
    serve_with_metrics(listener, None, store, secret, settings, web).await
}

/// Serves the API and the portal on `listener`, and `GET /metrics` without a token on `metrics` when
/// given, until a shutdown signal.
async fn serve_with_metrics(
    listener: tokio::net::TcpListener,
    metrics: Option<tokio::net::TcpListener>,
    store: Store,
    secret: ChallengeSecret,
    settings: AppSettings,
    web: WebConfig,
) -> anyhow::Result<()> {
    let mut settings = settings;
    if settings.public_url.is_none() {
        settings.public_url = local_public_url(listener.local_addr()?);
    }
    match &settings.public_url {
        Some(url) => tracing::info!(public_url = %url, "passkeys work at this address"),
        None => tracing::info!("passkeys are off: set public_url to the address people use"),
    }
    let app = App::start(store, Arc::new(SystemClock), Arc::new(secret), settings)
        .await
        .context("reading the directory's domains")?;
    let state = AppState::new(app.clone(), web.clone());
    let workers = Application::start_workers(&state);
    // The metrics listener stops when the main one has: dropping `stop` ends its wait.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics = metrics.map(|listener| {
        let router = Application::metrics_router(state.clone());
        let shutdown = async move {
            let _ = stopped.await;
        };
        tokio::spawn(Application::serve(listener, router, &web, shutdown))
    });
    Application::serve(listener, Application::build(state), &web, shutdown_signal()).await.context("serving")?;
    drop(stop);
    if let Some(metrics) = metrics {
        metrics.await.context("serving metrics")?.context("serving metrics")?;
    }
    workers.abort();
    app.close().await;
    Ok(())
}

/// Without a configured public URL, a server listening on loopback is reached as `http://localhost:PORT`
/// (browsers accept passkeys on localhost over plain HTTP, never on an IP address).
pub fn local_public_url(addr: std::net::SocketAddr) -> Option<String> {
    addr.ip().is_loopback().then(|| format!("http://localhost:{}", addr.port()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
