//! Contact checks, challenge attempts and security alerts.

use crate::HotPath;
use crate::audit::{Actor, AuditEvent, Outcome, append_in};
use crate::batch::CheckRow;
use crate::codec::{asks, flag, from_millis, join, millis, parse, parse_opt, split};
use crate::{Store, StoreError, dynamic};
use bonafide_domain::verification::ChallengeState;
use bonafide_domain::{
    AlertId, Ask, Assessment, CampaignId, Channel, CheckId, GuardScope, PersonId, Reason, RequestKey, StaffId, Verdict,
};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// A check being recorded: what the employee entered and the first assessment.
#[derive(Debug, Clone)]
pub struct NewCheck {
    /// The employee who is being contacted.
    pub employee: PersonId,
    /// Channel.
    pub channel: Channel,
    /// Staff id as given.
    pub claimed_staff_id: Option<StaffId>,
    /// Name as given.
    pub claimed_name: Option<String>,
    /// Number as typed (normalised again when re-assessed).
    pub caller_number: Option<String>,
    /// Address as given, lower-cased.
    pub caller_address: Option<String>,
    /// Request key as given.
    pub request_key: Option<RequestKey>,
    /// What was asked.
    pub asked_for: BTreeSet<Ask>,
}

/// A stored check.
#[derive(Debug, Clone)]
pub struct CheckRecord {
    /// Id.
    pub id: CheckId,
    /// What was entered.
    pub input: NewCheck,
    /// Latest verdict.
    pub verdict: Verdict,
    /// Latest reasons.
    pub reasons: Vec<Reason>,
    /// The staffer the claim resolved to.
    pub staffer: Option<PersonId>,
    /// Challenge progress.
    pub challenge: ChallengeState,
    /// The contact policy version the latest assessment was judged by (0: the built-in default).
    pub policy_version: u32,
    /// Opened at.
    pub created_at: OffsetDateTime,
}

/// A security alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Id.
    pub id: AlertId,
    /// Kind, e.g. `challenge_locked`.
    pub kind: String,
    /// `high`, `medium` or `low`.
    pub severity: String,
    /// The person concerned.
    pub person: Option<PersonId>,
    /// The check concerned.
    pub check: Option<CheckId>,
    /// The campaign concerned.
    pub campaign: Option<CampaignId>,
    /// What happened, in plain words.
    pub message: String,
    /// When.
    pub created_at: OffsetDateTime,
}

fn check_from(row: &AnyRow) -> Result<CheckRecord, StoreError> {
    let request: Option<i64> = row.try_get("request_number")?;
    Ok(CheckRecord {
        id: parse("check id", &row.try_get::<String, _>("id")?)?,
        input: NewCheck {
            employee: parse("person id", &row.try_get::<String, _>("employee_id")?)?,
            channel: parse("channel", &row.try_get::<String, _>("channel")?)?,
            claimed_staff_id: parse_opt("staff id", row.try_get("claimed_staff_id")?)?,
            claimed_name: row.try_get("claimed_name")?,
            caller_number: row.try_get("caller_number")?,
            caller_address: row.try_get("caller_address")?,
            request_key: request.and_then(|n| u64::try_from(n).ok()).map(RequestKey::from_number),
            asked_for: asks(&row.try_get::<String, _>("asked_for")?)?,
        },
        verdict: parse("verdict", &row.try_get::<String, _>("verdict")?)?,
        reasons: split::<Reason>("reason", &row.try_get::<String, _>("reasons")?)?.into_iter().collect(),
        staffer: parse_opt("person id", row.try_get("staffer_id")?)?,
        challenge: ChallengeState {
            failures: u32::try_from(row.try_get::<i64, _>("failures")?).unwrap_or(u32::MAX),
            last_failed: flag(row.try_get("last_failed")?),
            locked: flag(row.try_get("locked")?),
            passed: flag(row.try_get("passed")?),
        },
        policy_version: row
            .try_get::<Option<i64>, _>("policy_version")?
            .map_or(Ok(0), u32::try_from)
            .map_err(|_| StoreError::Corrupt("policy version".into()))?,
        created_at: from_millis(row.try_get("created_at")?)?,
    })
}

