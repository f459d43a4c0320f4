//! Service tokens: machine clients that call only what their scopes allow.

use crate::codec::{Columns, from_millis, millis};
use crate::{AuditEvent, HotPath, Store, StoreError, commit_audited, conflict_on_unique, lite};
use time::OffsetDateTime;

/// A machine client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    /// Its token's id.
    pub id: String,
    /// Its name (`nginx-intranet`).
    pub name: String,
    /// What it may call (`authorize`).
    pub scopes: Vec<String>,
    /// When the token was made.
    pub created_at: OffsetDateTime,
}

impl Store {
    /// Stores a service token (its SHA-256) named `name` with `scopes`, recording `audit`.
    pub async fn create_service_token(
        &self,
        name: &str,
        scopes: &[String],
        token_hash: &str,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<ServiceRecord, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO service_tokens (id, name, scopes, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(name)
        .bind(scopes.join(","))
        .bind(token_hash)
        .bind(millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "this token already exists"))?;
        commit_audited(tx, &[audit], now).await?;
        Ok(ServiceRecord { id, name: name.to_owned(), scopes: scopes.to_vec(), created_at: now })
    }

    /// The service whose unrevoked token hashes to `token_hash`; on SQLite remembered until any other
    /// connection commits, like a person's token.
    pub async fn service_by_token(&self, token_hash: &str) -> Result<Option<ServiceRecord>, StoreError> {
        const SQL: &str =
            "SELECT id, name, scopes, created_at FROM service_tokens WHERE token_hash = $1 AND revoked_at IS NULL";
        match &self.hot {
            HotPath::Sqlite(lite) => {
                let hash = token_hash.to_owned();
                lite.read_memo(format!("service:{hash}"), move |conn| {
                    let mut found = None;
                    lite::query(conn, SQL, &[&hash], |row| {
                        found = Some(service_from(row)?);
                        Ok(())
                    })?;
                    Ok(found)
                })
                .await
            }
            HotPath::Postgres(_) => sqlx::query(SQL)
                .bind(token_hash)
                .fetch_optional(&self.read)
                .await?
                .map(|r| service_from(&r))
                .transpose(),
        }
    }
}

fn service_from(row: &dyn Columns) -> Result<ServiceRecord, StoreError> {
    let scopes = row.required("scopes")?;
    Ok(ServiceRecord {
        id: row.required("id")?,
        name: row.required("name")?,
        scopes: scopes.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        created_at: from_millis(
            row.int("created_at")?.ok_or_else(|| StoreError::Corrupt("service created_at".into()))?,
        )?,
    })
}
