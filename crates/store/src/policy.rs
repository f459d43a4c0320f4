//! The contact policy's versions, who acknowledged which, and the reminders sent for overdue ones.
//!
//! Versions are append-only: nothing here updates or deletes one. A version's number is the next after
//! the newest, taken in the inserting transaction; two instances publishing at once collide on the key
//! and one of them is told so.

use crate::checks::{NewAlert, insert_alert};
use crate::codec::{from_millis, millis, parse, parse_opt};
use crate::events::append_event;
use crate::{AuditEvent, Store, StoreError, commit_audited, conflict_on_unique, directory_changed, dynamic};
use bonafide_domain::{Email, PersonId};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// A stored version of the contact policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    /// 1, 2, …
    pub version: u32,
    /// When it takes (or took) effect.
    pub effective_at: OffsetDateTime,
    /// The rules' JSON form.
    pub rules: String,
    /// The company's text (Markdown).
    pub text: String,
    /// Who wrote it (none: the operator, from the command line).
    pub created_by: Option<PersonId>,
    /// When it was written.
    pub created_at: OffsetDateTime,
}

/// A version being published.
#[derive(Debug, Clone, Copy)]
pub struct NewPolicyVersion<'a> {
    /// The rules' JSON form, already checked.
    pub rules: &'a str,
    /// The company's text.
    pub text: &'a str,
    /// When it takes effect.
    pub effective_at: OffsetDateTime,
    /// Who writes it.
    pub created_by: Option<PersonId>,
}

/// How many of a department's active people acknowledged a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentAcknowledgements {
    /// The department (empty when people have none).
    pub department: String,
    /// Active people in it.
    pub people: i64,
    /// How many of them acknowledged.
    pub acknowledged: i64,
}

/// An active person who has not acknowledged a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unacknowledged {
    /// Their id.
    pub person: PersonId,
    /// Their email.
    pub email: Email,
    /// Their department.
    pub department: String,
}

/// What one run of the reminders sent for a version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemindersSent {
    /// People told (an event each), this run.
    pub people: u64,
    /// Whether security's alert for the version was raised by this run.
    pub alerted: bool,
}

const SELECT: &str = "SELECT version, effective_at, rules, text, created_by, created_at FROM policy_versions";

fn record_from(row: &AnyRow) -> Result<PolicyRecord, StoreError> {
    Ok(PolicyRecord {
        version: u32::try_from(row.try_get::<i64, _>("version")?)
            .map_err(|_| StoreError::Corrupt("policy version".into()))?,
        effective_at: from_millis(row.try_get("effective_at")?)?,
        rules: row.try_get("rules")?,
        text: row.try_get("text")?,
        created_by: parse_opt("person id", row.try_get("created_by")?)?,
        created_at: from_millis(row.try_get("created_at")?)?,
    })
}

/// Active people who have not acknowledged `$1`, in department and email order.
const UNACKNOWLEDGED: &str = "SELECT p.id, p.email, p.department FROM people p WHERE p.status = 'active' \
     AND NOT EXISTS (SELECT 1 FROM policy_acknowledgements a WHERE a.version = $1 AND a.person_id = p.id) \
     ORDER BY p.department, p.email";

fn unacknowledged_from(row: &AnyRow) -> Result<Unacknowledged, StoreError> {
    Ok(Unacknowledged {
        person: parse("person id", &row.try_get::<String, _>("id")?)?,
        email: parse("email", &row.try_get::<String, _>("email")?)?,
        department: row.try_get("department")?,
    })
}

impl Store {
    /// Publishes `new` as the next version, recording `audit(version)` and a `policy.published` event
    /// with it. [`StoreError::Conflict`] when another version was published meanwhile.
    pub async fn publish_policy(
        &self,
        new: NewPolicyVersion<'_>,
        now: OffsetDateTime,
        audit: impl FnOnce(u32) -> AuditEvent + Send,
    ) -> Result<PolicyRecord, StoreError> {
        let mut tx = self.write.begin().await?;
        let last: Option<i64> =
            sqlx::query("SELECT MAX(version) AS v FROM policy_versions").fetch_one(&mut *tx).await?.try_get("v")?;
        let version = u32::try_from(last.unwrap_or(0) + 1).map_err(|_| StoreError::Corrupt("policy version".into()))?;
        sqlx::query(
            "INSERT INTO policy_versions (version, effective_at, rules, text, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(i64::from(version))
        .bind(millis(new.effective_at))
        .bind(new.rules)
        .bind(new.text)
        .bind(new.created_by.map(|p| p.to_string()))
        .bind(millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "another policy version was published at the same time; try again"))?;
        let payload = serde_json::json!({ "version": version, "effective_at": millis(new.effective_at) });
        append_event(&mut tx, "policy.published", &payload, now).await?;
        directory_changed(&mut tx).await?;
        commit_audited(tx, &[&audit(version)], now).await?;
        Ok(PolicyRecord {
            version,
            effective_at: new.effective_at,
            rules: new.rules.to_owned(),
            text: new.text.to_owned(),
            created_by: new.created_by,
            created_at: now,
        })
    }

    /// Version `version`.
    pub async fn policy_version(&self, version: u32) -> Result<Option<PolicyRecord>, StoreError> {
        let row = sqlx::query(dynamic(format!("{SELECT} WHERE version = $1")))
            .bind(i64::from(version))
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(record_from).transpose()
    }

    /// Every version, newest first.
    pub async fn policy_versions(&self) -> Result<Vec<PolicyRecord>, StoreError> {
        let rows = sqlx::query(dynamic(format!("{SELECT} ORDER BY version DESC"))).fetch_all(&self.read).await?;
        rows.iter().map(record_from).collect()
    }

