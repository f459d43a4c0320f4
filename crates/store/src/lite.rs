//! SQLite's hot path: the statements every check runs (the bearer token's principal, the check's facts,
//! the check's row) on one connection owned by one thread.
//!
//! sqlx's SQLite driver gives each connection a thread of its own and passes every statement, and every
//! row back, across channels; and in WAL mode a connection throws its whole page cache away whenever
//! another connection has committed since its last read. Under 64 concurrent checks those two costs were
//! most of the server's CPU, while the statements themselves are index lookups of a few microseconds.
//! Here one thread owns one read-write connection: it takes whatever work is queued, runs all the reads
//! in one read transaction and all the queued check rows in one write transaction (group commit), and
//! since the check rows are its own writes its page cache stays warm. The SQL text is the same as on
//! PostgreSQL and rows are decoded by the same code; only the driver differs.
//!
//! Other writes still go through sqlx's single writing connection; the two take turns through SQLite's
//! write lock (busy timeout), which is contended only for the length of one short transaction.
//!
//! The query planner stability guarantee is on: otherwise SQLite re-plans a statement whenever a bound
//! value it looked at while planning (a `LIMIT $n`) is bound again, which is every execution.

use crate::StoreError;
use crate::audit::{self, AuditEvent};
use crate::batch::CheckRow;
use crate::codec::Columns;
use crate::codec::from_millis;
use crate::params::Param;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, ToSql};
use std::any::Any;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most jobs taken in one turn of the worker.
const MAX_TURN: usize = 256;

/// Most values kept by [`Lite::read_memo`] before the memo starts afresh.
const MEMO_CAPACITY: usize = 10_000;

/// Values read before, valid while no other connection has committed (see [`Lite::read_memo`]).
#[derive(Default)]
struct Memo {
    data_version: i64,
    values: HashMap<String, Box<dyn Any + Send>>,
}

/// How often the WAL is checkpointed.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

type Read = Box<dyn FnOnce(&Connection, &mut Memo) + Send>;
type Reply = oneshot::Sender<Result<(), String>>;

enum Job {
    Read(Read),
    Insert(Box<CheckRow>, Reply),
}

/// A read-only connection of its own that answers "what is this small value now?" in the caller's
/// thread, with no trip to the worker: it remembers each value until another connection commits.
struct Probe {
    conn: Connection,
    data_version: i64,
    values: HashMap<&'static str, i64>,
}

/// The handle to the worker thread; cheap to clone. The thread ends when every clone is dropped.
#[derive(Clone)]
pub(crate) struct Lite {
    tx: mpsc::Sender<Job>,
    probe: std::sync::Arc<std::sync::Mutex<Probe>>,
    /// Dropped with the last handle, which stops the checkpointer.
    _checkpoints: std::sync::mpsc::Sender<()>,
}

impl std::fmt::Debug for Lite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lite").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Job::Read(_) => "Read",
            Job::Insert(..) => "Insert",
        })
    }
}

const STOPPED: &str = "the SQLite worker has stopped";

