//! Reports of suspicious contacts: filing and reading them.
//!
//! Filing a report is one transaction: the report, its indicators, the correlation (the clusters its
//! indicators were seen in within the window, merged into one; `correlation`), the cluster's counts, a
//! campaign's promotion or escalation with its alert, the events and the audit entry.

use crate::audit::{AuditEvent, append_in};
use crate::checks::{NewAlert, insert_campaign_alert};
use crate::codec::{from_millis, join, millis, parse, parse_opt};
use crate::correlation::ClusterStatus;
use crate::correlation::{
    CorrelationSettings, evaluate, hits, largest_first, merge, new_cluster, take_correlation_turn,
};
use crate::events::append_event;
use crate::{Store, StoreError, dynamic};
use bonafide_correlate::{Indicator, IndicatorKind, Note, Severity, joined};
use bonafide_domain::{Ask, CampaignId, Channel, CheckId, PersonId, ReportId};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// A report to file.
#[derive(Debug, Clone)]
pub struct NewReport {
    /// Who reports.
    pub reporter: PersonId,
    /// Their department (copied: counts must not change when people move).
    pub department: String,
    /// Whether they hold privileged access.
    pub privileged: bool,
    /// How the contact came.
    pub channel: Channel,
    /// When it happened.
    pub occurred_at: OffsetDateTime,
    /// The number, as typed.
    pub caller_number: Option<String>,
    /// The address, as typed or read from the email.
    pub caller_address: Option<String>,
    /// The chat handle.
    pub caller_handle: Option<String>,
    /// Who they said they were.
    pub claimed_name: Option<String>,
    /// The staff id they gave.
    pub claimed_staff_id: Option<String>,
    /// The team they named.
    pub claimed_team: Option<String>,
    /// What they asked for.
    pub asked_for: BTreeSet<Ask>,
    /// Whether the employee did it.
    pub complied: bool,
    /// What was said or written.
    pub transcript: Option<String>,
    /// The subject, for a reported email.
    pub email_subject: Option<String>,
    /// The reported email as received.
    pub original_email: Option<String>,
    /// The contact check this report follows.
    pub check: Option<CheckId>,
    /// Its normalised indicators.
    pub indicators: Vec<Indicator>,
    /// The analyzer's reading of the transcript (JSON), made once when the report is filed.
    pub analysis: Option<String>,
}

/// What filing a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// The report's id.
    pub id: ReportId,
    /// Its cluster.
    pub cluster: CampaignId,
    /// The clusters it tied to that one, merged into it.
    pub merged: Vec<CampaignId>,
    /// The cluster's id when it is a campaign.
    pub campaign: Option<CampaignId>,
    /// Whether this report made the cluster a campaign.
    pub campaign_started: bool,
    /// The campaign's new severity, when this report raised it.
    pub escalated_to: Option<Severity>,
}

/// A stored report.
#[derive(Debug, Clone)]
pub struct ReportRecord {
    /// Id.
    pub id: ReportId,
    /// Who reported.
    pub reporter: PersonId,
    /// Their department.
    pub department: String,
    /// How the contact came.
    pub channel: Channel,
    /// When it happened.
    pub occurred_at: OffsetDateTime,
    /// When it was received.
    pub received_at: OffsetDateTime,
    /// As typed.
    pub caller_number: Option<String>,
    /// As typed.
    pub caller_address: Option<String>,
    /// As typed.
    pub caller_handle: Option<String>,
    /// As typed.
    pub claimed_name: Option<String>,
    /// As typed.
    pub claimed_staff_id: Option<String>,
    /// As typed.
    pub claimed_team: Option<String>,
    /// What they asked for.
    pub asked_for: BTreeSet<Ask>,
    /// Whether the employee did it.
    pub complied: bool,
    /// What was said.
    pub transcript: Option<String>,
    /// A reported email's subject.
    pub email_subject: Option<String>,
    /// The contact check it follows.
    pub check: Option<CheckId>,
    /// Its cluster.
    pub cluster: CampaignId,
    /// The cluster's id, when it is a campaign.
    pub campaign: Option<CampaignId>,
    /// The analyzer's reading of the transcript (JSON), as stored at filing; `None` for reports filed
    /// before it was stored.
    pub analysis: Option<String>,
}

fn note_text(i: &Indicator) -> Option<String> {
    i.note.as_ref().map(Note::to_text)
}

const REPORT_COLUMNS: &str = "r.id, r.reporter_id, r.department, r.channel, r.occurred_at, r.received_at, \
    r.caller_number, r.caller_address, r.caller_handle, r.claimed_name, r.claimed_staff_id, r.claimed_team, \
    r.asked_for, r.complied, r.transcript, r.email_subject, r.check_id, r.cluster_id, r.analysis, c.status AS cluster_status";

