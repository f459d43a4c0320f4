//! `/api/v1/outreach`: announced outreach ([`bonafide_app::outreach`]). IT staff propose; another IT
//! staffer or a security admin, never the proposer, approves; `GET` lists one's own (either side), or
//! `?scope=pending` for approvers.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiJson, ApiPath, ApiQuery};
use crate::routes::views::OutreachView;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use bonafide_app::access::{Dispatchers, ItStaff};
use bonafide_app::outreach::{self, Proposal, View};
use bonafide_domain::Channel;
use serde::Deserialize;
use std::collections::BTreeSet;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[schema(as = OutreachInput)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    employee_email: String,
    reason: String,
    /// A value given twice counts once.
    #[schema(value_type = Vec<Channel>)]
    channels: BTreeSet<Channel>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    starts_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    ends_at: OffsetDateTime,
}

/// `POST /api/v1/outreach`: IT staff.
#[utoipa::path(post, path = "/api/v1/outreach", tag = "outreach", request_body = CreateBody, responses((status = 201, body = OutreachView)))]
pub(crate) async fn create(
    Api(who, ..): Api<ItStaff>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<OutreachView>), ApiError> {
    let proposal = Proposal {
        employee_email: body.employee_email,
        reason: body.reason,
        channels: body.channels,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
    };
    let created = outreach::propose(&state.app, &who, proposal).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// `POST /api/v1/outreach/{id}/approve`: IT staff and security admins, never the proposer.
#[utoipa::path(post, path = "/api/v1/outreach/{id}/approve", tag = "outreach", params(("id" = String, Path)), responses((status = 200, body = OutreachView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn approve(
    Api(who, ..): Api<Dispatchers>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OutreachView>, ApiError> {
    Ok(Json(outreach::approve(&state.app, &who, &id).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// `mine` (the default) or `pending` (approvers).
    #[param(pattern = "^(mine|pending)$")]
    scope: Option<String>,
}

/// `GET /api/v1/outreach`.
#[utoipa::path(get, path = "/api/v1/outreach", tag = "outreach", params(ListQuery), responses((status = 200, body = Vec<OutreachView>)))]
pub(crate) async fn list(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<OutreachView>>, ApiError> {
    let view = match q.scope.as_deref() {
        None | Some("mine") => View::Mine,
        Some("pending") => View::Pending,
        Some(_) => return Err(ApiError::field("scope", "one of mine, pending")),
    };
    let found = outreach::list(&state.app, &who, view, outreach::LIST_LIMIT).await?;
    Ok(Json(found.into_iter().map(OutreachView::from).collect()))
}