impl Lite {
    /// Opens the database file at `path` (which must exist, with the schema applied or about to be)
    /// and starts the worker thread.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.set_prepared_statement_cache_capacity(16);
        // Copying the WAL back into the database takes milliseconds; done by this thread it would hold
        // up every check queued behind it. The checkpointer does it instead.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let probe =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        probe.busy_timeout(Duration::from_secs(10))?;
        let probe =
            std::sync::Arc::new(std::sync::Mutex::new(Probe { conn: probe, data_version: -1, values: HashMap::new() }));
        let checkpointer = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        checkpointer.busy_timeout(Duration::from_secs(10))?;
        let (tx, rx) = mpsc::channel(4096);
        let (checkpoints, stop) = std::sync::mpsc::channel();
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| StoreError::Write(format!("starting the SQLite {name}: {e}")))
        };
        spawn("bonafide-sqlite", Box::new(move || work(&conn, rx)))?;
        spawn("bonafide-checkpoint", Box::new(move || checkpoint(&checkpointer, &stop)))?;
        Ok(Self { tx, probe, _checkpoints: checkpoints })
    }

    /// Jobs waiting in the worker's queue.
    pub(crate) fn queued(&self) -> usize {
        self.tx.max_capacity().saturating_sub(self.tx.capacity())
    }

    /// Runs `read` on the worker's connection, inside a read transaction, and returns its result.
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Read(Box::new(move |conn, _| {
            let _ = reply.send(read(conn));
        }));
        self.tx.send(job).await.map_err(|_| StoreError::Write(STOPPED.into()))?;
        answer.await.map_err(|_| StoreError::Write(STOPPED.into()))?
    }

    /// Like [`Lite::read`], but remembers the value under `key` and answers from memory until another
    /// connection commits anything (SQLite's `data_version`, read at the start of every turn). The
    /// worker's own writes are check rows only, so a value read from any other table is never stale.
    pub(crate) async fn read_memo<T: Clone + Send + 'static>(
        &self,
        key: String,
        read: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Read(Box::new(move |conn, memo: &mut Memo| {
            if let Some(known) = memo.values.get(&key).and_then(|v| v.downcast_ref::<T>()) {
                let _ = reply.send(Ok(known.clone()));
                return;
            }
            let value = read(conn);
            if let Ok(v) = &value {
                if memo.values.len() >= MEMO_CAPACITY {
                    memo.values.clear();
                }
                memo.values.insert(key, Box::new(v.clone()));
            }
            let _ = reply.send(value);
        }));
        self.tx.send(job).await.map_err(|_| StoreError::Write(STOPPED.into()))?;
        answer.await.map_err(|_| StoreError::Write(STOPPED.into()))?
    }

    /// The integer `sql` reads (one row, its first column), remembered under `key` until another
    /// connection commits (SQLite's `data_version`). Read in the caller's thread on the probe's own
    /// connection: microseconds, under a lock held only for them.
    pub(crate) fn probe_int(&self, key: &'static str, sql: &str) -> Result<i64, StoreError> {
        let mut probe = self.probe.lock().map_err(|_| StoreError::Write("the SQLite probe failed".into()))?;
        let version: i64 = probe.conn.prepare_cached("PRAGMA data_version")?.query_row([], |r| r.get(0))?;
        if version != probe.data_version {
            probe.values.clear();
            probe.data_version = version;
        }
        if let Some(v) = probe.values.get(key) {
            return Ok(*v);
        }
        let value: i64 = prepare(&probe.conn, sql)?.query_row([], |r| r.get(0))?;
        probe.values.insert(key, value);
        Ok(value)
    }

    /// Queues `row` and waits until it is committed.
    pub(crate) async fn insert_check(&self, row: CheckRow) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        self.tx.send(Job::Insert(Box::new(row), reply)).await.map_err(|_| StoreError::Write(STOPPED.into()))?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Write(e)),
            Err(_) => Err(StoreError::Write(STOPPED.into())),
        }
    }
}

/// The prepared (and cached) statement for the portable `sql`, whose parameters are `$1`, `$2`, ….
pub(crate) fn prepare<'c>(conn: &'c Connection, sql: &str) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    // `?N` is SQLite's numbered parameter: binding by position skips a by-name search per parameter.
    // The portable SQL has no `$` outside parameters (`params`' tests hold the shared statements to it).
    conn.prepare_cached(&sql.replace('$', "?"))
}

/// Runs the portable `sql` with `params` in parameter order, and hands each row to `each`.
pub(crate) fn query(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
    each: impl FnMut(&dyn Columns) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    rows(conn, sql, params, each)
}

/// [`query`] with the statement's [`Param`] list, the one its sqlx path binds too.
pub(crate) fn query_params(
    conn: &Connection,
    sql: &str,
    params: &[Param<'_>],
    each: impl FnMut(&dyn Columns) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    rows(conn, sql, rusqlite::params_from_iter(params), each)
}

fn rows(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    mut each: impl FnMut(&dyn Columns) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut statement = prepare(conn, sql)?;
    let mut rows = statement.query(params)?;
    while let Some(row) = rows.next()? {
        each(row)?;
    }
    Ok(())
}

/// The worker: one turn per batch of queued jobs, until every sender is gone.
fn work(conn: &Connection, mut rx: mpsc::Receiver<Job>) {
    let mut memo = Memo::default();
    let mut reads: Vec<Read> = Vec::new();
    let mut inserts: Vec<(Box<CheckRow>, Reply)> = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Read(read) => reads.push(read),
                Job::Insert(row, reply) => inserts.push((row, reply)),
            }
            if reads.len() + inserts.len() < MAX_TURN {
                next = rx.try_recv().ok();
            }
        }
        turn(conn, &mut memo, &mut reads, &mut inserts);
    }
}

