//! What risk is computed from: each active person's flags and the events of the last days, read for
//! everyone (or one person) in a few statements.

use crate::codec::{from_millis, millis, parse};
use crate::{Store, StoreError};
use bonafide_domain::PersonId;
use bonafide_domain::risk::{Factor, RiskFacts};
use sqlx::Row;
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
