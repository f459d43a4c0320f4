//! Registered passkeys and WebAuthn ceremony state.
//!
//! A ceremony's state lives between the challenge and the answer and is taken by one `DELETE … RETURNING`,
//! so an answer is checked against its challenge at most once, whichever instance receives it.

use crate::codec::{from_millis, millis, parse};
use crate::{Store, StoreError, conflict_on_unique};
use bonafide_domain::PersonId;
use sqlx::Row;
use time::OffsetDateTime;

/// A registered passkey.
#[derive(Debug, Clone)]
pub struct StoredPasskey {
    /// The credential id (base64url).
    pub id: String,
    /// Whose.
    pub person: PersonId,
    /// The name its owner gave it.
    pub name: String,
    /// The public key and counter, as the passkey module stores them.
    pub stored: String,
    /// When it was registered.
    pub created_at: OffsetDateTime,
    /// When it last signed someone in.
    pub last_used_at: Option<OffsetDateTime>,
}

bonafide_domain::named_enum! {
    /// What a ceremony is for; an answer is only accepted by the step that started it.
    pub enum CeremonyKind {
        /// Registering a new passkey.
        Register = "register",
        /// A passkey as the second factor after the password.
        SecondFactor = "second_factor",
        /// Passwordless sign-in with a discoverable passkey.
        Passwordless = "passwordless",
    }
}

/// Ceremony state taken for checking.
#[derive(Debug, Clone)]
pub struct TakenCeremony {
    /// Who it was started for (none for passwordless sign-in).
    pub person: Option<PersonId>,
    /// The state to check the answer against.
    pub state: String,
}

fn passkey_from(row: &sqlx::any::AnyRow) -> Result<StoredPasskey, StoreError> {
    Ok(StoredPasskey {
        id: row.try_get("id")?,
        person: parse("person id", &row.try_get::<String, _>("person_id")?)?,
        name: row.try_get("name")?,
        stored: row.try_get("passkey")?,
        created_at: from_millis(row.try_get("created_at")?)?,
        last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(from_millis).transpose()?,
    })
}

impl Store {
    /// Registers a passkey, recording `audit` with it. A credential id already registered (to anyone) is
    /// a conflict.
    pub async fn add_passkey(
        &self,
        person: PersonId,
        id: &str,
        name: &str,
        stored: &str,
        now: OffsetDateTime,
        audit: &crate::AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        sqlx::query("INSERT INTO passkeys (id, person_id, name, passkey, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(person.to_string())
            .bind(name)
            .bind(stored)
            .bind(millis(now))
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, "this passkey is already registered"))?;
        crate::directory_changed(&mut tx).await?;
        crate::commit_audited(tx, &[audit], now).await
    }

    /// `person`'s passkeys, oldest first.
    pub async fn passkeys_of(&self, person: PersonId) -> Result<Vec<StoredPasskey>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, person_id, name, passkey, created_at, last_used_at FROM passkeys \
             WHERE person_id = $1 ORDER BY created_at, id",
        )
        .bind(person.to_string())
        .fetch_all(&self.write)
        .await?;
        rows.iter().map(passkey_from).collect()
    }

    /// The passkey with credential id `id`, if it belongs to `person`.
    pub async fn passkey_of(&self, person: PersonId, id: &str) -> Result<Option<StoredPasskey>, StoreError> {
        let row = sqlx::query(
            "SELECT id, person_id, name, passkey, created_at, last_used_at FROM passkeys \
             WHERE id = $1 AND person_id = $2",
        )
        .bind(id)
        .bind(person.to_string())
        .fetch_optional(&self.write)
        .await?;
        row.as_ref().map(passkey_from).transpose()
    }

    /// Records a sign-in with passkey `id`, saving its new counter when it changed.
    pub async fn passkey_used(&self, id: &str, updated: Option<&str>, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("UPDATE passkeys SET last_used_at = $2, passkey = COALESCE($3, passkey) WHERE id = $1")
            .bind(id)
            .bind(millis(now))
            .bind(updated)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Removes `person`'s passkey `id`, recording `audit` with it; whether there was one.
    pub async fn delete_passkey(
        &self,
        person: PersonId,
        id: &str,
        now: OffsetDateTime,
        audit: &crate::AuditEvent,
    ) -> Result<bool, StoreError> {
        let query = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND person_id = $2")
            .bind(id.to_owned())
            .bind(person.to_string());
        Ok(self.execute_audited_directory(query, audit, now).await? == 1)
    }

    /// Keeps a ceremony's state until `expires_at`, dropping every expired one on the way.
    pub async fn put_ceremony(
        &self,
        id: &str,
        person: Option<PersonId>,
        kind: CeremonyKind,
        state: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
            .bind(millis(now))
            .execute(&self.write)
            .await?;
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (id, person_id, kind, state, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(person.map(|p| p.to_string()))
        .bind(kind.as_str())
        .bind(state)
        .bind(millis(expires_at))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Takes (removes and returns) ceremony `id` of `kind` if it has not expired. A second take of the same
    /// ceremony finds nothing.
    pub async fn take_ceremony(
        &self,
        id: &str,
        kind: CeremonyKind,
        now: OffsetDateTime,
    ) -> Result<Option<TakenCeremony>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE id = $1 AND kind = $2 RETURNING person_id, state, expires_at",
        )
        .bind(id)
        .bind(kind.as_str())
        .fetch_optional(&self.write)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if row.try_get::<i64, _>("expires_at")? <= millis(now) {
            return Ok(None);
        }
        let person = row.try_get::<Option<String>, _>("person_id")?.map(|p| parse("person id", &p)).transpose()?;
        Ok(Some(TakenCeremony { person, state: row.try_get("state")? }))
    }
}
