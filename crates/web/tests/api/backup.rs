//! Backups taken while the server works: 64 clients file checks and reports as a backup runs, and the
//! backup restores into the other database whole, its audit chain intact; the server starts on it with
//! the same secret, and an authenticator app enrolled before still signs its person in.

use crate::helpers::*;
use crate::portal::{Browser, PASSWORD, enrol_totp, set_password};
use bonafide_auth::totp;
use bonafide_store::testing::TestDb;
use bonafide_store::{Backend, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

on_both!(a_backup_taken_under_load_restores_into_the_other_database_whole);

async fn a_backup_taken_under_load_restores_into_the_other_database_whole(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.app.checks_per_minute = 100_000).await;
    set_password(&app, "erin@example.com").await;
    let seed = enrol_totp(&app, "erin@example.com").await;
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for i in 0..64usize {
        let (api, stop, done) = (app.api.clone(), stop.clone(), done.clone());
        let token = if i % 2 == 0 { app.tokens.erin.clone() } else { app.tokens.finn.clone() };
        clients.push(tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let r = if (i + n).is_multiple_of(4) {
                    let number = format!("+1 555 01{:02} {:04}", i, n % 10_000);
                    let body = serde_json::json!({ "channel": "phone", "caller_number": number, "claimed_name": "Mike from IT" });
                    api.post("/api/v1/reports", &token, body).await
                } else {
                    api.post("/api/v1/checks", &token, sams_call()).await
                };
                assert!(r.status == 201 || r.status == 200, "{} {}", r.status, r.text);
                n += 1;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Let the load build, then back up through a store of the backup's own, as `bonafide backup` does.
    while done.load(Ordering::Relaxed) < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("under-load.backup");
    let backup_store = Store::connect(app.db_url()).await.unwrap();
    let before = done.load(Ordering::Relaxed);
    let written = backup_store.backup(&file, &|_, _| {}).await.unwrap();
    let during = done.load(Ordering::Relaxed) - before;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    backup_store.close().await;
    assert!(during > 0, "the clients kept working while the backup ran");
    let checks = written.tables["contact_checks"];
    assert!(checks >= 100, "{:?}", written.tables);

    let other = if backend == Backend::Sqlite { Backend::Postgres } else { Backend::Sqlite };
    let target = TestDb::new(other).await.unwrap();
    let restored = target.store.restore(&file, &|_, _| {}).await.unwrap();
    assert_eq!(restored, written);
    let verdict = target.store.verify_audit(|_| {}).await.unwrap();
    assert!(verdict.broken.is_none(), "{verdict:?}");
    assert_eq!(u64::try_from(verdict.entries).unwrap(), written.tables["audit_log"]);

    // The server starts on the restored database with the same secret; Erin's sealed authenticator seed
    // opens, so her password and code sign her in.
    let restored_api = app.spawn_on(target.store.clone()).await;
    let mut b = Browser::new(&app);
    b.base = restored_api.base.clone();
    let next = b.password("erin@example.com", PASSWORD).await;
    assert_eq!((next.status, next.location.as_str()), (303, "/signin/second-factor"), "{}", next.text);
    let form = b.get("/signin/second-factor").await;
    let code = totp::code_at(&seed, app.clock_now().unix_timestamp());
    let signed_in = b.post("/signin/second-factor", &[("csrf", &form.csrf()), ("code", &code)]).await;
    assert_eq!((signed_in.status, signed_in.location.as_str()), (303, "/"), "{}", signed_in.text);
    // And the API tokens work there too.
    assert_eq!(restored_api.get("/api/v1/me", &app.tokens.erin).await.status, 200);
    drop(restored_api);
    target.drop_db().await;
    app.drop_db().await;
}
