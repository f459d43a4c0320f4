//! Rate limits shared by every server instance: fixed windows counted in the database; and the staff
//! directory's look-up log, which is its own rate limit.

use crate::codec::from_millis;
use crate::{Store, StoreError};
use bonafide_domain::PersonId;
use sqlx::Row;

impl Store {
    /// Counts one hit on `bucket` in the window starting at `window_start` (any monotonic number, e.g.
    /// the minute) and returns the hits so far in that window, this one included.
    pub async fn hit_rate_limit(&self, bucket: &str, window_start: i64) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket) DO UPDATE SET \
               hits = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.hits + 1 ELSE 1 END, \
               window_start = excluded.window_start \
             RETURNING hits",
        )
        .bind(bucket)
        .bind(window_start)
        .fetch_one(&self.write)
        .await?;
        Ok(row.try_get("hits")?)
    }
}

/// One person's staff directory look-ups in one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffLookups {
    /// The start of the minute.
    pub minute: time::OffsetDateTime,
    /// How many look-ups (searches and cards), refused ones included.
    pub lookups: i64,
    /// The last search or staff id looked up.
    pub last_query: String,
}

impl Store {
    /// Logs one staff directory look-up by `person` in `minute` (Unix minutes) and returns how many they
    /// made in that minute, this one included: the log and the rate limit are the same row.
    pub async fn count_staff_lookup(&self, person: PersonId, minute: i64, query: &str) -> Result<i64, StoreError> {
        let query: String = query.chars().take(100).collect();
        let row = sqlx::query(
            "INSERT INTO staff_lookups (person_id, minute, lookups, last_query) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (person_id, minute) DO UPDATE SET lookups = staff_lookups.lookups + 1, \
               last_query = excluded.last_query \
             RETURNING lookups",
        )
        .bind(person.to_string())
        .bind(minute)
        .bind(query)
        .fetch_one(&self.write)
        .await?;
        Ok(row.try_get("lookups")?)
    }

    /// `person`'s latest minutes with staff directory look-ups, newest first, at most `limit`.
    pub async fn staff_lookups(&self, person: PersonId, limit: i64) -> Result<Vec<StaffLookups>, StoreError> {
        let rows = sqlx::query(
            "SELECT minute, lookups, last_query FROM staff_lookups WHERE person_id = $1 ORDER BY minute DESC LIMIT $2",
        )
        .bind(person.to_string())
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let minute: i64 = r.try_get("minute")?;
                Ok(StaffLookups {
                    minute: from_millis(minute.saturating_mul(60_000))?,
                    lookups: r.try_get("lookups")?,
                    last_query: r.try_get("last_query")?,
                })
            })
            .collect()
    }
}
