//! Sign-in state: password hashes, TOTP (sealed seeds and the last accepted step), recovery codes,
//! server-side sessions, sign-in throttling and company settings.
//!
//! Every rule that must hold across instances is one conditional statement: a TOTP step is accepted only
//! by the UPDATE that raises `totp_last_step` past it, a recovery code only by the UPDATE that marks it
//! used, so a code replayed at the same moment on two instances wins once.

use crate::codec::{from_millis, millis};
use crate::people::person_from;
use crate::{AuditEvent, Principal, Store, StoreError, commit_audited, directory_changed};
use bonafide_domain::{PersonId, PersonStatus, SessionStage};
use sqlx::Row;
use time::{Duration, OffsetDateTime};

/// What a person has enrolled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// Argon2id PHC string, if a password is set.
    pub password_hash: Option<String>,
    /// The sealed TOTP seed, once enrolment was confirmed.
    pub totp_sealed: Option<String>,
    /// A sealed seed shown for enrolment and not yet confirmed with a code.
    pub totp_pending: Option<String>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
    /// Passkeys registered.
    pub passkeys: i64,
}

/// A live session and whose it is.
#[derive(Debug, Clone)]
pub struct Session {
    /// The signed-in person (active).
    pub principal: Principal,
    /// How far sign-in got.
    pub stage: SessionStage,
    /// The CSRF token every form must echo.
    pub csrf: String,
    /// When it was created (at the password step).
    pub created_at: OffsetDateTime,
    /// Last request seen.
    pub last_seen_at: OffsetDateTime,
}

/// A new session row.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// SHA-256 of the cookie's token.
    pub token_hash: &'a str,
    /// Whose.
    pub person: PersonId,
    /// How far sign-in got.
    pub stage: SessionStage,
    /// The CSRF token.
    pub csrf: &'a str,
    /// The client's address.
    pub client: &'a str,
    /// Now.
    pub now: OffsetDateTime,
    /// Absolute expiry, whatever the activity.
    pub expires_at: OffsetDateTime,
}

impl Store {
    /// What `person` has enrolled.
    pub async fn credentials(&self, person: PersonId) -> Result<Credentials, StoreError> {
        let row = sqlx::query(
            "SELECT c.password_hash, c.totp_sealed, c.totp_pending, \
               (SELECT COUNT(*) FROM recovery_codes r WHERE r.person_id = $1 AND r.used_at IS NULL) AS codes, \
               (SELECT COUNT(*) FROM passkeys k WHERE k.person_id = $1) AS passkeys \
             FROM people p LEFT JOIN credentials c ON c.person_id = p.id WHERE p.id = $1",
        )
        .bind(person.to_string())
        .fetch_optional(&self.write)
        .await?;
        let Some(row) = row else { return Ok(Credentials::default()) };
        Ok(Credentials {
            password_hash: row.try_get("password_hash")?,
            totp_sealed: row.try_get("totp_sealed")?,
            totp_pending: row.try_get("totp_pending")?,
            recovery_codes_left: row.try_get("codes")?,
            passkeys: row.try_get("passkeys")?,
        })
    }

