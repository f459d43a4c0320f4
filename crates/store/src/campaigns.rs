//! Clusters and campaigns: the states a cluster goes through, reading campaigns and their sightings, and
//! security's decisions (status, merge, split), each in the correlation turn and audited in its
//! transaction.

use crate::audit::{AuditEvent, append_in};
use crate::codec::{from_millis, indicator_from, millis, parse};
use crate::correlation::{
    ClusterStatus, CorrelationSettings, evaluate, merge, new_cluster, rebuild_indicators, recount, status_of,
    take_correlation_turn,
};
use crate::events::append_event;
use crate::{Store, StoreError, dynamic};
use bonafide_correlate::{Indicator, Severity};
use bonafide_domain::CampaignStatus;
use bonafide_domain::{CampaignId, ReportId};
use sqlx::Row;
use time::OffsetDateTime;

/// A campaign.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// Id.
    pub id: CampaignId,
    /// Status.
    pub status: CampaignStatus,
    /// Severity.
    pub severity: Severity,
    /// Reports in it.
    pub report_count: i64,
    /// Distinct people who reported.
    pub people_count: i64,
    /// Departments reached.
    pub departments: Vec<String>,
    /// Reports whose author complied.
    pub complied_count: i64,
    /// First contact.
    pub first_seen: OffsetDateTime,
    /// Latest contact.
    pub last_seen: OffsetDateTime,
    /// Its indicators (kind, value, note); text fingerprints are left out.
    pub indicators: Vec<Indicator>,
    /// The warning shown to every employee.
    pub warning: String,
    /// When it became a campaign.
    pub promoted_at: Option<OffsetDateTime>,
    /// Its indicators that are the directory's own (a real staffer's official number or address, a real
    /// staff id, the company's domain): they tie its reports together but block checks only when
    /// [`Campaign::covers_official`].
    pub official: Vec<Indicator>,
    /// Whether a security admin confirmed that the campaign covers its official indicators too, so checks
    /// on them are blocked.
    pub covers_official: bool,
}

/// Any cluster (a campaign or not), with the counts the campaign rules read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Id.
    pub id: CampaignId,
    /// Its state.
    pub status: ClusterStatus,
    /// Severity (`low` until it is a campaign).
    pub severity: Severity,
    /// Reports in it.
    pub report_count: i64,
    /// Distinct people who reported.
    pub people_count: i64,
    /// Distinct departments they work in.
    pub department_count: i64,
}

/// What the correlation tables hold, for benchmarks and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationCounts {
    /// Clusters that hold reports (campaigns included, merged ones not).
    pub clusters: i64,
    /// Campaigns.
    pub campaigns: i64,
    /// Distinct (kind, value) pairs reports are indexed under.
    pub indexed_values: i64,
}

/// One of a campaign's indicators, with how often and when its reports showed it.
#[derive(Debug, Clone)]
pub struct Sighted {
    /// The indicator.
    pub indicator: Indicator,
    /// Reports that showed it.
    pub count: i64,
    /// First of them.
    pub first_seen: OffsetDateTime,
    /// Latest of them.
    pub last_seen: OffsetDateTime,
}

/// `$first, $first + 1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|p| format!("${p}")).collect::<Vec<_>>().join(", ")
}

