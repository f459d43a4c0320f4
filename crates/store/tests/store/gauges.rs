//! What a metrics scrape reads from the store, alike on both databases.

use bonafide_store::Backend;
use bonafide_store::testing::TestDb;

on_both!(campaigns_under_way_are_counted_by_severity_and_the_pools_and_queue_reported);

async fn campaigns_under_way_are_counted_by_severity_and_the_pools_and_queue_reported(backend: Backend) {
    let db = TestDb::new(backend).await.unwrap();
    let fresh = db.store.gauges().await.unwrap();
    assert_eq!((fresh.active_campaigns, fresh.delivery_backlog), (vec![], 0));
    db.execute_raw(
        "INSERT INTO campaigns (id, status, severity, first_seen, last_seen, created_at, updated_at) VALUES \
         ('c1', 'active', 'high', 0, 0, 0, 0), ('c2', 'active', 'high', 0, 0, 0, 0), \
         ('c3', 'active', 'low', 0, 0, 0, 0), ('c4', 'closed', 'critical', 0, 0, 0, 0), \
         ('c5', 'cluster', 'medium', 0, 0, 0, 0)",
    )
    .await
    .unwrap();
    let g = db.store.gauges().await.unwrap();
    assert_eq!(g.active_campaigns, vec![("high".to_owned(), 2), ("low".to_owned(), 1)]);
    let pools = db.store.pool_use();
    let names: Vec<&str> = pools.iter().map(|p| p.pool).collect();
    match backend {
        Backend::Sqlite => {
            assert_eq!(names, ["read", "write"]);
            assert_eq!(db.store.sqlite_queue_depth(), Some(0));
        }
        Backend::Postgres => {
            assert_eq!(names, ["shared"]);
            assert_eq!(db.store.sqlite_queue_depth(), None);
        }
    }
    assert!(pools.iter().all(|p| p.max >= 1 && p.in_use + p.idle <= p.max), "{pools:?}");
    db.drop_db().await;
}