    async fn upsert_credential(
        tx: &mut sqlx::AnyConnection,
        person: PersonId,
        column: &'static str,
        value: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // `column` is one of this module's constants, never input.
        sqlx::query(crate::dynamic(format!(
            "INSERT INTO credentials (person_id, {column}, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (person_id) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at"
        )))
        .bind(person.to_string())
        .bind(value)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Sets (or replaces) the password hash, recording `audit` with it.
    pub async fn set_password_hash(
        &self,
        person: PersonId,
        phc: &str,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        Self::upsert_credential(&mut tx, person, "password_hash", Some(phc), now).await?;
        commit_audited(tx, &[audit], now).await
    }

    /// Keeps a sealed seed for enrolment until it is confirmed (replacing any earlier pending one). Not
    /// audited: nothing can sign in with a pending seed; its confirmation is.
    pub async fn set_totp_pending(
        &self,
        person: PersonId,
        sealed: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        Self::upsert_credential(&mut tx, person, "totp_pending", Some(sealed), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes the pending seed the person's TOTP, with `step` (the code that confirmed it) as the last
    /// accepted step, replaces their recovery codes with `recovery` (hashes), and records `audit`, all in
    /// one transaction. False (nothing changed) when nothing was pending.
    pub async fn confirm_totp(
        &self,
        person: PersonId,
        step: u64,
        recovery: &[String],
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE credentials SET totp_sealed = totp_pending, totp_pending = NULL, totp_last_step = $2, \
               updated_at = $3 WHERE person_id = $1 AND totp_pending IS NOT NULL",
        )
        .bind(person.to_string())
        .bind(i64::try_from(step).unwrap_or(i64::MAX))
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        replace_recovery_codes(&mut tx, person, recovery).await?;
        directory_changed(&mut tx).await?;
        commit_audited(tx, &[audit], now).await?;
        Ok(true)
    }

    /// Removes TOTP (and the recovery codes that go with it), recording `audit` with it.
    pub async fn remove_totp(
        &self,
        person: PersonId,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "UPDATE credentials SET totp_sealed = NULL, totp_pending = NULL, updated_at = $2 WHERE person_id = $1",
        )
        .bind(person.to_string())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE person_id = $1")
            .bind(person.to_string())
            .execute(&mut *tx)
            .await?;
        directory_changed(&mut tx).await?;
        commit_audited(tx, &[audit], now).await
    }

    /// Accepts TOTP time step `step` for `person` if it is newer than every step accepted before. One
    /// atomic UPDATE: a code is accepted once, even when replayed on two instances at the same moment.
    pub async fn accept_totp_step(&self, person: PersonId, step: u64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE credentials SET totp_last_step = $2 \
             WHERE person_id = $1 AND totp_sealed IS NOT NULL AND totp_last_step < $2",
        )
        .bind(person.to_string())
        .bind(i64::try_from(step).unwrap_or(i64::MAX))
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The last accepted TOTP step, 0 when none.
    pub async fn totp_last_step(&self, person: PersonId) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT totp_last_step FROM credentials WHERE person_id = $1")
            .bind(person.to_string())
            .fetch_optional(&self.write)
            .await?;
        let step: i64 = row.map(|r| r.try_get("totp_last_step")).transpose()?.unwrap_or(0);
        Ok(u64::try_from(step).unwrap_or(0))
    }

    /// Uses the recovery code with `hash`; false when it does not exist or was used.
    pub async fn use_recovery_code(
        &self,
        person: PersonId,
        hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $3 WHERE person_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .bind(person.to_string())
        .bind(hash)
        .bind(millis(now))
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a new session, recording `audit` (the sign-in step that earned it) with it.
    pub async fn create_session(&self, s: &NewSession<'_>, audit: &[&AuditEvent]) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, person_id, stage, csrf, client, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
        )
        .bind(s.token_hash)
        .bind(s.person.to_string())
        .bind(s.stage.as_str())
        .bind(s.csrf)
        .bind(s.client)
        .bind(millis(s.now))
        .bind(millis(s.expires_at))
        .execute(&mut *tx)
        .await?;
        commit_audited(tx, audit, s.now).await
    }

