//! The correlation: `bonafide_correlate`'s rules run over indexed tables, inside the caller's transaction.
//!
//! Every change to clusters (filing a report, security's status, merge and split) first takes the
//! `correlation` counter row, so correlations on any number of instances run one at a time and never race
//! into two clusters for one number. Finding the clusters a report joins costs index look-ups for the
//! report's own indicators, not a scan of stored reports. A merge, whether a report ties clusters together
//! or security decides it, is [`merge`]; a cluster is judged again by the thresholds in [`evaluate`],
//! which raises the campaign's alert and event.

use crate::checks::{NewAlert, insert_campaign_alert};
use crate::codec::millis;
use crate::events::append_event;
use crate::{StoreError, dynamic};
use bonafide_correlate::{Hit, Indicator, IndicatorKind, Severity, Tally, text_hits};
use bonafide_domain::CampaignStatus;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

bonafide_domain::named_enum! {
    /// Every state a row of the clusters table (`campaigns`) is in; the stored names are [`Self::as_str`].
    pub enum ClusterStatus {
        /// Related reports that have not (yet) passed the campaign thresholds.
        Cluster = "cluster",
        /// A campaign under way.
        Active = "active",
        /// A campaign security has acted on and is watching.
        Contained = "contained",
        /// A campaign that is over (a new report reopens it).
        Closed = "closed",
        /// Merged into another cluster (`merged_into`); it holds no reports.
        Merged = "merged",
    }
}

impl ClusterStatus {
    /// The states of a campaign: what campaign reads list, and what security may change or merge.
    pub const CAMPAIGN: [ClusterStatus; 3] = [ClusterStatus::Active, ClusterStatus::Contained, ClusterStatus::Closed];

    /// The states of a campaign still under way: checks are warned about these, and the home page shows them.
    pub const UNDER_WAY: [ClusterStatus; 2] = [ClusterStatus::Active, ClusterStatus::Contained];

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::from_name(text)
    }

    /// The campaign status, when the cluster is a campaign.
    pub fn campaign(self) -> Option<CampaignStatus> {
        match self {
            ClusterStatus::Active => Some(CampaignStatus::Active),
            ClusterStatus::Contained => Some(CampaignStatus::Contained),
            ClusterStatus::Closed => Some(CampaignStatus::Closed),
            ClusterStatus::Cluster | ClusterStatus::Merged => None,
        }
    }

    /// Whether the cluster is a campaign.
    pub fn is_campaign(self) -> bool {
        self.campaign().is_some()
    }
}

impl From<CampaignStatus> for ClusterStatus {
    fn from(s: CampaignStatus) -> Self {
        match s {
            CampaignStatus::Active => ClusterStatus::Active,
            CampaignStatus::Contained => ClusterStatus::Contained,
            CampaignStatus::Closed => ClusterStatus::Closed,
        }
    }
}

/// Correlation settings the store applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CorrelationSettings {
    /// The rules.
    pub config: bonafide_correlate::Config,
}

/// Takes the `correlation` counter row; held until the transaction ends.
pub(crate) async fn take_correlation_turn(tx: &mut AnyConnection) -> Result<(), StoreError> {
    sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'correlation'").execute(&mut *tx).await?;
    Ok(())
}

