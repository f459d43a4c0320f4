//! `/api/v1/events` (JSON lines, for SIEMs that pull) and `/api/v1/webhooks` (security admins): the
//! adapter of [`bonafide_app::webhooks`], where the address policy and the deliveries live.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiJson, ApiPath, ApiQuery};
use crate::routes::views::rfc3339;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bonafide_app::access::{SecurityAdmins, SecurityReaders};
use bonafide_app::webhooks;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// The last `seq` read; 0 by default.
    after: Option<i64>,
    /// At most this many events (1000 by default).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<i64>,
}

/// `GET /api/v1/events?after=SEQ&limit=N`: events after `after` as JSON lines (`application/x-ndjson`),
/// oldest first; a SIEM polls with the last `seq` it read.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery), responses((status = 200, description = "One event per line, oldest first", content_type = "application/x-ndjson", body = String)))]
pub(crate) async fn events(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Response, ApiError> {
    let found = webhooks::events(&state.app, &who, q.after.unwrap_or(0), q.limit.unwrap_or(1000)).await?;
    let mut body = String::new();
    for e in &found {
        body.push_str(&webhooks::event_text(e));
        body.push('\n');
    }
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    Ok(r)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookBody {
    /// An `https` address on the public internet.
    #[schema(format = "uri")]
    url: String,
    kinds: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookView {
    id: String,
    url: String,
    kinds: Vec<String>,
    active: bool,
    created_at: String,
    /// The signing secret: only in the answer to the webhook's creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

/// `POST /api/v1/webhooks` `{url, kinds?}`: the signing secret is in the answer, once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "events", request_body = WebhookBody, responses((status = 201, body = WebhookView)))]
pub(crate) async fn create(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<WebhookBody>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let added = webhooks::add(&state.app, &who, &body.url, body.kinds).await?;
    let view = WebhookView {
        id: added.id.to_string(),
        url: added.url,
        kinds: added.kinds,
        active: true,
        created_at: rfc3339(added.at),
        secret: Some(added.secret.reveal().to_owned()),
    };
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /api/v1/webhooks`.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "events", responses((status = 200, body = Vec<WebhookView>)))]
pub(crate) async fn list(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let hooks = webhooks::list(&state.app, &who).await?;
    Ok(Json(
        hooks
            .into_iter()
            .map(|w| WebhookView {
                id: w.id.to_string(),
                url: w.url,
                kinds: w.kinds,
                active: w.active,
                created_at: rfc3339(w.created_at),
                secret: None,
            })
            .collect(),
    ))
}

/// `DELETE /api/v1/webhooks/{id}`.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "events", params(("id" = String, Path)), responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    webhooks::delete(&state.app, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryView {
    id: String,
    event_seq: i64,
    status: String,
    attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    next_attempt_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivered_at: Option<String>,
}

/// `GET /api/v1/webhooks/{id}/deliveries`: the delivery log, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "events", params(("id" = String, Path)), responses((status = 200, body = Vec<DeliveryView>)))]
pub(crate) async fn deliveries(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    let found = webhooks::deliveries(&state.app, &who, &id).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|d| DeliveryView {
                id: d.id.to_string(),
                event_seq: d.event_seq,
                status: d.status,
                attempts: d.attempts,
                last_status: d.last_status,
                last_error: d.last_error,
                next_attempt_at: rfc3339(d.next_attempt_at),
                delivered_at: d.delivered_at.map(rfc3339),
            })
            .collect(),
    ))
}
