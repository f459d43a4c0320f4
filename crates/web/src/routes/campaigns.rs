//! Campaigns ([`bonafide_app::campaigns`]): clusters of reports that passed the thresholds. Security admins and auditors read them;
//! security admins change their status, merge and split them. Every signed-in person reads the warnings
//! of active campaigns (`GET /api/v1/warnings`).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiJson, ApiPath, ApiQuery};
use crate::routes::reports::ReportView;
use crate::routes::views::rfc3339;
use axum::Json;
use axum::extract::State;
use bonafide_app::access::{SecurityAdmins, SecurityReaders};
use bonafide_app::campaigns;
use bonafide_app::records::Campaign;
use bonafide_correlate::{IndicatorKind, Severity};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IndicatorView {
    kind: IndicatorKind,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<bonafide_correlate::Note>,
}

/// A campaign as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CampaignView {
    id: String,
    status: &'static str,
    severity: Severity,
    report_count: i64,
    people_count: i64,
    departments: Vec<String>,
    complied_count: i64,
    first_seen: String,
    last_seen: String,
    indicators: Vec<IndicatorView>,
    /// The indicators that are the directory's own contacts (a real staffer's number, address or staff id).
    official_indicators: Vec<IndicatorView>,
    /// Whether checks on [`Self::official_indicators`] are blocked (a security admin's decision).
    blocks_official_contacts: bool,
    warning: String,
}

fn indicator_views(indicators: Vec<bonafide_correlate::Indicator>) -> Vec<IndicatorView> {
    indicators.into_iter().map(|i| IndicatorView { kind: i.kind, value: i.value, note: i.note }).collect()
}

impl From<Campaign> for CampaignView {
    fn from(c: Campaign) -> Self {
        Self {
            id: c.id.to_string(),
            status: c.status.as_str(),
            severity: c.severity,
            report_count: c.report_count,
            people_count: c.people_count,
            departments: c.departments,
            complied_count: c.complied_count,
            first_seen: rfc3339(c.first_seen),
            last_seen: rfc3339(c.last_seen),
            indicators: indicator_views(c.indicators),
            official_indicators: indicator_views(c.official),
            blocks_official_contacts: c.covers_official,
            warning: c.warning,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// `active` (the default: active and contained) or `all`.
    #[param(pattern = "^(active|all)$")]
    status: Option<String>,
}

/// `GET /api/v1/campaigns`: active and contained ones; `?status=all` adds closed ones.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", params(ListQuery), responses((status = 200, body = Vec<CampaignView>)))]
pub(crate) async fn list(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<CampaignView>>, ApiError> {
    let include_closed = match q.status.as_deref().unwrap_or("active") {
        "active" => false,
        "all" => true,
        _ => return Err(ApiError::field("status", "one of active, all")),
    };
    let found = campaigns::list(&state.app, &who, include_closed).await?;
    Ok(Json(found.into_iter().map(CampaignView::from).collect()))
}

/// `GET /api/v1/campaigns/{id}` (a merged campaign answers as the one it joined).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)), responses((status = 200, body = CampaignView)))]
pub(crate) async fn get(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(campaigns::get(&state.app, &who, &id).await?.into()))
}

/// `GET /api/v1/campaigns/{id}/reports`.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/reports", tag = "campaigns", params(("id" = String, Path)), responses((status = 200, body = Vec<ReportView>)))]
pub(crate) async fn reports(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<ReportView>>, ApiError> {
    let (_, found) = campaigns::with_reports(&state.app, &who, &id).await?;
    Ok(Json(found.into_iter().map(ReportView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    /// `active`, `contained` or `closed`.
    #[schema(pattern = "^(active|contained|closed)$")]
    status: String,
}

/// `POST /api/v1/campaigns/{id}/status` `{status: active|contained|closed}`.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/status", tag = "campaigns", params(("id" = String, Path)), request_body = StatusBody, responses((status = 200, body = CampaignView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn set_status(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(campaigns::set_status(&state.app, &who, &id, &body.status).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfficialBody {
    blocked: bool,
}

/// `POST /api/v1/campaigns/{id}/official-contacts` `{blocked}`: whether the campaign blocks checks on the
/// directory's own contacts among its indicators.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/official-contacts", tag = "campaigns", params(("id" = String, Path)), request_body = OfficialBody, responses((status = 200, body = CampaignView)))]
pub(crate) async fn official_contacts(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<OfficialBody>,
) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(campaigns::block_official_contacts(&state.app, &who, &id, body.blocked).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeBody {
    campaign_id: String,
}

/// `POST /api/v1/campaigns/{id}/merge` `{campaign_id}`: the other campaign joins this one.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/merge", tag = "campaigns", params(("id" = String, Path)), request_body = MergeBody, responses((status = 200, body = CampaignView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn merge(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(campaigns::merge(&state.app, &who, &id, &body.campaign_id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SplitBody {
    report_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SplitView {
    campaign: CampaignView,
    split_off: String,
}

/// `POST /api/v1/campaigns/{id}/split` `{report_ids}`: those reports leave the campaign for a cluster of
/// their own, which the thresholds judge again.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/split", tag = "campaigns", params(("id" = String, Path)), request_body = SplitBody, responses((status = 200, body = SplitView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn split(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<SplitBody>,
) -> Result<Json<SplitView>, ApiError> {
    let (campaign, split_off) = campaigns::split(&state.app, &who, &id, &body.report_ids).await?;
    Ok(Json(SplitView { campaign: campaign.into(), split_off: split_off.to_string() }))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct WarningView {
    campaign_id: String,
    severity: Severity,
    warning: String,
    last_seen: String,
}

/// `GET /api/v1/warnings`: the warnings of active campaigns, for everyone.
#[utoipa::path(get, path = "/api/v1/warnings", tag = "campaigns", responses((status = 200, body = Vec<WarningView>)))]
pub(crate) async fn warnings(
    Api(who, ..): Api,
    State(state): State<AppState>,
) -> Result<Json<Vec<WarningView>>, ApiError> {
    let found = campaigns::warnings(&state.app, &who, campaigns::WARNINGS_LIMIT).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|c| WarningView {
                campaign_id: c.id.to_string(),
                severity: c.severity,
                warning: c.warning,
                last_seen: rfc3339(c.last_seen),
            })
            .collect(),
    ))
}
