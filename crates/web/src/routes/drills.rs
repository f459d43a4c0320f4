//! `/api/v1/drills` (security admins write, auditors read aggregates) and
//! `/api/v1/people/{email}/drills` (security admins): the adapter of [`bonafide_app::drills`].

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bonafide_app::access::{SecurityAdmins, SecurityReaders};
use bonafide_app::drills::results::{self, PersonDrill, Results};
use bonafide_app::drills::{self, DrillView, NewDrillInput};
use bonafide_domain::Scenario;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `POST /api/v1/drills` `{name, scenario, channel, targets, window_hours?}`: a draft, launched later.
#[utoipa::path(post, path = "/api/v1/drills", tag = "drills", request_body = NewDrillInput, responses((status = 201, body = DrillView)))]
pub(crate) async fn create(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewDrillInput>,
) -> Result<(StatusCode, Json<DrillView>), ApiError> {
    Ok((StatusCode::CREATED, Json(drills::create(&state.app, &who, body).await?)))
}

/// `GET /api/v1/drills`: every drill, newest first.
#[utoipa::path(get, path = "/api/v1/drills", tag = "drills", responses((status = 200, body = Vec<DrillView>)))]
pub(crate) async fn list(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
) -> Result<Json<Vec<DrillView>>, ApiError> {
    Ok(Json(drills::list(&state.app, &who).await?))
}

/// `GET /api/v1/drills/{id}`.
#[utoipa::path(get, path = "/api/v1/drills/{id}", tag = "drills", params(("id" = String, Path)), responses((status = 200, body = DrillView)))]
pub(crate) async fn get(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DrillView>, ApiError> {
    Ok(Json(drills::get(&state.app, &who, &id).await?))
}

/// `POST /api/v1/drills/{id}/launch`: chooses the targets now and spreads the sends across the window.
#[utoipa::path(post, path = "/api/v1/drills/{id}/launch", tag = "drills", params(("id" = String, Path)), responses((status = 200, body = DrillView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn launch(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DrillView>, ApiError> {
    Ok(Json(drills::launch(&state.app, &who, &id).await?))
}

/// `POST /api/v1/drills/{id}/stop`: unsent messages are cancelled.
#[utoipa::path(post, path = "/api/v1/drills/{id}/stop", tag = "drills", params(("id" = String, Path)), responses((status = 200, body = DrillView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn stop(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DrillView>, ApiError> {
    Ok(Json(drills::stop(&state.app, &who, &id).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ResultsQuery {
    /// `json` (the default) or `csv`; `Accept: text/csv` asks for CSV too.
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
}

/// `GET /api/v1/drills/{id}/results`: counts by outcome, per department and over time; each person's
/// result for security admins unless results are anonymous. JSON, or CSV.
#[utoipa::path(get, path = "/api/v1/drills/{id}/results", tag = "drills", params(("id" = String, Path), ResultsQuery), responses((status = 200, description = "The results, as JSON or CSV", content((Results = "application/json"), (String = "text/csv")))))]
pub(crate) async fn results(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ResultsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let csv = match q.format.as_deref() {
        None => headers
            .get(header::ACCEPT)
            .and_then(|a| a.to_str().ok())
            .is_some_and(|a| a.contains("text/csv") && !a.contains("application/json")),
        Some("csv") => true,
        Some("json") => false,
        Some(_) => return Err(ApiError::field("format", "json or csv")),
    };
    let found = results::results(&state.app, &who, &id).await?;
    if !csv {
        return Ok(Json(found).into_response());
    }
    let mut r = (StatusCode::OK, found.to_csv()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    Ok(r)
}

/// `GET /api/v1/people/{email}/drills`: the person's drills, newest first, repeated mistakes flagged.
#[utoipa::path(get, path = "/api/v1/people/{email}/drills", tag = "drills", params(("email" = String, Path)), responses((status = 200, body = Vec<PersonDrill>)))]
pub(crate) async fn person(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiPath(email): ApiPath<String>,
) -> Result<Json<Vec<PersonDrill>>, ApiError> {
    Ok(Json(results::person(&state.app, &who, &email).await?))
}

/// A built-in scenario.
#[derive(Serialize, ToSchema)]
pub(crate) struct ScenarioView {
    id: &'static str,
    title: &'static str,
    scenario: Scenario,
}

/// `GET /api/v1/drills/scenarios`: the built-in scenarios.
#[utoipa::path(get, path = "/api/v1/drills/scenarios", tag = "drills", responses((status = 200, body = Vec<ScenarioView>)))]
pub(crate) async fn scenarios(Api(..): Api<SecurityReaders>) -> Json<Vec<ScenarioView>> {
    Json(drills::scenarios().into_iter().map(|(id, title, scenario)| ScenarioView { id, title, scenario }).collect())
}

/// The drills' company settings.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DrillSettingsBody {
    /// Results show no person, only departments of at least the minimum size.
    anonymous: bool,
}

/// `GET /api/v1/drills/settings`.
#[utoipa::path(get, path = "/api/v1/drills/settings", tag = "drills", responses((status = 200, body = DrillSettingsBody)))]
pub(crate) async fn settings(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
) -> Result<Json<DrillSettingsBody>, ApiError> {
    Ok(Json(DrillSettingsBody { anonymous: drills::results_anonymous(&state.app, &who).await? }))
}

/// `PUT /api/v1/drills/settings` `{anonymous}`.
#[utoipa::path(put, path = "/api/v1/drills/settings", tag = "drills", request_body = DrillSettingsBody, responses((status = 200, body = DrillSettingsBody)))]
pub(crate) async fn put_settings(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<DrillSettingsBody>,
) -> Result<Json<DrillSettingsBody>, ApiError> {
    Ok(Json(DrillSettingsBody { anonymous: drills::set_results_anonymous(&state.app, &who, body.anonymous).await? }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyHeaderBody {
    /// The `X-Bonafide-Drill` header's value.
    #[schema(max_length = 500)]
    header: String,
    /// The message's recipient.
    #[schema(max_length = 254)]
    recipient: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct VerifiedHeader {
    /// Whether the header is Bonafide's for this recipient.
    genuine: bool,
    /// The drill it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    drill: Option<String>,
}

/// `POST /api/v1/drills/verify-header` `{header, recipient}`: whether a message's `X-Bonafide-Drill` is
/// genuine, for a mail filter that allow-lists drills.
#[utoipa::path(post, path = "/api/v1/drills/verify-header", tag = "drills", request_body = VerifyHeaderBody, responses((status = 200, body = VerifiedHeader)))]
pub(crate) async fn verify_header(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<VerifyHeaderBody>,
) -> Result<Json<VerifiedHeader>, ApiError> {
    if body.header.len() > 500 || body.recipient.len() > 254 {
        return Err(ApiError::field("header", "at most 500 characters, and the recipient at most 254"));
    }
    let found = drills::verify_header(&state.app, &who, &body.header, &body.recipient).await?;
    Ok(Json(VerifiedHeader { genuine: found.is_some(), drill: found.map(|d| d.to_string()) }))
}
