//! Documents security writes in numbered versions (the access policies, the risk settings): each new
//! version is the next number, written with its audit entry; the newest is the one in force.

use crate::codec::{from_millis, millis, parse_opt};
use crate::{AuditEvent, Store, StoreError, commit_audited, conflict_on_unique, directory_changed, dynamic};
use bonafide_domain::PersonId;
use sqlx::Row;
use time::OffsetDateTime;

/// A versioned document's table and the column of its text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Versioned {
    pub(crate) table: &'static str,
    pub(crate) text: &'static str,
    /// How a clash of two writers is told.
    pub(crate) what: &'static str,
}

/// One version of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub(crate) version: u32,
    pub(crate) text: String,
    pub(crate) created_by: Option<PersonId>,
    pub(crate) created_at: OffsetDateTime,
}

impl Store {
    /// Writes `text` as the next version of `doc`, with `audit(version)`; when the access policies
    /// read it (`directory`), the directory's generation is raised with it.
    pub(crate) async fn publish_version(
        &self,
        doc: Versioned,
        text: &str,
        created_by: Option<PersonId>,
        now: OffsetDateTime,
        audit: impl FnOnce(u32) -> AuditEvent + Send,
        directory: bool,
    ) -> Result<Version, StoreError> {
        let mut tx = self.write.begin().await?;
        let last: Option<i64> = sqlx::query(dynamic(format!("SELECT MAX(version) AS v FROM {}", doc.table)))
            .fetch_one(&mut *tx)
            .await?
            .try_get("v")?;
        let version =
            u32::try_from(last.unwrap_or(0) + 1).map_err(|_| StoreError::Corrupt(format!("{} version", doc.what)))?;
        sqlx::query(dynamic(format!(
            "INSERT INTO {} (version, {}, created_by, created_at) VALUES ($1, $2, $3, $4)",
            doc.table, doc.text
        )))
        .bind(i64::from(version))
        .bind(text.to_owned())
        .bind(created_by.map(|p| p.to_string()))
        .bind(millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            conflict_on_unique(e, &format!("another version of the {} was published at the same time", doc.what))
        })?;
        if directory {
            directory_changed(&mut tx).await?;
        }
        commit_audited(tx, &[&audit(version)], now).await?;
        Ok(Version { version, text: text.to_owned(), created_by, created_at: now })
    }

    /// The newest version of `doc` (the one in force).
    pub(crate) async fn newest_version(&self, doc: Versioned) -> Result<Option<Version>, StoreError> {
        let row = sqlx::query(dynamic(format!(
            "SELECT version, {} AS text, created_by, created_at FROM {} ORDER BY version DESC LIMIT 1",
            doc.text, doc.table
        )))
        .fetch_optional(&self.write)
        .await?;
        row.map(|r| {
            Ok(Version {
                version: u32::try_from(r.try_get::<i64, _>("version")?)
                    .map_err(|_| StoreError::Corrupt(format!("{} version", doc.what)))?,
                text: r.try_get("text")?,
                created_by: parse_opt("person id", r.try_get("created_by")?)?,
                created_at: from_millis(r.try_get("created_at")?)?,
            })
        })
        .transpose()
    }
}
