//! QPQ drills: the drills, their targets (one row per person, holding the message's sending state and
//! what the person did), and the reads that grade them. Nothing typed on a landing page reaches this
//! crate, only a count of characters.

use crate::codec::{flag, from_millis, millis, parse};
use crate::{AuditEvent, Store, StoreError, Tx, commit_audited, dynamic};
use bonafide_domain::{
    DrillChannel, DrillId, DrillStatus, DrillTargetId, Email, PersonId, ReportId, SendStatus, Signals,
};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

mod sending;
pub use sending::{DueSend, SendResult};

/// A drill as written by a security admin.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDrill {
    /// Its id.
    pub id: DrillId,
    /// Its name.
    pub name: String,
    /// The built-in scenario it was made from, if any.
    pub scenario_id: Option<String>,
    /// The scenario as JSON.
    pub scenario: String,
    /// How it is sent.
    pub channel: DrillChannel,
    /// Who it targets, as JSON.
    pub targets: String,
    /// The sending window.
    pub window_hours: u32,
    /// The persona's address, lower-case.
    pub sender_address: Option<String>,
    /// The persona's number, E.164 when it reads as one.
    pub caller_number: Option<String>,
    /// The persona's staff id, upper-case.
    pub claimed_staff_id: Option<String>,
    /// Who wrote it.
    pub created_by: PersonId,
}

/// A drill as stored, with its targets counted by sending state.
#[derive(Debug, Clone, PartialEq)]
pub struct DrillRecord {
    /// What was written.
    pub drill: NewDrill,
    /// Where it is.
    pub status: DrillStatus,
    /// When it was written.
    pub created_at: OffsetDateTime,
    /// When it was launched.
    pub launched_at: Option<OffsetDateTime>,
    /// When it was stopped.
    pub stopped_at: Option<OffsetDateTime>,
    /// When its window ends.
    pub ends_at: Option<OffsetDateTime>,
    /// How many targets it has.
    pub targets: i64,
    /// How many messages went out.
    pub sent: i64,
    /// How many failed for good.
    pub failed: i64,
}

/// A target as launch writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTarget {
    /// Its id (its link token is derived from it).
    pub id: DrillTargetId,
    /// Who.
    pub person: PersonId,
    /// Their email.
    pub email: String,
    /// Their name.
    pub display_name: String,
    /// Their department, copied (counts must not change when people move).
    pub department: String,
    /// Their mobile number, for SMS.
    pub phone: Option<String>,
    /// SHA-256 of the link token.
    pub token_hash: String,
    /// When it is sent.
    pub send_at: OffsetDateTime,
}

/// A person a drill may target.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Who.
    pub person: PersonId,
    /// Their email.
    pub email: String,
    /// Their name.
    pub display_name: String,
    /// Their department.
    pub department: String,
    /// Their first mobile number.
    pub phone: Option<String>,
}

/// A target as results and the landing page read it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRecord {
    /// Its id.
    pub id: DrillTargetId,
    /// The drill.
    pub drill: DrillId,
    /// Who.
    pub person: PersonId,
    /// Their email.
    pub email: String,
    /// Their name.
    pub display_name: String,
    /// Their department at launch.
    pub department: String,
    /// Their number, for SMS.
    pub phone: Option<String>,
    /// The message's state.
    pub send_status: SendStatus,
    /// Attempts so far.
    pub attempts: i64,
    /// The server's last reply.
    pub last_reply: Option<String>,
    /// When it is, or was, due.
    pub send_at: Option<OffsetDateTime>,
    /// When it was accepted.
    pub sent_at: Option<OffsetDateTime>,
    /// What the person did (the check part is filled by the use case, which reads checks itself).
    pub signals: Signals,
    /// How many characters were typed into the landing page.
    pub typed_chars: Option<i64>,
    /// The drill report, if one was filed.
    pub report: Option<ReportId>,
    /// When the lesson was read.
    pub lesson_read_at: Option<OffsetDateTime>,
}

/// A contact check one of a drill's targets ran after the drill launched.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetCheck {
    /// Who ran it.
    pub person: PersonId,
    /// The staff id they were given.
    pub claimed_staff_id: Option<String>,
    /// The number, as typed.
    pub caller_number: Option<String>,
    /// The address, as typed.
    pub caller_address: Option<String>,
    /// The verdict's name.
    pub verdict: String,
    /// When.
    pub at: OffsetDateTime,
}

