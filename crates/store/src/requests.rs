//! Support requests.

use crate::codec::{channels, from_millis, join, millis, parse, parse_opt};
use crate::{AuditEvent, Store, StoreError, commit_audited, dynamic};
use bonafide_domain::{Channel, DisplayName, Email, PersonId, RequestKey, RequestStatus, StaffId, Summary};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// A request as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SupportRequest {
    /// Human key.
    pub key: RequestKey,
    /// Who opened it.
    pub requester: PersonId,
    /// Their email.
    pub requester_email: Email,
    /// Their name.
    pub requester_name: DisplayName,
    /// What it is about.
    pub summary: String,
    /// Category label.
    pub category: Option<String>,
    /// Preferred channels; empty means any.
    pub channels: BTreeSet<Channel>,
    /// Status.
    pub status: RequestStatus,
    /// Who works on it.
    pub assignee: Option<PersonId>,
    /// Their staff id.
    pub assignee_staff_id: Option<StaffId>,
    /// Their name.
    pub assignee_name: Option<String>,
    /// Opened at.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A request being opened.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// Who opens it.
    pub requester: PersonId,
    /// What it is about.
    pub summary: Summary,
    /// Category label.
    pub category: Option<String>,
    /// Preferred channels.
    pub channels: BTreeSet<Channel>,
}

/// Which requests a listing shows.
#[derive(Debug, Clone, Copy)]
pub enum RequestScope {
    /// Opened by this person.
    RequestedBy(PersonId),
    /// Assigned to this staffer.
    AssignedTo(PersonId),
    /// Open and unassigned: the IT queue.
    Queue,
    /// Everything (security admins).
    All,
}

const SELECT: &str = "SELECT r.number, r.requester_id, q.email AS requester_email, q.display_name AS requester_name, \
     r.summary, r.category, r.channels, r.status, r.assignee_id, a.staff_id AS assignee_staff_id, \
     a.display_name AS assignee_name, r.created_at, r.updated_at \
     FROM support_requests r JOIN people q ON q.id = r.requester_id LEFT JOIN people a ON a.id = r.assignee_id";

fn request_from(row: &AnyRow) -> Result<SupportRequest, StoreError> {
    let number: i64 = row.try_get("number")?;
    Ok(SupportRequest {
        key: RequestKey::from_number(u64::try_from(number).map_err(|_| StoreError::Corrupt("request number".into()))?),
        requester: parse("person id", &row.try_get::<String, _>("requester_id")?)?,
        requester_email: parse("email", &row.try_get::<String, _>("requester_email")?)?,
        requester_name: parse("name", &row.try_get::<String, _>("requester_name")?)?,
        summary: row.try_get("summary")?,
        category: row.try_get("category")?,
        channels: channels(&row.try_get::<String, _>("channels")?)?,
        status: parse("request status", &row.try_get::<String, _>("status")?)?,
        assignee: parse_opt("person id", row.try_get("assignee_id")?)?,
        assignee_staff_id: parse_opt("staff id", row.try_get("assignee_staff_id")?)?,
        assignee_name: row.try_get("assignee_name")?,
        created_at: from_millis(row.try_get("created_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
    })
}

fn number(key: RequestKey) -> i64 {
    i64::try_from(key.number()).unwrap_or(i64::MAX)
}

impl Store {
    /// Opens a request, gives it the next key, and records `audit(key)` with it.
    pub async fn create_request(
        &self,
        new: &NewRequest,
        now: OffsetDateTime,
        audit: impl FnOnce(RequestKey) -> AuditEvent + Send,
    ) -> Result<SupportRequest, StoreError> {
        let mut tx = self.write.begin().await?;
        let n: i64 = sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'request_number' RETURNING value")
            .fetch_one(&mut *tx)
            .await?
            .try_get("value")?;
        sqlx::query(
            "INSERT INTO support_requests (number, requester_id, summary, category, channels, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $6)",
        )
        .bind(n)
        .bind(new.requester.to_string())
        .bind(new.summary.as_str())
        .bind(new.category.as_deref())
        .bind(join(&new.channels))
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(dynamic(format!("{SELECT} WHERE r.number = $1"))).bind(n).fetch_one(&mut *tx).await?;
        let created = request_from(&row)?;
        commit_audited(tx, &[&audit(created.key)], now).await?;
        Ok(created)
    }

    /// The request with `key`.
    pub async fn request(&self, key: RequestKey) -> Result<Option<SupportRequest>, StoreError> {
        let row = sqlx::query(dynamic(format!("{SELECT} WHERE r.number = $1")))
            .bind(number(key))
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(request_from).transpose()
    }

    /// Requests in `scope`, newest first, at most `limit`.
    pub async fn list_requests(&self, scope: RequestScope, limit: i64) -> Result<Vec<SupportRequest>, StoreError> {
        let (condition, person) = match scope {
            RequestScope::RequestedBy(p) => ("r.requester_id = $1", Some(p)),
            RequestScope::AssignedTo(p) => ("r.assignee_id = $1", Some(p)),
            RequestScope::Queue => ("r.status = 'open'", None),
            RequestScope::All => ("1 = 1", None),
        };
        let sql = format!("{SELECT} WHERE {condition} ORDER BY r.number DESC LIMIT {limit}");
        let mut query = sqlx::query(dynamic(sql));
        if let Some(p) = person {
            query = query.bind(p.to_string());
        }
        let rows = query.fetch_all(&self.read).await?;
        rows.iter().map(request_from).collect()
    }

    /// Moves a request from `from` to `to` (setting the assignee when given), only if nobody changed
    /// it in between, recording `audit` with the change. Returns false (and records nothing) when the
    /// request was no longer in `from`.
    pub async fn transition_request(
        &self,
        key: RequestKey,
        from: RequestStatus,
        to: RequestStatus,
        assignee: Option<PersonId>,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE support_requests SET status = $3, assignee_id = COALESCE($4, assignee_id), updated_at = $5 \
             WHERE number = $1 AND status = $2",
        )
        .bind(number(key))
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(assignee.map(|a| a.to_string()))
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        commit_audited(tx, &[audit], now).await?;
        Ok(true)
    }
}