/// The state of cluster `id`, `None` when there is no such cluster.
pub(crate) async fn status_of(tx: &mut AnyConnection, id: &str) -> Result<Option<ClusterStatus>, StoreError> {
    let row = sqlx::query("SELECT status FROM campaigns WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
    row.map(|r| {
        let text: String = r.try_get("status")?;
        ClusterStatus::parse(&text).ok_or_else(|| StoreError::Corrupt(format!("cluster status `{text}`")))
    })
    .transpose()
}

/// A new, empty plain cluster; its counts start from `first_seen` (Unix milliseconds).
pub(crate) async fn new_cluster(
    tx: &mut AnyConnection,
    first_seen: i64,
    now: OffsetDateTime,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO campaigns (id, status, severity, first_seen, last_seen, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4, $5, $5)",
    )
    .bind(&id)
    .bind(ClusterStatus::Cluster.as_str())
    .bind(Severity::Low.as_str())
    .bind(first_seen)
    .bind(millis(now))
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// Every hit of `indicators` (seen at `at`, Unix milliseconds) in the clusters where each value was last
/// seen within `window` milliseconds.
pub(crate) async fn hits(
    tx: &mut AnyConnection,
    indicators: &[Indicator],
    at: i64,
    window: i64,
) -> Result<Vec<Hit<String>>, StoreError> {
    let mut hits: Vec<Hit<String>> = Vec::new();
    for i in indicators {
        let mut text_seen: Vec<String> = Vec::new();
        for value in i.index_values() {
            let found = sqlx::query(
                "SELECT r.cluster_id FROM report_indicators i JOIN reports r ON r.id = i.report_id \
                 WHERE i.kind = $1 AND i.value = $2 AND i.seen_at >= $3 AND i.seen_at <= $4 \
                 ORDER BY i.seen_at DESC LIMIT 1",
            )
            .bind(i.kind.as_str())
            .bind(&value)
            .bind(at.saturating_sub(window))
            .bind(at.saturating_add(window))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = found {
                let cluster: String = row.try_get("cluster_id")?;
                if i.kind == IndicatorKind::Text {
                    text_seen.push(cluster);
                } else {
                    hits.push(Hit { cluster, kind: i.kind, strong: i.is_strong() });
                }
            }
        }
        hits.extend(text_hits(text_seen));
    }
    Ok(hits)
}

/// `clusters`, the one with the most reports first (ties by id): it absorbs the others, so the fewest
/// reports move.
pub(crate) async fn largest_first(tx: &mut AnyConnection, clusters: Vec<String>) -> Result<Vec<String>, StoreError> {
    let mut sized = Vec::with_capacity(clusters.len());
    for c in clusters {
        let n: i64 = sqlx::query("SELECT report_count FROM campaigns WHERE id = $1")
            .bind(&c)
            .fetch_one(&mut *tx)
            .await?
            .try_get("report_count")?;
        sized.push((n, c));
    }
    sized.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    Ok(sized.into_iter().map(|(_, c)| c).collect())
}

/// Merges `others` into `into`: their reports move, they are marked merged, and the survivor's counts are
/// recounted. The survivor is a campaign if any part was one; its readable indicators then cover every
/// part. The caller judges it again ([`evaluate`]) once it has added what else it adds.
pub(crate) async fn merge(
    tx: &mut AnyConnection,
    into: &str,
    others: &[String],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if others.is_empty() {
        return Ok(());
    }
    let mut absorbed_campaign = false;
    for other in others {
        absorbed_campaign |= status_of(tx, other).await?.is_some_and(ClusterStatus::is_campaign);
        sqlx::query("UPDATE reports SET cluster_id = $1 WHERE cluster_id = $2")
            .bind(into)
            .bind(other)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE campaigns SET status = $3, merged_into = $1, updated_at = $4 WHERE id = $2")
            .bind(into)
            .bind(other)
            .bind(ClusterStatus::Merged.as_str())
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM campaign_indicators WHERE campaign_id = $1").bind(other).execute(&mut *tx).await?;
    }
    recount(tx, into).await?;
    if absorbed_campaign {
        sqlx::query("UPDATE campaigns SET status = $2, promoted_at = $3 WHERE id = $1 AND status = $4")
            .bind(into)
            .bind(ClusterStatus::Active.as_str())
            .bind(millis(now))
            .bind(ClusterStatus::Cluster.as_str())
            .execute(&mut *tx)
            .await?;
    }
    if status_of(tx, into).await?.is_some_and(ClusterStatus::is_campaign) {
        rebuild_indicators(tx, into).await?;
    }
    Ok(())
}

/// The cluster's counts as the rules need them.
async fn tally(tx: &mut AnyConnection, cluster: &str, min_reports: u32) -> Result<Tally, StoreError> {
    let row = sqlx::query(
        "SELECT report_count, people_count, department_count, complied_count, privileged_count FROM campaigns \
         WHERE id = $1",
    )
    .bind(cluster)
    .fetch_one(&mut *tx)
    .await?;
    // The burst is the time between the newest report and the `min_reports`-th newest.
    let nth = usize::try_from(min_reports.max(1)).unwrap_or(1) - 1;
    let times: Vec<i64> = sqlx::query(dynamic(format!(
        "SELECT occurred_at FROM reports WHERE cluster_id = $1 ORDER BY occurred_at DESC LIMIT {}",
        nth + 1
    )))
    .bind(cluster)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| r.try_get::<i64, _>("occurred_at"))
    .collect::<Result<_, _>>()?;
    let count = |name: &str| row.try_get::<i64, _>(name).map(|v| u32::try_from(v).unwrap_or(u32::MAX));
    Ok(Tally {
        reports: count("report_count")?,
        people: count("people_count")?,
        departments: count("department_count")?,
        complied: count("complied_count")?,
        privileged: count("privileged_count")?,
        burst_secs: match (times.first(), times.get(nth)) {
            (Some(newest), Some(nth)) => Some((newest - nth) / 1000),
            _ => None,
        },
    })
}

