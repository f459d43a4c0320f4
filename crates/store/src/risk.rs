//! What risk is computed from: each active person's flags and the events of the last days, read for
//! everyone (or one person) in a few statements.

use crate::codec::{from_millis, millis, parse};
use crate::versions::Versioned;
use crate::{AuditEvent, Store, StoreError, commit_audited, directory_changed, dynamic};
use bonafide_domain::PersonId;
use bonafide_domain::risk::{Factor, RiskFacts};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use time::OffsetDateTime;

/// An active person and the facts of their risk.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskPerson {
    /// Who.
    pub id: PersonId,
    /// Their email.
    pub email: String,
    /// Their name.
    pub display_name: String,
    /// Their department.
    pub department: String,
    /// Whether they hold privileged access.
    pub privileged: bool,
    /// The facts.
    pub facts: RiskFacts,
}

/// Adds an event of `factor` at `at` (milliseconds) to `person`'s facts, if they are among `people`.
fn add(
    people: &mut [RiskPerson],
    by_id: &HashMap<String, usize>,
    person: &str,
    factor: Factor,
    at: i64,
) -> Result<(), StoreError> {
    if let Some(p) = by_id.get(person).and_then(|&i| people.get_mut(i)) {
        p.facts.events.entry(factor).or_default().push(from_millis(at)?);
    }
    Ok(())
}

const PEOPLE: &str = "SELECT p.id, p.email, p.display_name, p.department, p.remote, p.privileged, p.roles, \
       CASE WHEN c.totp_sealed IS NOT NULL THEN 1 ELSE 0 END AS mfa, \
       CASE WHEN EXISTS (SELECT 1 FROM passkeys k WHERE k.person_id = p.id) THEN 1 ELSE 0 END AS passkey, \
       CASE WHEN EXISTS (SELECT 1 FROM policy_acknowledgements a WHERE a.person_id = p.id AND a.version = $1) \
            THEN 1 ELSE 0 END AS acknowledged \
     FROM people p LEFT JOIN credentials c ON c.person_id = p.id \
     WHERE p.status = 'active' AND ($2 IS NULL OR p.id = $2) ORDER BY p.email";

