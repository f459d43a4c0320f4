//! Backups in one portable format, taken online, and restored into either database.
//!
//! A backup is text, one JSON value a line: a header (`{"bonafide_backup":1,"schema":N,"source":…}`),
//! then each table as a line naming it and its columns followed by one array a row, and last a trailer
//! with every table's row count and the SHA-256 of all the lines before it. Integers, floating-point
//! numbers and text are JSON's own; a blob is `{"hex":"…"}`.
//!
//! Taking one never stops the server. On SQLite the online backup API copies the database in one step
//! (a reader of its own, which the WAL lets writers pass) to a private file, and the rows are read from
//! that copy; on PostgreSQL every table is read in one repeatable-read, read-only transaction. Either
//! way the backup is one moment's state. Tables come in the order their foreign keys need.
//!
//! A restore reads the whole file first: a truncated or altered file (a missing trailer, a hash or a
//! count that does not match) is refused before anything is written. It goes only into an empty
//! database of the same schema version, and writes everything in one transaction, checking each table's
//! count before it commits: all or nothing.

use crate::{Store, StoreError, dynamic};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Executor, Row};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;

mod catalog;

use catalog::{Kind, Table};

/// The format's version, in every header.
const FORMAT: i64 = 1;

/// Tables the migrations fill with their first row (counters, the audit log's head, the directory's
/// generation): a restore replaces these rows; every other table must be empty.
const SEEDED: [&str; 3] = ["counters", "audit_head", "directory_generation"];

/// What a backup holds, or what a restore wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The schema version (the newest migration applied).
    pub schema: i64,
    /// Rows by table.
    pub tables: BTreeMap<String, u64>,
}

impl BackupSummary {
    /// Rows in all.
    pub fn rows(&self) -> u64 {
        self.tables.values().sum()
    }
}

/// Why a backup file cannot be restored.
fn bad(line: usize, why: impl std::fmt::Display) -> StoreError {
    StoreError::BadBackup(format!("line {line}: {why}"))
}

/// Writes lines and hashes them.
struct Out<W: Write> {
    w: W,
    hash: Sha256,
}

impl<W: Write> Out<W> {
    fn line(&mut self, v: &serde_json::Value) -> Result<(), StoreError> {
        let mut text = v.to_string();
        text.push('\n');
        self.hash.update(text.as_bytes());
        self.w.write_all(text.as_bytes()).map_err(io)
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Write(format!("backup file: {e}"))
}

/// A row's value as the file has it.
fn value_of(row: &AnyRow, i: usize, kind: Kind) -> Result<serde_json::Value, StoreError> {
    use serde_json::Value;
    Ok(match kind {
        Kind::Int => row.try_get::<Option<i64>, _>(i)?.map_or(Value::Null, Value::from),
        Kind::Float => row.try_get::<Option<f64>, _>(i)?.map_or(Value::Null, Value::from),
        Kind::Text => row.try_get::<Option<String>, _>(i)?.map_or(Value::Null, Value::from),
        Kind::Blob => {
            row.try_get::<Option<Vec<u8>>, _>(i)?.map_or(Value::Null, |b| serde_json::json!({ "hex": hex::encode(b) }))
        }
    })
}

/// Dumps every table of the database `conn` reads, in foreign-key order, to `out`.
async fn dump<W: Write>(
    conn: &mut sqlx::AnyConnection,
    postgres: bool,
    out: &mut Out<W>,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<BackupSummary, StoreError> {
    let schema = catalog::schema_version(conn).await?;
    let tables = catalog::tables(conn, postgres).await?;
    let mut total = 0u64;
    let mut counts = BTreeMap::new();
    for t in &tables {
        let n: i64 = sqlx::query(dynamic(format!("SELECT COUNT(*) FROM \"{}\"", t.name)))
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let n = u64::try_from(n).unwrap_or(0);
        total += n;
        counts.insert(t.name.clone(), n);
    }
    let created = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).ok();
    out.line(&serde_json::json!({
        "bonafide_backup": FORMAT,
        "schema": schema,
        "source": if postgres { "postgres" } else { "sqlite" },
        "created_at": created,
    }))?;
    let mut done = 0u64;
    let mut written = BTreeMap::new();
    for t in &tables {
        let names: Vec<&str> = t.columns.iter().map(|(c, _)| c.as_str()).collect();
        out.line(&serde_json::json!({ "table": t.name, "columns": names }))?;
        let mut rows = 0u64;
        let mut stream = sqlx::query(dynamic(t.select())).fetch(&mut *conn);
        while let Some(row) = next(&mut stream).await {
            let row = row?;
            let values =
                t.columns.iter().enumerate().map(|(i, (_, k))| value_of(&row, i, *k)).collect::<Result<Vec<_>, _>>()?;
            out.line(&serde_json::Value::Array(values))?;
            rows += 1;
            done += 1;
            if done.is_multiple_of(1000) {
                progress(done, total);
            }
        }
        written.insert(t.name.clone(), rows);
    }
    progress(done, total);
    Ok(BackupSummary { schema, tables: written })
}

/// The next item of a stream.
async fn next<S: futures_core::Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *s).poll_next(cx)).await
}

