//! The event log (an outbox) and webhook deliveries.
//!
//! An event is appended in the transaction of the change it describes, together with one pending
//! delivery per active webhook that wants its kind: a committed change always has its event and its
//! deliveries, and a rolled-back one has neither. The delivery worker (in the web crate) claims due
//! deliveries with a conditional UPDATE, so several instances never send the same attempt twice.

use crate::codec::{from_millis, millis, parse};
use crate::{Store, StoreError, dynamic};
use bonafide_domain::{DeliveryId, WebhookId};
use sqlx::Row;
use time::OffsetDateTime;

/// An event as read back.
#[derive(Debug, Clone)]
pub struct Event {
    /// Its number: strictly increasing.
    pub seq: i64,
    /// What happened (`report.filed`, `campaign.detected`…).
    pub kind: String,
    /// The details, as JSON text.
    pub payload: String,
    /// When.
    pub created_at: OffsetDateTime,
}

/// A webhook.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Id.
    pub id: WebhookId,
    /// Where events are posted.
    pub url: String,
    /// The signing secret, sealed.
    pub secret_sealed: String,
    /// Event kinds it wants (`*` for all).
    pub kinds: Vec<String>,
    /// Whether deliveries are made.
    pub active: bool,
    /// When it was added.
    pub created_at: OffsetDateTime,
}

/// A delivery attempt record.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Id.
    pub id: DeliveryId,
    /// Which webhook.
    pub webhook: WebhookId,
    /// Which event.
    pub event_seq: i64,
    /// `pending`, `delivered` or `gave_up`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last HTTP status received.
    pub last_status: Option<i64>,
    /// The last error, when no status came back.
    pub last_error: Option<String>,
    /// When the next attempt is due.
    pub next_attempt_at: OffsetDateTime,
    /// When it was delivered.
    pub delivered_at: Option<OffsetDateTime>,
}

/// A due delivery, claimed for one attempt.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// The delivery.
    pub id: DeliveryId,
    /// Attempts made before this one.
    pub attempts: i64,
    /// Where to post.
    pub url: String,
    /// The webhook (for its secret's context).
    pub webhook: WebhookId,
    /// The sealed secret.
    pub secret_sealed: String,
    /// The event.
    pub event: Event,
}

/// Appends an event and its pending deliveries inside `tx`.
pub(crate) async fn append_event(
    tx: &mut sqlx::AnyConnection,
    kind: &str,
    payload: &serde_json::Value,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    let seq: i64 = sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'event' RETURNING value")
        .fetch_one(&mut *tx)
        .await?
        .try_get("value")?;
    sqlx::query("INSERT INTO events (seq, kind, payload, created_at) VALUES ($1, $2, $3, $4)")
        .bind(seq)
        .bind(kind)
        .bind(payload.to_string())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
    let hooks = sqlx::query("SELECT id, kinds FROM webhooks WHERE active = 1").fetch_all(&mut *tx).await?;
    for hook in hooks {
        let kinds: String = hook.try_get("kinds")?;
        if !kinds.split(',').any(|k| k == "*" || k == kind) {
            continue;
        }
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, webhook_id, event_seq, status, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, 'pending', $4, $4)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(hook.try_get::<String, _>("id")?)
        .bind(seq)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
    }
    Ok(seq)
}

fn event_from(row: &sqlx::any::AnyRow) -> Result<Event, StoreError> {
    let payload: String = row.try_get("payload")?;
    // Stored by this crate from a JSON value; text that is not JSON was written by someone else.
    serde_json::from_str::<serde::de::IgnoredAny>(&payload)
        .map_err(|e| StoreError::Corrupt(format!("event payload: {e}")))?;
    Ok(Event {
        seq: row.try_get("seq")?,
        kind: row.try_get("kind")?,
        payload,
        created_at: from_millis(row.try_get("created_at")?)?,
    })
}

fn webhook_from(row: &sqlx::any::AnyRow) -> Result<Webhook, StoreError> {
    let kinds: String = row.try_get("kinds")?;
    Ok(Webhook {
        id: parse("webhook id", &row.try_get::<String, _>("id")?)?,
        url: row.try_get("url")?,
        secret_sealed: row.try_get("secret_sealed")?,
        kinds: kinds.split(',').filter(|k| !k.is_empty()).map(str::to_owned).collect(),
        active: row.try_get::<i64, _>("active")? == 1,
        created_at: from_millis(row.try_get("created_at")?)?,
    })
}

impl Store {
    /// Appends an event on its own (for changes made outside a store transaction).
    pub async fn append_event(
        &self,
        kind: &str,
        payload: &serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write.begin().await?;
        let seq = append_event(&mut tx, kind, payload, now).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Events after `after`, oldest first, at most `limit`.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(dynamic(format!(
            "SELECT seq, kind, payload, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT {}",
            limit.clamp(1, 10_000)
        )))
        .bind(after)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(event_from).collect()
    }