/// Recounts a cluster's distinct people and departments after reports moved in or out.
pub(crate) async fn recount(tx: &mut AnyConnection, cluster: &str) -> Result<(), StoreError> {
    for (table, column, source) in
        [("campaign_people", "person_id", "reporter_id"), ("campaign_departments", "department", "department")]
    {
        sqlx::query(dynamic(format!("DELETE FROM {table} WHERE campaign_id = $1")))
            .bind(cluster)
            .execute(&mut *tx)
            .await?;
        sqlx::query(dynamic(format!(
            "INSERT INTO {table} (campaign_id, {column}) SELECT DISTINCT $1, {source} FROM reports WHERE cluster_id = $1"
        )))
        .bind(cluster)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "UPDATE campaigns SET \
           report_count = (SELECT COUNT(*) FROM reports WHERE cluster_id = $1), \
           complied_count = (SELECT COUNT(*) FROM reports WHERE cluster_id = $1 AND complied = 1), \
           privileged_count = (SELECT COUNT(*) FROM reports r JOIN people p ON p.id = r.reporter_id \
                               WHERE r.cluster_id = $1 AND p.privileged = 1), \
           people_count = (SELECT COUNT(*) FROM campaign_people WHERE campaign_id = $1), \
           department_count = (SELECT COUNT(*) FROM campaign_departments WHERE campaign_id = $1), \
           first_seen = COALESCE((SELECT MIN(occurred_at) FROM reports WHERE cluster_id = $1), first_seen), \
           last_seen = COALESCE((SELECT MAX(occurred_at) FROM reports WHERE cluster_id = $1), last_seen) \
         WHERE id = $1",
    )
    .bind(cluster)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Rebuilds a campaign's readable indicators from its reports (at promotion, merge and split).
pub(crate) async fn rebuild_indicators(tx: &mut AnyConnection, cluster: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM campaign_indicators WHERE campaign_id = $1").bind(cluster).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO campaign_indicators (campaign_id, kind, value, note) \
         SELECT $1, i.kind, i.value, MAX(i.note) FROM report_indicators i JOIN reports r ON r.id = i.report_id \
         WHERE r.cluster_id = $1 AND i.kind <> 'text' GROUP BY i.kind, i.value",
    )
    .bind(cluster)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// What [`evaluate`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Judged {
    /// The cluster's state now.
    pub status: ClusterStatus,
    /// Whether it became a campaign now.
    pub started: bool,
    /// The severity it rose to, when a campaign grew more severe.
    pub escalated: Option<Severity>,
}

