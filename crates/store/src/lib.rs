//! Bonafide's storage: one implementation over SQLite (the embedded default) and PostgreSQL (production),
//! through `sqlx::Any` with one migration set and portable SQL.
//!
//! Everything that must hold across several server instances — challenge attempt counts and locks,
//! rate limits, request numbering — is decided here by single atomic statements, never in memory.
#![deny(missing_docs)]

mod audit;
mod backup;
mod batch;
mod campaigns;
mod checks;
mod codec;
mod correlation;
mod drill_progress;
mod drills;
mod events;
mod facts;
mod gauges;
mod limits;
mod lite;
mod official;
mod outreach;
mod params;
mod passkeys;
mod people;
mod people_query;
mod policy;
mod reports;
mod requests;
mod resources;
mod risk;
mod scim;
mod scratch;
mod services;
mod signin;
#[cfg(feature = "testing")]
pub mod testing;
mod versions;

pub use audit::{Actor, AuditEntry, AuditEvent, AuditFilter, AuditVerification, BrokenLink, GENESIS, Outcome};
pub use backup::BackupSummary;
pub use bonafide_domain::CampaignStatus;
pub use bonafide_domain::SessionStage;
pub use bonafide_domain::{NewPerson, Principal};
pub use campaigns::{Campaign, Cluster, CorrelationCounts, Sighted};
pub use checks::{AcrossChecks, Alert, CheckRecord, NewCheck};
pub use correlation::{ClusterStatus, CorrelationSettings};
pub use drill_progress::{DueSend, Mark, SendResult};
pub use drills::{Candidate, DrillRecord, NewDrill, NewTarget, TargetCheck, TargetRecord, normal_address};
pub use events::{Delivery, DueDelivery, Event, Webhook};
pub use facts::{CheckFacts, FactsQuery, StaffCandidate};
pub use gauges::{PoolUse, StoreGauges};
pub use limits::StaffLookups;
pub use outreach::{NewOutreach, Outreach};
pub use passkeys::{CeremonyKind, StoredPasskey, TakenCeremony};
pub use people::{Person, StaffCard, TokenInfo};
pub use people_query::{PeoplePage, PeopleQuery};
pub use policy::{DepartmentAcknowledgements, NewPolicyVersion, PolicyRecord, RemindersSent, Unacknowledged};
pub use reports::{Filed, NewReport, ReportRecord};
pub use requests::{NewRequest, RequestScope, SupportRequest};
pub use resources::{AccessCount, AccessPolicyRecord, ResourceRecord};
pub use risk::{BreachChanges, BreachKey, GroupSnapshot, PersonSnapshot, RiskPerson, RiskSettingsRecord};
pub use scim::{ScimRecord, ScimWrite};
pub use scratch::ScratchSchema;
pub use services::ServiceRecord;
pub use signin::{Credentials, NewSession, Session};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor, Row};
use std::str::FromStr;
use std::time::Duration;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused the statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The embedded SQLite database refused a statement on the direct read path.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The URL names a database Bonafide does not support.
    #[error("unsupported database url `{0}` (use sqlite://FILE or postgres://...)")]
    UnsupportedUrl(String),
    /// A uniqueness rule or a concurrent change stopped the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A queued write could not be committed.
    #[error("write failed: {0}")]
    Write(String),
    /// A stored value could not be read back; the database was edited outside Bonafide.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The audit log could not take the entries of a change, so the change was rolled back.
    #[error("audit log unavailable: {0}")]
    Audit(String),
    /// The connection carrying a queued write was lost before it committed, so nothing was written.
    #[error("database connection lost: {0}")]
    Lost(String),
    /// A backup file is not whole (truncated, altered) or not one this database can take; nothing was
    /// restored.
    #[error("cannot restore this backup: {0}")]
    BadBackup(String),
    /// A restore was asked into a database that already holds data; nothing was restored.
    #[error("the database to restore into is not empty ({0}); restore only into an empty database")]
    NotEmpty(String),
}

impl StoreError {
    /// Whether the database could not be reached (as opposed to refusing or failing a statement): the
    /// pool is exhausted or closed, the connection was reset, or the server ended it (SQLSTATE class `08`,
    /// connection exception; `57P01`..`57P03`, admin or crash shutdown, cannot connect now). Such a call
    /// may succeed if tried again.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Audit(_) | StoreError::Lost(_) => true,
            StoreError::Database(e) => connection_lost(e),
            _ => false,
        }
    }
}

/// Whether `e` says the connection, not the statement, failed.
pub(crate) fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| unavailable_sqlstate(&code)),
        _ => false,
    }
}

/// SQLSTATEs that mean the server ended or refused the connection.
fn unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

#[cfg(test)]
mod unavailable_tests {
    use super::*;

    #[test]
    fn connection_errors_are_unavailable_and_statement_errors_are_not() {
        for code in ["08000", "08003", "08006", "57P01", "57P02", "57P03"] {
            assert!(unavailable_sqlstate(code), "{code}");
        }
        for code in ["23505", "40001", "42P01", "57014", "22P02"] {
            assert!(!unavailable_sqlstate(code), "{code}");
        }
        let reset = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(StoreError::Database(reset).is_unavailable());
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::Lost("batch".into()).is_unavailable());
        assert!(!StoreError::Database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::Corrupt("x".into()).is_unavailable());
        assert!(!StoreError::Write("x".into()).is_unavailable());
    }
}

