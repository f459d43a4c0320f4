//! Wrong codes counted across checks (issue 14, point 4): per employee and per request, atomic in the
//! database, on SQLite and PostgreSQL.

use super::{ALONE, NOW, company, new_check, pending, query};
use bonafide_domain::{GuardScope, RequestKey};
use bonafide_store::{AcrossChecks, Actor, Backend};
use time::Duration;

on_both!(
    regression_14_4_wrong_codes_across_checks_lock_the_employee_and_the_request,
    wrong_codes_older_than_the_window_are_not_counted,
);

fn message(scope: &GuardScope, failures: i64) -> String {
    format!("{failures} wrong codes on {}", scope.describe())
}

/// Ten wrong codes spread over many checks (each under its own limit of five), sent concurrently, lock
/// the employee's and the request's verification exactly once; the lock shows in the check's facts.
async fn regression_14_4_wrong_codes_across_checks_lock_the_employee_and_the_request(backend: Backend) {
    let c = company(backend).await;
    let store = c.db.store.clone();
    let key = RequestKey::from_number(1001);
    let scopes = [GuardScope::Employee(c.erin), GuardScope::Request(key)];
    let mut checks = Vec::new();
    for _ in 0..8 {
        checks.push(store.create_check(&new_check(c.erin), &pending(), 0, &Actor::system(), NOW).await.unwrap());
    }
    // Three wrong codes on each of eight checks: 24 attempts, none of which locks its own check.
    let attempts = checks.iter().flat_map(|id| [*id; 3]).enumerate().map(|(i, id)| {
        let store = store.clone();
        let at = NOW + Duration::seconds(i64::try_from(i).unwrap());
        tokio::spawn(async move {
            let across = AcrossChecks { scopes: &scopes, message: &message, ..ALONE };
            store.record_challenge_failure(id, 5, "check locked", &across, &Actor::system(), at).await.unwrap()
        })
    });
    let mut locked = Vec::new();
    for a in attempts {
        let (state, now_locked) = a.await.unwrap().expect("every attempt counts on its own check");
        assert!(!state.locked, "no check reached its own limit");
        locked.extend(now_locked);
    }
    locked.sort_by_key(GuardScope::key);
    assert_eq!(locked, [GuardScope::Employee(c.erin), GuardScope::Request(key)], "each scope locks once");
    let alerts = store.list_alerts(50).await.unwrap();
    let raised: Vec<&str> =
        alerts.iter().filter(|a| a.kind == "verification_locked").map(|a| a.message.as_str()).collect();
    assert_eq!(raised.len(), 2, "{raised:?}");
    assert!(raised.iter().all(|m| m.starts_with("10 wrong codes on ")), "{raised:?}");

    let later = NOW + Duration::minutes(5);
    let facts = store.check_facts(&super::FactsQuery { now: later, ..query(c.erin) }).await.unwrap();
    let mut keys = facts.locked_scopes.clone();
    keys.sort();
    assert_eq!(keys, [GuardScope::Employee(c.erin).key(), GuardScope::Request(key).key()]);
    let over = NOW + Duration::hours(2);
    let facts = store.check_facts(&super::FactsQuery { now: over, ..query(c.erin) }).await.unwrap();
    assert!(facts.locked_scopes.is_empty(), "the lock ends");
    let others = store.check_facts(&query(c.kim)).await.unwrap();
    assert!(others.locked_scopes.is_empty(), "another employee is not locked");
    c.db.drop_db().await;
}

/// Wrong codes older than the window are not counted: nine over twenty minutes lock nothing.
async fn wrong_codes_older_than_the_window_are_not_counted(backend: Backend) {
    let c = company(backend).await;
    let store = &c.db.store;
    let scopes = [GuardScope::Employee(c.erin)];
    let across = AcrossChecks { scopes: &scopes, message: &message, ..ALONE };
    let mut at = NOW;
    for _ in 0..3 {
        let id = store.create_check(&new_check(c.erin), &pending(), 0, &Actor::system(), at).await.unwrap();
        for _ in 0..3 {
            let (_, locked) =
                store.record_challenge_failure(id, 5, "x", &across, &Actor::system(), at).await.unwrap().unwrap();
            assert!(locked.is_empty());
        }
        at += Duration::minutes(10);
    }
    // Nine wrong codes over 20 minutes: at most six fall in any 15 minutes.
    let facts = store.check_facts(&super::FactsQuery { now: at, ..query(c.erin) }).await.unwrap();
    assert!(facts.locked_scopes.is_empty());
    c.db.drop_db().await;
}
