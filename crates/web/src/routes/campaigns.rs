//! Campaigns: clusters of reports that passed the thresholds. Security admins and auditors read them;
//! security admins change their status, merge and split them. Every signed-in person reads the warnings
//! of active campaigns (`GET /api/v1/warnings`).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientAddr, Employee, SecurityAdmin, SecurityReader, actor};
use crate::routes::reports::ReportView;
use crate::routes::views::rfc3339;
use axum::Json;
use axum::extract::State;
use bonafide_correlate::{IndicatorKind, Severity};
use bonafide_store::{AuditEvent, Campaign, CampaignStatus, Outcome};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize)]
pub(crate) struct IndicatorView {
    kind: IndicatorKind,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<bonafide_correlate::Note>,
}

/// A campaign as the API shows it.
#[derive(Debug, Serialize)]
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
    warning: String,
}

impl From<Campaign> for CampaignView {
    fn from(c: Campaign) -> Self {
        Self {
            id: c.id,
            status: c.status.as_str(),
            severity: c.severity,
            report_count: c.report_count,
            people_count: c.people_count,
            departments: c.departments,
            complied_count: c.complied_count,
            first_seen: rfc3339(c.first_seen),
            last_seen: rfc3339(c.last_seen),
            indicators: c
                .indicators
                .into_iter()
                .map(|i| IndicatorView { kind: i.kind, value: i.value, note: i.note })
                .collect(),
            warning: c.warning,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
}

/// `GET /api/v1/campaigns`: active and contained ones; `?status=all` adds closed ones.
pub(crate) async fn list(
    _: SecurityReader,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<CampaignView>>, ApiError> {
    let active_only = match q.status.as_deref().unwrap_or("active") {
        "active" => true,
        "all" => false,
        _ => return Err(ApiError::field("status", "one of active, all")),
    };
    let found = state.store.list_campaigns(active_only, 500).await?;
    Ok(Json(found.into_iter().map(CampaignView::from).collect()))
}

/// `GET /api/v1/campaigns/{id}` (a merged campaign answers as the one it joined).
pub(crate) async fn get(
    _: SecurityReader,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CampaignView>, ApiError> {
    state.store.campaign(&id).await?.map(|c| Json(c.into())).ok_or(ApiError::NotFound)
}

/// `GET /api/v1/campaigns/{id}/reports`.
pub(crate) async fn reports(
    _: SecurityReader,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<ReportView>>, ApiError> {
    let campaign = state.store.campaign(&id).await?.ok_or(ApiError::NotFound)?;
    let found = state.store.reports_of(&campaign.id).await?;
    Ok(Json(found.into_iter().map(ReportView::from).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    status: String,
}

/// `POST /api/v1/campaigns/{id}/status` `{status: active|contained|closed}`.
pub(crate) async fn set_status(
    SecurityAdmin(me): SecurityAdmin,
    State(state): State<AppState>,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<CampaignView>, ApiError> {
    let status = CampaignStatus::parse(&body.status)
        .ok_or_else(|| ApiError::field("status", "one of active, contained, closed"))?;
    let campaign = state.store.campaign(&id).await?.ok_or(ApiError::NotFound)?;
    let event = AuditEvent::new(&actor(&me, &client), "campaign.status", &campaign.id, Outcome::Ok)
        .with(serde_json::json!({ "from": campaign.status.as_str(), "to": status.as_str() }));
    if !state.store.set_campaign_status(&campaign.id, status, &event, state.clock.now()).await? {
        return Err(ApiError::NotFound);
    }
    get(SecurityReader(me), State(state), ApiPath(campaign.id)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeBody {
    campaign_id: String,
}

/// `POST /api/v1/campaigns/{id}/merge` `{campaign_id}`: the other campaign joins this one.
pub(crate) async fn merge(
    SecurityAdmin(me): SecurityAdmin,
    State(state): State<AppState>,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Json<CampaignView>, ApiError> {
    let into = state.store.campaign(&id).await?.ok_or(ApiError::NotFound)?;
    let other = state
        .store
        .campaign(&body.campaign_id)
        .await?
        .ok_or_else(|| ApiError::field("campaign_id", "no such campaign"))?;
    if other.id == into.id {
        return Err(ApiError::field("campaign_id", "a campaign cannot be merged with itself"));
    }
    let event = AuditEvent::new(&actor(&me, &client), "campaign.merged", &into.id, Outcome::Ok)
        .with(serde_json::json!({ "merged": other.id }));
    let merged =
        state.store.merge_campaigns(&into.id, &other.id, &state.config.correlation, &event, state.clock.now()).await?;
    if !merged {
        return Err(ApiError::Conflict("one of the campaigns changed meanwhile; reload and try again".into()));
    }
    get(SecurityReader(me), State(state), ApiPath(into.id)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SplitBody {
    report_ids: Vec<String>,
}

#[derive(Serialize)]
pub(crate) struct SplitView {
    campaign: CampaignView,
    split_off: String,
}

/// `POST /api/v1/campaigns/{id}/split` `{report_ids}`: those reports leave the campaign for a cluster of
/// their own, which the thresholds judge again.
pub(crate) async fn split(
    SecurityAdmin(me): SecurityAdmin,
    State(state): State<AppState>,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<SplitBody>,
) -> Result<Json<SplitView>, ApiError> {
    if body.report_ids.is_empty() || body.report_ids.len() > 10_000 {
        return Err(ApiError::field("report_ids", "1 to 10000 report ids"));
    }
    let campaign = state.store.campaign(&id).await?.ok_or(ApiError::NotFound)?;
    let event = AuditEvent::new(&actor(&me, &client), "campaign.split", &campaign.id, Outcome::Ok);
    let new = state
        .store
        .split_campaign(&campaign.id, &body.report_ids, &state.config.correlation, &event, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::field("report_ids", "some but not all of the campaign's reports"))?;
    let Json(campaign) = get(SecurityReader(me), State(state), ApiPath(campaign.id)).await?;
    Ok(Json(SplitView { campaign, split_off: new }))
}

#[derive(Serialize)]
pub(crate) struct WarningView {
    campaign_id: String,
    severity: Severity,
    warning: String,
    last_seen: String,
}

/// `GET /api/v1/warnings`: the warnings of active campaigns, for everyone.
pub(crate) async fn warnings(_: Employee, State(state): State<AppState>) -> Result<Json<Vec<WarningView>>, ApiError> {
    let found = state.store.list_campaigns(true, 50).await?;
    Ok(Json(
        found
            .into_iter()
            .filter(|c| c.status == CampaignStatus::Active)
            .map(|c| WarningView {
                campaign_id: c.id,
                severity: c.severity,
                warning: c.warning,
                last_seen: rfc3339(c.last_seen),
            })
            .collect(),
    ))
}
