//! The direct SQLite read path for the two statements every check runs: the bearer token's principal
//! and the check's facts.
//!
//! sqlx's SQLite driver gives each connection a thread of its own and passes every statement, and every
//! row back, across channels. For these statements, index lookups of a few microseconds, the thread
//! switches cost many times the query: under 64 concurrent checks they were most of the server's CPU.
//! Here the statements run on the calling thread (marked as blocking on a multi-threaded runtime), on a
//! few read-only connections that keep their prepared statements. The SQL text is the same as on
//! PostgreSQL and the rows are decoded by the same code; only the driver differs.
//!
//! The query planner stability guarantee is on: otherwise SQLite re-plans a statement whenever a bound
//! value it looked at while planning (a `LIMIT $n`) is bound again, which is every execution.

use crate::StoreError;
use crate::codec::Columns;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, ToSql};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Read-only connections to one SQLite file.
#[derive(Debug)]
pub(crate) struct LiteReaders {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl LiteReaders {
    /// Opens `count` connections to the database file at `path`, which must exist.
    pub(crate) fn open(path: &Path, count: usize) -> Result<Self, StoreError> {
        let mut conns = Vec::with_capacity(count);
        for _ in 0..count.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
            )?;
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
            // A reader never writes, whatever statement reaches it.
            conn.pragma_update(None, "query_only", true)?;
            conn.set_prepared_statement_cache_capacity(16);
            conns.push(Mutex::new(conn));
        }
        Ok(Self { conns, next: AtomicUsize::new(0) })
    }

    /// Runs the portable `sql`, whose parameters are `$1`, `$2`, …, with `params` in that order, and
    /// hands each row to `each`.
    pub(crate) fn query(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        mut each: impl FnMut(&dyn Columns) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // `?N` is SQLite's numbered parameter: binding by position skips a by-name search per parameter.
        // The portable SQL has no `$` outside parameters.
        let sql = sql.replace('$', "?");
        let mut run = || {
            let conn = self.acquire()?;
            let mut statement = conn.prepare_cached(&sql)?;
            let mut rows = statement.query(params)?;
            while let Some(row) = rows.next()? {
                each(row)?;
            }
            Ok(())
        };
        // INVARIANT: never block a multi-threaded runtime's worker without telling it; a current-thread
        // runtime (tests) has no other worker to hand its tasks to.
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) if false => tokio::task::block_in_place(run),
            _ => run(),
        }
    }

    /// A free connection, or the next one in turn when all are busy.
    fn acquire(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        let n = self.conns.len().max(1);
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for i in 0..n {
            if let Some(Ok(conn)) = self.conns.get((start + i) % n).map(Mutex::try_lock) {
                return Ok(conn);
            }
        }
        let slot = self.conns.get(start).ok_or_else(|| StoreError::Write("no SQLite reader is open".into()))?;
        // A poisoned connection only means a panic elsewhere while it was held; SQLite's state is intact.
        Ok(slot.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
