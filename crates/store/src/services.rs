//! Service tokens: machine clients that call only what their scopes allow.

use crate::codec::{Columns, from_millis, millis};
use crate::{AuditEvent, Store, StoreError, commit_audited, conflict_on_unique, directory_changed};
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
        directory_changed(&mut tx).await?;
        commit_audited(tx, &[audit], now).await?;
        Ok(ServiceRecord { id, name: name.to_owned(), scopes: scopes.to_vec(), created_at: now })
    }

    /// Every unrevoked service token, by the hash of its token (decisions hold them in memory with the
    /// directory: a new or revoked token raises its generation).
    pub async fn services(&self) -> Result<Vec<(String, ServiceRecord)>, StoreError> {
        let rows =
            sqlx::query("SELECT id, name, scopes, created_at, token_hash FROM service_tokens WHERE revoked_at IS NULL")
                .fetch_all(&self.read)
                .await?;
        rows.iter().map(|r| Ok((r.required("token_hash")?, service_from(r)?))).collect()
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