const DRILL_COLUMNS: &str = "d.id, d.name, d.scenario_id, d.scenario, d.channel, d.targets, d.window_hours, d.status, \
     d.sender_address, d.caller_number, d.claimed_staff_id, d.created_by, d.created_at, d.launched_at, d.stopped_at, \
     d.ends_at, \
     (SELECT COUNT(*) FROM drill_targets t WHERE t.drill_id = d.id) AS n_targets, \
     (SELECT COUNT(*) FROM drill_targets t WHERE t.drill_id = d.id AND t.send_status = 'sent') AS n_sent, \
     (SELECT COUNT(*) FROM drill_targets t WHERE t.drill_id = d.id AND t.send_status = 'failed') AS n_failed";

const TARGET_COLUMNS: &str = "t.id, t.drill_id, t.person_id, t.email, t.display_name, t.department, t.phone, \
     t.send_status, t.attempts, t.last_reply, t.send_at, t.sent_at, t.opened_at, t.clicked_at, t.submitted_at, \
     t.typed_chars, t.reported_at, t.reported_complied, t.report_id, t.lesson_read_at, t.lease_until";

fn time_opt(row: &AnyRow, col: &str) -> Result<Option<OffsetDateTime>, StoreError> {
    row.try_get::<Option<i64>, _>(col)?.map(from_millis).transpose()
}

fn named<T>(what: &str, text: &str, f: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    f(text).ok_or_else(|| StoreError::Corrupt(format!("{what} `{text}`")))
}

fn drill_from(row: &AnyRow) -> Result<DrillRecord, StoreError> {
    let window: i64 = row.try_get("window_hours")?;
    Ok(DrillRecord {
        drill: NewDrill {
            id: parse("drill id", &row.try_get::<String, _>("id")?)?,
            name: row.try_get("name")?,
            scenario_id: row.try_get("scenario_id")?,
            scenario: row.try_get("scenario")?,
            channel: named("drill channel", &row.try_get::<String, _>("channel")?, DrillChannel::from_name)?,
            targets: row.try_get("targets")?,
            window_hours: u32::try_from(window).map_err(|_| StoreError::Corrupt(format!("window {window}")))?,
            sender_address: row.try_get("sender_address")?,
            caller_number: row.try_get("caller_number")?,
            claimed_staff_id: row.try_get("claimed_staff_id")?,
            created_by: parse("person id", &row.try_get::<Option<String>, _>("created_by")?.unwrap_or_default())?,
        },
        status: named("drill status", &row.try_get::<String, _>("status")?, DrillStatus::from_name)?,
        created_at: from_millis(row.try_get("created_at")?)?,
        launched_at: time_opt(row, "launched_at")?,
        stopped_at: time_opt(row, "stopped_at")?,
        ends_at: time_opt(row, "ends_at")?,
        targets: row.try_get("n_targets")?,
        sent: row.try_get("n_sent")?,
        failed: row.try_get("n_failed")?,
    })
}

fn target_from(row: &AnyRow) -> Result<TargetRecord, StoreError> {
    let report: Option<String> = row.try_get("report_id")?;
    Ok(TargetRecord {
        id: parse("drill target id", &row.try_get::<String, _>("id")?)?,
        drill: parse("drill id", &row.try_get::<String, _>("drill_id")?)?,
        person: parse("person id", &row.try_get::<String, _>("person_id")?)?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        department: row.try_get("department")?,
        phone: row.try_get("phone")?,
        send_status: named("send status", &row.try_get::<String, _>("send_status")?, SendStatus::from_name)?,
        attempts: row.try_get("attempts")?,
        last_reply: row.try_get("last_reply")?,
        send_at: time_opt(row, "send_at")?,
        sent_at: time_opt(row, "sent_at")?,
        signals: Signals {
            opened: time_opt(row, "opened_at")?,
            clicked: time_opt(row, "clicked_at")?,
            submitted: time_opt(row, "submitted_at")?,
            reported: time_opt(row, "reported_at")?,
            reported_complied: flag(row.try_get("reported_complied")?),
            verified: None,
        },
        typed_chars: row.try_get("typed_chars")?,
        report: report.map(|r| parse("report id", &r)).transpose()?,
        lesson_read_at: time_opt(row, "lesson_read_at")?,
    })
}

