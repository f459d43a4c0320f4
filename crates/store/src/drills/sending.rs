//! Sending drill messages: claiming due messages under a lease (one conditional `UPDATE` each, so two
//! senders never take the same one), recording how each attempt ended, and the backlog.

use super::{TARGET_COLUMNS, TargetRecord, target_from};
use crate::codec::millis;
use crate::{Store, StoreError, dynamic};
use bonafide_domain::{DrillTargetId, SendStatus};
use sqlx::Row;
use time::OffsetDateTime;

/// A message due to be sent, claimed by one sender.
#[derive(Debug, Clone, PartialEq)]
pub struct DueSend {
    /// The target.
    pub target: TargetRecord,
    /// Attempts before this one.
    pub attempts: i64,
    /// Whether an earlier attempt was taken and never recorded (a sender stopped mid-send).
    pub interrupted: bool,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// Accepted, with the server's reply.
    Sent(String),
    /// Failed; tried again at the time given.
    Retry(String, OffsetDateTime),
    /// Failed for good.
    Failed(String),
}

impl Store {
    /// Claims up to `limit` messages due at `now` for one attempt each, until `lease_until`: queued ones
    /// whose time has come in running drills, and ones an earlier sender took and never recorded (its
    /// lease ran out). Each is taken by one conditional `UPDATE`, so two senders never take the same one.
    pub async fn claim_due_sends(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<DueSend>, StoreError> {
        let rows = sqlx::query(dynamic(format!(
            "SELECT {TARGET_COLUMNS} FROM drill_targets t JOIN drills d ON d.id = t.drill_id \
             WHERE d.status = 'running' AND ((t.send_status = 'queued' AND t.send_at <= $1) \
               OR (t.send_status = 'sending' AND t.lease_until <= $1)) \
             ORDER BY t.send_at, t.position LIMIT {}",
            limit.clamp(1, 500)
        )))
        .bind(millis(now))
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let target = target_from(row)?;
            let lease: i64 = row.try_get("lease_until")?;
            let claimed = sqlx::query(
                "UPDATE drill_targets SET send_status = 'sending', lease_until = $3 \
                 WHERE id = $1 AND send_status = $2 AND lease_until = $4",
            )
            .bind(target.id.to_string())
            .bind(target.send_status.as_str())
            .bind(millis(lease_until))
            .bind(lease)
            .execute(&self.write)
            .await?;
            if claimed.rows_affected() == 1 {
                let interrupted = target.send_status == SendStatus::Sending;
                let attempts = target.attempts;
                out.push(DueSend { target, attempts, interrupted });
            }
        }
        Ok(out)
    }

    /// Records how an attempt at target `id`'s message ended; only the sender holding it (the row is
    /// still `sending`) can.
    pub async fn record_send(
        &self,
        id: DrillTargetId,
        result: &SendResult,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (status, reply, sent_at, next) = match result {
            SendResult::Sent(r) => ("sent", r, Some(millis(now)), None),
            SendResult::Retry(r, at) => ("queued", r, None, Some(millis(*at))),
            SendResult::Failed(r) => ("failed", r, None, None),
        };
        sqlx::query(
            "UPDATE drill_targets SET send_status = $2, last_reply = $3, sent_at = $4, \
               send_at = COALESCE($5, send_at), attempts = attempts + 1, lease_until = 0 \
             WHERE id = $1 AND send_status = 'sending'",
        )
        .bind(id.to_string())
        .bind(status)
        .bind(reply.chars().take(300).collect::<String>())
        .bind(sent_at)
        .bind(next)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Messages queued or being sent, across running drills (the sending backlog).
    pub async fn drill_backlog(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM drill_targets t JOIN drills d ON d.id = t.drill_id \
             WHERE d.status = 'running' AND t.send_status IN ('queued', 'sending')",
        )
        .fetch_one(&self.read)
        .await?
        .try_get("n")?)
    }
}
