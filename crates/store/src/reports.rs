//! Reports of suspicious contacts and the campaigns they form.
//!
//! Filing a report is one transaction: the report, its indicators, the correlation (the clusters its
//! indicators were seen in within the window, merged into one), the cluster's counts, a campaign's
//! promotion or escalation with its alert, and the audit entry. It takes the `correlation` counter row
//! first, so correlations on any number of instances run one at a time and never race into two clusters
//! for one number. The rules are `bonafide_correlate`'s; here they run over indexed tables, so filing costs
//! index look-ups for the report's own indicators, not a scan of stored reports.

use crate::audit::{AuditEvent, append_in};
use crate::codec::{from_millis, join, millis, parse, parse_opt};
use crate::events::append_event;
use crate::{Store, StoreError, dynamic};
use bonafide_correlate::{Hit, Indicator, IndicatorKind, Note, Severity, Tally, joined};
use bonafide_domain::{Ask, Channel, CheckId, PersonId};
use sqlx::Row;
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
}

/// Correlation settings the store applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CorrelationSettings {
    /// The rules.
    pub config: bonafide_correlate::Config,
}

/// What filing a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// The report's id.
    pub id: String,
    /// Its cluster.
    pub cluster: String,
    /// The cluster's id when it is a campaign.
    pub campaign: Option<String>,
    /// Whether this report made the cluster a campaign.
    pub campaign_started: bool,
    /// The campaign's new severity, when this report raised it.
    pub escalated_to: Option<Severity>,
}

/// A stored report.
#[derive(Debug, Clone)]
pub struct ReportRecord {
    /// Id.
    pub id: String,
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
    pub cluster: String,
    /// The cluster's id, when it is a campaign.
    pub campaign: Option<String>,
}

/// A campaign's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CampaignStatus {
    /// Under way.
    Active,
    /// Security has acted (numbers blocked, domains taken down) and is watching.
    Contained,
    /// Over.
    Closed,
}

impl CampaignStatus {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Active => "active",
            CampaignStatus::Contained => "contained",
            CampaignStatus::Closed => "closed",
        }
    }

    /// Reads a stored or API name.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "active" => CampaignStatus::Active,
            "contained" => CampaignStatus::Contained,
            "closed" => CampaignStatus::Closed,
            _ => return None,
        })
    }
}

/// A campaign.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// Id.
    pub id: String,
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

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

async fn take_correlation_turn(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'correlation'").execute(&mut **tx).await?;
    Ok(())
}

fn note_text(i: &Indicator) -> Option<String> {
    i.note.as_ref().map(Note::to_text)
}

/// The cluster's counts as the rules need them.
async fn tally(tx: &mut Tx<'_>, cluster: &str, min_reports: u32) -> Result<Tally, StoreError> {
    let row = sqlx::query(
        "SELECT report_count, people_count, department_count, complied_count, privileged_count FROM campaigns \
         WHERE id = $1",
    )
    .bind(cluster)
    .fetch_one(&mut **tx)
    .await?;
    let n = i64::from(min_reports.max(1)) - 1;
    let times: Vec<i64> = sqlx::query(dynamic(format!(
        "SELECT occurred_at FROM reports WHERE cluster_id = $1 ORDER BY occurred_at DESC LIMIT {}",
        n + 1
    )))
    .bind(cluster)
    .fetch_all(&mut **tx)
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
        burst_secs: match (times.first(), times.get(usize::try_from(n).unwrap_or(0))) {
            (Some(newest), Some(nth)) if times.len() > usize::try_from(n).unwrap_or(0) => Some((newest - nth) / 1000),
            _ => None,
        },
    })
}