    /// Adds a webhook, recording `audit` with it.
    #[expect(clippy::too_many_arguments, reason = "the webhook's columns, then the audit entry")]
    pub async fn add_webhook(
        &self,
        id: WebhookId,
        url: &str,
        secret_sealed: &str,
        kinds: &[String],
        by: bonafide_domain::PersonId,
        now: OffsetDateTime,
        audit: &crate::AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO webhooks (id, url, secret_sealed, kinds, active, created_by, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6)",
        )
        .bind(id.to_string())
        .bind(url)
        .bind(secret_sealed)
        .bind(kinds.join(","))
        .bind(by.to_string())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        crate::commit_audited(tx, &[audit], now).await
    }

    /// Every webhook, oldest first.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, url, secret_sealed, kinds, active, created_at FROM webhooks ORDER BY created_at, id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(webhook_from).collect()
    }

    /// Removes a webhook and its delivery log, recording `audit` with it; whether there was one.
    pub async fn delete_webhook(
        &self,
        id: WebhookId,
        now: OffsetDateTime,
        audit: &crate::AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let id = id.to_string();
        sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1").bind(&id).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(&id).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        crate::commit_audited(tx, &[audit], now).await?;
        Ok(true)
    }

    /// A webhook's deliveries, newest first, at most `limit`.
    pub async fn deliveries(&self, webhook: WebhookId, limit: i64) -> Result<Vec<Delivery>, StoreError> {
        let rows = sqlx::query(dynamic(format!(
            "SELECT id, webhook_id, event_seq, status, attempts, last_status, last_error, next_attempt_at, \
               delivered_at FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY event_seq DESC LIMIT {}",
            limit.clamp(1, 1000)
        )))
        .bind(webhook.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    id: parse("delivery id", &r.try_get::<String, _>("id")?)?,
                    webhook: parse("webhook id", &r.try_get::<String, _>("webhook_id")?)?,
                    event_seq: r.try_get("event_seq")?,
                    status: r.try_get("status")?,
                    attempts: r.try_get("attempts")?,
                    last_status: r.try_get("last_status")?,
                    last_error: r.try_get("last_error")?,
                    next_attempt_at: from_millis(r.try_get("next_attempt_at")?)?,
                    delivered_at: r.try_get::<Option<i64>, _>("delivered_at")?.map(from_millis).transpose()?,
                })
            })
            .collect()
    }

    /// Claims up to `limit` due deliveries for one attempt each: their next attempt moves to `lease_until`,
    /// so another worker does not take them while this one is sending.
    pub async fn claim_due_deliveries(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let rows = sqlx::query(dynamic(format!(
            "SELECT d.id, d.attempts, d.next_attempt_at, w.id AS webhook_id, w.url, w.secret_sealed, \
               e.seq, e.kind, e.payload, e.created_at \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.seq = d.event_seq \
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.active = 1 \
             ORDER BY d.next_attempt_at, d.event_seq LIMIT {}",
            limit.clamp(1, 100)
        )))
        .bind(millis(now))
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let due: i64 = row.try_get("next_attempt_at")?;
            let claimed = sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $3 WHERE id = $1 AND next_attempt_at = $2 \
                 AND status = 'pending'",
            )
            .bind(&id)
            .bind(due)
            .bind(millis(lease_until))
            .execute(&self.write)
            .await?;
            if claimed.rows_affected() == 1 {
                out.push(DueDelivery {
                    id: parse("delivery id", &id)?,
                    attempts: row.try_get("attempts")?,
                    url: row.try_get("url")?,
                    webhook: parse("webhook id", &row.try_get::<String, _>("webhook_id")?)?,
                    secret_sealed: row.try_get("secret_sealed")?,
                    event: event_from(row)?,
                });
            }
        }
        Ok(out)
    }

    /// Records an attempt's outcome: delivered, or failed with the next attempt due at `retry_at` (none:
    /// given up).
    pub async fn record_delivery(
        &self,
        id: DeliveryId,
        delivered: bool,
        http_status: Option<u16>,
        error: Option<&str>,
        retry_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let status = match (delivered, retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "gave_up",
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, last_status = $3, last_error = $4, \
               next_attempt_at = $5, delivered_at = $6 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(status)
        .bind(http_status.map(i64::from))
        .bind(error.map(|e| e.chars().take(300).collect::<String>()))
        .bind(millis(retry_at.unwrap_or(now)))
        .bind(delivered.then(|| millis(now)))
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
