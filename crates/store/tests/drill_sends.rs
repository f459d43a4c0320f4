//! Drill messages are taken for sending by one conditional `UPDATE` each: senders racing on the same
//! database never hold the same message, and a message whose sender died is taken again only once its
//! lease has run out, marked as interrupted. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use bonafide_domain::{DrillChannel, DrillId, DrillTargetId, NewPerson, PersonId, Roles};
use bonafide_store::testing::TestDb;
use bonafide_store::{Actor, AuditEvent, Backend, NewDrill, NewTarget, Outcome, SendResult, Store};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

fn seeded(what: &'static str) -> AuditEvent {
    AuditEvent::new(&Actor::system(), "test.seeded", what, Outcome::Ok)
}

/// `n` people, and a running drill to all of them whose messages are all due at `now`.
async fn drill_to(store: &Store, n: usize, now: OffsetDateTime) -> DrillId {
    let people: Vec<NewPerson> = (0..n)
        .map(|i| {
            let email = format!("p{i}@example.com").parse().unwrap();
            NewPerson::new(email, format!("Person {i}").parse().unwrap(), Roles::new([]))
        })
        .collect();
    store.import_people(&people, now, |_| {}, |_, _| seeded("people")).await.unwrap();
    let admin: PersonId = store.person_by_email(&"p0@example.com".parse().unwrap()).await.unwrap().unwrap().id;
    let id = DrillId::new();
    let drill = NewDrill {
        id,
        name: "race".into(),
        scenario_id: None,
        scenario: "{}".into(),
        channel: DrillChannel::Email,
        targets: "{}".into(),
        window_hours: 0,
        sender_address: None,
        caller_number: None,
        claimed_staff_id: None,
        created_by: admin,
    };
    store.create_drill(&drill, &seeded("drill"), now).await.unwrap();
    let mut targets = Vec::new();
    for (i, p) in store.drill_candidates().await.unwrap().into_iter().enumerate() {
        targets.push(NewTarget {
            id: DrillTargetId::new(),
            person: p.person,
            email: p.email,
            display_name: p.display_name,
            department: p.department,
            phone: None,
            token_hash: format!("{i:064}"),
            send_at: now,
        });
    }
    assert!(store.launch_drill(id, &targets, now, &seeded("launch"), now).await.unwrap());
    id
}

async fn racing_senders_never_hold_the_same_message(backend: Backend) {
    let db = TestDb::new(backend).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let drill = drill_to(&db.store, 60, now).await;
    let mut senders = Vec::new();
    for _ in 0..4 {
        let store = db.store.clone();
        senders.push(tokio::spawn(async move {
            let mut taken = Vec::new();
            loop {
                let due = store.claim_due_sends(now, now + Duration::minutes(5), 3).await.unwrap();
                if due.is_empty() {
                    return taken;
                }
                for d in due {
                    store.record_send(d.target.id, &SendResult::Sent("250 ok".into()), now).await.unwrap();
                    taken.push(d.target.id);
                }
            }
        }));
    }
    let mut times: BTreeMap<DrillTargetId, usize> = BTreeMap::new();
    for s in senders {
        for id in s.await.unwrap() {
            *times.entry(id).or_default() += 1;
        }
    }
    assert_eq!(times.len(), 60, "every message was sent");
    assert!(times.values().all(|n| *n == 1), "a message was taken twice: {times:?}");
    let targets = db.store.drill_targets(drill).await.unwrap();
    assert!(targets.iter().all(|t| t.send_status == bonafide_domain::SendStatus::Sent && t.attempts == 1));
    db.drop_db().await;
}

async fn a_lost_sender_s_message_is_taken_again_only_after_its_lease(backend: Backend) {
    let db = TestDb::new(backend).await.unwrap();
    let now = OffsetDateTime::now_utc();
    drill_to(&db.store, 1, now).await;
    let lease = now + Duration::minutes(5);
    let first = db.store.claim_due_sends(now, lease, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(!first[0].interrupted);
    // The sender dies here without recording. Nobody takes it while the lease holds.
    assert!(db.store.claim_due_sends(now + Duration::minutes(4), lease, 10).await.unwrap().is_empty());
    let again = db.store.claim_due_sends(lease, lease + Duration::minutes(5), 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert!(again[0].interrupted, "the second sender knows an attempt was interrupted");
    // The holder records a temporary failure: the message is taken again at the time it names, not before.
    // (The lease, 5 minutes in the sender, outlasts any attempt: SMTP and HTTP time out within 30 s.)
    let retry_at = lease + Duration::minutes(1);
    db.store.record_send(again[0].target.id, &SendResult::Retry("421 busy".into(), retry_at), lease).await.unwrap();
    assert!(db.store.claim_due_sends(lease, lease + Duration::minutes(5), 10).await.unwrap().is_empty());
    let third = db.store.claim_due_sends(retry_at, retry_at + Duration::minutes(5), 10).await.unwrap();
    assert_eq!((third.len(), third[0].attempts), (1, 1));
    db.drop_db().await;
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $name() { super::$name(bonafide_store::Backend::Sqlite).await; })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $name() { super::$name(bonafide_store::Backend::Postgres).await; })*
        }
    };
}

both!(racing_senders_never_hold_the_same_message, a_lost_sender_s_message_is_taken_again_only_after_its_lease);