/// Re-evaluates a cluster after a change: promotion to a campaign, severity, warning, alerts and events.
pub(crate) async fn evaluate(
    tx: &mut AnyConnection,
    cluster: &str,
    rules: &bonafide_correlate::Config,
    now: OffsetDateTime,
) -> Result<Judged, StoreError> {
    let t = tally(tx, cluster, rules.campaign.min_reports).await?;
    let row =
        sqlx::query("SELECT status, severity FROM campaigns WHERE id = $1").bind(cluster).fetch_one(&mut *tx).await?;
    let (status, old): (String, String) = (row.try_get("status")?, row.try_get("severity")?);
    let status =
        ClusterStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("cluster status `{status}`")))?;
    let old = Severity::parse(&old).unwrap_or(Severity::Low);
    let was_campaign = status.is_campaign();
    let campaign = was_campaign || rules.campaign.is_campaign(&t);
    let severity = old.max(bonafide_correlate::severity(&t, campaign));
    let started = campaign && !was_campaign;
    if started {
        rebuild_indicators(tx, cluster).await?;
    }
    let warning = if campaign { Some(warning_for(tx, cluster).await?) } else { None };
    if campaign {
        crate::official::alert_if_impersonating(tx, cluster, now).await?;
    }
    let reopened = status == ClusterStatus::Closed && campaign;
    let new_status = if started || reopened { ClusterStatus::Active } else { status };
    sqlx::query(
        "UPDATE campaigns SET status = $2, severity = $3, warning = COALESCE($4, warning), updated_at = $5, \
           promoted_at = CASE WHEN $6 = 1 THEN $5 ELSE promoted_at END WHERE id = $1",
    )
    .bind(cluster)
    .bind(new_status.as_str())
    .bind(severity.as_str())
    .bind(warning.clone())
    .bind(millis(now))
    .bind(i64::from(started))
    .execute(&mut *tx)
    .await?;
    let escalated = (was_campaign && severity > old).then_some(severity);
    let text = warning.unwrap_or_default();
    let summary = serde_json::json!({
        "campaign_id": cluster, "status": new_status.as_str(), "severity": severity.as_str(),
        "report_count": t.reports, "people_count": t.people, "department_count": t.departments, "warning": text,
    });
    let change = if started {
        Some(("campaign_detected", "campaign.detected", severity, format!("New campaign: {text}")))
    } else if reopened {
        Some(("campaign_resumed", "campaign.resumed", severity, format!("A closed campaign is back: {text}")))
    } else {
        escalated
            .map(|s| ("campaign_escalated", "campaign.escalated", s, format!("Campaign now {}: {text}", s.as_str())))
    };
    if let Some((alert, event, severity, message)) = change {
        let message = format!("{message} (campaign {cluster})");
        let alert = NewAlert { kind: alert, severity: severity.as_str(), person: None, check: None };
        insert_campaign_alert(tx, alert, Some(cluster), &message, now).await?;
        append_event(tx, event, &summary, now).await?;
    }
    Ok(Judged { status: new_status, started, escalated })
}

/// The warning every employee is shown for campaign `cluster`: built from its normalised indicators (the
/// directory's own contacts left out: they are the impersonated staffer's, not the fraud's), the name its
/// contacts gave most often, and the real staffer they claimed to be. Never from a report's free text.
async fn warning_for(tx: &mut AnyConnection, cluster: &str) -> Result<String, StoreError> {
    let rows = sqlx::query(
        "SELECT kind, value FROM campaign_indicators WHERE campaign_id = $1 AND kind IN ('phone', 'email', 'domain', \
         'handle', 'staff_id') ORDER BY kind, value",
    )
    .bind(cluster)
    .fetch_all(&mut *tx)
    .await?;
    let official = crate::official::official_indicators(&mut *tx, cluster).await?;
    let indicators: Vec<(IndicatorKind, String)> = rows
        .iter()
        .filter_map(|r| {
            let kind = IndicatorKind::parse(&r.try_get::<String, _>("kind").ok()?)?;
            Some((kind, r.try_get::<String, _>("value").ok()?))
        })
        .filter(|(kind, value)| !official.iter().any(|o| o.kind == *kind && o.value == *value))
        .collect();
    let latest = sqlx::query("SELECT channel FROM reports WHERE cluster_id = $1 ORDER BY occurred_at DESC LIMIT 1")
        .bind(cluster)
        .fetch_optional(&mut *tx)
        .await?;
    let channel = latest.as_ref().and_then(|r| r.try_get::<String, _>("channel").ok()).and_then(|c| c.parse().ok());
    let name = crate::official::most_claimed_name(tx, cluster).await?;
    let impersonated = crate::official::impersonated(tx, cluster).await?;
    Ok(bonafide_correlate::warning(&bonafide_correlate::WarningFacts {
        channel,
        indicators: &indicators,
        claimed_name: name.as_deref(),
        impersonated: impersonated.as_ref().map(|(name, id)| (name.as_str(), id.as_str())),
    }))
}
