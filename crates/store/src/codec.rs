//! Conversions between domain values and their portable column forms.

use crate::StoreError;
use bonafide_domain::{Ask, Channel};
use std::collections::BTreeSet;
use std::str::FromStr;
use time::OffsetDateTime;

/// Unix milliseconds, the column form of every timestamp.
pub(crate) fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_millis(ms: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| StoreError::Corrupt(format!("timestamp {ms} out of range")))
}

pub(crate) fn parse<T: FromStr>(what: &str, text: &str) -> Result<T, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt(format!("{what} `{text}`")))
}

pub(crate) fn parse_opt<T: FromStr>(what: &str, text: Option<String>) -> Result<Option<T>, StoreError> {
    text.map(|t| parse(what, &t)).transpose()
}

pub(crate) fn join<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

pub(crate) fn split<T: FromStr + Ord>(what: &str, text: &str) -> Result<BTreeSet<T>, StoreError> {
    text.split(',').filter(|s| !s.is_empty()).map(|s| parse(what, s)).collect()
}

pub(crate) fn channels(text: &str) -> Result<BTreeSet<Channel>, StoreError> {
    split("channel", text)
}

pub(crate) fn asks(text: &str) -> Result<BTreeSet<Ask>, StoreError> {
    split("ask", text)
}

pub(crate) fn flag(v: i64) -> bool {
    v != 0
}

/// A result row read by column name, whichever driver produced it; lets one decoder serve the sqlx
/// path and the direct SQLite read path.
pub(crate) trait Columns {
    /// A text column, `None` for NULL.
    fn text(&self, col: &str) -> Result<Option<String>, StoreError>;
    /// An integer column, `None` for NULL.
    fn int(&self, col: &str) -> Result<Option<i64>, StoreError>;

    /// A text column that must not be NULL.
    fn required(&self, col: &str) -> Result<String, StoreError> {
        self.text(col)?.ok_or_else(|| StoreError::Corrupt(format!("column `{col}` is NULL")))
    }
}

impl Columns for sqlx::any::AnyRow {
    fn text(&self, col: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::Row::try_get(self, col)?)
    }

    fn int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::Row::try_get(self, col)?)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, col: &str) -> Result<Option<String>, StoreError> {
        Ok(self.get(col)?)
    }

    fn int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.get(col)?)
    }
}

/// An indicator read from a row with `kind`, `value` and `note` columns; `None` for a kind this build does
/// not know.
pub(crate) fn indicator_from(
    row: &sqlx::any::AnyRow,
) -> Result<Option<bonafide_correlate::Indicator>, crate::StoreError> {
    use sqlx::Row;
    let Some(kind) = bonafide_correlate::IndicatorKind::parse(&row.try_get::<String, _>("kind")?) else {
        return Ok(None);
    };
    let note = row.try_get::<Option<String>, _>("note")?.as_deref().and_then(bonafide_correlate::Note::from_text);
    Ok(Some(bonafide_correlate::Indicator::stored(kind, row.try_get("value")?, note)))
}