impl Store {
    /// Records a new check with its first assessment, judged by contact policy `policy_version` (0: the
    /// built-in default); returns once it is committed.
    pub async fn create_check(
        &self,
        new: &NewCheck,
        a: &Assessment,
        policy_version: u32,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> Result<CheckId, StoreError> {
        let id = CheckId::new();
        let audit = AuditEvent::new(actor, "check.created", id.to_string(), Outcome::Ok).with(serde_json::json!({
            "channel": new.channel.as_str(),
            "claimed_staff_id": new.claimed_staff_id.as_ref().map(ToString::to_string),
            "request_key": new.request_key.map(|k| k.to_string()),
            "verdict": a.verdict.as_str(),
            "reasons": a.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "policy_version": policy_version,
        }));
        let row = CheckRow {
            id: id.to_string(),
            employee: new.employee.to_string(),
            channel: new.channel.as_str(),
            claimed_staff_id: new.claimed_staff_id.as_ref().map(ToString::to_string),
            claimed_name: new.claimed_name.clone(),
            caller_number: new.caller_number.clone(),
            caller_address: new.caller_address.clone(),
            request_number: new.request_key.and_then(|k| i64::try_from(k.number()).ok()),
            asked_for: join(&new.asked_for),
            verdict: a.verdict.as_str(),
            reasons: join(a.reasons.iter().map(|r| r.as_str())),
            staffer: a.staffer.map(|s| s.to_string()),
            policy_version: (policy_version > 0).then_some(i64::from(policy_version)),
            at: millis(now),
            audit,
        };
        match &self.hot {
            HotPath::Sqlite(lite) => lite.insert_check(row).await?,
            HotPath::Postgres(batcher) => batcher.insert(row).await?,
        }
        Ok(id)
    }

    /// The check with `id`.
    pub async fn check(&self, id: CheckId) -> Result<Option<CheckRecord>, StoreError> {
        // Read from the writer: a check is usually read right after one of its attempts was counted.
        let row = sqlx::query("SELECT * FROM contact_checks WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.write)
            .await?;
        row.as_ref().map(check_from).transpose()
    }

    /// Counts a wrong code. When it is the `max`-th, locks the check and raises a `challenge_locked`
    /// alert in the same transaction. The code also counts against `across`'s scopes; one that reaches
    /// its limit locks verification for the scope and raises a `verification_locked` alert, still in the
    /// same transaction. Returns the new challenge state and the scopes locked now, or `None` when the
    /// check was already locked or passed (nothing counted).
    pub async fn record_challenge_failure(
        &self,
        id: CheckId,
        max: u32,
        alert_message: &str,
        across: &AcrossChecks<'_>,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> Result<Option<(ChallengeState, Vec<GuardScope>)>, StoreError> {
        let mut tx = self.write.begin().await?;
        // INVARIANT: one atomic UPDATE decides the count and the lock, so concurrent attempts on any
        // number of server instances can never exceed `max` wrong codes.
        let row = sqlx::query(
            "UPDATE contact_checks SET failures = failures + 1, last_failed = 1, \
               locked = CASE WHEN failures + 1 >= $2 THEN 1 ELSE 0 END, updated_at = $3 \
             WHERE id = $1 AND locked = 0 AND passed = 0 \
             RETURNING failures, locked, employee_id",
        )
        .bind(id.to_string())
        .bind(i64::from(max))
        .bind(millis(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let state = ChallengeState {
            failures: u32::try_from(row.try_get::<i64, _>("failures")?).unwrap_or(u32::MAX),
            last_failed: true,
            locked: flag(row.try_get("locked")?),
            passed: false,
        };
        let employee: String = row.try_get("employee_id")?;
        let detail = serde_json::json!({ "failures": state.failures });
        let mut events = vec![AuditEvent::new(actor, "challenge.failed", id.to_string(), Outcome::Denied).with(detail)];
        if state.locked {
            let alert =
                NewAlert { kind: "challenge_locked", severity: "high", person: Some(&employee), check: Some(id) };
            insert_alert(&mut tx, alert, alert_message, now).await?;
            events.push(AuditEvent::new(actor, "challenge.locked", id.to_string(), Outcome::Denied));
        }
        let mut locked = Vec::new();
        for scope in across.scopes {
            if let Some(failures) = count_across(&mut tx, scope, &employee, id, across, now).await? {
                let message = (across.message)(scope, failures);
                let alert = NewAlert {
                    kind: "verification_locked",
                    severity: "high",
                    person: Some(&employee),
                    check: Some(id),
                };
                insert_alert(&mut tx, alert, &message, now).await?;
                let detail = serde_json::json!({ "failures": failures, "check_id": id.to_string() });
                events.push(AuditEvent::new(actor, "verification.locked", scope.key(), Outcome::Denied).with(detail));
                locked.push(*scope);
            }
        }
        append_in(&mut tx, &events.iter().collect::<Vec<_>>(), now).await?;
        tx.commit().await?;
        Ok(Some((state, locked)))
    }

    /// Marks the challenge passed; false when the check is locked.
    pub async fn record_challenge_pass(
        &self,
        id: CheckId,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE contact_checks SET passed = 1, last_failed = 0, updated_at = $2 WHERE id = $1 AND locked = 0",
        )
        .bind(id.to_string())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let passed = done.rows_affected() == 1;
        if passed {
            let event = AuditEvent::new(actor, "challenge.passed", id.to_string(), Outcome::Ok);
            append_in(&mut tx, &[&event], now).await?;
        }
        tx.commit().await?;
        Ok(passed)
    }

    /// Stores the latest assessment of a check, made from challenge progress `seen`. Returns false (and
    /// stores nothing) when the progress moved on meanwhile: the concurrent answer that moved it stores
    /// its own, newer assessment, so a stale one never overwrites a lock or a pass. `audit` (a verdict that
    /// changed) is appended in the same transaction.
    pub async fn update_check_assessment(
        &self,
        id: CheckId,
        a: &Assessment,
        policy_version: u32,
        seen: ChallengeState,
        audit: Option<&AuditEvent>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE contact_checks SET verdict = $2, reasons = $3, staffer_id = $4, updated_at = $5, \
               policy_version = $9 \
             WHERE id = $1 AND failures = $6 AND locked = $7 AND passed = $8",
        )
        .bind(id.to_string())
        .bind(a.verdict.as_str())
        .bind(join(a.reasons.iter().map(|r| r.as_str())))
        .bind(a.staffer.map(|s| s.to_string()))
        .bind(millis(now))
        .bind(i64::from(seen.failures))
        .bind(i64::from(seen.locked))
        .bind(i64::from(seen.passed))
        .bind((policy_version > 0).then_some(i64::from(policy_version)))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(audit) = audit {
            append_in(&mut tx, &[audit], now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The newest alerts, at most `limit`.
    pub async fn list_alerts(&self, limit: i64) -> Result<Vec<Alert>, StoreError> {
        let rows = sqlx::query(dynamic(format!(
            "SELECT id, kind, severity, person_id, check_id, campaign_id, message, created_at FROM security_alerts \
             ORDER BY created_at DESC, id DESC LIMIT {limit}"
        )))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Alert {
                    id: parse("alert id", &row.try_get::<String, _>("id")?)?,
                    kind: row.try_get("kind")?,
                    severity: row.try_get("severity")?,
                    person: parse_opt("person id", row.try_get("person_id")?)?,
                    check: parse_opt("check id", row.try_get("check_id")?)?,
                    campaign: parse_opt("campaign id", row.try_get("campaign_id")?)?,
                    message: row.try_get("message")?,
                    created_at: from_millis(row.try_get("created_at")?)?,
                })
            })
            .collect()
    }
}

/// The limit on wrong codes across checks that a wrong code also counts against.
pub struct AcrossChecks<'a> {
    /// What it counts against: the employee, and the request or outreach the code was for.
    pub scopes: &'a [GuardScope],
    /// Wrong codes allowed per scope within `window`; the one that reaches it locks the scope.
    pub max: u32,
    /// The counting window.
    pub window: time::Duration,
    /// How long a scope stays locked.
    pub lock_for: time::Duration,
    /// The alert's text for a scope locked after this many wrong codes.
    pub message: &'a (dyn Fn(&GuardScope, i64) -> String + Sync),
}

impl std::fmt::Debug for AcrossChecks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcrossChecks").field("scopes", &self.scopes).field("max", &self.max).finish_non_exhaustive()
    }
}