fn report_from(row: &sqlx::any::AnyRow) -> Result<ReportRecord, StoreError> {
    let status: String = row.try_get("cluster_status")?;
    let status =
        ClusterStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("cluster status `{status}`")))?;
    let cluster: CampaignId = parse("cluster id", &row.try_get::<String, _>("cluster_id")?)?;
    Ok(ReportRecord {
        id: parse("report id", &row.try_get::<String, _>("id")?)?,
        reporter: parse("person id", &row.try_get::<String, _>("reporter_id")?)?,
        department: row.try_get("department")?,
        channel: parse("channel", &row.try_get::<String, _>("channel")?)?,
        occurred_at: from_millis(row.try_get("occurred_at")?)?,
        received_at: from_millis(row.try_get("received_at")?)?,
        caller_number: row.try_get("caller_number")?,
        caller_address: row.try_get("caller_address")?,
        caller_handle: row.try_get("caller_handle")?,
        claimed_name: row.try_get("claimed_name")?,
        claimed_staff_id: row.try_get("claimed_staff_id")?,
        claimed_team: row.try_get("claimed_team")?,
        asked_for: crate::codec::asks(&row.try_get::<String, _>("asked_for")?)?,
        complied: row.try_get::<i64, _>("complied")? == 1,
        transcript: row.try_get("transcript")?,
        email_subject: row.try_get("email_subject")?,
        check: parse_opt("check id", row.try_get("check_id")?)?,
        analysis: row.try_get("analysis")?,
        campaign: status.is_campaign().then_some(cluster),
        cluster,
    })
}

