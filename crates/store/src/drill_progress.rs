//! What happens to a drill's targets after launch: their messages taken for sending and the outcome of
//! each attempt, the landing page's marks, and drill reports.

use super::drills::{TARGET_COLUMNS, TargetRecord, target_from};
use crate::codec::millis;
use crate::{AuditEvent, Store, StoreError, dynamic};
use bonafide_domain::{DrillTargetId, ReportId, SendStatus};
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

/// What a target did on the landing page or by reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// The link was fetched.
    Opened,
    /// A button was pressed.
    Clicked,
    /// The form was submitted with this many characters typed.
    Submitted(i64),
    /// The lesson was read.
    LessonRead,
}

impl Store {
    /// Records `mark` on target `id` at `now`: only the first time of each (later ones change nothing
    /// and record nothing). A submission also counts as a click. True when something was recorded.
    pub async fn mark_drill_target(
        &self,
        id: DrillTargetId,
        mark: Mark,
        audit: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (sql, chars) = match mark {
            Mark::Opened => ("UPDATE drill_targets SET opened_at = $2 WHERE id = $1 AND opened_at IS NULL", None),
            Mark::Clicked => (
                "UPDATE drill_targets SET clicked_at = $2, opened_at = COALESCE(opened_at, $2) \
                 WHERE id = $1 AND clicked_at IS NULL",
                None,
            ),
            Mark::Submitted(n) => (
                "UPDATE drill_targets SET submitted_at = $2, typed_chars = $3, clicked_at = COALESCE(clicked_at, $2), \
                   opened_at = COALESCE(opened_at, $2) WHERE id = $1 AND submitted_at IS NULL",
                Some(n),
            ),
            Mark::LessonRead => {
                ("UPDATE drill_targets SET lesson_read_at = $2 WHERE id = $1 AND lesson_read_at IS NULL", None)
            }
        };
        let mut q = sqlx::query(sql).bind(id.to_string()).bind(millis(now));
        if let Some(n) = chars {
            q = q.bind(n);
        }
        Ok(self.execute_audited(q, audit, now).await? > 0)
    }

    /// Records a report of the drill by target `id`: kept as the drill's result (it joins no campaign and
    /// raises no alert). A second report changes nothing but can still turn `complied` on.
    pub async fn record_drill_report(
        &self,
        id: DrillTargetId,
        report: ReportId,
        complied: bool,
        audit: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let q = sqlx::query(
            "UPDATE drill_targets SET reported_at = COALESCE(reported_at, $2), report_id = COALESCE(report_id, $3), \
               reported_complied = CASE WHEN $4 = 1 THEN 1 ELSE reported_complied END WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(millis(now))
        .bind(report.to_string())
        .bind(i64::from(complied));
        self.execute_audited(q, audit, now).await?;
        Ok(())
    }

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
