//! Group commit for contact checks on PostgreSQL: concurrent inserts are written as one multi-row
//! statement. (SQLite's equivalent is in `lite`.)
//!
//! Checks are the write on the hot path. Writing each row on its own costs a round trip and a commit per
//! row; a batcher task takes the first waiting row, drains whatever else is queued (up to [`MAX_BATCH`])
//! and writes them together. A caller is answered only after its row is committed, so "recorded" still
//! means durable.

use crate::audit::{AuditEvent, append_in};
use crate::codec::from_millis;
use crate::params::{self, Param};
use crate::{StoreError, dynamic};
use sqlx::AnyPool;
use std::sync::LazyLock;
use tokio::sync::{mpsc, oneshot};

/// Most rows written by one statement ([`CHECK_PARAMS`] parameters each, far below either database's
/// limit).
const MAX_BATCH: usize = 128;

/// Parameters of one row: [`CheckRow::params`], in column order.
const CHECK_PARAMS: usize = 14;

/// The `INSERT` of `rows` check rows, the same text for a single row on either driver and for a
/// group-committed batch. Row `i` takes parameters `$(14i + 1)` to `$(14i + 14)`; the last, the row's
/// time, is both `created_at` and `updated_at`.
pub(crate) fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO contact_checks (id, employee_id, channel, claimed_staff_id, claimed_name, caller_number, \
         caller_address, request_number, asked_for, verdict, reasons, staffer_id, policy_version, created_at, \
         updated_at) VALUES ",
    );
    for row in 0..rows {
        let first = row * CHECK_PARAMS + 1;
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for p in first..first + CHECK_PARAMS {
            sql.push_str(&format!("${p}, "));
        }
        sql.push_str(&format!("${})", first + CHECK_PARAMS - 1));
    }
    sql
}

/// [`insert_sql`] of one row, built once: the SQLite worker inserts its rows one statement each.
pub(crate) static INSERT_ONE: LazyLock<String> = LazyLock::new(|| insert_sql(1));

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
    pub policy_version: Option<i64>,
    pub at: i64,
    /// Its `check.created` audit entry, committed with it.
    pub audit: AuditEvent,
}

impl CheckRow {
    /// The row's values in the order of [`insert_sql`]'s placeholders.
    pub(crate) fn params(&self) -> [Param<'_>; CHECK_PARAMS] {
        [
            Param::text(&self.id),
            Param::text(&self.employee),
            Param::text(self.channel),
            Param::opt_text(self.claimed_staff_id.as_deref()),
            Param::opt_text(self.claimed_name.as_deref()),
            Param::opt_text(self.caller_number.as_deref()),
            Param::opt_text(self.caller_address.as_deref()),
            Param::Int(self.request_number),
            Param::text(&self.asked_for),
            Param::text(self.verdict),
            Param::text(&self.reasons),
            Param::opt_text(self.staffer.as_deref()),
            Param::Int(self.policy_version),
            Param::int(self.at),
        ]
    }
}

type Job = (CheckRow, oneshot::Sender<Result<(), StoreError>>);

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
                    Ok(()) => rows.iter().map(|_| Ok(())).collect(),
                    // One bad row must not fail its neighbours, and a batch whose connection was cut is
                    // tried again on a fresh one: retry them one by one.
                    Err(_) if rows.len() > 1 => {
                        let mut each = Vec::with_capacity(rows.len());
                        for row in &rows {
                            each.push(insert(&pool, &[row]).await);
                        }
                        each
                    }
                    Err(e) => vec![Err(e)],
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
            Ok(Err(e)) if e.is_unavailable() => Err(StoreError::Lost(e.to_string())),
            Ok(Err(e)) => Err(StoreError::Write(e.to_string())),
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
    let mut query = sqlx::query(dynamic(insert_sql(rows.len())));
    for r in rows {
        query = params::bind(query, &r.params());
    }
    query.execute(conn).await?;
    Ok(())
}
