//! Fresh databases for tests: a temporary SQLite file, or a private PostgreSQL schema.
//!
//! PostgreSQL is reached at `BONAFIDE_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! A test that cannot reach it fails: there is no silent skip.

use crate::{Backend, Store, StoreError};
use sqlx::Executor;

/// A migrated store on a database nobody else uses, and its URL (for a second instance).
pub struct TestDb {
    /// The store.
    pub store: Store,
    /// The URL another instance can connect with.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Schema(crate::ScratchSchema),
}

fn admin_url() -> String {
    std::env::var("BONAFIDE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl TestDb {
    /// Creates and migrates a fresh database of `backend`.
    pub async fn new(backend: Backend) -> Result<Self, StoreError> {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("bonafide-test-{tag}.db"));
                (format!("sqlite://{}", path.display()), Cleanup::File(path))
            }
            Backend::Postgres => {
                let scratch = crate::ScratchSchema::create(&admin_url(), "t").await?;
                (scratch.url.clone(), Cleanup::Schema(scratch))
            }
        };
        let store = Store::connect(&url).await?;
        store.migrate().await?;
        Ok(Self { store, url, cleanup })
    }

    /// Runs `sql` directly on the database, bypassing the store: for tests that tamper with rows.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        let done = self.store.write.execute(crate::dynamic(sql.to_owned())).await?;
        Ok(done.rows_affected())
    }

    /// Makes every later append to the audit log fail (a trigger refuses the insert), so tests can show
    /// that a change whose audit entry cannot be written is not committed.
    pub async fn refuse_audit_appends(&self) -> Result<(), StoreError> {
        let statements: &[&str] = match self.cleanup {
            Cleanup::File(_) => &["CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
                 BEGIN SELECT RAISE(ABORT, 'audit log refuses appends'); END"],
            Cleanup::Schema(_) => &[
                "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'audit log refuses appends'; END $$",
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
            ],
        };
        for sql in statements {
            self.execute_raw(sql).await?;
        }
        Ok(())
    }

    /// Ends every server connection of this test database, as `pg_terminate_backend` (an admin shutdown,
    /// SQLSTATE `57P01`) would under a failover; returns how many were ended. On SQLite there is no server
    /// and nothing is ended.
    pub async fn cut_connections(&self) -> Result<u64, StoreError> {
        let Cleanup::Schema(scratch) = &self.cleanup else { return Ok(0) };
        let admin = sqlx::AnyPool::connect(scratch.admin_url()).await?;
        let ended = sqlx::query(
            "SELECT COUNT(*) AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND pid <> pg_backend_pid()) AS ended",
        )
        .bind(scratch.schema.as_str())
        .fetch_one(&admin)
        .await;
        admin.close().await;
        let n: i64 = sqlx::Row::try_get(&ended?, "n")?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// Closes the store and removes the database.
    pub async fn drop_db(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Schema(scratch) => scratch.drop_schema().await,
        }
    }
}