impl Store {
    /// Every active person (or only `only`) with their risk facts: flags as they are, events since
    /// `since`. `policy_version` is the contact policy version whose acknowledgement counts.
    pub async fn risk_people(
        &self,
        policy_version: u32,
        since: OffsetDateTime,
        only: Option<PersonId>,
    ) -> Result<Vec<RiskPerson>, StoreError> {
        let only = only.map(|p| p.to_string());
        let rows = sqlx::query(PEOPLE).bind(i64::from(policy_version)).bind(only.clone()).fetch_all(&self.read).await?;
        let mut people = Vec::with_capacity(rows.len());
        let mut by_id: HashMap<String, usize> = HashMap::with_capacity(rows.len());
        let mut by_department: HashMap<String, Vec<usize>> = HashMap::new();
        for r in &rows {
            let flag = |name: &str| -> Result<bool, StoreError> { Ok(r.try_get::<i64, _>(name)? == 1) };
            let roles: String = r.try_get("roles")?;
            let mut flags = Vec::new();
            for (f, on) in [
                (Factor::Remote, flag("remote")?),
                (Factor::Privileged, flag("privileged")?),
                (Factor::ItStaff, roles.split(',').any(|x| x.trim() == "it_staff")),
                (Factor::Authenticator, flag("mfa")?),
                (Factor::Passkey, flag("passkey")?),
                (Factor::PolicyAcknowledged, flag("acknowledged")?),
            ] {
                if on {
                    flags.push(f);
                }
            }
            let id: String = r.try_get("id")?;
            let department: String = r.try_get("department")?;
            by_id.insert(id.clone(), people.len());
            by_department.entry(department.clone()).or_default().push(people.len());
            people.push(RiskPerson {
                id: parse("person id", &id)?,
                email: r.try_get("email")?,
                display_name: r.try_get("display_name")?,
                department,
                privileged: flag("privileged")?,
                facts: RiskFacts { flags, events: Default::default() },
            });
        }
        let since = millis(since);
        // Checks run; one that ended locked means they went on entering codes the caller gave them.
        let checks = sqlx::query(
            "SELECT employee_id, created_at, locked FROM contact_checks \
             WHERE created_at >= $1 AND ($2 IS NULL OR employee_id = $2)",
        )
        .bind(since)
        .bind(only.clone())
        .fetch_all(&self.read)
        .await?;
        for r in &checks {
            let (who, at): (String, i64) = (r.try_get("employee_id")?, r.try_get("created_at")?);
            add(&mut people, &by_id, &who, Factor::ChecksRun, at)?;
            if r.try_get::<i64, _>("locked")? == 1 {
                add(&mut people, &by_id, &who, Factor::IgnoredLockedCheck, at)?;
            }
        }
        let reports = sqlx::query(
            "SELECT reporter_id, received_at, complied FROM reports \
             WHERE received_at >= $1 AND ($2 IS NULL OR reporter_id = $2)",
        )
        .bind(since)
        .bind(only.clone())
        .fetch_all(&self.read)
        .await?;
        for r in &reports {
            let (who, at): (String, i64) = (r.try_get("reporter_id")?, r.try_get("received_at")?);
            add(&mut people, &by_id, &who, Factor::ReportsFiled, at)?;
            if r.try_get::<i64, _>("complied")? == 1 {
                add(&mut people, &by_id, &who, Factor::Complied, at)?;
            }
        }
        // Drills: a click or a submission (or a report saying they did what was asked) is a failed drill,
        // at the first mistake; a report of the drill counts as a report filed.
        let drills = sqlx::query(
            "SELECT person_id, clicked_at, submitted_at, reported_at, reported_complied FROM drill_targets \
             WHERE (clicked_at >= $1 OR submitted_at >= $1 OR reported_at >= $1) AND ($2 IS NULL OR person_id = $2)",
        )
        .bind(since)
        .bind(only.clone())
        .fetch_all(&self.read)
        .await?;
        for r in &drills {
            let who: String = r.try_get("person_id")?;
            let reported: Option<i64> = r.try_get("reported_at")?;
            let complied_report = reported.filter(|_| r.try_get::<i64, _>("reported_complied").is_ok_and(|c| c == 1));
            let mistakes = [r.try_get::<Option<i64>, _>("clicked_at")?, r.try_get("submitted_at")?, complied_report];
            if let Some(at) = mistakes.into_iter().flatten().min() {
                add(&mut people, &by_id, &who, Factor::DrillFailed, at)?;
            } else if let Some(at) = reported {
                add(&mut people, &by_id, &who, Factor::ReportsFiled, at)?;
            }
        }
        // Targeted: an active campaign has a report from the person or their department; the event is
        // the latest such report.
        let reached = sqlx::query(
            "SELECT r.cluster_id, r.reporter_id, r.department, MAX(r.received_at) AS at FROM reports r \
             JOIN campaigns c ON c.id = r.cluster_id WHERE c.status = 'active' AND r.received_at >= $1 \
             GROUP BY r.cluster_id, r.reporter_id, r.department",
        )
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        let mut latest: HashMap<(String, usize), i64> = HashMap::new();
        for r in &reached {
            let (campaign, reporter, department, at): (String, String, String, i64) =
                (r.try_get("cluster_id")?, r.try_get("reporter_id")?, r.try_get("department")?, r.try_get("at")?);
            let mut reach = by_department.get(&department).cloned().unwrap_or_default();
            reach.extend(by_id.get(&reporter).copied());
            for i in reach {
                let e = latest.entry((campaign.clone(), i)).or_insert(at);
                *e = (*e).max(at);
            }
        }
        for ((_, i), at) in latest {
            if let Some(p) = people.get_mut(i) {
                p.facts.events.entry(Factor::TargetedByCampaign).or_default().push(from_millis(at)?);
            }
        }
        // Their own number or address among an active campaign's indicators.
        let indicated = sqlx::query(
            "SELECT x.person_id, MAX(c.last_seen) AS at FROM ( \
               SELECT person_id, value FROM person_contacts UNION ALL SELECT id AS person_id, email AS value FROM people \
             ) x JOIN campaign_indicators ci ON ci.value = x.value JOIN campaigns c ON c.id = ci.campaign_id \
             WHERE c.status = 'active' AND ($1 IS NULL OR x.person_id = $1) GROUP BY x.person_id, c.id",
        )
        .bind(only)
        .fetch_all(&self.read)
        .await?;
        for r in &indicated {
            add(
                &mut people,
                &by_id,
                &r.try_get::<String, _>("person_id")?,
                Factor::InCampaignIndicators,
                r.try_get("at")?,
            )?;
        }
        Ok(people)
    }
}