/// Recounts a cluster's distinct people and departments after reports moved in or out.
async fn recount(tx: &mut Tx<'_>, cluster: &str) -> Result<(), StoreError> {
    for (table, column) in [("campaign_people", "person_id"), ("campaign_departments", "department")] {
        let source = if table == "campaign_people" { "reporter_id" } else { "department" };
        sqlx::query(dynamic(format!("DELETE FROM {table} WHERE campaign_id = $1")))
            .bind(cluster)
            .execute(&mut **tx)
            .await?;
        sqlx::query(dynamic(format!(
            "INSERT INTO {table} (campaign_id, {column}) SELECT DISTINCT $1, {source} FROM reports WHERE cluster_id = $1"
        )))
        .bind(cluster)
        .execute(&mut **tx)
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
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Rebuilds a campaign's readable indicators from its reports (at promotion, merge and split).
async fn rebuild_indicators(tx: &mut Tx<'_>, cluster: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM campaign_indicators WHERE campaign_id = $1").bind(cluster).execute(&mut **tx).await?;
    sqlx::query(
        "INSERT INTO campaign_indicators (campaign_id, kind, value, note) \
         SELECT $1, i.kind, i.value, MAX(i.note) FROM report_indicators i JOIN reports r ON r.id = i.report_id \
         WHERE r.cluster_id = $1 AND i.kind <> 'text' GROUP BY i.kind, i.value",
    )
    .bind(cluster)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Re-evaluates a cluster after a change: promotion to a campaign, severity, warning, alerts. Returns
/// whether it became a campaign now and the severity it rose to.
async fn evaluate(
    tx: &mut Tx<'_>,
    cluster: &str,
    rules: &bonafide_correlate::Config,
    now: OffsetDateTime,
) -> Result<(bool, Option<Severity>), StoreError> {
    let t = tally(tx, cluster, rules.campaign.min_reports).await?;
    let row =
        sqlx::query("SELECT status, severity FROM campaigns WHERE id = $1").bind(cluster).fetch_one(&mut **tx).await?;
    let (status, old): (String, String) = (row.try_get("status")?, row.try_get("severity")?);
    let old = Severity::parse(&old).unwrap_or(Severity::Low);
    let was_campaign = status != "cluster";
    let campaign = was_campaign || rules.campaign.is_campaign(&t);
    let severity = old.max(bonafide_correlate::severity(&t, campaign));
    let started = campaign && !was_campaign;
    if started {
        rebuild_indicators(tx, cluster).await?;
    }
    let warning = if campaign { Some(warning_for(tx, cluster).await?) } else { None };
    let reopened = status == "closed" && campaign;
    let new_status = if started || reopened { "active".to_owned() } else { status.clone() };
    sqlx::query(
        "UPDATE campaigns SET status = $2, severity = $3, warning = COALESCE($4, warning), updated_at = $5, \
           promoted_at = CASE WHEN $6 = 1 THEN $5 ELSE promoted_at END WHERE id = $1",
    )
    .bind(cluster)
    .bind(&new_status)
    .bind(severity.as_str())
    .bind(warning.clone())
    .bind(millis(now))
    .bind(i64::from(started))
    .execute(&mut **tx)
    .await?;
    let escalated = (was_campaign && severity > old).then_some(severity);
    let text = warning.unwrap_or_default();
    let summary = serde_json::json!({
        "campaign_id": cluster, "status": new_status, "severity": severity.as_str(), "report_count": t.reports,
        "people_count": t.people, "department_count": t.departments, "warning": text,
    });
    if started {
        alert(tx, "campaign_detected", severity, cluster, &format!("New campaign: {text}"), now).await?;
        append_event(tx, "campaign.detected", &summary, now).await?;
    } else if reopened {
        alert(tx, "campaign_resumed", severity, cluster, &format!("A closed campaign is back: {text}"), now).await?;
        append_event(tx, "campaign.resumed", &summary, now).await?;
    } else if let Some(s) = escalated {
        alert(tx, "campaign_escalated", s, cluster, &format!("Campaign now {}: {text}", s.as_str()), now).await?;
        append_event(tx, "campaign.escalated", &summary, now).await?;
    }
    Ok((started, escalated))
}

async fn warning_for(tx: &mut Tx<'_>, cluster: &str) -> Result<String, StoreError> {
    let rows = sqlx::query(
        "SELECT kind, value FROM campaign_indicators WHERE campaign_id = $1 AND kind IN ('phone', 'email', 'domain', \
         'handle', 'staff_id') ORDER BY kind, value",
    )
    .bind(cluster)
    .fetch_all(&mut **tx)
    .await?;
    let indicators: Vec<(IndicatorKind, String)> = rows
        .iter()
        .filter_map(|r| {
            let kind = IndicatorKind::parse(&r.try_get::<String, _>("kind").ok()?)?;
            Some((kind, r.try_get::<String, _>("value").ok()?))
        })
        .collect();
    let latest = sqlx::query(
        "SELECT channel, claimed_name FROM reports WHERE cluster_id = $1 ORDER BY occurred_at DESC LIMIT 1",
    )
    .bind(cluster)
    .fetch_optional(&mut **tx)
    .await?;
    let channel = latest.as_ref().and_then(|r| r.try_get::<String, _>("channel").ok()).and_then(|c| c.parse().ok());
    let name: Option<String> = latest.as_ref().and_then(|r| r.try_get("claimed_name").ok()).flatten();
    Ok(bonafide_correlate::warning(channel, &indicators, name.as_deref()))
}

async fn alert(
    tx: &mut Tx<'_>,
    kind: &str,
    severity: Severity,
    cluster: &str,
    message: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO security_alerts (id, kind, severity, person_id, check_id, message, created_at) \
         VALUES ($1, $2, $3, NULL, NULL, $4, $5)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(kind)
    .bind(severity.as_str())
    .bind(format!("{message} (campaign {cluster})"))
    .bind(millis(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const REPORT_COLUMNS: &str = "r.id, r.reporter_id, r.department, r.channel, r.occurred_at, r.received_at, \
    r.caller_number, r.caller_address, r.caller_handle, r.claimed_name, r.claimed_staff_id, r.claimed_team, \
    r.asked_for, r.complied, r.transcript, r.email_subject, r.check_id, r.cluster_id, c.status AS cluster_status";

fn report_from(row: &sqlx::any::AnyRow) -> Result<ReportRecord, StoreError> {
    let status: String = row.try_get("cluster_status")?;
    let cluster: String = row.try_get("cluster_id")?;
    Ok(ReportRecord {
        id: row.try_get("id")?,
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
        campaign: (status != "cluster").then(|| cluster.clone()),
        cluster,
    })
}

fn indicator_from(row: &sqlx::any::AnyRow) -> Result<Option<Indicator>, StoreError> {
    let Some(kind) = IndicatorKind::parse(&row.try_get::<String, _>("kind")?) else { return Ok(None) };
    let note = row.try_get::<Option<String>, _>("note")?.as_deref().and_then(Note::from_text);
    Ok(Some(Indicator::stored(kind, row.try_get("value")?, note)))
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
        let window = rules.window_secs.saturating_mul(1000);
        let mut tx = self.write.begin().await?;
        take_correlation_turn(&mut tx).await?;

        // Where were this report's indicators last seen, within the window?
        let mut hits: Vec<Hit<String>> = Vec::new();
        for i in &r.indicators {
            let mut text_hits: Vec<String> = Vec::new();
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
                        text_hits.push(cluster);
                    } else {
                        hits.push(Hit { cluster, kind: i.kind, strong: i.is_strong() });
                    }
                }
            }
            text_hits.sort_unstable();
            for run in text_hits.chunk_by(|a, b| a == b) {
                if let (Some(cluster), true) = (run.first(), run.len() >= bonafide_correlate::pretext::SAME_PRETEXT) {
                    hits.push(Hit { cluster: cluster.clone(), kind: IndicatorKind::Text, strong: false });
                }
            }
        }
        let mut targets = joined(&hits);
        // The biggest cluster absorbs the others: the fewest reports move.
        let mut sized = Vec::with_capacity(targets.len());
        for t in targets.drain(..) {
            let n: i64 = sqlx::query("SELECT report_count FROM campaigns WHERE id = $1")
                .bind(&t)
                .fetch_one(&mut *tx)
                .await?
                .try_get("report_count")?;
            sized.push((n, t));
        }
        sized.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut sized = sized.into_iter().map(|(_, t)| t);
        let cluster = match sized.next() {
            Some(c) => c,
            None => {
                let id = uuid::Uuid::now_v7().to_string();
                sqlx::query(
                    "INSERT INTO campaigns (id, status, severity, first_seen, last_seen, created_at, updated_at) \
                     VALUES ($1, 'cluster', 'low', $2, $2, $3, $3)",
                )
                .bind(&id)
                .bind(at)
                .bind(millis(now))
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let merged: Vec<String> = sized.collect();

        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO reports (id, reporter_id, department, channel, occurred_at, received_at, caller_number, \
               caller_address, caller_handle, claimed_name, claimed_staff_id, claimed_team, asked_for, complied, \
               transcript, email_subject, original_email, check_id, cluster_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(&id)
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
        .bind(&cluster)
        .execute(&mut *tx)
        .await?;
        for i in &r.indicators {
            for value in i.index_values() {
                sqlx::query(
                    "INSERT INTO report_indicators (report_id, kind, value, note, seen_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(&id)
                .bind(i.kind.as_str())
                .bind(value)
                .bind(note_text(i))
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
        }

        if merged.is_empty() {
            // The common case: counters move by this report alone.
            let person = sqlx::query(
                "INSERT INTO campaign_people (campaign_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(&cluster)
            .bind(r.reporter.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let department = sqlx::query(
                "INSERT INTO campaign_departments (campaign_id, department) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(&cluster)
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
            .bind(&cluster)
            .bind(i64::try_from(person).unwrap_or(0))
            .bind(i64::try_from(department).unwrap_or(0))
            .bind(i64::from(r.complied))
            .bind(i64::from(r.privileged))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        } else {
            let mut absorbed_campaign = false;
            for m in &merged {
                let status: String = sqlx::query("SELECT status FROM campaigns WHERE id = $1")
                    .bind(m)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("status")?;
                absorbed_campaign |= status != "cluster";
                sqlx::query("UPDATE reports SET cluster_id = $1 WHERE cluster_id = $2")
                    .bind(&cluster)
                    .bind(m)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE campaigns SET status = 'merged', merged_into = $1, updated_at = $3 WHERE id = $2")
                    .bind(&cluster)
                    .bind(m)
                    .bind(millis(now))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM campaign_indicators WHERE campaign_id = $1").bind(m).execute(&mut *tx).await?;
            }
            recount(&mut tx, &cluster).await?;
            // The survivor is a campaign if any part was one; its readable indicators cover every part.
            if absorbed_campaign {
                sqlx::query(
                    "UPDATE campaigns SET status = 'active', promoted_at = $2 WHERE id = $1 AND status = 'cluster'",
                )
                .bind(&cluster)
                .bind(millis(now))
                .execute(&mut *tx)
                .await?;
            }
            let status: String = sqlx::query("SELECT status FROM campaigns WHERE id = $1")
                .bind(&cluster)
                .fetch_one(&mut *tx)
                .await?
                .try_get("status")?;
            if status != "cluster" {
                rebuild_indicators(&mut tx, &cluster).await?;
            }
        }
        // A campaign's readable indicators grow with each report.
        for i in r.indicators.iter().filter(|i| i.kind != IndicatorKind::Text) {
            sqlx::query(
                "INSERT INTO campaign_indicators (campaign_id, kind, value, note) \
                 SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM campaigns WHERE id = $1 AND status <> 'cluster') \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&cluster)
            .bind(i.kind.as_str())
            .bind(&i.value)
            .bind(note_text(i))
            .execute(&mut *tx)
            .await?;
        }
        let (started, escalated) = evaluate(&mut tx, &cluster, rules, now).await?;
        if r.complied {
            let message = format!(
                "An employee did what a suspicious contact asked ({}); their account needs attention now.",
                join(r.asked_for.iter().map(|a| a.as_str()))
            );
            sqlx::query(
                "INSERT INTO security_alerts (id, kind, severity, person_id, check_id, message, created_at) \
                 VALUES ($1, 'report_complied', 'critical', $2, $3, $4, $5)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(r.reporter.to_string())
            .bind(r.check.map(|c| c.to_string()))
            .bind(message)
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        }
        let status: String = sqlx::query("SELECT status FROM campaigns WHERE id = $1")
            .bind(&cluster)
            .fetch_one(&mut *tx)
            .await?
            .try_get("status")?;
        let campaign = (status != "cluster").then(|| cluster.clone());
        let shown: Vec<serde_json::Value> = r
            .indicators
            .iter()
            .filter(|i| i.kind != IndicatorKind::Text)
            .map(|i| serde_json::json!({ "kind": i.kind.as_str(), "value": i.value }))
            .collect();
        let filed = serde_json::json!({
            "report_id": id, "reporter_id": r.reporter.to_string(), "department": r.department,
            "channel": r.channel.as_str(), "occurred_at": at, "complied": r.complied,
            "asked_for": r.asked_for.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            "campaign_id": campaign, "indicators": shown,
        });
        append_event(&mut tx, "report.filed", &filed, now).await?;
        if r.complied {
            append_event(&mut tx, "report.complied", &filed, now).await?;
        }
        let event = audit.clone().with(serde_json::json!({
            "report": id, "cluster": cluster, "campaign_started": started, "merged": merged.len(), "complied": r.complied,
        }));
        append_in(&mut tx, &[&event], now).await?;
        tx.commit().await?;
        Ok(Filed {
            id,
            campaign: (status != "cluster").then(|| cluster.clone()),
            cluster,
            campaign_started: started,
            escalated_to: escalated,
        })
    }

    /// A report by id.
    pub async fn report(&self, id: &str) -> Result<Option<ReportRecord>, StoreError> {
        let row = sqlx::query(dynamic(format!(
            "SELECT {REPORT_COLUMNS} FROM reports r JOIN campaigns c ON c.id = r.cluster_id WHERE r.id = $1"
        )))
        .bind(id)
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
    pub async fn reports_of(&self, cluster: &str) -> Result<Vec<ReportRecord>, StoreError> {
        let rows = sqlx::query(dynamic(format!(
            "SELECT {REPORT_COLUMNS} FROM reports r JOIN campaigns c ON c.id = r.cluster_id \
             WHERE r.cluster_id = $1 ORDER BY r.occurred_at, r.id LIMIT 10000"
        )))
        .bind(cluster)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(report_from).collect()
    }

    /// A campaign (a cluster that passed the thresholds) by id; a merged one answers with the campaign it
    /// was merged into.
    pub async fn campaign(&self, id: &str) -> Result<Option<Campaign>, StoreError> {
        let mut id = id.to_owned();
        for _ in 0..16 {
            let row = sqlx::query("SELECT status, merged_into FROM campaigns WHERE id = $1")
                .bind(&id)
                .fetch_optional(&self.read)
                .await?;
            let Some(row) = row else { return Ok(None) };
            match row.try_get::<Option<String>, _>("merged_into")? {
                Some(next) => id = next,
                None if row.try_get::<String, _>("status")? == "cluster" => return Ok(None),
                None => return self.campaigns_where("c.id = $1", Some(&id), 1).await.map(|mut v| v.pop()),
            }
        }
        Ok(None)
    }

    /// Campaigns (not plain clusters or merged ones), most recent activity first; `active_only` for the
    /// active and contained ones.
    pub async fn list_campaigns(&self, active_only: bool, limit: i64) -> Result<Vec<Campaign>, StoreError> {
        let condition = if active_only {
            "c.status IN ('active', 'contained')"
        } else {
            "c.status IN ('active', 'contained', 'closed')"
        };
        self.campaigns_where(condition, None, limit.clamp(1, 1000)).await
    }

    async fn campaigns_where(
        &self,
        condition: &str,
        id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Campaign>, StoreError> {
        let sql = format!(
            "SELECT c.id, c.status, c.severity, c.report_count, c.people_count, c.complied_count, c.first_seen, \
               c.last_seen, c.warning, c.promoted_at FROM campaigns c WHERE {condition} \
             ORDER BY c.last_seen DESC, c.id LIMIT {limit}"
        );
        let query = sqlx::query(dynamic(sql));
        let query = if let Some(id) = id { query.bind(id.to_owned()) } else { query };
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
            out.push(Campaign {
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
                id,
            });
        }
        Ok(out)
    }

    /// Sets a campaign's status (security's decision); audited in the same transaction.
    pub async fn set_campaign_status(
        &self,
        id: &str,
        status: CampaignStatus,
        audit: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        take_correlation_turn(&mut tx).await?;
        let done = sqlx::query(
            "UPDATE campaigns SET status = $2, updated_at = $3 WHERE id = $1 AND status IN ('active', 'contained', 'closed')",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let payload = serde_json::json!({ "campaign_id": id, "status": status.as_str() });
        append_event(&mut tx, "campaign.status_changed", &payload, now).await?;
        append_in(&mut tx, &[audit], now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Merges campaign `other` into `into` (security's decision).
    pub async fn merge_campaigns(
        &self,
        into: &str,
        other: &str,
        settings: &CorrelationSettings,
        audit: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        if into == other {
            return Ok(false);
        }
        let mut tx = self.write.begin().await?;
        take_correlation_turn(&mut tx).await?;
        let live = sqlx::query(
            "SELECT COUNT(*) AS n FROM campaigns WHERE id IN ($1, $2) AND status IN ('active', 'contained', 'closed')",
        )
        .bind(into)
        .bind(other)
        .fetch_one(&mut *tx)
        .await?
        .try_get::<i64, _>("n")?;
        if live != 2 {
            return Ok(false);
        }
        sqlx::query("UPDATE reports SET cluster_id = $1 WHERE cluster_id = $2")
            .bind(into)
            .bind(other)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE campaigns SET status = 'merged', merged_into = $1, updated_at = $3 WHERE id = $2")
            .bind(into)
            .bind(other)
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM campaign_indicators WHERE campaign_id = $1").bind(other).execute(&mut *tx).await?;
        recount(&mut tx, into).await?;
        rebuild_indicators(&mut tx, into).await?;
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
        from: &str,
        reports: &[String],
        settings: &CorrelationSettings,
        audit: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.write.begin().await?;
        take_correlation_turn(&mut tx).await?;
        let status = sqlx::query("SELECT status FROM campaigns WHERE id = $1")
            .bind(from)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get::<String, _>("status"))
            .transpose()?;
        if !matches!(status.as_deref(), Some("active" | "contained" | "closed")) {
            return Ok(None);
        }
        let new = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO campaigns (id, status, severity, first_seen, last_seen, created_at, updated_at) \
             VALUES ($1, 'cluster', 'low', $2, $2, $2, $2)",
        )
        .bind(&new)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let mut moved = 0;
        for r in reports {
            moved += sqlx::query("UPDATE reports SET cluster_id = $1 WHERE id = $2 AND cluster_id = $3")
                .bind(&new)
                .bind(r)
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
        Ok(Some(new))
    }

    /// Each readable indicator of campaign `cluster` with how many of its reports showed it, and when first
    /// and last.
    pub async fn campaign_sightings(&self, cluster: &str) -> Result<Vec<Sighted>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.kind, i.value, MAX(i.note) AS note, COUNT(*) AS n, MIN(r.occurred_at) AS first_seen, \
               MAX(r.occurred_at) AS last_seen \
             FROM report_indicators i JOIN reports r ON r.id = i.report_id \
             WHERE r.cluster_id = $1 AND i.kind <> 'text' GROUP BY i.kind, i.value ORDER BY i.kind, i.value",
        )
        .bind(cluster)
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

    /// Whether any of `values` (kind, value) is an indicator of an active or contained campaign.
    pub async fn matches_active_campaign(&self, values: &[(IndicatorKind, String)]) -> Result<bool, StoreError> {
        for (kind, value) in values {
            let found = sqlx::query(
                "SELECT 1 AS hit FROM campaign_indicators i JOIN campaigns c ON c.id = i.campaign_id \
                 WHERE i.value = $1 AND i.kind = $2 AND c.status IN ('active', 'contained') LIMIT 1",
            )
            .bind(value)
            .bind(kind.as_str())
            .fetch_optional(&self.read)
            .await?;
            if found.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