    /// The session with `token_hash` if it has not expired (absolute expiry, or `idle` without a request)
    /// and its person is active. Records the activity when the last one is older than a minute.
    pub async fn session(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
        idle: Duration,
    ) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT p.id, p.email, p.display_name, p.department, p.roles, p.status, p.staff_id, \
                    s.stage, s.csrf, s.created_at, s.last_seen_at \
             FROM sessions s JOIN people p ON p.id = s.person_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3",
        )
        .bind(token_hash)
        .bind(millis(now))
        .bind(millis(now - idle))
        .fetch_optional(&self.write)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let person = person_from(&row)?;
        if person.status != PersonStatus::Active {
            return Ok(None);
        }
        let stage: String = row.try_get("stage")?;
        let last_seen_at = from_millis(row.try_get("last_seen_at")?)?;
        if now - last_seen_at > Duration::minutes(1) {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                .bind(token_hash)
                .bind(millis(now))
                .execute(&self.write)
                .await?;
        }
        Ok(Some(Session {
            principal: Principal::from(person),
            stage: SessionStage::from_name(&stage)
                .ok_or_else(|| StoreError::Corrupt(format!("session stage `{stage}`")))?,
            csrf: row.try_get("csrf")?,
            created_at: from_millis(row.try_get("created_at")?)?,
            last_seen_at,
        }))
    }

    /// Ends one session, recording `audit` (sign-out; nothing when a sign-in step replaces it).
    pub async fn delete_session(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
        audit: &[&AuditEvent],
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
        commit_audited(tx, audit, now).await
    }

    /// Ends every session of `person` ("sign out everywhere"), recording `audit`; returns how many.
    pub async fn delete_sessions_of(
        &self,
        person: PersonId,
        now: OffsetDateTime,
        audit: &[&AuditEvent],
    ) -> Result<u64, StoreError> {
        let mut tx = self.write.begin().await?;
        let done =
            sqlx::query("DELETE FROM sessions WHERE person_id = $1").bind(person.to_string()).execute(&mut *tx).await?;
        commit_audited(tx, audit, now).await?;
        Ok(done.rows_affected())
    }

    /// Removes sessions that can no longer be used.
    pub async fn purge_sessions(&self, now: OffsetDateTime, idle: Duration) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(millis(now))
            .bind(millis(now - idle))
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }

    /// Counts a failed sign-in against `subject` within a `window`; once `threshold` failures are
    /// reached, locks it for `lock` (each further failure while counting extends nothing beyond
    /// `now + lock`). Returns the lock's end, if locked.
    pub async fn record_signin_failure(
        &self,
        subject: &str,
        now: OffsetDateTime,
        window: Duration,
        threshold: i64,
        lock: Duration,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let row = sqlx::query(
            "INSERT INTO signin_failures (subject, failures, window_start, locked_until) VALUES ($1, 1, $2, 0) \
             ON CONFLICT (subject) DO UPDATE SET \
               failures = CASE WHEN signin_failures.window_start > $3 THEN signin_failures.failures + 1 ELSE 1 END, \
               window_start = CASE WHEN signin_failures.window_start > $3 THEN signin_failures.window_start ELSE $2 END \
             RETURNING failures",
        )
        .bind(subject)
        .bind(millis(now))
        .bind(millis(now - window))
        .fetch_one(&self.write)
        .await?;
        let failures: i64 = row.try_get("failures")?;
        if failures < threshold {
            return Ok(None);
        }
        let until = now + lock;
        sqlx::query("UPDATE signin_failures SET locked_until = $2, failures = 0, window_start = $3 WHERE subject = $1")
            .bind(subject)
            .bind(millis(until))
            .bind(millis(now))
            .execute(&self.write)
            .await?;
        Ok(Some(until))
    }

    /// The latest lock end among `subjects` that is still in the future.
    pub async fn signin_locked_until(
        &self,
        subjects: &[&str],
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let mut latest: Option<OffsetDateTime> = None;
        for subject in subjects {
            let row = sqlx::query("SELECT locked_until FROM signin_failures WHERE subject = $1 AND locked_until > $2")
                .bind(*subject)
                .bind(millis(now))
                .fetch_optional(&self.write)
                .await?;
            if let Some(row) = row {
                let until = from_millis(row.try_get("locked_until")?)?;
                latest = Some(latest.map_or(until, |l| l.max(until)));
            }
        }
        Ok(latest)
    }

    /// Forgets the failures of `subject` (after a successful sign-in).
    pub async fn clear_signin_failures(&self, subject: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM signin_failures WHERE subject = $1").bind(subject).execute(&self.write).await?;
        Ok(())
    }

    /// A company setting.
    pub async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("SELECT value FROM settings WHERE name = $1").bind(name).fetch_optional(&self.read).await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    /// Sets company settings (name, value), recording `audit` with them.
    pub async fn set_settings(
        &self,
        values: &[(&str, &str)],
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        for (name, value) in values {
            sqlx::query(
                "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(*name)
            .bind(*value)
            .execute(&mut *tx)
            .await?;
        }
        commit_audited(tx, &[audit], now).await
    }

    /// The person with `id`, whatever their status.
    pub async fn person_by_id(&self, id: PersonId) -> Result<Option<crate::Person>, StoreError> {
        let row =
            sqlx::query(crate::dynamic(format!("SELECT {} FROM people WHERE id = $1", crate::people::PERSON_COLUMNS)))
                .bind(id.to_string())
                .fetch_optional(&self.read)
                .await?;
        row.as_ref().map(|r| person_from(r)).transpose()
    }
}

/// Replaces every recovery code of `person` with `hashes`, in `tx`.
async fn replace_recovery_codes(
    tx: &mut sqlx::AnyConnection,
    person: PersonId,
    hashes: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM recovery_codes WHERE person_id = $1").bind(person.to_string()).execute(&mut *tx).await?;
    for hash in hashes {
        sqlx::query("INSERT INTO recovery_codes (person_id, code_hash) VALUES ($1, $2)")
            .bind(person.to_string())
            .bind(hash)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
