//! Rate limits shared by every server instance: fixed windows counted in the database.

use crate::{Store, StoreError};
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