/// Counts a wrong code against `scope` in the open transaction; returns the count when it locks the
/// scope now.
async fn count_across(
    tx: &mut sqlx::AnyConnection,
    scope: &GuardScope,
    employee: &str,
    check: CheckId,
    across: &AcrossChecks<'_>,
    now: OffsetDateTime,
) -> Result<Option<i64>, StoreError> {
    let key = scope.key();
    // INVARIANT: the guard row is taken (and on PostgreSQL row-locked) before counting, so counts for
    // one scope on any number of instances run one at a time and the limit's crossing is seen once.
    let locked_until: i64 = sqlx::query(
        "INSERT INTO verification_guards (scope, employee_id, locked_until, updated_at) VALUES ($1, $2, 0, $3) \
         ON CONFLICT (scope) DO UPDATE SET updated_at = excluded.updated_at RETURNING locked_until",
    )
    .bind(&key)
    .bind(employee)
    .bind(millis(now))
    .fetch_one(&mut *tx)
    .await?
    .try_get("locked_until")?;
    let since = millis(now.checked_sub(across.window).unwrap_or(now));
    sqlx::query("DELETE FROM verification_failures WHERE scope = $1 AND at < $2")
        .bind(&key)
        .bind(since)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO verification_failures (scope, at, check_id) VALUES ($1, $2, $3)")
        .bind(&key)
        .bind(millis(now))
        .bind(check.to_string())
        .execute(&mut *tx)
        .await?;
    let failures: i64 = sqlx::query("SELECT COUNT(*) AS n FROM verification_failures WHERE scope = $1 AND at >= $2")
        .bind(&key)
        .bind(since)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    if failures < i64::from(across.max) || locked_until > millis(now) {
        return Ok(None);
    }
    let until = millis(now.checked_add(across.lock_for).unwrap_or(now));
    sqlx::query("UPDATE verification_guards SET locked_until = $2 WHERE scope = $1")
        .bind(&key)
        .bind(until)
        .execute(&mut *tx)
        .await?;
    Ok(Some(failures))
}

/// Raises a security alert in the open transaction `tx`: every alert (a lock, a campaign, a report
/// whose author complied) is written here.
/// What an alert is, and whom and what it concerns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewAlert<'a> {
    pub kind: &'a str,
    pub severity: &'a str,
    pub person: Option<&'a str>,
    pub check: Option<CheckId>,
}

pub(crate) async fn insert_alert(
    tx: &mut sqlx::AnyConnection,
    alert: NewAlert<'_>,
    message: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    insert_campaign_alert(tx, alert, None, message, now).await
}

/// An alert about campaign `campaign` (when given).
pub(crate) async fn insert_campaign_alert(
    tx: &mut sqlx::AnyConnection,
    alert: NewAlert<'_>,
    campaign: Option<&str>,
    message: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO security_alerts (id, kind, severity, person_id, check_id, campaign_id, message, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(alert.kind)
    .bind(alert.severity)
    .bind(alert.person)
    .bind(alert.check.map(|c| c.to_string()))
    .bind(campaign)
    .bind(message)
    .bind(millis(now))
    .execute(&mut *tx)
    .await?;
    Ok(())
}
