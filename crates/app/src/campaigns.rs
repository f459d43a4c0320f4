//! Campaigns: clusters of reports that passed the thresholds. Security admins and auditors read them;
//! security admins change their status, merge and split them. Every signed-in person reads the warnings
//! of active campaigns.
//!
//! A campaign that was merged into another answers, by its old id, as the one it joined: every use case
//! here resolves the id it is given first.

use crate::access::{EVERYONE, SECURITY_ADMINS, SECURITY_READERS};
use crate::{App, AppError, Caller};
use bonafide_domain::{CampaignId, ReportId};
use bonafide_store::{Campaign, CampaignStatus, ReportRecord, Sighted};

/// The most campaigns one listing shows.
pub const LIST_LIMIT: i64 = 500;
/// The most report ids one split moves.
pub const SPLIT_LIMIT: usize = 10_000;

/// Lists campaigns, newest first: active and contained ones, and closed ones too with `include_closed`.
pub async fn list(app: &App, who: &Caller, include_closed: bool) -> Result<Vec<Campaign>, AppError> {
    app.authorize(who, SECURITY_READERS, "campaigns.list").await?;
    Ok(app.store().list_campaigns(!include_closed, LIST_LIMIT).await?)
}

/// Campaign `id` (a merged campaign answers as the one it joined); an id that is no campaign's is
/// `NotFound`.
pub async fn get(app: &App, who: &Caller, id: &str) -> Result<Campaign, AppError> {
    app.authorize(who, SECURITY_READERS, "campaigns.get").await?;
    let id: CampaignId = id.trim().parse().map_err(|_| AppError::NotFound)?;
    by_id(app, id).await
}

async fn by_id(app: &App, id: CampaignId) -> Result<Campaign, AppError> {
    app.store().campaign(id).await?.ok_or(AppError::NotFound)
}

/// Campaign `id` with its reports.
pub async fn with_reports(app: &App, who: &Caller, id: &str) -> Result<(Campaign, Vec<ReportRecord>), AppError> {
    let campaign = get(app, who, id).await?;
    let reports = app.store().reports_of(campaign.id).await?;
    Ok((campaign, reports))
}

/// Campaign `id` with the sightings of its indicators (for exports).
pub async fn with_sightings(app: &App, who: &Caller, id: &str) -> Result<(Campaign, Vec<Sighted>), AppError> {
    let campaign = get(app, who, id).await?;
    let sightings = app.store().campaign_sightings(campaign.id).await?;
    Ok((campaign, sightings))
}

/// Sets campaign `id`'s status (`active`, `contained` or `closed`): security admins.
pub async fn set_status(app: &App, who: &Caller, id: &str, status: &str) -> Result<Campaign, AppError> {
    app.authorize(who, SECURITY_ADMINS, "campaigns.set_status").await?;
    let status =
        CampaignStatus::parse(status).ok_or_else(|| AppError::field("status", "one of active, contained, closed"))?;
    let campaign = get(app, who, id).await?;
    let event = who.event("campaign.status", campaign.id.to_string()).with(serde_json::json!({
        "from": campaign.status.as_str(), "to": status.as_str(), "via": who.via.as_str(),
    }));
    if !app.store().set_campaign_status(campaign.id, status, &event, app.now()).await? {
        return Err(AppError::NotFound);
    }
    by_id(app, campaign.id).await
}

/// Decides whether campaign `id` blocks checks on its official indicators (the directory's own contacts
/// that its reports share: a real staffer's number, address or staff id): security admins. Until they do,
/// those indicators tie reports together and raise a `staff_impersonated` alert, but a genuine call from
/// that staffer still verifies. Audited as `campaign.official_contacts` with the setting before and after.
pub async fn block_official_contacts(app: &App, who: &Caller, id: &str, blocked: bool) -> Result<Campaign, AppError> {
    app.authorize(who, SECURITY_ADMINS, "campaigns.official_contacts").await?;
    let campaign = get(app, who, id).await?;
    let event = who.event("campaign.official_contacts", campaign.id.to_string()).with(serde_json::json!({
        "from": campaign.covers_official,
        "to": blocked,
        "official": campaign.official.iter().map(|i| format!("{}:{}", i.kind.as_str(), i.value)).collect::<Vec<_>>(),
        "via": who.via.as_str(),
    }));
    if app.store().set_campaign_covers_official(campaign.id, blocked, &event, app.now()).await?.is_none() {
        return Err(AppError::NotFound);
    }
    by_id(app, campaign.id).await
}

/// Merges campaign `other` into campaign `id`: security admins. A campaign cannot join itself, under any
/// of its ids.
pub async fn merge(app: &App, who: &Caller, id: &str, other: &str) -> Result<Campaign, AppError> {
    app.authorize(who, SECURITY_ADMINS, "campaigns.merge").await?;
    let into = get(app, who, id).await?;
    let no_such = || AppError::field("campaign_id", "no such campaign");
    let other: CampaignId = other.trim().parse().map_err(|_| no_such())?;
    let other = app.store().campaign(other).await?.ok_or_else(no_such)?;
    if other.id == into.id {
        return Err(AppError::field("campaign_id", "a campaign cannot be merged with itself"));
    }
    let event = who
        .event("campaign.merged", into.id.to_string())
        .with(serde_json::json!({ "merged": other.id.to_string(), "via": who.via.as_str() }));
    let settings = &app.settings().correlation;
    if !app.store().merge_campaigns(into.id, other.id, settings, &event, app.now()).await? {
        return Err(AppError::Conflict("one of the campaigns changed meanwhile; reload and try again".into()));
    }
    by_id(app, into.id).await
}

/// Moves `report_ids` out of campaign `id` into a cluster of their own, which the thresholds judge again:
/// security admins. Returns the campaign and the new cluster's id.
pub async fn split(
    app: &App,
    who: &Caller,
    id: &str,
    report_ids: &[String],
) -> Result<(Campaign, CampaignId), AppError> {
    app.authorize(who, SECURITY_ADMINS, "campaigns.split").await?;
    if report_ids.is_empty() || report_ids.len() > SPLIT_LIMIT {
        return Err(AppError::field("report_ids", format!("1 to {SPLIT_LIMIT} report ids")));
    }
    let reports = report_ids
        .iter()
        .map(|r| {
            r.trim().parse::<ReportId>().map_err(|_| AppError::field("report_ids", format!("not a report id: {r}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let campaign = get(app, who, id).await?;
    let event = who
        .event("campaign.split", campaign.id.to_string())
        .with(serde_json::json!({ "reports": reports.len(), "via": who.via.as_str() }));
    let settings = &app.settings().correlation;
    let new = app
        .store()
        .split_campaign(campaign.id, &reports, settings, &event, app.now())
        .await?
        .ok_or_else(|| AppError::field("report_ids", "some but not all of the campaign's reports"))?;
    Ok((by_id(app, campaign.id).await?, new))
}

/// The most warnings shown at once.
pub const WARNINGS_LIMIT: i64 = 50;

/// The active campaigns whose warnings everyone sees (every signed-in person), at most `limit`.
pub async fn warnings(app: &App, who: &Caller, limit: i64) -> Result<Vec<Campaign>, AppError> {
    app.authorize(who, EVERYONE, "campaigns.warnings").await?;
    let found = app.store().list_campaigns(true, limit.clamp(1, WARNINGS_LIMIT)).await?;
    Ok(found.into_iter().filter(|c| c.status == CampaignStatus::Active).collect())
}
