//! One list of parameter values per statement, bound by whichever driver runs it.
//!
//! The hot-path statements (a check's row, its facts, the audit append after it) run on sqlx (PostgreSQL,
//! and SQLite's pooled writer) and on rusqlite (the SQLite worker in `lite`). Each statement's values are
//! built once, as a list of [`Param`]s in placeholder order, and both drivers bind that same list: two
//! hand-written copies of the binds could disagree on a count or an order without any test noticing
//! on the backend that was not run.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

/// One parameter value, in the two column types the portable schema uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param<'a> {
    /// `TEXT`, or NULL.
    Text(Option<&'a str>),
    /// `BIGINT`, or NULL.
    Int(Option<i64>),
}

impl<'a> Param<'a> {
    /// A text value.
    pub(crate) fn text(value: &'a str) -> Self {
        Param::Text(Some(value))
    }

    /// A text value or NULL.
    pub(crate) fn opt_text(value: Option<&'a str>) -> Self {
        Param::Text(value)
    }

    /// An integer.
    pub(crate) fn int(value: i64) -> Self {
        Param::Int(Some(value))
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Param::Text(v) => v.to_sql(),
            Param::Int(v) => v.to_sql(),
        }
    }
}

/// Binds `params` in order to the sqlx `query` (sqlx copies each value into its arguments).
pub(crate) fn bind<'q>(mut query: Query<'q, Any, AnyArguments>, params: &[Param<'_>]) -> Query<'q, Any, AnyArguments> {
    for p in params {
        query = match *p {
            Param::Text(v) => query.bind(v),
            Param::Int(v) => query.bind(v),
        };
    }
    query
}

/// The placeholders of `sql` (`$` followed by digits), or `None` when a `$` is anything else. The
/// SQLite worker rewrites every `$` to `?` (SQLite's numbered parameter), which is right only if the text
/// has no other `$`.
#[cfg(test)]
pub(crate) fn placeholders(sql: &str) -> Option<std::collections::BTreeSet<usize>> {
    let mut found = std::collections::BTreeSet::new();
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        let after = rest.get(at + 1..)?;
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        found.insert(after.get(..digits)?.parse().ok()?);
        rest = after;
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, AuditEvent, INSERT_ENTRY, Outcome, SET_HEAD_HASH, TAKE_HEAD, chain};
    use crate::batch::{CheckRow, insert_sql};
    use crate::facts::{FACTS_SQL, FactsValues};
    use std::collections::BTreeSet;

    /// `sql`'s placeholders are exactly `$1` to `$n` for `n` bound values, and it has no other `$`.
    fn binds_exactly(sql: &str, n: usize) {
        assert_eq!(placeholders(sql), Some((1..=n).collect::<BTreeSet<_>>()), "{sql}");
    }

    #[test]
    fn a_dollar_sign_that_is_not_a_placeholder_is_found() {
        assert_eq!(placeholders("SELECT $1, $12 FROM t"), Some([1, 12].into_iter().collect()));
        assert_eq!(placeholders("SELECT 'US$' FROM t"), None);
        assert_eq!(placeholders("SELECT $a FROM t"), None);
        assert_eq!(placeholders("SELECT 1$"), None);
    }

    #[test]
    fn the_shared_sql_has_dollar_signs_only_as_placeholders_one_per_bound_value() {
        let row = CheckRow {
            id: "c".into(),
            employee: "e".into(),
            channel: "phone",
            claimed_staff_id: None,
            claimed_name: None,
            caller_number: None,
            caller_address: None,
            request_number: None,
            asked_for: String::new(),
            verdict: "unverified",
            reasons: String::new(),
            staffer: None,
            policy_version: None,
            at: 0,
            audit: AuditEvent::new(&Actor::system(), "check.created", "c", Outcome::Ok),
        };
        binds_exactly(&insert_sql(1), row.params().len());
        binds_exactly(&insert_sql(3), 3 * row.params().len());
        binds_exactly(&FACTS_SQL, FactsValues::default().params().len());
        let entries = chain(0, crate::GENESIS, time::OffsetDateTime::UNIX_EPOCH, &[&row.audit]);
        binds_exactly(INSERT_ENTRY, entries[0].params().len());
        binds_exactly(TAKE_HEAD, 1);
        binds_exactly(SET_HEAD_HASH, 1);
    }
}