/// Inserts report `id` into `cluster`, with its indicators (each indexed value a row).
async fn insert_report(
    tx: &mut AnyConnection,
    id: &str,
    r: &NewReport,
    cluster: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let at = millis(r.occurred_at);
    sqlx::query(
        "INSERT INTO reports (id, reporter_id, department, channel, occurred_at, received_at, caller_number, \
           caller_address, caller_handle, claimed_name, claimed_staff_id, claimed_team, asked_for, complied, \
           transcript, email_subject, original_email, check_id, cluster_id, analysis) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(id)
    .bind(r.reporter.to_string())
    .bind(&r.department)
    .bind(r.channel.as_str())
    .bind(at)
    .bind(millis(now))
    .bind(r.caller_number.clone())
    .bind(r.caller_address.clone())
    .bind(r.caller_handle.clone())
    .bind(r.claimed_name.clone())
    .bind(r.claimed_staff_id.clone())
    .bind(r.claimed_team.clone())
    .bind(join(r.asked_for.iter().map(|a| a.as_str())))
    .bind(i64::from(r.complied))
    .bind(r.transcript.clone())
    .bind(r.email_subject.clone())
    .bind(r.original_email.clone())
    .bind(r.check.map(|c| c.to_string()))
    .bind(cluster)
    .bind(r.analysis.clone())
    .execute(&mut *tx)
    .await?;
    for i in &r.indicators {
        for value in i.index_values() {
            sqlx::query(
                "INSERT INTO report_indicators (report_id, kind, value, note, seen_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(i.kind.as_str())
            .bind(value)
            .bind(note_text(i))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

/// Moves `cluster`'s counts by report `r` alone (its other reports are counted already) and, when it is a
/// campaign, adds the report's readable indicators to the campaign's.
async fn count_report(tx: &mut AnyConnection, cluster: &str, r: &NewReport) -> Result<(), StoreError> {
    let person =
        sqlx::query("INSERT INTO campaign_people (campaign_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(cluster)
            .bind(r.reporter.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
    let department = sqlx::query(
        "INSERT INTO campaign_departments (campaign_id, department) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(cluster)
    .bind(&r.department)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE campaigns SET report_count = report_count + 1, people_count = people_count + $2, \
           department_count = department_count + $3, complied_count = complied_count + $4, \
           privileged_count = privileged_count + $5, \
           first_seen = CASE WHEN $6 < first_seen THEN $6 ELSE first_seen END, \
           last_seen = CASE WHEN $6 > last_seen THEN $6 ELSE last_seen END WHERE id = $1",
    )
    .bind(cluster)
    .bind(i64::try_from(person).unwrap_or(0))
    .bind(i64::try_from(department).unwrap_or(0))
    .bind(i64::from(r.complied))
    .bind(i64::from(r.privileged))
    .bind(millis(r.occurred_at))
    .execute(&mut *tx)
    .await?;
    for i in r.indicators.iter().filter(|i| i.kind != IndicatorKind::Text) {
        sqlx::query(
            "INSERT INTO campaign_indicators (campaign_id, kind, value, note) \
             SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM campaigns WHERE id = $1 AND status <> $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(cluster)
        .bind(i.kind.as_str())
        .bind(&i.value)
        .bind(note_text(i))
        .bind(ClusterStatus::Cluster.as_str())
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The `report.filed` event's payload.
fn filed_event(id: &str, r: &NewReport, campaign: Option<&str>) -> serde_json::Value {
    let shown: Vec<serde_json::Value> = r
        .indicators
        .iter()
        .filter(|i| i.kind != IndicatorKind::Text)
        .map(|i| serde_json::json!({ "kind": i.kind.as_str(), "value": i.value }))
        .collect();
    serde_json::json!({
        "report_id": id, "reporter_id": r.reporter.to_string(), "department": r.department,
        "channel": r.channel.as_str(), "occurred_at": millis(r.occurred_at), "complied": r.complied,
        "asked_for": r.asked_for.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "campaign_id": campaign, "indicators": shown,
    })
}

impl Store {
    /// Files `r` (received `now`), correlating it with the reports before it; committed before this returns.
    pub async fn file_report(
        &self,
        r: &NewReport,
        settings: &CorrelationSettings,
        audit: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<Filed, StoreError> {
        let rules = &settings.config;
        let at = millis(r.occurred_at);
        let mut tx = self.write.begin().await?;
        take_correlation_turn(&mut tx).await?;

        // The clusters this report's indicators were last seen in, within the window: it joins them all.
        let found = hits(&mut tx, &r.indicators, at, rules.window_secs.saturating_mul(1000)).await?;
        let mut targets = largest_first(&mut tx, joined(&found)).await?.into_iter();
        let cluster = match targets.next() {
            Some(c) => c,
            None => new_cluster(&mut tx, at, now).await?,
        };
        let merged: Vec<String> = targets.collect();
        merge(&mut tx, &cluster, &merged, now).await?;

        let id = uuid::Uuid::now_v7().to_string();
        insert_report(&mut tx, &id, r, &cluster, now).await?;
        count_report(&mut tx, &cluster, r).await?;
        let judged = evaluate(&mut tx, &cluster, rules, now).await?;
        let campaign = judged.status.is_campaign().then(|| cluster.clone());
        if r.complied {
            let message = format!(
                "An employee did what a suspicious contact asked ({}); their account needs attention now.",
                join(r.asked_for.iter().map(|a| a.as_str()))
            );
            let reporter = r.reporter.to_string();
            let alert = NewAlert {
                kind: "report_complied",
                severity: Severity::Critical.as_str(),
                person: Some(&reporter),
                check: r.check,
            };
            insert_campaign_alert(&mut tx, alert, campaign.as_deref(), &message, now).await?;
        }
        let filed = filed_event(&id, r, campaign.as_deref());
        append_event(&mut tx, "report.filed", &filed, now).await?;
        if r.complied {
            append_event(&mut tx, "report.complied", &filed, now).await?;
        }
        let event = audit.clone().with(serde_json::json!({
            "report": id, "cluster": cluster, "campaign_started": judged.started, "merged": merged.len(),
            "complied": r.complied,
        }));
        append_in(&mut tx, &[&event], now).await?;
        tx.commit().await?;
        let ids = |text: &[String]| text.iter().map(|t| parse("cluster id", t)).collect::<Result<Vec<_>, _>>();
        Ok(Filed {
            id: parse("report id", &id)?,
            cluster: parse("cluster id", &cluster)?,
            merged: ids(&merged)?,
            campaign: campaign.map(|c| parse("cluster id", &c)).transpose()?,
            campaign_started: judged.started,
            escalated_to: judged.escalated,
        })
    }

    /// A report by id.
    pub async fn report(&self, id: ReportId) -> Result<Option<ReportRecord>, StoreError> {
        let row = sqlx::query(dynamic(format!(
            "SELECT {REPORT_COLUMNS} FROM reports r JOIN campaigns c ON c.id = r.cluster_id WHERE r.id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(report_from).transpose()
    }

    /// Reports, newest first: `reporter`'s, or everyone's; at most `limit`.
    pub async fn list_reports(&self, reporter: Option<PersonId>, limit: i64) -> Result<Vec<ReportRecord>, StoreError> {
        let limit = limit.clamp(1, 1000);
        let rows = sqlx::query(dynamic(format!(
            "SELECT {REPORT_COLUMNS} FROM reports r JOIN campaigns c ON c.id = r.cluster_id \
             WHERE ($1 IS NULL OR r.reporter_id = $1) ORDER BY r.received_at DESC, r.id DESC LIMIT {limit}"
        )))
        .bind(reporter.map(|p| p.to_string()))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(report_from).collect()
    }

    /// The reports of campaign (or cluster) `id`, oldest first.
    pub async fn reports_of(&self, cluster: CampaignId) -> Result<Vec<ReportRecord>, StoreError> {
        let rows = sqlx::query(dynamic(format!(
            "SELECT {REPORT_COLUMNS} FROM reports r JOIN campaigns c ON c.id = r.cluster_id \
             WHERE r.cluster_id = $1 ORDER BY r.occurred_at, r.id LIMIT 10000"
        )))
        .bind(cluster.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(report_from).collect()
    }
}
