//! `GET /metrics` ([`bonafide_app::metrics`]): the Prometheus text exposition, for a service token with
//! the `metrics` scope on the main listener, or for anyone reaching the separate `metrics_listen`
//! address ([`crate::Application::metrics_router`]).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{bearer, client_addr};
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bonafide_app::metrics::{self, Scraper};

/// The exposition format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A bearer token with the `metrics` scope: none or an unknown token answers 401, a service token
/// without the scope or a person's token 403 (audited).
pub(crate) struct ScrapeToken(Scraper);

impl FromRequestParts<AppState> for ScrapeToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let client = client_addr(&parts.extensions, &parts.headers, state).0;
        let scraper = metrics::scraper(&state.app, token, &client).await?.ok_or(ApiError::Unauthorized)?;
        Ok(ScrapeToken(scraper))
    }
}

/// `GET /metrics` with a token.
#[utoipa::path(get, path = "/metrics", tag = "meta", responses((status = 200, description = "The Prometheus text exposition (version 0.0.4)", content_type = "text/plain", body = String)))]
pub(crate) async fn get(ScrapeToken(by): ScrapeToken, State(state): State<AppState>) -> Result<Response, ApiError> {
    exposition(&state, &by).await
}

/// `GET /metrics` on the metrics listener: no token, since only the operator's network reaches it.
pub(crate) async fn get_open(State(state): State<AppState>) -> Result<Response, ApiError> {
    exposition(&state, &Scraper::MetricsListener).await
}

async fn exposition(state: &AppState, by: &Scraper) -> Result<Response, ApiError> {
    let text = metrics::scrape(&state.app, by).await?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response())
}
