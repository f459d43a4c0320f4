//! `/api/v1/requests`: support requests ([`bonafide_app::requests`]). Employees open them; IT works them.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiJson, ApiPath, ApiQuery};
use crate::routes::views::RequestView;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use bonafide_app::access::Dispatchers;
use bonafide_app::requests::{self, OpenRequest, View};
use bonafide_domain::Channel;
use serde::Deserialize;
use std::collections::BTreeSet;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[schema(as = RequestInput)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    summary: String,
    category: Option<String>,
    /// A value given twice counts once.
    #[schema(value_type = Option<Vec<Channel>>)]
    channels: Option<BTreeSet<Channel>>,
}

/// `POST /api/v1/requests`: every signed-in person.
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", request_body = CreateBody, responses((status = 201, body = RequestView)))]
pub(crate) async fn create(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let input =
        OpenRequest { summary: body.summary, category: body.category, channels: body.channels.unwrap_or_default() };
    let created = requests::open(&state.app, &who, input).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// `mine`, `assigned`, `queue` or `all`; the default depends on the role.
    #[param(pattern = "^(mine|assigned|queue|all)$")]
    scope: Option<String>,
}

/// `GET /api/v1/requests`: own requests; it_staff: assigned to them; security_admin: all.
/// `?scope=mine|assigned|queue|all` picks another view the role allows.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(ListQuery), responses((status = 200, body = Vec<RequestView>)))]
pub(crate) async fn list(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<RequestView>>, ApiError> {
    let view = match q.scope.as_deref() {
        None => View::default_for(&who),
        Some("mine") => View::Mine,
        Some("assigned") => View::Assigned,
        Some("queue") => View::Queue,
        Some("all") => View::All,
        Some(_) => return Err(ApiError::field("scope", "one of mine, assigned, queue, all")),
    };
    let found = requests::list(&state.app, &who, view, requests::LIST_LIMIT).await?;
    Ok(Json(found.into_iter().map(RequestView::from).collect()))
}

/// `GET /api/v1/requests/{key}`.
#[utoipa::path(get, path = "/api/v1/requests/{key}", tag = "requests", params(("key" = String, Path)), responses((status = 200, body = RequestView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn get(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(requests::get(&state.app, &who, &key).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignBody {
    #[schema(pattern = "^[A-Za-z]{1,8}-[0-9]{1,8}$", example = "IT-0042")]
    staff_id: String,
}

/// `POST /api/v1/requests/{key}/assign` `{staff_id}`: it_staff (open requests and their own) and
/// security_admin (any active request).
#[utoipa::path(post, path = "/api/v1/requests/{key}/assign", tag = "requests", params(("key" = String, Path)), request_body = AssignBody, responses((status = 200, body = RequestView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn assign(
    Api(who, ..): Api<Dispatchers>,
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(requests::assign(&state.app, &who, &key, &body.staff_id).await?.into()))
}

/// `POST /api/v1/requests/{key}/resolve`: the assignee or a security admin.
#[utoipa::path(post, path = "/api/v1/requests/{key}/resolve", tag = "requests", params(("key" = String, Path)), responses((status = 200, body = RequestView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn resolve(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(requests::resolve(&state.app, &who, &key).await?.into()))
}

/// `POST /api/v1/requests/{key}/cancel`: the requester only.
#[utoipa::path(post, path = "/api/v1/requests/{key}/cancel", tag = "requests", params(("key" = String, Path)), responses((status = 200, body = RequestView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn cancel(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(requests::cancel(&state.app, &who, &key).await?.into()))
}

/// `POST /api/v1/requests/{key}/close`: the requester or a security admin.
#[utoipa::path(post, path = "/api/v1/requests/{key}/close", tag = "requests", params(("key" = String, Path)), responses((status = 200, body = RequestView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn close(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(requests::close(&state.app, &who, &key).await?.into()))
}