/// Which campaigns [`Store::campaigns_where`] reads.
enum Which<'a> {
    One(&'a str),
    In(&'a [ClusterStatus]),
}

impl Store {
    /// The cluster `id` ended up in (following merges) and its state.
    async fn resolve(&self, id: &str) -> Result<Option<(String, ClusterStatus)>, StoreError> {
        let mut id = id.to_owned();
        // A merge points at a live cluster, so chains are short; the bound stops a corrupt cycle.
        for _ in 0..16 {
            let row = sqlx::query("SELECT status, merged_into FROM campaigns WHERE id = $1")
                .bind(&id)
                .fetch_optional(&self.read)
                .await?;
            let Some(row) = row else { return Ok(None) };
            match row.try_get::<Option<String>, _>("merged_into")? {
                Some(next) => id = next,
                None => {
                    let status = ClusterStatus::parse(&row.try_get::<String, _>("status")?)
                        .ok_or_else(|| StoreError::Corrupt("cluster status".into()))?;
                    return Ok(Some((id, status)));
                }
            }
        }
        Ok(None)
    }

    /// The cluster (a campaign or not) that `id` is or was merged into, with its counts.
    pub async fn cluster(&self, id: CampaignId) -> Result<Option<Cluster>, StoreError> {
        let Some((id, status)) = self.resolve(&id.to_string()).await? else { return Ok(None) };
        let row =
            sqlx::query("SELECT severity, report_count, people_count, department_count FROM campaigns WHERE id = $1")
                .bind(&id)
                .fetch_one(&self.read)
                .await?;
        Ok(Some(Cluster {
            severity: Severity::parse(&row.try_get::<String, _>("severity")?)
                .ok_or_else(|| StoreError::Corrupt("cluster severity".into()))?,
            report_count: row.try_get("report_count")?,
            people_count: row.try_get("people_count")?,
            department_count: row.try_get("department_count")?,
            status,
            id: parse("cluster id", &id)?,
        }))
    }

    /// How many clusters, campaigns and indexed values there are.
    pub async fn correlation_counts(&self) -> Result<CorrelationCounts, StoreError> {
        let count = |sql: &'static str, bind: &'static [ClusterStatus]| {
            let read = self.read.clone();
            async move {
                let mut query = sqlx::query(sql);
                for s in bind {
                    query = query.bind(s.as_str());
                }
                query.fetch_one(&read).await?.try_get::<i64, _>("n").map_err(StoreError::from)
            }
        };
        Ok(CorrelationCounts {
            clusters: count("SELECT COUNT(*) AS n FROM campaigns WHERE status <> $1", &[ClusterStatus::Merged]).await?,
            campaigns: count(
                "SELECT COUNT(*) AS n FROM campaigns WHERE status IN ($1, $2, $3)",
                &ClusterStatus::CAMPAIGN,
            )
            .await?,
            indexed_values: count(
                "SELECT COUNT(*) AS n FROM (SELECT DISTINCT kind, value FROM report_indicators) v",
                &[],
            )
            .await?,
        })
    }

    /// A campaign (a cluster that passed the thresholds) by id; a merged one answers with the campaign it
    /// was merged into.
    pub async fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>, StoreError> {
        match self.resolve(&id.to_string()).await? {
            Some((id, status)) if status.is_campaign() => {
                self.campaigns_where(Which::One(&id), 1).await.map(|mut v| v.pop())
            }
            _ => Ok(None),
        }
    }

    /// Campaigns (not plain clusters or merged ones), most recent activity first; `active_only` for the
    /// active and contained ones.
    pub async fn list_campaigns(&self, active_only: bool, limit: i64) -> Result<Vec<Campaign>, StoreError> {
        let states: &[ClusterStatus] = if active_only { &ClusterStatus::UNDER_WAY } else { &ClusterStatus::CAMPAIGN };
        self.campaigns_where(Which::In(states), limit.clamp(1, 1000)).await
    }

    async fn campaigns_where(&self, which: Which<'_>, limit: i64) -> Result<Vec<Campaign>, StoreError> {
        let condition = match which {
            Which::One(_) => "c.id = $1".to_owned(),
            Which::In(states) => format!("c.status IN ({})", placeholders(1, states.len())),
        };
        let sql = format!(
            "SELECT c.id, c.status, c.severity, c.report_count, c.people_count, c.complied_count, c.first_seen, \
               c.last_seen, c.warning, c.promoted_at, c.covers_official FROM campaigns c WHERE {condition} \
             ORDER BY c.last_seen DESC, c.id LIMIT {limit}"
        );
        let mut query = sqlx::query(dynamic(sql));
        match which {
            Which::One(id) => query = query.bind(id.to_owned()),
            Which::In(states) => {
                for s in states {
                    query = query.bind(s.as_str());
                }
            }
        }
        let rows = query.fetch_all(&self.read).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("id")?;
            let departments =
                sqlx::query("SELECT department FROM campaign_departments WHERE campaign_id = $1 ORDER BY department")
                    .bind(&id)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| r.try_get::<String, _>("department"))
                    .collect::<Result<Vec<_>, _>>()?;
            let indicators = sqlx::query(
                "SELECT kind, value, note FROM campaign_indicators WHERE campaign_id = $1 ORDER BY kind, value",
            )
            .bind(&id)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(indicator_from)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
            let official = crate::official::official_indicators(&self.read, &id).await?;
            out.push(Campaign {
                official,
                covers_official: row.try_get::<i64, _>("covers_official")? == 1,
                status: CampaignStatus::parse(&row.try_get::<String, _>("status")?)
                    .ok_or_else(|| StoreError::Corrupt("campaign status".into()))?,
                severity: Severity::parse(&row.try_get::<String, _>("severity")?)
                    .ok_or_else(|| StoreError::Corrupt("campaign severity".into()))?,
                report_count: row.try_get("report_count")?,
                people_count: row.try_get("people_count")?,
                complied_count: row.try_get("complied_count")?,
                departments,
                first_seen: from_millis(row.try_get("first_seen")?)?,
                last_seen: from_millis(row.try_get("last_seen")?)?,
                indicators,
                warning: row.try_get::<Option<String>, _>("warning")?.unwrap_or_default(),
                promoted_at: row.try_get::<Option<i64>, _>("promoted_at")?.map(from_millis).transpose()?,
                id: parse("campaign id", &id)?,
            });
        }
        Ok(out)
    }

    /// Sets a campaign's status (security's decision); audited in the same transaction.
    pub async fn set_campaign_status(
        &self,
        id: CampaignId,
        status: CampaignStatus,
        audit: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let id = id.to_string();
        let id = id.as_str();
        let mut tx = self.write.begin().await?;
        take_correlation_turn(&mut tx).await?;
        let mut update =
            sqlx::query("UPDATE campaigns SET status = $2, updated_at = $3 WHERE id = $1 AND status IN ($4, $5, $6)")
                .bind(id)
                .bind(status.as_str())
                .bind(millis(now));
        for s in ClusterStatus::CAMPAIGN {
            update = update.bind(s.as_str());
        }
        if update.execute(&mut *tx).await?.rows_affected() == 0 {
            return Ok(false);
        }
        let payload = serde_json::json!({ "campaign_id": id, "status": status.as_str() });
        append_event(&mut tx, "campaign.status_changed", &payload, now).await?;
        append_in(&mut tx, &[audit], now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Sets whether campaign `id` covers its official indicators (security's decision: the directory's own
    /// contacts are the fraud's too, so checks on them are blocked). Returns the previous setting, `None`
    /// when `id` is no campaign; audited in the same transaction.
    pub async fn set_campaign_covers_official(
        &self,
        id: CampaignId,
        covers: bool,
        audit: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<Option<bool>, StoreError> {
        let id = id.to_string();
        let mut tx = self.write.begin().await?;
        take_correlation_turn(&mut tx).await?;
        if !status_of(&mut tx, &id).await?.is_some_and(ClusterStatus::is_campaign) {
            return Ok(None);
        }
        let before: i64 = sqlx::query("SELECT covers_official FROM campaigns WHERE id = $1")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("covers_official")?;
        sqlx::query("UPDATE campaigns SET covers_official = $2, updated_at = $3 WHERE id = $1")
            .bind(&id)
            .bind(i64::from(covers))
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        append_in(&mut tx, &[audit], now).await?;
        tx.commit().await?;
        Ok(Some(before == 1))
    }

    /// Merges campaign `other` into `into` (security's decision): the same merge as when a report ties
    /// clusters together, then the thresholds judge the result.
    pub async fn merge_campaigns(
        &self,
        into: CampaignId,
        other: CampaignId,
        settings: &CorrelationSettings,
        audit: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (into, other) = (into.to_string(), other.to_string());
        let (into, other) = (into.as_str(), other.as_str());
        if into == other {
            return Ok(false);
        }
        let mut tx = self.write.begin().await?;
        take_correlation_turn(&mut tx).await?;
        for id in [into, other] {
            if !status_of(&mut tx, id).await?.is_some_and(ClusterStatus::is_campaign) {
                return Ok(false);
            }
        }
        merge(&mut tx, into, &[other.to_owned()], now).await?;
        evaluate(&mut tx, into, &settings.config, now).await?;
        let payload = serde_json::json!({ "campaign_id": into, "merged": other });
        append_event(&mut tx, "campaign.merged", &payload, now).await?;
        append_in(&mut tx, &[audit], now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Moves `reports` out of campaign `from` into a new cluster (security's decision: they were not the
    /// same campaign). Returns the new cluster's id, or `None` when `from` is not a campaign or none of the
    /// reports are in it.
    pub async fn split_campaign(
        &self,
        from: CampaignId,
        reports: &[ReportId],
        settings: &CorrelationSettings,
        audit: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<Option<CampaignId>, StoreError> {
        let from = from.to_string();
        let from = from.as_str();
        let mut tx = self.write.begin().await?;
        take_correlation_turn(&mut tx).await?;
        if !status_of(&mut tx, from).await?.is_some_and(ClusterStatus::is_campaign) {
            return Ok(None);
        }
        let new = new_cluster(&mut tx, millis(now), now).await?;
        let mut moved = 0;
        for r in reports {
            moved += sqlx::query("UPDATE reports SET cluster_id = $1 WHERE id = $2 AND cluster_id = $3")
                .bind(&new)
                .bind(r.to_string())
                .bind(from)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM reports WHERE cluster_id = $1")
            .bind(from)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if moved == 0 || left == 0 {
            // Nothing to split off, or everything: not a split.
            return Ok(None);
        }
        for cluster in [from, new.as_str()] {
            recount(&mut tx, cluster).await?;
        }
        rebuild_indicators(&mut tx, from).await?;
        // Both parts are judged again by the thresholds; the part split off starts as a plain cluster.
        evaluate(&mut tx, from, &settings.config, now).await?;
        evaluate(&mut tx, &new, &settings.config, now).await?;
        let payload = serde_json::json!({ "campaign_id": from, "split_off": new, "moved": moved });
        append_event(&mut tx, "campaign.split", &payload, now).await?;
        append_in(&mut tx, &[&audit.clone().with(serde_json::json!({ "new": new, "moved": moved }))], now).await?;
        tx.commit().await?;
        Ok(Some(parse("cluster id", &new)?))
    }

    /// Each readable indicator of campaign `cluster` with how many of its reports showed it, and when first
    /// and last.
    pub async fn campaign_sightings(&self, cluster: CampaignId) -> Result<Vec<Sighted>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.kind, i.value, MAX(i.note) AS note, COUNT(*) AS n, MIN(r.occurred_at) AS first_seen, \
               MAX(r.occurred_at) AS last_seen \
             FROM report_indicators i JOIN reports r ON r.id = i.report_id \
             WHERE r.cluster_id = $1 AND i.kind <> 'text' GROUP BY i.kind, i.value ORDER BY i.kind, i.value",
        )
        .bind(cluster.to_string())
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let Some(indicator) = indicator_from(row)? else { continue };
            out.push(Sighted {
                indicator,
                count: row.try_get("n")?,
                first_seen: from_millis(row.try_get("first_seen")?)?,
                last_seen: from_millis(row.try_get("last_seen")?)?,
            });
        }
        Ok(out)
    }
}
