//! Group commit for contact checks on PostgreSQL: concurrent inserts are written as one multi-row
//! statement. (SQLite's equivalent is in `lite`.)
//!
//! Checks are the write on the hot path. Writing each row on its own costs a round trip and a commit per
//! row; a batcher task takes the first waiting row, drains whatever else is queued (up to [`MAX_BATCH`])
//! and writes them together. A caller is answered only after its row is committed, so "recorded" still
//! means durable.

use crate::audit::{AuditEvent, append_in};
use crate::codec::from_millis;
use crate::{StoreError, dynamic};
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

/// Most rows written by one statement (14 parameters each, far below either database's limit).
const MAX_BATCH: usize = 128;

macro_rules! insert_prefix {
    () => {
        "INSERT INTO contact_checks (id, employee_id, channel, claimed_staff_id, claimed_name, caller_number, \
         caller_address, request_number, asked_for, verdict, reasons, staffer_id, created_at, updated_at) VALUES "
    };
}

const INSERT_PREFIX: &str = insert_prefix!();

/// One row, with the 13 parameters in [`CheckRow`]'s field order (`created_at` is also `updated_at`).
pub(crate) const INSERT_ONE: &str =
    concat!(insert_prefix!(), "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)");

/// One `contact_checks` row, in column form.
#[derive(Debug, Clone)]
pub(crate) struct CheckRow {
    pub id: String,
    pub employee: String,
    pub channel: &'static str,
    pub claimed_staff_id: Option<String>,
    pub claimed_name: Option<String>,
    pub caller_number: Option<String>,
    pub caller_address: Option<String>,
    pub request_number: Option<i64>,
    pub asked_for: String,
    pub verdict: &'static str,
    pub reasons: String,
    pub staffer: Option<String>,
    pub at: i64,
    /// Its `check.created` audit entry, committed with it.
    pub audit: AuditEvent,
}

type Job = (CheckRow, oneshot::Sender<Result<(), String>>);

/// The sending side; cheap to clone. The task stops when every clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct CheckBatcher {
    tx: mpsc::Sender<Job>,
}

impl CheckBatcher {
    /// Starts the batcher task on the current runtime.
    pub(crate) fn spawn(pool: AnyPool) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let rows: Vec<&CheckRow> = batch.iter().map(|(row, _)| row).collect();
                let results = match insert(&pool, &rows).await {
                    Ok(()) => vec![Ok(()); rows.len()],
                    // One bad row must not fail its neighbours: retry them one by one.
                    Err(_) if rows.len() > 1 => {
                        let mut each = Vec::with_capacity(rows.len());
                        for row in &rows {
                            each.push(insert(&pool, &[row]).await.map_err(|e| e.to_string()));
                        }
                        each
                    }
                    Err(e) => vec![Err(e.to_string())],
                };
                for ((_, reply), result) in batch.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
        });
        Self { tx }
    }

    /// Queues `row` and waits until it is committed.
    pub(crate) async fn insert(&self, row: CheckRow) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        self.tx.send((row, reply)).await.map_err(|_| StoreError::Write("the check writer has stopped".into()))?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Write(e)),
            Err(_) => Err(StoreError::Write("the check writer has stopped".into())),
        }
    }
}

/// Inserts `rows` and their audit entries in one transaction.
async fn insert(pool: &AnyPool, rows: &[&CheckRow]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    insert_rows(&mut tx, rows).await?;
    let events: Vec<&AuditEvent> = rows.iter().map(|r| &r.audit).collect();
    let at = rows.iter().map(|r| r.at).max().unwrap_or_default();
    append_in(&mut tx, &events, from_millis(at)?).await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_rows(conn: &mut sqlx::AnyConnection, rows: &[&CheckRow]) -> Result<(), sqlx::Error> {
    let mut sql = String::from(INSERT_PREFIX);
    for i in 0..rows.len() {
        let p = i * 14;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 1..=14 {
            sql.push_str(&format!("${}", p + c));
            sql.push_str(if c == 14 { ")" } else { ", " });
        }
    }
    let mut query = sqlx::query(dynamic(sql));
    for r in rows {
        query = query
            .bind(r.id.clone())
            .bind(r.employee.clone())
            .bind(r.channel)
            .bind(r.claimed_staff_id.clone())
            .bind(r.claimed_name.clone())
            .bind(r.caller_number.clone())
            .bind(r.caller_address.clone())
            .bind(r.request_number)
            .bind(r.asked_for.clone())
            .bind(r.verdict)
            .bind(r.reasons.clone())
            .bind(r.staffer.clone())
            .bind(r.at)
            .bind(r.at);
    }
    query.execute(conn).await?;
    Ok(())
}
