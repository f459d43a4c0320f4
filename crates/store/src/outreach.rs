//! Announced outreach.

use crate::codec::{channels, from_millis, join, millis, parse, parse_opt};
use crate::{AuditEvent, Store, StoreError, commit_audited, dynamic};
use bonafide_domain::{Channel, DisplayName, Email, OutreachId, OutreachStatus, OutreachWindow, PersonId, StaffId};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// An outreach as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outreach {
    /// Id.
    pub id: OutreachId,
    /// The staffer who proposed it and will make contact.
    pub staffer: PersonId,
    /// Their staff id.
    pub staffer_staff_id: Option<StaffId>,
    /// Their name.
    pub staffer_name: DisplayName,
    /// The employee to be contacted.
    pub employee: PersonId,
    /// Their email.
    pub employee_email: Email,
    /// Their name.
    pub employee_name: DisplayName,
    /// Why.
    pub reason: String,
    /// How.
    pub channels: BTreeSet<Channel>,
    /// When.
    pub window: OutreachWindow,
    /// Pending or approved.
    pub status: OutreachStatus,
    /// Who approved it.
    pub approver: Option<PersonId>,
    /// Proposed at.
    pub created_at: OffsetDateTime,
}

/// An outreach being proposed.
#[derive(Debug, Clone)]
pub struct NewOutreach {
    /// The proposing staffer.
    pub staffer: PersonId,
    /// The employee.
    pub employee: PersonId,
    /// Why, 1 to 500 characters.
    pub reason: String,
    /// How.
    pub channels: BTreeSet<Channel>,
    /// When.
    pub window: OutreachWindow,
}

const SELECT: &str = "SELECT o.id, o.staffer_id, s.staff_id AS staffer_staff_id, s.display_name AS staffer_name, \
     o.employee_id, e.email AS employee_email, e.display_name AS employee_name, o.reason, o.channels, \
     o.starts_at, o.ends_at, o.status, o.approver_id, o.created_at \
     FROM outreach o JOIN people s ON s.id = o.staffer_id JOIN people e ON e.id = o.employee_id";

fn outreach_from(row: &AnyRow) -> Result<Outreach, StoreError> {
    Ok(Outreach {
        id: parse("outreach id", &row.try_get::<String, _>("id")?)?,
        staffer: parse("person id", &row.try_get::<String, _>("staffer_id")?)?,
        staffer_staff_id: parse_opt("staff id", row.try_get("staffer_staff_id")?)?,
        staffer_name: parse("name", &row.try_get::<String, _>("staffer_name")?)?,
        employee: parse("person id", &row.try_get::<String, _>("employee_id")?)?,
        employee_email: parse("email", &row.try_get::<String, _>("employee_email")?)?,
        employee_name: parse("name", &row.try_get::<String, _>("employee_name")?)?,
        reason: row.try_get("reason")?,
        channels: channels(&row.try_get::<String, _>("channels")?)?,
        window: OutreachWindow {
            starts_at: from_millis(row.try_get("starts_at")?)?,
            ends_at: from_millis(row.try_get("ends_at")?)?,
        },
        status: parse("outreach status", &row.try_get::<String, _>("status")?)?,
        approver: parse_opt("person id", row.try_get("approver_id")?)?,
        created_at: from_millis(row.try_get("created_at")?)?,
    })
}

impl Store {
    /// Records a proposed outreach (pending), and `audit(id)` with it.
    pub async fn create_outreach(
        &self,
        new: &NewOutreach,
        now: OffsetDateTime,
        audit: impl FnOnce(OutreachId) -> AuditEvent + Send,
    ) -> Result<Outreach, StoreError> {
        let id = OutreachId::new();
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO outreach (id, staffer_id, employee_id, reason, channels, starts_at, ends_at, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)",
        )
        .bind(id.to_string())
        .bind(new.staffer.to_string())
        .bind(new.employee.to_string())
        .bind(&new.reason)
        .bind(join(&new.channels))
        .bind(millis(new.window.starts_at))
        .bind(millis(new.window.ends_at))
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        commit_audited(tx, &[&audit(id)], now).await?;
        self.outreach(id).await?.ok_or_else(|| StoreError::Conflict("outreach vanished".into()))
    }

    /// The outreach with `id`.
    pub async fn outreach(&self, id: OutreachId) -> Result<Option<Outreach>, StoreError> {
        let row = sqlx::query(dynamic(format!("{SELECT} WHERE o.id = $1")))
            .bind(id.to_string())
            .fetch_optional(&self.write)
            .await?;
        row.as_ref().map(outreach_from).transpose()
    }

    /// Approves a pending outreach, recording `audit` with it; false (nothing recorded) when it was no
    /// longer pending.
    pub async fn approve_outreach(
        &self,
        id: OutreachId,
        approver: PersonId,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE outreach SET status = 'approved', approver_id = $2, approved_at = $3 \
             WHERE id = $1 AND status = 'pending' AND staffer_id <> $2",
        )
        .bind(id.to_string())
        .bind(approver.to_string())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        commit_audited(tx, &[audit], now).await?;
        Ok(true)
    }

    /// Outreach `person` proposed, or approved outreach naming them, newest first.
    pub async fn outreach_for(&self, person: PersonId, limit: i64) -> Result<Vec<Outreach>, StoreError> {
        let rows = sqlx::query(dynamic(format!(
            "{SELECT} WHERE o.staffer_id = $1 OR (o.employee_id = $1 AND o.status = 'approved') \
             ORDER BY o.created_at DESC LIMIT {limit}"
        )))
        .bind(person.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(outreach_from).collect()
    }

    /// Pending outreach whose window is not over, for approvers.
    pub async fn pending_outreach(&self, now: OffsetDateTime, limit: i64) -> Result<Vec<Outreach>, StoreError> {
        let rows = sqlx::query(dynamic(format!(
            "{SELECT} WHERE o.status = 'pending' AND o.ends_at > $1 ORDER BY o.created_at DESC LIMIT {limit}"
        )))
        .bind(millis(now))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(outreach_from).collect()
    }

    /// Approved outreach by `staffer` whose window is not over (for the console).
    pub async fn live_outreach_by(&self, staffer: PersonId, now: OffsetDateTime) -> Result<Vec<Outreach>, StoreError> {
        let rows = sqlx::query(dynamic(format!(
            "{SELECT} WHERE o.staffer_id = $1 AND o.status = 'approved' AND o.ends_at > $2 ORDER BY o.starts_at"
        )))
        .bind(staffer.to_string())
        .bind(millis(now))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(outreach_from).collect()
    }
}