impl Store {
    /// Writes a backup of the database to `out` while the server runs (see the module's documentation).
    /// The file appears only once complete: it is written beside `out` and renamed. `progress` gets the
    /// rows written and the rows in all.
    pub async fn backup(&self, out: &Path, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<BackupSummary, StoreError> {
        let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let partial = tempfile::Builder::new().prefix(".bonafide-backup-").tempfile_in(dir).map_err(io)?;
        let mut file = Out { w: std::io::BufWriter::new(partial.reopen().map_err(io)?), hash: Sha256::new() };
        let summary = match &self.sqlite_file {
            Some(source) => {
                // The online backup API, in one step, into a private copy; the rows are read from it.
                let copy = tempfile::Builder::new().prefix(".bonafide-snapshot-").tempfile_in(dir).map_err(io)?;
                let (source, target) = (source.clone(), copy.path().to_owned());
                tokio::task::spawn_blocking(move || catalog::sqlite_copy(&source, &target))
                    .await
                    .map_err(|e| StoreError::Write(format!("the SQLite backup stopped: {e}")))??;
                let url = format!("sqlite://{}?mode=ro", copy.path().display());
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await?;
                let summary = dump(&mut conn, false, &mut file, progress).await;
                sqlx::Connection::close(conn).await.ok();
                summary?
            }
            None => {
                let mut tx = self.read.begin().await?;
                tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
                let summary = dump(&mut tx, true, &mut file, progress).await?;
                tx.commit().await?;
                summary
            }
        };
        let tables: BTreeMap<&str, u64> = summary.tables.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let digest = hex::encode(file.hash.clone().finalize());
        let trailer = serde_json::json!({ "end": { "tables": tables }, "sha256": digest });
        let mut text = trailer.to_string();
        text.push('\n');
        file.w.write_all(text.as_bytes()).map_err(io)?;
        let inner = file.w.into_inner().map_err(|e| io(e.into_error()))?;
        inner.sync_all().map_err(io)?;
        partial.persist(out).map_err(|e| io(e.error))?;
        Ok(summary)
    }

    /// Restores the backup at `file` into this database, which must be empty (migrated or not) and of
    /// the backup's schema version once migrated; refused with [`StoreError::BadBackup`] or
    /// [`StoreError::NotEmpty`] before anything is written. `progress` gets the rows written and the
    /// rows in all.
    pub async fn restore(
        &self,
        file: &Path,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<BackupSummary, StoreError> {
        let checked = {
            let path = file.to_owned();
            tokio::task::spawn_blocking(move || read_checked(&path))
                .await
                .map_err(|e| StoreError::Write(format!("reading the backup stopped: {e}")))??
        };
        self.migrate().await?;
        let postgres = self.sqlite_file.is_none();
        let mut conn = self.write.acquire().await?;
        let schema = catalog::schema_version(&mut conn).await?;
        if schema != checked.schema {
            return Err(StoreError::BadBackup(format!(
                "the backup is of schema version {}, this database (after migrating) of version {schema}: \
                 restore it with the Bonafide release that wrote it, then upgrade",
                checked.schema
            )));
        }
        let tables: BTreeMap<String, Table> =
            catalog::tables(&mut conn, postgres).await?.into_iter().map(|t| (t.name.clone(), t)).collect();
        for t in tables.values().filter(|t| !SEEDED.contains(&t.name.as_str())) {
            let n: i64 = sqlx::query(dynamic(format!("SELECT COUNT(*) FROM \"{}\"", t.name)))
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            if n > 0 {
                return Err(StoreError::NotEmpty(format!("table {} has {n} rows", t.name)));
            }
        }
        let head: i64 = sqlx::query("SELECT seq FROM audit_head").fetch_one(&mut *conn).await?.try_get(0)?;
        if head != 0 {
            return Err(StoreError::NotEmpty("the audit log has entries".into()));
        }
        drop(conn);
        let total = checked.summary.rows();
        let mut tx = self.write.begin().await?;
        for name in SEEDED {
            tx.execute(dynamic(format!("DELETE FROM \"{name}\""))).await?;
        }
        let lines = std::io::BufReader::new(std::fs::File::open(file).map_err(io)?).lines();
        let mut current: Option<(&Table, Vec<usize>)> = None;
        let mut batch: Vec<serde_json::Value> = Vec::new();
        let mut done = 0u64;
        for (i, line) in lines.enumerate().skip(1).take(checked.content_lines) {
            let n = i + 1;
            let line = line.map_err(io)?;
            let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| bad(n, e))?;
            if let Some(name) = v.get("table").and_then(|t| t.as_str()) {
                if let Some((t, order)) = current.take() {
                    insert(&mut tx, t, &order, &mut batch, n).await?;
                }
                let t = tables.get(name).ok_or_else(|| bad(n, format!("this database has no table {name}")))?;
                let order = catalog::column_order(t, &v).map_err(|why| bad(n, why))?;
                current = Some((t, order));
                continue;
            }
            let Some((t, order)) = &current else { return Err(bad(n, "a row before any table")) };
            batch.push(v);
            done += 1;
            if batch.len() >= catalog::rows_per_statement(t.columns.len()) {
                insert(&mut tx, t, order, &mut batch, n).await?;
                progress(done, total);
            }
        }
        if let Some((t, order)) = current.take() {
            insert(&mut tx, t, &order, &mut batch, checked.content_lines + 1).await?;
        }
        for (name, expected) in &checked.summary.tables {
            let n: i64 = sqlx::query(dynamic(format!("SELECT COUNT(*) FROM \"{name}\"")))
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            if u64::try_from(n).ok() != Some(*expected) {
                return Err(StoreError::BadBackup(format!(
                    "table {name}: {n} rows written, the backup has {expected}"
                )));
            }
        }
        tx.commit().await?;
        progress(total, total);
        Ok(checked.summary)
    }
}

/// Inserts the rows of `batch` (in the file's column order; `order` maps each of the table's columns to
/// its place in the file) into `t`, and empties it. `line` is where the batch ends, for errors.
async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    t: &Table,
    order: &[usize],
    batch: &mut Vec<serde_json::Value>,
    line: usize,
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let sql = t.insert(batch.len());
    let mut q = sqlx::query(dynamic(sql));
    for row in batch.iter() {
        let values = row.as_array().ok_or_else(|| bad(line, "a row is not an array"))?;
        for ((column, kind), &at) in t.columns.iter().zip(order) {
            let v = values.get(at).unwrap_or(&serde_json::Value::Null);
            q = catalog::bind(q, *kind, v).map_err(|why| bad(line, format!("{}.{column}: {why}", t.name)))?;
        }
    }
    q.execute(&mut **tx).await?;
    batch.clear();
    Ok(())
}

