//! Reports of suspicious contacts ([`bonafide_app::reports`]): `POST /api/v1/reports` (JSON, or a
//! reported email as `message/rfc822`), `GET /api/v1/reports` (own; security admins and auditors:
//! everyone's with `?scope=all`), `GET /api/v1/reports/{id}`.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiPath, ApiQuery};
use crate::routes::views::rfc3339;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use bonafide_app::records::ReportRecord;
use bonafide_app::reports::{self, Received, Report, View};
use bonafide_domain::{Ask, Channel};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::{IntoParams, ToSchema};

/// What the reporter is told.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReceivedView {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign_id: Option<String>,
    received: bool,
    /// What to do now, when they complied.
    #[serde(skip_serializing_if = "Option::is_none")]
    act_now: Option<Vec<String>>,
    /// Set when the report was of a drill (a practice run): it joined no campaign.
    #[serde(skip_serializing_if = "Option::is_none")]
    practice: Option<String>,
}

impl From<Received> for ReceivedView {
    fn from(r: Received) -> Self {
        Self {
            id: r.id.to_string(),
            campaign_id: r.campaign_id.map(|c| c.to_string()),
            received: true,
            act_now: r.act_now,
            practice: r.practice,
        }
    }
}

/// A report as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReportView {
    id: String,
    reporter_id: String,
    department: String,
    channel: Channel,
    occurred_at: String,
    received_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller_handle: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    claimed_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    claimed_staff_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    claimed_team: Option<String>,
    asked_for: BTreeSet<Ask>,
    complied: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    transcript: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign_id: Option<String>,
    /// The analyzer's reading of the transcript (the shape `POST /api/v1/analyze` answers with).
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<serde_json::Value>,
}

impl From<ReportRecord> for ReportView {
    fn from(r: ReportRecord) -> Self {
        // Analysed once, when filed; a report filed before the analysis was stored shows none.
        let analysis = r.analysis.as_deref().and_then(|a| serde_json::from_str(a).ok());
        Self {
            analysis,
            id: r.id.to_string(),
            reporter_id: r.reporter.to_string(),
            department: r.department,
            channel: r.channel,
            occurred_at: rfc3339(r.occurred_at),
            received_at: rfc3339(r.received_at),
            caller_number: r.caller_number,
            caller_address: r.caller_address,
            caller_handle: r.caller_handle,
            claimed_name: r.claimed_name,
            claimed_staff_id: r.claimed_staff_id,
            claimed_team: r.claimed_team,
            asked_for: r.asked_for,
            complied: r.complied,
            transcript: r.transcript,
            email_subject: r.email_subject,
            check_id: r.check.map(|c| c.to_string()),
            campaign_id: r.campaign.map(|c| c.to_string()),
        }
    }
}

/// `POST /api/v1/reports`: any signed-in person. JSON, or a reported email (`Content-Type:
/// message/rfc822`).
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports",
    request_body(description = "The report as JSON, or the reported email itself",
        content((bonafide_app::reports::Report = "application/json"), (String = "message/rfc822"))),
    responses((status = 201, body = ReceivedView)))]
pub(crate) async fn create(
    Api(who, ..): Api,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<ReceivedView>), ApiError> {
    let body = body?;
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let received = if content_type.starts_with("message/rfc822") {
        reports::file(&state.app, &who, Report::default(), Some(&body)).await?
    } else if content_type.starts_with("application/json") {
        let parsed: Report = crate::extract::parse_json(&body)?;
        reports::file(&state.app, &who, parsed, None).await?
    } else {
        return Err(ApiError::UnsupportedMediaType);
    };
    Ok((StatusCode::CREATED, Json(received.into())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// `mine` or `all` (security admins and auditors).
    #[param(pattern = "^(mine|all)$")]
    scope: Option<String>,
}

/// `GET /api/v1/reports`: own reports; `?scope=all` for security admins and auditors.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(ListQuery), responses((status = 200, body = Vec<ReportView>)))]
pub(crate) async fn list(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<ReportView>>, ApiError> {
    let view = match q.scope.as_deref() {
        None => View::default_for(&who),
        Some("mine") => View::Mine,
        Some("all") => View::All,
        Some(_) => return Err(ApiError::field("scope", "one of mine, all")),
    };
    let found = reports::list(&state.app, &who, view).await?;
    Ok(Json(found.into_iter().map(ReportView::from).collect()))
}

/// `GET /api/v1/reports/{id}`: the reporter's own, or any for security admins and auditors.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports", params(("id" = String, Path)), responses((status = 200, body = ReportView)))]
pub(crate) async fn get(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ReportView>, ApiError> {
    Ok(Json(reports::get(&state.app, &who, &id).await?.into()))
}
