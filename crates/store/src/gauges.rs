//! What the metrics read from the database and the store's own handles at scrape time: state that every
//! instance sharing the database reports alike (active campaigns, the webhook delivery backlog), and this
//! instance's connection pools and SQLite worker queue.

use crate::{HotPath, Store, StoreError};
use sqlx::Row;

/// One connection pool's use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUse {
    /// Which pool: `read` and `write` on SQLite, `shared` on PostgreSQL.
    pub pool: &'static str,
    /// Connections open and in use.
    pub in_use: u64,
    /// Connections open and idle.
    pub idle: u64,
    /// The most connections it opens.
    pub max: u64,
}

/// The database's state as the metrics report it.
#[derive(Debug, Clone, Default)]
pub struct StoreGauges {
    /// Campaigns with status `active`, by severity name (only severities that have some).
    pub active_campaigns: Vec<(String, i64)>,
    /// Webhook deliveries waiting for an attempt (pending, on an active webhook).
    pub delivery_backlog: i64,
}

impl Store {
    /// Active campaigns by severity and the webhook delivery backlog, two statements.
    pub async fn gauges(&self) -> Result<StoreGauges, StoreError> {
        let rows = sqlx::query(
            "SELECT severity, COUNT(*) AS n FROM campaigns WHERE status = 'active' GROUP BY severity ORDER BY severity",
        )
        .fetch_all(&self.read)
        .await?;
        let active_campaigns = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>("severity")?, r.try_get::<i64, _>("n")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        let delivery_backlog = sqlx::query(
            "SELECT COUNT(*) AS n FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.status = 'pending' AND w.active = 1",
        )
        .fetch_one(&self.read)
        .await?
        .try_get("n")?;
        Ok(StoreGauges { active_campaigns, delivery_backlog })
    }

    /// This instance's connection pools.
    pub fn pool_use(&self) -> Vec<PoolUse> {
        let of = |pool: &'static str, p: &sqlx::AnyPool| {
            let (size, idle) = (u64::from(p.size()), u64::try_from(p.num_idle()).unwrap_or(u64::MAX));
            PoolUse { pool, in_use: size.saturating_sub(idle), idle, max: u64::from(p.options().get_max_connections()) }
        };
        match self.hot {
            HotPath::Sqlite(_) => vec![of("read", &self.read), of("write", &self.write)],
            HotPath::Postgres(_) => vec![of("shared", &self.read)],
        }
    }

    /// Jobs queued for the SQLite worker (reads and check rows waiting for its next turn); `None` on
    /// PostgreSQL, which has no worker.
    pub fn sqlite_queue_depth(&self) -> Option<usize> {
        match &self.hot {
            HotPath::Sqlite(lite) => Some(lite.queued()),
            HotPath::Postgres(_) => None,
        }
    }
}