/// Runs one turn's jobs in one transaction: the reads (answered at once) and then the check rows
/// (answered after the commit). A turn with rows takes the write lock from the start, so its reads and
/// writes share one transaction; a turn of reads only takes a snapshot.
fn turn(conn: &Connection, memo: &mut Memo, reads: &mut Vec<Read>, inserts: &mut Vec<(Box<CheckRow>, Reply)>) {
    // If BEGIN fails, each statement runs in a transaction of its own instead.
    let began = statement(conn, if inserts.is_empty() { "BEGIN" } else { "BEGIN IMMEDIATE" }).is_ok();
    if !reads.is_empty() {
        // Read inside the transaction, so the memo and the reads see the same snapshot. If it cannot be
        // read, nothing is remembered.
        match conn.prepare_cached("PRAGMA data_version").and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0))) {
            Ok(version) if version == memo.data_version => {}
            Ok(version) => {
                memo.values.clear();
                memo.data_version = version;
            }
            Err(_) => {
                memo.values.clear();
                memo.data_version = -1;
            }
        }
    }
    for read in reads.drain(..) {
        read(conn, memo);
    }
    if inserts.is_empty() {
        if began {
            let _ = statement(conn, "COMMIT");
        }
        return;
    }
    let rows: Vec<&CheckRow> = inserts.iter().map(|(row, _)| &**row).collect();
    let together = began && insert_rows(conn, &rows).and_then(|()| statement(conn, "COMMIT")).is_ok();
    let results = if together {
        vec![Ok(()); rows.len()]
    } else {
        // One bad row must not fail its neighbours: retry them one by one.
        rollback(conn);
        rows.iter()
            .map(|row| {
                let one = statement(conn, "BEGIN IMMEDIATE")
                    .and_then(|()| insert_rows(conn, &[row]))
                    .and_then(|()| statement(conn, "COMMIT"));
                one.map_err(|e| {
                    rollback(conn);
                    e.to_string()
                })
            })
            .collect()
    };
    for ((_, reply), result) in inserts.drain(..).zip(results) {
        let _ = reply.send(result);
    }
}

/// Runs a statement without parameters or rows (`BEGIN`, `COMMIT`), prepared once.
fn statement(conn: &Connection, sql: &str) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = statement(conn, "ROLLBACK");
    }
}

/// Every [`CHECKPOINT_EVERY`], copies committed WAL frames back into the database without blocking
/// readers or the writer (a passive checkpoint), until `stop`'s sender is dropped.
fn checkpoint(conn: &Connection, stop: &std::sync::mpsc::Receiver<()>) {
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

/// Inserts `rows` and their audit entries in the open transaction.
fn insert_rows(conn: &Connection, rows: &[&CheckRow]) -> Result<(), rusqlite::Error> {
    insert_check_rows(conn, rows)?;
    let events: Vec<&AuditEvent> = rows.iter().map(|r| &r.audit).collect();
    let at = rows.iter().map(|r| r.at).max().unwrap_or_default();
    let at = from_millis(at).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    append_lite(conn, &events, at)
}

fn insert_check_rows(conn: &Connection, rows: &[&CheckRow]) -> Result<(), rusqlite::Error> {
    let mut statement = prepare(conn, &crate::batch::INSERT_ONE)?;
    for r in rows {
        statement.execute(r.params())?;
    }
    Ok(())
}

/// Appends `events` in the open rusqlite transaction: the same statements and values as [`audit::append_in`].
pub(crate) fn append_lite(
    conn: &rusqlite::Connection,
    events: &[&AuditEvent],
    at: time::OffsetDateTime,
) -> Result<(), rusqlite::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let (seq, hash): (i64, String) =
        prepare(conn, audit::TAKE_HEAD)?.query_row([Param::int(n)], |r| Ok((r.get("seq")?, r.get("hash")?)))?;
    let entries = audit::chain(seq - n, &hash, at, events);
    let mut insert = prepare(conn, audit::INSERT_ENTRY)?;
    for e in &entries {
        insert.execute(e.params())?;
    }
    if let Some(last) = entries.last() {
        prepare(conn, audit::SET_HEAD_HASH)?.execute([Param::text(&last.hash)])?;
    }
    Ok(())
}