/// A backup file read through and found whole.
struct Checked {
    schema: i64,
    summary: BackupSummary,
    /// Lines between the header and the trailer.
    content_lines: usize,
}

/// Reads the backup at `path` through: the header, each table and row, and the trailer, whose hash and
/// counts must match what came before.
fn read_checked(path: &Path) -> Result<Checked, StoreError> {
    let file = std::fs::File::open(path).map_err(|e| StoreError::BadBackup(format!("{}: {e}", path.display())))?;
    let mut hash = Sha256::new();
    let mut pending: Option<String> = None;
    let mut schema = None;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut table: Option<(String, usize)> = None;
    let mut lines = 0usize;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| bad(i + 1, e))?;
        if let Some(previous) = pending.replace(line) {
            let n = i;
            hash.update(previous.as_bytes());
            hash.update(b"\n");
            let v: serde_json::Value = serde_json::from_str(&previous).map_err(|e| bad(n, e))?;
            lines += 1;
            if n == 1 {
                if v.get("bonafide_backup").and_then(|f| f.as_i64()) != Some(FORMAT) {
                    return Err(bad(n, "not a Bonafide backup (or of a format this release cannot read)"));
                }
                schema = v.get("schema").and_then(|s| s.as_i64());
                continue;
            }
            if let Some(name) = v.get("table").and_then(|t| t.as_str()) {
                let columns = v.get("columns").and_then(|c| c.as_array()).map_or(0, Vec::len);
                if columns == 0 || counts.contains_key(name) {
                    return Err(bad(n, format!("table {name} has no columns or comes twice")));
                }
                counts.insert(name.to_owned(), 0);
                table = Some((name.to_owned(), columns));
                continue;
            }
            let Some((name, columns)) = &table else { return Err(bad(n, "a row before any table")) };
            if v.as_array().map(Vec::len) != Some(*columns) {
                return Err(bad(n, format!("a row of {name} without its {columns} values")));
            }
            if let Some(c) = counts.get_mut(name) {
                *c += 1;
            }
        }
    }
    let total_lines = lines + 1;
    let trailer = pending.ok_or_else(|| StoreError::BadBackup("the file is empty".into()))?;
    let trailer: serde_json::Value = serde_json::from_str(&trailer)
        .map_err(|_| bad(total_lines, "the file ends before its trailer: it is truncated"))?;
    let Some(end) = trailer.get("end") else {
        return Err(bad(total_lines, "the file ends before its trailer: it is truncated"));
    };
    if trailer.get("sha256").and_then(|h| h.as_str()) != Some(hex::encode(hash.finalize()).as_str()) {
        return Err(StoreError::BadBackup("the file's hash does not match its content: it was altered".into()));
    }
    let stated: BTreeMap<String, u64> = serde_json::from_value(end.get("tables").cloned().unwrap_or_default())
        .map_err(|e| bad(total_lines, format!("the trailer's counts: {e}")))?;
    if stated != counts {
        return Err(StoreError::BadBackup("the trailer's counts do not match the rows".into()));
    }
    let schema = schema.ok_or_else(|| bad(1, "the header has no schema version"))?;
    let content_lines = lines.saturating_sub(1);
    if counts.is_empty() {
        return Err(StoreError::BadBackup("the backup has no tables".into()));
    }
    Ok(Checked { schema, summary: BackupSummary { schema, tables: counts }, content_lines })
}