/// A version of the risk settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskSettingsRecord {
    /// 1, 2, …
    pub version: u32,
    /// Their JSON form.
    pub settings: String,
    /// Who wrote them.
    pub created_by: Option<PersonId>,
    /// When.
    pub created_at: OffsetDateTime,
}

const RISK_SETTINGS: Versioned = Versioned { table: "risk_settings_versions", text: "settings", what: "risk settings" };

/// A group's profile on one day (`department` none: the company).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSnapshot {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    /// The department; none for the company.
    pub department: Option<String>,
    /// People scored.
    pub people: i64,
    /// The mean score.
    pub mean: f64,
    /// How many at low, medium, high, critical.
    pub by_level: [i64; 4],
    /// The share at high or critical.
    pub high_or_above: f64,
}

/// One person's score on the day of a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonSnapshot {
    /// Who.
    pub person: PersonId,
    /// Their department that day.
    pub department: String,
    /// The score.
    pub score: f64,
    /// Its level's name.
    pub level: &'static str,
}

/// A tolerance breach: a department's (none: the company's) and its kind's name.
pub type BreachKey = (Option<String>, String);

/// Breaches that started and ended with a snapshot, each with its audit entry (and an alert for those
/// that started).
#[derive(Debug, Clone, Default)]
pub struct BreachChanges {
    /// Breaches that started: the alert's message for each.
    pub started: Vec<(BreachKey, String)>,
    /// Breaches that ended.
    pub ended: Vec<BreachKey>,
    /// Their audit entries.
    pub audit: Vec<AuditEvent>,
}

fn group_from(r: &AnyRow) -> Result<GroupSnapshot, StoreError> {
    let department: String = r.try_get("department")?;
    Ok(GroupSnapshot {
        day: r.try_get("day")?,
        department: Some(department).filter(|d| !d.is_empty()),
        people: r.try_get("people")?,
        mean: r.try_get("mean")?,
        by_level: [r.try_get("low")?, r.try_get("medium")?, r.try_get("high")?, r.try_get("critical")?],
        high_or_above: r.try_get("high_or_above")?,
    })
}

impl Store {
    /// Publishes `settings` (their JSON form) as the next version of the risk settings, with
    /// `audit(version)`.
    pub async fn publish_risk_settings(
        &self,
        settings: &str,
        created_by: Option<PersonId>,
        now: OffsetDateTime,
        audit: impl FnOnce(u32) -> AuditEvent + Send,
    ) -> Result<RiskSettingsRecord, StoreError> {
        let v = self.publish_version(RISK_SETTINGS, settings, created_by, now, audit, false).await?;
        Ok(RiskSettingsRecord {
            version: v.version,
            settings: v.text,
            created_by: v.created_by,
            created_at: v.created_at,
        })
    }

    /// The risk settings in force (none written: the defaults).
    pub async fn risk_settings(&self) -> Result<Option<RiskSettingsRecord>, StoreError> {
        Ok(self.newest_version(RISK_SETTINGS).await?.map(|v| RiskSettingsRecord {
            version: v.version,
            settings: v.text,
            created_by: v.created_by,
            created_at: v.created_at,
        }))
    }

