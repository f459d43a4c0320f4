//! Backups, the operator's at the command line: taken online (audited in the database backed up) and
//! restored into an empty database of either kind. The store holds the format and its guarantees
//! ([`bonafide_store::Store::backup`]).

use crate::{App, AppError};
use bonafide_store::{Actor, AuditEvent, BackupSummary, Outcome, Store};
use std::path::Path;

/// Writes a backup of the database to `out` while the server may run, then records it in the audit log.
/// `progress` gets the rows written and the rows in all.
pub async fn backup(app: &App, out: &Path, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<BackupSummary, AppError> {
    let summary = app.store().backup(out, progress).await?;
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let event = AuditEvent::new(&Actor::system(), "backup.created", name, Outcome::Ok)
        .with(serde_json::json!({ "schema": summary.schema, "rows": summary.rows(), "via": "cli" }));
    app.store().audit(&[event], app.now()).await?;
    Ok(summary)
}

/// Restores the backup at `file` into `store`, which must be empty: all or nothing. Nothing is added to
/// the audit log, which is the backed-up one entry for entry (so it verifies, and every count matches).
pub async fn restore(
    store: &Store,
    file: &Path,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<BackupSummary, AppError> {
    Ok(store.restore(file, progress).await?)
}