/// Which database a test store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file, one writer at a time.
    Sqlite,
    /// A shared server.
    Postgres,
}

/// The storage handle. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    read: AnyPool,
    // INVARIANT: on SQLite every write except the check rows goes through this one-connection pool, so
    // writers queue in order instead of sleeping in SQLite's busy handler; on PostgreSQL it is the same
    // pool as `read`.
    write: AnyPool,
    hot: HotPath,
    /// The database file, on SQLite (for its online backup).
    sqlite_file: Option<std::path::PathBuf>,
}

/// Where the statements that every check runs (principal, facts, the check's row) go.
#[derive(Debug, Clone)]
enum HotPath {
    /// SQLite: one worker thread with its own connection.
    Sqlite(lite::Lite),
    /// PostgreSQL: the pool, with check rows group-committed.
    Postgres(batch::CheckBatcher),
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

impl Store {
    /// Connects to `url`: `sqlite://FILE` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        if url.starts_with("sqlite:") {
            let url = if url.contains('?') { url.to_owned() } else { format!("{url}?mode=rwc") };
            let options = || {
                AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10)).after_connect(|conn, _| {
                    Box::pin(async move {
                        // WAL with synchronous = NORMAL survives a crash of the process (commits are in
                        // the WAL before the call returns) and only loses the last commits on power loss.
                        for pragma in
                            ["PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 10000", "PRAGMA synchronous = NORMAL"]
                        {
                            conn.execute(pragma).await?;
                        }
                        Ok(())
                    })
                })
            };
            let write = options().max_connections(1).connect(&url).await?;
            write.execute("PRAGMA journal_mode = WAL;").await?;
            let read = options().max_connections(8).connect(&url).await?;
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)?;
            let file = options.get_filename();
            if file.as_os_str().is_empty() || file.as_os_str() == ":memory:" {
                // Every connection would see a database of its own.
                return Err(StoreError::UnsupportedUrl("SQLite in memory; name a file".into()));
            }
            let hot = HotPath::Sqlite(lite::Lite::open(file)?);
            Ok(Self { read, write, hot, sqlite_file: Some(file.to_owned()) })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool =
                AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
            let hot = HotPath::Postgres(batch::CheckBatcher::spawn(pool.clone()));
            Ok(Self { read: pool.clone(), write: pool, hot, sqlite_file: None })
        } else {
            Err(StoreError::UnsupportedUrl(url.chars().take(40).collect()))
        }
    }

    /// Applies pending migrations. Safe to call on every start and from several instances.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.write).await?;
        Ok(())
    }

    /// SQLite's effective `(journal_mode, synchronous, foreign_keys)` on a reading and on the writing
    /// connection; for tests and diagnostics.
    pub async fn sqlite_pragmas(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let mut out = Vec::new();
        for pool in [&self.read, &self.write] {
            let mut conn = pool.acquire().await?;
            let journal: String = sqlx::query("PRAGMA journal_mode").fetch_one(&mut *conn).await?.try_get(0)?;
            let sync: i64 = sqlx::query("PRAGMA synchronous").fetch_one(&mut *conn).await?.try_get(0)?;
            let fk: i64 = sqlx::query("PRAGMA foreign_keys").fetch_one(&mut *conn).await?.try_get(0)?;
            out.push((journal, sync, fk));
        }
        Ok(out)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`] with `what`.
fn conflict_on_unique(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what.to_owned()),
        _ => StoreError::Database(e),
    }
}

/// An open write transaction.
type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Appends `events` in `tx` and commits. The change `tx` holds and its audit entries commit together or
/// not at all: an entry the log cannot take rolls the change back (and answers [`StoreError::Audit`]).
async fn commit_audited(mut tx: Tx<'_>, events: &[&AuditEvent], now: time::OffsetDateTime) -> Result<(), StoreError> {
    audit::append_in(&mut tx, events, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Raises the directory's generation in `tx`: every write that changes what the access policies see
/// calls it before committing (a test holds the store's writes to it), so that each instance reads the
/// directory afresh for its next decision.
async fn directory_changed(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    sqlx::query("UPDATE directory_generation SET generation = generation + 1 WHERE id = 1").execute(&mut **tx).await?;
    Ok(())
}

impl Store {
    /// Runs one write and, when it changed any row, records `audit` in the same transaction. Returns the
    /// rows changed; nothing is recorded for a write that changed nothing.
    async fn execute_audited<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        audit: &AuditEvent,
        now: time::OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.execute_audited_as(query, audit, now, false).await
    }

    /// [`Store::execute_audited`] for a write that changes the directory (see [`directory_changed`]).
    async fn execute_audited_directory<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        audit: &AuditEvent,
        now: time::OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.execute_audited_as(query, audit, now, true).await
    }

    async fn execute_audited_as<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        audit: &AuditEvent,
        now: time::OffsetDateTime,
        directory: bool,
    ) -> Result<u64, StoreError> {
        let mut tx = self.write.begin().await?;
        let changed = query.execute(&mut *tx).await?.rows_affected();
        if changed > 0 {
            if directory {
                directory_changed(&mut tx).await?;
            }
            commit_audited(tx, &[audit], now).await?;
        }
        Ok(changed)
    }
}

/// Marks SQL assembled at run time as reviewed. Only ever called with text built from constants in
/// this crate and integers (limits); every value from outside is bound as a parameter.
fn dynamic(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}