    /// Claims `day`'s snapshot for this instance: true for the one instance that claims it first.
    pub async fn claim_risk_day(&self, day: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO risk_snapshot_days (day, claimed_at) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
        )
        .bind(day.to_owned())
        .bind(millis(now))
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    /// Writes `day`'s snapshot (again, it replaces that day's rows: idempotent), the breaches that
    /// started (each with one alert) and ended, and their audit entries, in one transaction.
    pub async fn write_risk_snapshot(
        &self,
        day: &str,
        people: &[PersonSnapshot],
        groups: &[GroupSnapshot],
        breaches: &BreachChanges,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        for table in ["risk_person_snapshots", "risk_group_snapshots"] {
            sqlx::query(dynamic(format!("DELETE FROM {table} WHERE day = $1")))
                .bind(day.to_owned())
                .execute(&mut *tx)
                .await?;
        }
        for p in people {
            sqlx::query(
                "INSERT INTO risk_person_snapshots (day, person_id, department, score, level) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(day.to_owned())
            .bind(p.person.to_string())
            .bind(p.department.clone())
            .bind(p.score)
            .bind(p.level)
            .execute(&mut *tx)
            .await?;
        }
        for g in groups {
            let [low, medium, high, critical] = g.by_level;
            sqlx::query(
                "INSERT INTO risk_group_snapshots (day, department, people, mean, low, medium, high, critical, high_or_above) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(day.to_owned())
            .bind(g.department.clone().unwrap_or_default())
            .bind(g.people)
            .bind(g.mean)
            .bind(low)
            .bind(medium)
            .bind(high)
            .bind(critical)
            .bind(g.high_or_above)
            .execute(&mut *tx)
            .await?;
        }
        for ((department, breach), message) in &breaches.started {
            let opened = sqlx::query(
                "INSERT INTO risk_breaches (department, breach, started_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (department, breach) DO NOTHING",
            )
            .bind(department.clone().unwrap_or_default())
            .bind(breach.clone())
            .bind(millis(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if opened == 1 {
                let alert =
                    crate::checks::NewAlert { kind: "risk_tolerance", severity: "high", person: None, check: None };
                crate::checks::insert_alert(&mut tx, alert, message, now).await?;
            }
        }
        for (department, breach) in &breaches.ended {
            let closed = sqlx::query("DELETE FROM risk_breaches WHERE department = $1 AND breach = $2")
                .bind(department.clone().unwrap_or_default())
                .bind(breach.clone())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if closed == 1 {
                let payload = serde_json::json!({ "department": department, "breach": breach });
                crate::events::append_event(&mut tx, "risk.tolerance_restored", &payload, now).await?;
            }
        }
        // The access policies see each person's level in the latest snapshot.
        directory_changed(&mut tx).await?;
        commit_audited(tx, &breaches.audit.iter().collect::<Vec<_>>(), now).await
    }

    /// The breaches open now.
    pub async fn open_risk_breaches(&self) -> Result<Vec<BreachKey>, StoreError> {
        let rows = sqlx::query("SELECT department, breach FROM risk_breaches ORDER BY department, breach")
            .fetch_all(&self.write)
            .await?;
        rows.iter()
            .map(|r| {
                let d: String = r.try_get("department")?;
                Ok((Some(d).filter(|d| !d.is_empty()), r.try_get("breach")?))
            })
            .collect()
    }

    /// The profiles of `department` (none: the company) on `since` (`YYYY-MM-DD`) and after, by day.
    pub async fn risk_trend(&self, department: Option<&str>, since: &str) -> Result<Vec<GroupSnapshot>, StoreError> {
        let rows = sqlx::query(
            "SELECT day, department, people, mean, low, medium, high, critical, high_or_above FROM risk_group_snapshots \
             WHERE department = $1 AND day >= $2 ORDER BY day",
        )
        .bind(department.unwrap_or_default().to_owned())
        .bind(since.to_owned())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(group_from).collect()
    }

    /// Each person's score on `day`, by person id.
    pub async fn risk_day(&self, day: &str) -> Result<Vec<PersonSnapshot>, StoreError> {
        let rows = sqlx::query("SELECT person_id, department, score, level FROM risk_person_snapshots WHERE day = $1")
            .bind(day.to_owned())
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                let level: String = r.try_get("level")?;
                Ok(PersonSnapshot {
                    person: parse("person id", &r.try_get::<String, _>("person_id")?)?,
                    department: r.try_get("department")?,
                    score: r.try_get("score")?,
                    level: bonafide_domain::risk::Level::from_name(&level)
                        .ok_or_else(|| StoreError::Corrupt("risk level".into()))?
                        .as_str(),
                })
            })
            .collect()
    }
}