    /// The newest version written, in force or scheduled.
    pub async fn newest_policy(&self) -> Result<Option<PolicyRecord>, StoreError> {
        let row =
            sqlx::query(dynamic(format!("{SELECT} ORDER BY version DESC LIMIT 1"))).fetch_optional(&self.write).await?;
        row.as_ref().map(record_from).transpose()
    }

    /// The version in force at `at`: the newest whose time has come.
    pub async fn policy_in_force(&self, at: OffsetDateTime) -> Result<Option<PolicyRecord>, StoreError> {
        let row = sqlx::query(dynamic(format!("{SELECT} WHERE effective_at <= $1 ORDER BY version DESC LIMIT 1")))
            .bind(millis(at))
            .fetch_optional(&self.write)
            .await?;
        row.as_ref().map(record_from).transpose()
    }

    /// Records that `person` read `version` (once: a second time changes nothing and records nothing),
    /// with `audit`; returns when they first did.
    pub async fn acknowledge_policy(
        &self,
        version: u32,
        person: PersonId,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<OffsetDateTime, StoreError> {
        let mut tx = self.write.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO policy_acknowledgements (version, person_id, acknowledged_at) VALUES ($1, $2, $3) \
             ON CONFLICT (version, person_id) DO NOTHING",
        )
        .bind(i64::from(version))
        .bind(person.to_string())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let at: i64 =
            sqlx::query("SELECT acknowledged_at FROM policy_acknowledgements WHERE version = $1 AND person_id = $2")
                .bind(i64::from(version))
                .bind(person.to_string())
                .fetch_one(&mut *tx)
                .await?
                .try_get("acknowledged_at")?;
        if inserted == 1 {
            directory_changed(&mut tx).await?;
            commit_audited(tx, &[audit], now).await?;
        } else {
            tx.commit().await?;
        }
        from_millis(at)
    }

    /// When `person` acknowledged `version`, if they did.
    pub async fn policy_acknowledged_at(
        &self,
        version: u32,
        person: PersonId,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let row =
            sqlx::query("SELECT acknowledged_at FROM policy_acknowledgements WHERE version = $1 AND person_id = $2")
                .bind(i64::from(version))
                .bind(person.to_string())
                .fetch_optional(&self.read)
                .await?;
        row.map(|r| from_millis(r.try_get("acknowledged_at")?)).transpose()
    }

    /// Per department, how many active people there are and how many acknowledged `version`.
    pub async fn policy_acknowledgements(&self, version: u32) -> Result<Vec<DepartmentAcknowledgements>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.department, COUNT(*) AS people, COUNT(a.person_id) AS acknowledged FROM people p \
             LEFT JOIN policy_acknowledgements a ON a.person_id = p.id AND a.version = $1 \
             WHERE p.status = 'active' GROUP BY p.department ORDER BY p.department",
        )
        .bind(i64::from(version))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DepartmentAcknowledgements {
                    department: r.try_get("department")?,
                    people: r.try_get("people")?,
                    acknowledged: r.try_get("acknowledged")?,
                })
            })
            .collect()
    }

    /// Active people who have not acknowledged `version`, at most `limit`.
    pub async fn unacknowledged(&self, version: u32, limit: i64) -> Result<Vec<Unacknowledged>, StoreError> {
        let rows = sqlx::query(dynamic(format!("{UNACKNOWLEDGED} LIMIT {}", limit.max(0))))
            .bind(i64::from(version))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(unacknowledged_from).collect()
    }

    /// Sends the reminders for `version`, past its due date: a `policy.acknowledgement_overdue` event for
    /// each active person who has not acknowledged it and was not told before, and security's alert
    /// (`alert_message(count)`) once per version. Each is recorded in `policy_reminders` in the same
    /// transaction as what it sends, so no instance sends one twice.
    pub async fn send_policy_reminders(
        &self,
        version: u32,
        now: OffsetDateTime,
        alert_message: impl FnOnce(usize) -> String + Send,
    ) -> Result<RemindersSent, StoreError> {
        let mut tx = self.write.begin().await?;
        let rows = sqlx::query(dynamic(UNACKNOWLEDGED.to_owned())).bind(i64::from(version)).fetch_all(&mut *tx).await?;
        let missing: Vec<Unacknowledged> = rows.iter().map(unacknowledged_from).collect::<Result<_, _>>()?;
        let mut sent = RemindersSent::default();
        for person in &missing {
            let told = sqlx::query(
                "INSERT INTO policy_reminders (version, person_id, sent_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (version, person_id) DO NOTHING",
            )
            .bind(i64::from(version))
            .bind(person.person.to_string())
            .bind(millis(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if told == 1 {
                let payload = serde_json::json!({
                    "version": version, "person_id": person.person.to_string(), "email": person.email.as_str(),
                    "department": person.department,
                });
                append_event(&mut tx, "policy.acknowledgement_overdue", &payload, now).await?;
                sent.people += 1;
            }
        }
        if !missing.is_empty() {
            let first = sqlx::query(
                "INSERT INTO policy_reminders (version, person_id, sent_at) VALUES ($1, '', $2) \
                 ON CONFLICT (version, person_id) DO NOTHING",
            )
            .bind(i64::from(version))
            .bind(millis(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if first == 1 {
                let alert =
                    NewAlert { kind: "policy_acknowledgement_overdue", severity: "medium", person: None, check: None };
                insert_alert(&mut tx, alert, &alert_message(missing.len()), now).await?;
                sent.alerted = true;
            }
        }
        tx.commit().await?;
        Ok(sent)
    }
}