/// Rows inserted per statement at launch (11 parameters each, well under either database's limit).
const TARGETS_PER_INSERT: usize = 500;

async fn insert_targets(tx: &mut Tx<'_>, drill: DrillId, targets: &[NewTarget]) -> Result<(), StoreError> {
    for (chunk_no, chunk) in targets.chunks(TARGETS_PER_INSERT).enumerate() {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 10;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, 'queued')",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7,
                    p + 8,
                    p + 9,
                    p + 10
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO drill_targets (id, drill_id, person_id, email, display_name, department, phone, \
               token_hash, position, send_at, send_status) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(dynamic(sql));
        for (i, t) in chunk.iter().enumerate() {
            let position = i64::try_from(chunk_no * TARGETS_PER_INSERT + i).unwrap_or(i64::MAX);
            q = q
                .bind(t.id.to_string())
                .bind(drill.to_string())
                .bind(t.person.to_string())
                .bind(t.email.clone())
                .bind(t.display_name.clone())
                .bind(t.department.clone())
                .bind(t.phone.clone())
                .bind(t.token_hash.clone())
                .bind(position)
                .bind(millis(t.send_at));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// Stores a drill written by a security admin, as a draft.
    pub async fn create_drill(&self, d: &NewDrill, audit: &AuditEvent, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO drills (id, name, scenario_id, scenario, channel, targets, window_hours, status, \
               sender_address, caller_number, claimed_staff_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $9, $10, $11, $12)",
        )
        .bind(d.id.to_string())
        .bind(&d.name)
        .bind(&d.scenario_id)
        .bind(&d.scenario)
        .bind(d.channel.as_str())
        .bind(&d.targets)
        .bind(i64::from(d.window_hours))
        .bind(&d.sender_address)
        .bind(&d.caller_number)
        .bind(&d.claimed_staff_id)
        .bind(d.created_by.to_string())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        commit_audited(tx, &[audit], now).await
    }

    /// Every drill, newest first.
    pub async fn drills(&self) -> Result<Vec<DrillRecord>, StoreError> {
        let rows =
            sqlx::query(dynamic(format!("SELECT {DRILL_COLUMNS} FROM drills d ORDER BY d.created_at DESC, d.id")))
                .fetch_all(&self.read)
                .await?;
        rows.iter().map(drill_from).collect()
    }

    /// Drill `id`.
    pub async fn drill(&self, id: DrillId) -> Result<Option<DrillRecord>, StoreError> {
        let row = sqlx::query(dynamic(format!("SELECT {DRILL_COLUMNS} FROM drills d WHERE d.id = $1")))
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(drill_from).transpose()
    }

    /// The active people a drill may target, by email.
    pub async fn drill_candidates(&self) -> Result<Vec<Candidate>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.id, p.email, p.display_name, p.department, \
               (SELECT MIN(c.value) FROM person_contacts c WHERE c.person_id = p.id AND c.kind = 'phone') AS phone \
             FROM people p WHERE p.status = 'active' ORDER BY p.email",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Candidate {
                    person: parse("person id", &r.try_get::<String, _>("id")?)?,
                    email: r.try_get("email")?,
                    display_name: r.try_get("display_name")?,
                    department: r.try_get("department")?,
                    phone: r.try_get("phone")?,
                })
            })
            .collect()
    }

    /// Launches draft `id` with `targets`, in one transaction: false (and nothing written) when it is not
    /// a draft any more.
    pub async fn launch_drill(
        &self,
        id: DrillId,
        targets: &[NewTarget],
        ends_at: OffsetDateTime,
        audit: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let launched = sqlx::query(
            "UPDATE drills SET status = 'running', launched_at = $2, ends_at = $3 WHERE id = $1 AND status = 'draft'",
        )
        .bind(id.to_string())
        .bind(millis(now))
        .bind(millis(ends_at))
        .execute(&mut *tx)
        .await?;
        if launched.rows_affected() == 0 {
            return Ok(false);
        }
        insert_targets(&mut tx, id, targets).await?;
        commit_audited(tx, &[audit], now).await?;
        Ok(true)
    }

    /// Stops running drill `id`: messages not yet taken are cancelled. False when it was not running.
    pub async fn stop_drill(&self, id: DrillId, audit: &AuditEvent, now: OffsetDateTime) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let stopped =
            sqlx::query("UPDATE drills SET status = 'stopped', stopped_at = $2 WHERE id = $1 AND status = 'running'")
                .bind(id.to_string())
                .bind(millis(now))
                .execute(&mut *tx)
                .await?;
        if stopped.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE drill_targets SET send_status = 'cancelled' WHERE drill_id = $1 AND send_status = 'queued'",
        )
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        commit_audited(tx, &[audit], now).await?;
        Ok(true)
    }

    /// Every target of drill `id`, in sending order.
    pub async fn drill_targets(&self, id: DrillId) -> Result<Vec<TargetRecord>, StoreError> {
        let rows = sqlx::query(dynamic(format!(
            "SELECT {TARGET_COLUMNS} FROM drill_targets t WHERE t.drill_id = $1 ORDER BY t.position"
        )))
        .bind(id.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(target_from).collect()
    }

    /// Every drill `person` was a target of, with their row, newest drill first.
    pub async fn person_drills(&self, person: PersonId) -> Result<Vec<(DrillRecord, TargetRecord)>, StoreError> {
        let rows = sqlx::query(dynamic(format!("SELECT {TARGET_COLUMNS} FROM drill_targets t WHERE t.person_id = $1")))
            .bind(person.to_string())
            .fetch_all(&self.read)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let target = target_from(row)?;
            if let Some(d) = self.drill(target.drill).await? {
                out.push((d, target));
            }
        }
        out.sort_by_key(|d| std::cmp::Reverse(d.0.created_at));
        Ok(out)
    }

    /// The target whose link token hashes to `hash`, with its drill.
    pub async fn drill_target_by_token(&self, hash: &str) -> Result<Option<(DrillRecord, TargetRecord)>, StoreError> {
        let row = sqlx::query(dynamic(format!("SELECT {TARGET_COLUMNS} FROM drill_targets t WHERE t.token_hash = $1")))
            .bind(hash)
            .fetch_optional(&self.read)
            .await?;
        let Some(target) = row.as_ref().map(target_from).transpose()? else { return Ok(None) };
        Ok(self.drill(target.drill).await?.map(|d| (d, target)))
    }

    /// Contact checks run by drill `id`'s targets since `since`, oldest first.
    pub async fn drill_checks(&self, id: DrillId, since: OffsetDateTime) -> Result<Vec<TargetCheck>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.employee_id, c.claimed_staff_id, c.caller_number, c.caller_address, c.verdict, c.created_at \
             FROM drill_targets t JOIN contact_checks c ON c.employee_id = t.person_id AND c.created_at >= $2 \
             WHERE t.drill_id = $1 ORDER BY c.created_at",
        )
        .bind(id.to_string())
        .bind(millis(since))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TargetCheck {
                    person: parse("person id", &r.try_get::<String, _>("employee_id")?)?,
                    claimed_staff_id: r.try_get("claimed_staff_id")?,
                    caller_number: r.try_get("caller_number")?,
                    caller_address: r.try_get("caller_address")?,
                    verdict: r.try_get("verdict")?,
                    at: from_millis(r.try_get("created_at")?)?,
                })
            })
            .collect()
    }

    /// The drills (launched, not drafts) whose persona has the address, number or staff id given, for a
    /// report by `person`: each with `person`'s target row, when they were a target.
    pub async fn drills_matching(
        &self,
        person: PersonId,
        address: Option<&str>,
        number: Option<&str>,
        staff_id: Option<&str>,
    ) -> Result<Vec<(DrillRecord, TargetRecord)>, StoreError> {
        let rows = sqlx::query(dynamic(format!(
            "SELECT {TARGET_COLUMNS} FROM drill_targets t JOIN drills d ON d.id = t.drill_id \
             WHERE t.person_id = $1 AND d.status <> 'draft' AND t.send_status = 'sent' AND \
               (d.sender_address = $2 OR d.caller_number = $3 OR d.claimed_staff_id = $4) \
             ORDER BY t.sent_at DESC"
        )))
        .bind(person.to_string())
        .bind(address)
        .bind(number)
        .bind(staff_id)
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let target = target_from(row)?;
            if let Some(d) = self.drill(target.drill).await? {
                out.push((d, target));
            }
        }
        Ok(out)
    }
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
}

/// The email a drill target's address normalises to (`Email` rules), for matching reports.
pub fn normal_address(text: &str) -> Option<String> {
    text.trim().to_lowercase().parse::<Email>().ok().map(|e| e.as_str().to_owned())
}
