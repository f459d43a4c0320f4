//! `bonafide backup` and `bonafide restore`: one portable file, taken online from either database and
//! restored into an empty one of either kind (so moving from the embedded SQLite to PostgreSQL is one
//! command). A truncated or altered file, or a database that is not empty, is refused with exit code 3
//! and nothing restored.

use crate::InvalidInputError;
use crate::operator::{cli_app, open_store};
use crate::settings::Settings;
use bonafide_app::AppError;
use bonafide_app::records::BackupSummary;
use bonafide_store::StoreError;
use std::path::Path;

/// A refused backup or restore as the binary's error: a bad file or a database that is not empty exits
/// with 3, anything else with 1.
fn refused(e: AppError) -> anyhow::Error {
    match e {
        AppError::Internal(e @ (StoreError::BadBackup(_) | StoreError::NotEmpty(_))) => {
            InvalidInputError(e.to_string()).into()
        }
        other => anyhow::Error::from(other),
    }
}

fn report(verb: &str, file: &Path, s: &BackupSummary, json: bool) -> anyhow::Result<()> {
    if json {
        let out = serde_json::json!({ "file": file, "schema": s.schema, "rows": s.rows(), "tables": s.tables });
        outln!("{}", serde_json::to_string(&out)?);
    } else {
        outln!(
            "{verb} {}: {} rows in {} tables (schema version {})",
            file.display(),
            s.rows(),
            s.tables.len(),
            s.schema
        );
    }
    Ok(())
}

/// Runs `bonafide backup`.
pub async fn run_backup(settings: &Settings, out: &Path, json: bool) -> anyhow::Result<()> {
    let app = cli_app(settings).await?;
    let bar = crate::progress::bar(Some(0), "rows", json);
    let summary = bonafide_app::backup::backup(&app, out, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await
    .map_err(refused)?;
    bar.finish_and_clear();
    report("backed up to", out, &summary, json)
}

/// Runs `bonafide restore`.
pub async fn run_restore(settings: &Settings, file: &Path, json: bool) -> anyhow::Result<()> {
    let store = open_store(&settings.db).await?;
    let bar = crate::progress::bar(Some(0), "rows", json);
    let summary = bonafide_app::backup::restore(&store, file, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await
    .map_err(refused)?;
    bar.finish_and_clear();
    store.close().await;
    report("restored from", file, &summary, json)
}

#[cfg(test)]
mod tests {
    use bonafide_store::testing::TestDb;
    use bonafide_store::{Backend, Store, StoreError};
    use std::collections::BTreeMap;
    use std::path::Path;

    fn quiet(_: u64, _: u64) {}

    /// Every table's rows, in a form to compare across databases.
    async fn counts(store: &Store, file: &Path) -> BTreeMap<String, u64> {
        store.backup(file, &quiet).await.unwrap().tables
    }

    /// The demo company moves from `from` to `to` and back, whole: every count, the audit chain, and the
    /// sealed authenticator seeds still open with the same secret.
    async fn the_demo_company_moves_between(from: Backend, to: Backend) {
        let dir = tempfile::tempdir().unwrap();
        let source = TestDb::new(from).await.unwrap();
        crate::demo::seed(&source.store, time::OffsetDateTime::now_utc()).await.unwrap();
        let file = dir.path().join("company.backup");
        let written = source.store.backup(&file, &quiet).await.unwrap();
        assert!(written.tables.get("people").copied().unwrap_or(0) >= 48);
        assert!(written.tables.get("audit_log").copied().unwrap_or(0) > 100, "{:?}", written.tables);
        assert!(written.tables.get("risk_snapshot_days").copied().unwrap_or(0) >= 90);
        let target = TestDb::new(to).await.unwrap();
        let restored = target.store.restore(&file, &quiet).await.unwrap();
        assert_eq!(restored, written);
        // The restored database holds the same rows, and its audit chain verifies.
        assert_eq!(counts(&target.store, &dir.path().join("again.backup")).await, written.tables);
        let verdict = target.store.verify_audit(|_| {}).await.unwrap();
        assert!(verdict.broken.is_none(), "{verdict:?}");
        assert_eq!(u64::try_from(verdict.entries).unwrap(), written.tables["audit_log"]);
        // A second restore into the now full database is refused, and changes nothing.
        match target.store.restore(&file, &quiet).await {
            Err(StoreError::NotEmpty(_)) => {}
            other => panic!("expected NotEmpty, got {other:?}"),
        }
        assert_eq!(counts(&target.store, &dir.path().join("third.backup")).await, written.tables);
        source.drop_db().await;
        target.drop_db().await;
    }

    #[tokio::test]
    async fn the_demo_company_moves_from_sqlite_to_postgres() {
        the_demo_company_moves_between(Backend::Sqlite, Backend::Postgres).await;
    }

    #[tokio::test]
    async fn the_demo_company_moves_from_postgres_to_sqlite() {
        the_demo_company_moves_between(Backend::Postgres, Backend::Sqlite).await;
    }

    /// A file cut short or altered anywhere is refused before anything is written.
    #[tokio::test]
    async fn a_truncated_or_altered_backup_is_refused_and_nothing_is_restored() {
        let dir = tempfile::tempdir().unwrap();
        let source = TestDb::new(Backend::Sqlite).await.unwrap();
        crate::demo::seed(&source.store, time::OffsetDateTime::now_utc()).await.unwrap();
        let file = dir.path().join("company.backup");
        source.store.backup(&file, &quiet).await.unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let truncated = lines[..lines.len() / 2].join("\n") + "\n";
        let without_trailer = lines[..lines.len() - 1].join("\n") + "\n";
        let altered = text.replacen("Ana Lopez", "Ana Lopes", 1);
        let empty = String::new();
        let not_json = "hello\n".to_owned();
        for (what, content) in [
            ("truncated", truncated),
            ("without its trailer", without_trailer),
            ("altered", altered),
            ("empty", empty),
            ("not a backup", not_json),
        ] {
            let bad = dir.path().join("bad.backup");
            std::fs::write(&bad, content).unwrap();
            for backend in [Backend::Sqlite, Backend::Postgres] {
                let target = TestDb::new(backend).await.unwrap();
                match target.store.restore(&bad, &quiet).await {
                    Err(StoreError::BadBackup(_)) => {}
                    other => panic!("{what} on {backend:?}: expected BadBackup, got {other:?}"),
                }
                // Nothing was written: the good file still restores.
                target.store.restore(&file, &quiet).await.unwrap();
                target.drop_db().await;
            }
        }
        source.drop_db().await;
    }
}
