//! What a backup needs to know of the schema, read from the database itself: the tables, their columns
//! and the kind of each, and the order foreign keys need; and how a value of each kind is read and bound.

use crate::StoreError;
use sqlx::Row;
use sqlx::any::AnyArguments;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The kind of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `BIGINT`, `INTEGER`.
    Int,
    /// `DOUBLE PRECISION`, `REAL`.
    Float,
    /// `TEXT` and anything else textual.
    Text,
    /// `BLOB`, `BYTEA`.
    Blob,
}

impl Kind {
    /// The kind of a column declared as `declared` (SQLite's declared type, PostgreSQL's `data_type`).
    fn of(declared: &str) -> Kind {
        let d = declared.to_ascii_lowercase();
        if d.contains("int") {
            Kind::Int
        } else if d.contains("double") || d.contains("real") || d.contains("float") || d.contains("numeric") {
            Kind::Float
        } else if d.contains("blob") || d.contains("bytea") {
            Kind::Blob
        } else {
            Kind::Text
        }
    }
}

/// A table and its columns, in their order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Table {
    pub(super) name: String,
    pub(super) columns: Vec<(String, Kind)>,
}

impl Table {
    /// The statement that reads every row, each value cast to its kind (alike on both databases).
    pub(super) fn select(&self) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|(c, k)| match k {
                Kind::Int => format!("CAST(\"{c}\" AS BIGINT)"),
                Kind::Float => format!("CAST(\"{c}\" AS DOUBLE PRECISION)"),
                Kind::Text | Kind::Blob => format!("\"{c}\""),
            })
            .collect();
        format!("SELECT {} FROM \"{}\"", columns.join(", "), self.name)
    }

    /// The statement that inserts `rows` rows.
    pub(super) fn insert(&self, rows: usize) -> String {
        let names: Vec<String> = self.columns.iter().map(|(c, _)| format!("\"{c}\"")).collect();
        let width = self.columns.len();
        let tuples: Vec<String> = (0..rows)
            .map(|r| {
                let marks: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        format!("INSERT INTO \"{}\" ({}) VALUES {}", self.name, names.join(", "), tuples.join(", "))
    }
}

/// Rows per insert for a table of `columns` columns: within both databases' limits on parameters.
pub(super) fn rows_per_statement(columns: usize) -> usize {
    (4000 / columns.max(1)).clamp(1, 500)
}

/// Where each of `t`'s columns is in a backup's table line (`{"table", "columns"}`), which must name
/// exactly the same columns.
pub(super) fn column_order(t: &Table, line: &serde_json::Value) -> Result<Vec<usize>, String> {
    let named: Vec<&str> = line
        .get("columns")
        .and_then(|c| c.as_array())
        .map(|c| c.iter().filter_map(|n| n.as_str()).collect())
        .unwrap_or_default();
    let ours: BTreeSet<&str> = t.columns.iter().map(|(c, _)| c.as_str()).collect();
    let theirs: BTreeSet<&str> = named.iter().copied().collect();
    if ours != theirs || theirs.len() != named.len() {
        return Err(format!("table {} has other columns here than in the backup", t.name));
    }
    Ok(t.columns.iter().filter_map(|(c, _)| named.iter().position(|n| n == c)).collect())
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, AnyArguments>;

/// Binds `v` as a value of `kind` (a null as a null of that kind, so PostgreSQL accepts it).
pub(super) fn bind<'q>(q: Query<'q>, kind: Kind, v: &serde_json::Value) -> Result<Query<'q>, String> {
    use serde_json::Value;
    Ok(match (kind, v) {
        (Kind::Int, Value::Null) => q.bind(None::<i64>),
        (Kind::Int, Value::Number(n)) => q.bind(n.as_i64().ok_or_else(|| format!("{n} is not an integer"))?),
        (Kind::Float, Value::Null) => q.bind(None::<f64>),
        (Kind::Float, Value::Number(n)) => q.bind(n.as_f64().ok_or_else(|| format!("{n} is not a number"))?),
        (Kind::Text, Value::Null) => q.bind(None::<String>),
        (Kind::Text, Value::String(s)) => q.bind(s.clone()),
        (Kind::Blob, Value::Null) => q.bind(None::<Vec<u8>>),
        (Kind::Blob, Value::Object(o)) => {
            let hex = o.get("hex").and_then(|h| h.as_str()).ok_or("a blob without its hex")?;
            q.bind(hex::decode(hex).map_err(|e| format!("a blob: {e}"))?)
        }
        (kind, v) => return Err(format!("{v} is not a value of kind {kind:?}")),
    })
}

/// The newest migration applied.
pub(super) async fn schema_version(conn: &mut sqlx::AnyConnection) -> Result<i64, StoreError> {
    let v: Option<i64> = sqlx::query("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    Ok(v.unwrap_or(0))
}

/// Every table but the migrations' own, parents before the tables whose foreign keys name them (ties by
/// name).
pub(super) async fn tables(conn: &mut sqlx::AnyConnection, postgres: bool) -> Result<Vec<Table>, StoreError> {
    let (list, columns, parents) = if postgres {
        (
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'",
            "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            "SELECT DISTINCT CAST(ccu.table_name AS TEXT) FROM information_schema.table_constraints tc \
             JOIN information_schema.constraint_column_usage ccu \
               ON ccu.constraint_name = tc.constraint_name AND ccu.constraint_schema = tc.constraint_schema \
             WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = $1",
        )
    } else {
        (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> '_sqlx_migrations'",
            "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
            "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)",
        )
    };
    let names: Vec<String> =
        sqlx::query(list).fetch_all(&mut *conn).await?.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
    let mut tables = BTreeMap::new();
    let mut needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in names {
        let rows = sqlx::query(columns).bind(name.clone()).fetch_all(&mut *conn).await?;
        let cols = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, Kind::of(&r.try_get::<String, _>(1)?))))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let rows = sqlx::query(parents).bind(name.clone()).fetch_all(&mut *conn).await?;
        let mut of: BTreeSet<String> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
        of.remove(&name);
        needs.insert(name.clone(), of);
        tables.insert(name.clone(), Table { name, columns: cols });
    }
    Ok(in_key_order(tables, needs))
}

/// `tables` with each after the tables it `needs` (those it cannot be before, in a cycle, last by name).
fn in_key_order(mut tables: BTreeMap<String, Table>, mut needs: BTreeMap<String, BTreeSet<String>>) -> Vec<Table> {
    let mut out = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        let ready: Vec<String> = tables
            .keys()
            .filter(|t| needs.get(*t).is_none_or(|n| n.iter().all(|p| !tables.contains_key(p))))
            .cloned()
            .collect();
        let ready = if ready.is_empty() { tables.keys().take(1).cloned().collect() } else { ready };
        for name in ready {
            needs.remove(&name);
            if let Some(t) = tables.remove(&name) {
                out.push(t);
            }
        }
    }
    out
}

/// Copies the SQLite database at `source` to `target` with the online backup API, in one step: one
/// read of one moment, which writers on the WAL do not wait for.
pub(super) fn sqlite_copy(source: &Path, target: &Path) -> Result<(), StoreError> {
    use rusqlite::{Connection, OpenFlags};
    let src = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    src.busy_timeout(std::time::Duration::from_secs(30))?;
    let mut dst = Connection::open(target)?;
    let backup = rusqlite::backup::Backup::new(&src, &mut dst)?;
    loop {
        match backup.step(-1)? {
            rusqlite::backup::StepResult::Done => return Ok(()),
            // Another connection held a lock for a moment: try again.
            rusqlite::backup::StepResult::Busy | rusqlite::backup::StepResult::Locked => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            rusqlite::backup::StepResult::More => {}
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> Table {
        Table { name: name.into(), columns: vec![("id".into(), Kind::Text), ("n".into(), Kind::Int)] }
    }

    #[test]
    fn parents_come_before_the_tables_that_name_them() {
        let tables: BTreeMap<String, Table> = ["a", "b", "c"].iter().map(|n| ((*n).to_owned(), table(n))).collect();
        // a needs c, c needs b.
        let needs = BTreeMap::from([
            ("a".to_owned(), BTreeSet::from(["c".to_owned()])),
            ("c".to_owned(), BTreeSet::from(["b".to_owned()])),
        ]);
        let order: Vec<String> = in_key_order(tables, needs).into_iter().map(|t| t.name).collect();
        assert_eq!(order, ["b", "c", "a"]);
    }

    #[test]
    fn a_cycle_still_lists_every_table_once() {
        let tables: BTreeMap<String, Table> = ["a", "b"].iter().map(|n| ((*n).to_owned(), table(n))).collect();
        let needs = BTreeMap::from([
            ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
            ("b".to_owned(), BTreeSet::from(["a".to_owned()])),
        ]);
        assert_eq!(in_key_order(tables, needs).len(), 2);
    }

    #[test]
    fn kinds_statements_and_column_orders() {
        assert_eq!(Kind::of("BIGINT"), Kind::Int);
        assert_eq!(Kind::of("integer"), Kind::Int);
        assert_eq!(Kind::of("double precision"), Kind::Float);
        assert_eq!(Kind::of("TEXT"), Kind::Text);
        assert_eq!(Kind::of("bytea"), Kind::Blob);
        let t = table("people");
        assert_eq!(t.insert(2), "INSERT INTO \"people\" (\"id\", \"n\") VALUES ($1, $2), ($3, $4)");
        assert_eq!(t.select(), "SELECT \"id\", CAST(\"n\" AS BIGINT) FROM \"people\"");
        let line = serde_json::json!({"table": "people", "columns": ["n", "id"]});
        assert_eq!(column_order(&t, &line), Ok(vec![1, 0]));
        let other = serde_json::json!({"table": "people", "columns": ["n", "name"]});
        assert!(column_order(&t, &other).is_err());
        let twice = serde_json::json!({"table": "people", "columns": ["n", "id", "id"]});
        assert!(column_order(&t, &twice).is_err());
        assert!(rows_per_statement(40) * 40 <= 4000);
    }
}
