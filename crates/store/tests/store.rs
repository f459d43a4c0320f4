//! The same storage tests on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use bonafide_domain::verification::Assessment;
use bonafide_domain::*;
use bonafide_store::testing::TestDb;
use bonafide_store::*;
use std::collections::BTreeSet;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The audit entry of a test's own writes.
fn ev(action: &'static str) -> AuditEvent {
    AuditEvent::new(&Actor::system(), action, "test", Outcome::Ok)
}

const NOW: OffsetDateTime = datetime!(2026-11-28 10:00 UTC);

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name(super::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::$name(super::Backend::Postgres).await } )* }
    };
}

// The correlation scenarios, on both databases like everything here. (A test crate's root resolves
// modules beside it, so the path is named.)
#[path = "store/correlation.rs"]
mod correlation;
#[path = "store/gauges.rs"]
mod gauges;
#[path = "store/guards.rs"]
mod guards;

/// A wrong code that counts against no scope but its check.
const ALONE: AcrossChecks<'static> = AcrossChecks {
    scopes: &[],
    max: 10,
    window: Duration::minutes(15),
    lock_for: Duration::hours(1),
    message: &no_message,
};

fn no_message(_: &GuardScope, _: i64) -> String {
    String::new()
}

on_both!(
    import_creates_then_updates_people_by_email,
    a_bad_manager_rolls_back_the_whole_import,
    staff_candidates_are_found_by_id_name_and_official_contact,
    request_keys_count_up_and_transitions_are_conditional,
    the_attempt_limit_holds_under_concurrent_wrong_codes,
    a_locked_check_cannot_pass,
    rate_limit_windows_count_and_reset,
    outreach_is_never_approved_by_its_proposer,
    tokens_stop_working_when_revoked_or_suspended,
    concurrent_checks_commit_together_beside_other_writes,
    the_audit_chain_verifies_and_names_the_first_altered_entry,
    removing_audit_entries_breaks_the_chain,
    totp_steps_and_recovery_codes_are_accepted_once,
    sessions_expire_idle_or_absolute_and_end_everywhere,
    signin_failures_lock_a_subject_for_a_bounded_time,
);

fn query(employee: PersonId) -> FactsQuery<'static> {
    FactsQuery {
        employee,
        staff_id: None,
        claimed_name: None,
        number: None,
        address: None,
        request_key: None,
        now: NOW,
        checks_since: NOW - Duration::minutes(1),
        count_up_to: 30,
        campaign_number: None,
        campaign_domain: None,
    }
}

fn person(email: &str, name: &str, roles: &[Role]) -> NewPerson {
    let mut p = NewPerson::new(email.parse().unwrap(), name.parse().unwrap(), Roles::new(roles.iter().copied()));
    p.department = "Finance".into();
    p
}

fn staffer(email: &str, name: &str, id: &str, number: &str) -> NewPerson {
    NewPerson {
        staff_id: Some(id.parse().unwrap()),
        team: Some("Service Desk".into()),
        official_phones: vec![PhoneNumber::parse(number, PhoneRegion::default()).unwrap()],
        official_addresses: vec![email.parse().unwrap()],
        ..person(email, name, &[Role::ItStaff])
    }
}

struct Company {
    db: TestDb,
    erin: PersonId,
    sam: PersonId,
    kim: PersonId,
}

async fn company(backend: Backend) -> Company {
    let db = TestDb::new(backend).await.unwrap();
    let people = [
        person("erin@example.com", "Erin Walsh", &[]),
        staffer("sam@example.com", "Sam Carter", "IT-0042", "201-555-0142"),
        staffer("kim@example.com", "Kim Novak", "IT-0007", "201-555-0107"),
    ];
    db.store.import_people(&people, NOW, |_| {}, |_, _| ev("directory.imported")).await.unwrap();
    let id = |e: &'static str| {
        let store = db.store.clone();
        async move { store.person_by_email(&e.parse().unwrap()).await.unwrap().unwrap().id }
    };
    let (erin, sam, kim) = (id("erin@example.com").await, id("sam@example.com").await, id("kim@example.com").await);
    Company { db, erin, sam, kim }
}

async fn import_creates_then_updates_people_by_email(backend: Backend) {
    let c = company(backend).await;
    let store = &c.db.store;
    assert_eq!(store.count_people().await.unwrap(), 3);
    let mut erin = person("ERIN@example.com", "Erin Walsh-Byrne", &[Role::SecurityAdmin]);
    erin.other_emails = vec!["e.walsh@example.com".parse().unwrap()];
    erin.manager_email = Some("sam@example.com".parse().unwrap());
    let (created, updated) = store.import_people(&[erin], NOW, |_| {}, |_, _| ev("directory.imported")).await.unwrap();
    assert_eq!((created, updated), (0, 1));
    let found = store.person_by_email(&"e.walsh@example.com".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(found.id, c.erin);
    assert_eq!(found.display_name.as_str(), "Erin Walsh-Byrne");
    assert!(found.roles.has(Role::SecurityAdmin));
    c.db.drop_db().await;
}

async fn a_bad_manager_rolls_back_the_whole_import(backend: Backend) {
    let c = company(backend).await;
    let store = &c.db.store;
    let mut bad = person("new@example.com", "New Person", &[]);
    bad.manager_email = Some("nobody@example.com".parse().unwrap());
    let ok = person("other@example.com", "Other Person", &[]);
    let err = store.import_people(&[ok, bad], NOW, |_| {}, |_, _| ev("directory.imported")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(m) if m.contains("nobody@example.com")));
    assert_eq!(store.count_people().await.unwrap(), 3);
    let dup = staffer("third@example.com", "Third", "IT-0042", "201-555-0100");
    assert!(matches!(
        store.import_people(&[dup], NOW, |_| {}, |_, _| ev("directory.imported")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.count_people().await.unwrap(), 3);
    c.db.drop_db().await;
}

async fn staff_candidates_are_found_by_id_name_and_official_contact(backend: Backend) {
    let c = company(backend).await;
    let store = &c.db.store;
    let people = |f: &CheckFacts| f.candidates.iter().map(|s| s.facts.person).collect::<Vec<_>>();
    let id: StaffId = "IT-0042".parse().unwrap();
    let by_id = store.check_facts(&FactsQuery { staff_id: Some(&id), ..query(c.erin) }).await.unwrap();
    assert_eq!(people(&by_id), vec![c.sam]);
    assert_eq!(by_id.candidates[0].facts.official_numbers[0].as_str(), "+12015550142");
    assert_eq!(by_id.candidates[0].team, "Service Desk");
    let by_name = store.check_facts(&FactsQuery { claimed_name: Some("kim novak"), ..query(c.erin) }).await.unwrap();
    assert_eq!(people(&by_name), vec![c.kim]);
    let number = PhoneNumber::parse("(201) 555-0107", PhoneRegion::default()).unwrap();
    let by_number = store.check_facts(&FactsQuery { number: Some(&number), ..query(c.erin) }).await.unwrap();
    assert_eq!(people(&by_number), vec![c.kim]);
    let nobody = FactsQuery { claimed_name: Some("Erin"), address: Some("erin@example.com"), ..query(c.erin) };
    assert!(store.check_facts(&nobody).await.unwrap().candidates.is_empty());
    let found = store.search_staff("service", 10).await.unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(store.search_staff("0042", 10).await.unwrap()[0].display_name.as_str(), "Sam Carter");
    assert!(store.search_staff("%", 10).await.unwrap().len() == 2, "wildcards are literal-stripped");
    c.db.drop_db().await;
}

async fn request_keys_count_up_and_transitions_are_conditional(backend: Backend) {
    let c = company(backend).await;
    let store = &c.db.store;
    let new = NewRequest {
        requester: c.erin,
        summary: "VPN drops every hour".parse().unwrap(),
        category: Some("network".into()),
        channels: [Channel::Chat, Channel::Video].into(),
    };
    let first = store.create_request(&new, NOW, |_| ev("request.opened")).await.unwrap();
    let second = store.create_request(&new, NOW, |_| ev("request.opened")).await.unwrap();
    assert_eq!(first.key.to_string(), "R-1001");
    assert_eq!(second.key.number(), 1002);
    assert_eq!(first.channels, BTreeSet::from([Channel::Chat, Channel::Video]));
    let k = first.key;
    assert!(
        store
            .transition_request(
                k,
                RequestStatus::Open,
                RequestStatus::Assigned,
                Some(c.sam),
                NOW,
                &ev("request.changed")
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .transition_request(
                k,
                RequestStatus::Open,
                RequestStatus::Assigned,
                Some(c.kim),
                NOW,
                &ev("request.changed")
            )
            .await
            .unwrap()
    );
    let r = store.request(k).await.unwrap().unwrap();
    assert_eq!((r.status, r.assignee), (RequestStatus::Assigned, Some(c.sam)));
    assert_eq!(r.assignee_staff_id.unwrap().as_str(), "IT-0042");
    assert_eq!(store.list_requests(RequestScope::AssignedTo(c.sam), 10).await.unwrap().len(), 1);
    assert_eq!(store.list_requests(RequestScope::Queue, 10).await.unwrap().len(), 1);
    assert_eq!(store.list_requests(RequestScope::RequestedBy(c.erin), 10).await.unwrap().len(), 2);
    assert_eq!(store.list_requests(RequestScope::RequestedBy(c.sam), 10).await.unwrap().len(), 0);
    let facts = store.check_facts(&query(c.erin)).await.unwrap();
    assert_eq!(facts.requests.len(), 2);
    assert_eq!(facts.requests[0].0.key.number(), 1002, "newest first");
    assert_eq!(facts.requests[1].1, "VPN drops every hour");
    assert!(
        store
            .transition_request(k, RequestStatus::Assigned, RequestStatus::Resolved, None, NOW, &ev("request.changed"))
            .await
            .unwrap()
    );
    assert_eq!(store.check_facts(&query(c.erin)).await.unwrap().requests.len(), 1);
    let named = FactsQuery { request_key: Some(k), ..query(c.erin) };
    assert_eq!(store.check_facts(&named).await.unwrap().requests.len(), 2);
    assert!(store.check_facts(&query(c.sam)).await.unwrap().requests.is_empty(), "only the employee's own");
    assert!(store.request(RequestKey::from_number(99)).await.unwrap().is_none());
    c.db.drop_db().await;
}

fn pending() -> Assessment {
    Assessment {
        verdict: Verdict::ChallengeRequired,
        reasons: vec![],
        staffer: None,
        authority: None,
        breaches: vec![],
    }
}

fn new_check(employee: PersonId) -> NewCheck {
    NewCheck {
        employee,
        channel: Channel::Phone,
        claimed_staff_id: Some("IT-0042".parse().unwrap()),
        claimed_name: Some("Sam".into()),
        caller_number: Some("(201) 555-0142".into()),
        caller_address: None,
        request_key: Some(RequestKey::from_number(1001)),
        asked_for: [Ask::SoftwareInstall].into(),
    }
}

async fn the_attempt_limit_holds_under_concurrent_wrong_codes(backend: Backend) {
    let c = company(backend).await;
    let store = c.db.store.clone();
    let id = store.create_check(&new_check(c.erin), &pending(), 0, &Actor::system(), NOW).await.unwrap();
    assert_eq!(store.check_facts(&query(c.erin)).await.unwrap().recent_checks, 1);
    store.create_check(&new_check(c.erin), &pending(), 0, &Actor::system(), NOW).await.unwrap();
    let capped = FactsQuery { count_up_to: 1, ..query(c.erin) };
    assert_eq!(store.check_facts(&capped).await.unwrap().recent_checks, 1, "the count stops at the limit");
    let later = FactsQuery { checks_since: NOW + Duration::seconds(1), ..query(c.erin) };
    assert_eq!(store.check_facts(&later).await.unwrap().recent_checks, 0);
    let stored = store.check(id).await.unwrap().unwrap();
    assert_eq!(stored.input.caller_number.as_deref(), Some("(201) 555-0142"));
    assert_eq!(stored.input.asked_for, BTreeSet::from([Ask::SoftwareInstall]));
    let attempts = (0..20).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            store.record_challenge_failure(id, 5, "locked", &ALONE, &Actor::system(), NOW).await.unwrap()
        })
    });
    let mut counted = 0;
    for a in attempts {
        if a.await.unwrap().is_some() {
            counted += 1;
        }
    }
    assert_eq!(counted, 5);
    let check = store.check(id).await.unwrap().unwrap();
    assert_eq!((check.challenge.failures, check.challenge.locked), (5, true));
    let alerts = store.list_alerts(10).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!((alerts[0].kind.as_str(), alerts[0].check), ("challenge_locked", Some(id)));
    c.db.drop_db().await;
}

/// Check rows are group-committed (on SQLite by their own connection, beside the one that makes every
/// other write): concurrent checks and requests all land, and a bad row fails alone.
async fn concurrent_checks_commit_together_beside_other_writes(backend: Backend) {
    let c = company(backend).await;
    let store = c.db.store.clone();
    let checks: Vec<_> = (0..100)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(
                async move { store.create_check(&new_check(c.erin), &pending(), 0, &Actor::system(), NOW).await },
            )
        })
        .collect();
    let stranger = {
        let store = store.clone();
        tokio::spawn(async move {
            store.create_check(&new_check(PersonId::new()), &pending(), 0, &Actor::system(), NOW).await
        })
    };
    let requests: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            let new = NewRequest {
                requester: c.kim,
                summary: format!("Printer {i} jams").parse().unwrap(),
                category: None,
                channels: BTreeSet::new(),
            };
            tokio::spawn(async move { store.create_request(&new, NOW, |_| ev("request.opened")).await })
        })
        .collect();
    for check in checks {
        check.await.unwrap().unwrap();
    }
    for request in requests {
        request.await.unwrap().unwrap();
    }
    assert!(stranger.await.unwrap().is_err(), "a check for nobody breaks the foreign key");
    let all = FactsQuery { count_up_to: 1000, ..query(c.erin) };
    assert_eq!(store.check_facts(&all).await.unwrap().recent_checks, 100);
    assert_eq!(store.check_facts(&query(c.kim)).await.unwrap().requests.len(), 10);
    c.db.drop_db().await;
}

async fn a_locked_check_cannot_pass(backend: Backend) {
    let c = company(backend).await;
    let store = &c.db.store;
    let id = store.create_check(&new_check(c.erin), &pending(), 0, &Actor::system(), NOW).await.unwrap();
    assert!(
        store
            .record_challenge_failure(id, 2, "x", &ALONE, &Actor::system(), NOW)
            .await
            .unwrap()
            .is_some_and(|(s, _)| !s.locked)
    );
    assert!(
        store
            .record_challenge_failure(id, 2, "x", &ALONE, &Actor::system(), NOW)
            .await
            .unwrap()
            .is_some_and(|(s, _)| s.locked)
    );
    assert!(!store.record_challenge_pass(id, &Actor::system(), NOW).await.unwrap());
    let other = store.create_check(&new_check(c.erin), &pending(), 0, &Actor::system(), NOW).await.unwrap();
    assert!(store.record_challenge_pass(other, &Actor::system(), NOW).await.unwrap());
    assert!(
        store.record_challenge_failure(other, 5, "x", &ALONE, &Actor::system(), NOW).await.unwrap().is_none(),
        "passed checks stay passed"
    );
    c.db.drop_db().await;
}

async fn rate_limit_windows_count_and_reset(backend: Backend) {
    let c = company(backend).await;
    let store = &c.db.store;
    for expected in 1..=3 {
        assert_eq!(store.hit_rate_limit("staff:erin", 100).await.unwrap(), expected);
    }
    assert_eq!(store.hit_rate_limit("staff:sam", 100).await.unwrap(), 1);
    assert_eq!(store.hit_rate_limit("staff:erin", 101).await.unwrap(), 1);
    c.db.drop_db().await;
}

async fn outreach_is_never_approved_by_its_proposer(backend: Backend) {
    let c = company(backend).await;
    let store = &c.db.store;
    let window = OutreachWindow::new(NOW, NOW + Duration::hours(2), NOW).unwrap();
    let new = NewOutreach {
        staffer: c.sam,
        employee: c.erin,
        reason: "Laptop recall".into(),
        channels: [Channel::Phone].into(),
        window,
    };
    let o = store.create_outreach(&new, NOW, |_| ev("outreach.proposed")).await.unwrap();
    assert_eq!(o.status, OutreachStatus::Pending);
    assert!(store.outreach_for(c.erin, 10).await.unwrap().is_empty(), "employees see outreach once approved");
    assert!(!store.approve_outreach(o.id, c.sam, NOW, &ev("outreach.approved")).await.unwrap());
    assert!(store.approve_outreach(o.id, c.kim, NOW, &ev("outreach.approved")).await.unwrap());
    assert!(!store.approve_outreach(o.id, c.kim, NOW, &ev("outreach.approved")).await.unwrap());
    assert_eq!(store.outreach_for(c.erin, 10).await.unwrap().len(), 1);
    assert_eq!(store.check_facts(&query(c.erin)).await.unwrap().outreach[0].staffer, c.sam);
    let later = FactsQuery { now: NOW + Duration::hours(3), ..query(c.erin) };
    assert!(store.check_facts(&later).await.unwrap().outreach.is_empty());
    assert_eq!(store.live_outreach_by(c.sam, NOW).await.unwrap().len(), 1);
    c.db.drop_db().await;
}

async fn tokens_stop_working_when_revoked_or_suspended(backend: Backend) {
    let c = company(backend).await;
    let store = &c.db.store;
    store.create_token(c.erin, "hash-1", "cli", NOW, &ev("token.created")).await.unwrap();
    let p = store.principal_by_token("hash-1").await.unwrap().unwrap();
    assert_eq!((p.id, p.email.as_str()), (c.erin, "erin@example.com"));
    assert!(store.principal_by_token("hash-2").await.unwrap().is_none());
    assert_eq!(store.revoke_tokens(c.erin, NOW, &ev("token.revoked")).await.unwrap(), 1);
    assert!(store.principal_by_token("hash-1").await.unwrap().is_none());
    store.create_token(c.sam, "hash-3", "cli", NOW, &ev("token.created")).await.unwrap();
    let mut suspended = staffer("sam@example.com", "Sam Carter", "IT-0042", "201-555-0142");
    suspended.status = PersonStatus::Suspended;
    assert!(store.principal_by_token("hash-3").await.unwrap().is_some());
    // Suspended through another handle (as `bonafide import` in another process would): the lookup
    // that succeeded a moment ago must not be answered from memory.
    let other = Store::connect(&c.db.url).await.unwrap();
    other.import_people(&[suspended], NOW, |_| {}, |_, _| ev("directory.imported")).await.unwrap();
    other.close().await;
    assert!(store.principal_by_token("hash-3").await.unwrap().is_none());
    c.db.drop_db().await;
}

#[tokio::test]
async fn sqlite_runs_in_wal_with_normal_sync_and_foreign_keys() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let pragmas = db.store.sqlite_pragmas().await.unwrap();
    for (journal, sync, fk) in pragmas {
        assert_eq!((journal.as_str(), sync, fk), ("wal", 1, 1));
    }
    db.drop_db().await;
}

async fn audited_company(backend: Backend) -> Company {
    let c = company(backend).await;
    let store = &c.db.store;
    let admin = Actor { id: Some(c.kim), label: "kim@example.com".into(), client: "192.0.2.7".into() };
    for i in 0..3 {
        let e = AuditEvent::new(&admin, "token.created", format!("token-{i}"), Outcome::Ok);
        store.audit(&[e], NOW).await.unwrap();
    }
    let check = store.create_check(&new_check(c.erin), &pending(), 0, &Actor::system(), NOW).await.unwrap();
    store.record_challenge_failure(check, 5, "x", &ALONE, &Actor::system(), NOW).await.unwrap();
    let denied = AuditEvent::new(&Actor::default(), "signin.password", "nobody@example.com", Outcome::Denied);
    store.audit(&[denied.with(serde_json::json!({"why": "unknown account"}))], NOW).await.unwrap();
    c
}

async fn the_audit_chain_verifies_and_names_the_first_altered_entry(backend: Backend) {
    let c = audited_company(backend).await;
    let store = &c.db.store;
    let ok = store.verify_audit(|_| {}).await.unwrap();
    // Entry 1 is the directory import that seeded the company (committed with the people it wrote).
    assert_eq!((ok.entries, ok.broken), (7, None));
    let newest = store.audit_entries(&AuditFilter::default(), 10).await.unwrap();
    assert_eq!(newest.iter().map(|e| e.seq).collect::<Vec<_>>(), [7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(newest[0].outcome, "denied");
    assert_eq!(newest[1].action, "challenge.failed");
    assert_eq!(newest[2].action, "check.created");
    assert_eq!((newest[6].action.as_str(), newest[6].prev_hash.as_str()), ("directory.imported", GENESIS));
    let tokens = AuditFilter { action_prefix: Some("token".into()), ..AuditFilter::default() };
    assert_eq!(store.audit_entries(&tokens, 10).await.unwrap().len(), 3);
    let by_kim = AuditFilter { actor: Some("kim@example.com".into()), before_seq: Some(4), ..AuditFilter::default() };
    assert_eq!(store.audit_entries(&by_kim, 10).await.unwrap().iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 2]);

    // Someone with database access rewrites who did it.
    assert_eq!(c.db.execute_raw("UPDATE audit_log SET actor = 'erin@example.com' WHERE seq = 3").await.unwrap(), 1);
    let broken = store.verify_audit(|_| {}).await.unwrap().broken.unwrap();
    assert_eq!(broken.seq, 3);
    assert!(broken.problem.contains("altered"), "{}", broken.problem);
    c.db.drop_db().await;
}

async fn removing_audit_entries_breaks_the_chain(backend: Backend) {
    let c = audited_company(backend).await;
    c.db.execute_raw("DELETE FROM audit_log WHERE seq = 7").await.unwrap();
    let broken = c.db.store.verify_audit(|_| {}).await.unwrap().broken.unwrap();
    assert_eq!(broken.seq, 7, "removing the newest entry is caught by the head: {}", broken.problem);
    c.db.execute_raw("DELETE FROM audit_log WHERE seq = 4").await.unwrap();
    let broken = c.db.store.verify_audit(|_| {}).await.unwrap().broken.unwrap();
    assert_eq!((broken.seq, broken.problem.contains("missing")), (4, true), "{}", broken.problem);
    c.db.drop_db().await;
}

async fn totp_steps_and_recovery_codes_are_accepted_once(backend: Backend) {
    let c = company(backend).await;
    let store = c.db.store.clone();
    assert!(!store.accept_totp_step(c.erin, 10).await.unwrap(), "no TOTP enrolled");
    store
        .set_password_hash(c.erin, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", NOW, &ev("factor.password_set"))
        .await
        .unwrap();
    store.set_totp_pending(c.erin, "v1.sealed", NOW).await.unwrap();
    let creds = store.credentials(c.erin).await.unwrap();
    assert_eq!((creds.totp_sealed, creds.totp_pending.as_deref()), (None, Some("v1.sealed")));
    assert!(
        store.confirm_totp(c.erin, 100, &["h1".into(), "h2".into()], NOW, &ev("factor.totp_enrolled")).await.unwrap()
    );
    assert!(
        !store.confirm_totp(c.erin, 101, &["h3".into()], NOW, &ev("factor.totp_enrolled")).await.unwrap(),
        "nothing pending any more"
    );
    assert_eq!(store.totp_last_step(c.erin).await.unwrap(), 100);
    assert!(!store.accept_totp_step(c.erin, 100).await.unwrap(), "the enrolment code cannot sign in");
    // The same code sent twice at once (two instances): exactly one wins.
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.accept_totp_step(c.erin, 101).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for t in tries {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
    assert!(!store.accept_totp_step(c.erin, 99).await.unwrap(), "older steps are refused");

    // The enrolment's codes, not the refused second confirmation's.
    assert_eq!(store.credentials(c.erin).await.unwrap().recovery_codes_left, 2);
    assert!(store.use_recovery_code(c.erin, "h1", NOW).await.unwrap());
    assert!(!store.use_recovery_code(c.erin, "h1", NOW).await.unwrap());
    assert!(!store.use_recovery_code(c.sam, "h2", NOW).await.unwrap(), "another person's code");
    assert_eq!(store.credentials(c.erin).await.unwrap().recovery_codes_left, 1);
    store.remove_totp(c.erin, NOW, &ev("factor.totp_removed")).await.unwrap();
    let creds = store.credentials(c.erin).await.unwrap();
    assert_eq!((creds.totp_sealed, creds.recovery_codes_left, creds.password_hash.is_some()), (None, 0, true));
    c.db.drop_db().await;
}

async fn sessions_expire_idle_or_absolute_and_end_everywhere(backend: Backend) {
    let c = company(backend).await;
    let store = &c.db.store;
    let idle = Duration::minutes(30);
    let new = |hash: &'static str, person| NewSession {
        token_hash: hash,
        person,
        stage: SessionStage::Full,
        csrf: "csrf-1",
        client: "192.0.2.1",
        now: NOW,
        expires_at: NOW + Duration::hours(8),
    };
    store.create_session(&new("s1", c.erin), &[]).await.unwrap();
    store.create_session(&new("s2", c.erin), &[]).await.unwrap();
    store.create_session(&new("s3", c.sam), &[]).await.unwrap();
    let s = store.session("s1", NOW + Duration::minutes(20), idle).await.unwrap().unwrap();
    assert_eq!((s.principal.id, s.stage, s.csrf.as_str()), (c.erin, SessionStage::Full, "csrf-1"));
    // Active at +20 min, so still alive at +45; idle from +45 to +80 is too long.
    assert!(store.session("s1", NOW + Duration::minutes(45), idle).await.unwrap().is_some());
    assert!(store.session("s1", NOW + Duration::minutes(80), idle).await.unwrap().is_none(), "idle expiry");
    assert!(store.session("s2", NOW + Duration::minutes(31), idle).await.unwrap().is_none(), "never used since");
    let mut t = NOW;
    while t < NOW + Duration::hours(8) {
        t += Duration::minutes(20);
        let alive = store.session("s3", t, idle).await.unwrap().is_some();
        assert_eq!(alive, t < NOW + Duration::hours(8), "absolute expiry at {t}");
    }
    store.create_session(&new("s4", c.erin), &[]).await.unwrap();
    store.create_session(&new("s5", c.erin), &[]).await.unwrap();
    assert_eq!(store.delete_sessions_of(c.erin, NOW, &[]).await.unwrap(), 4);
    assert!(store.session("s5", NOW, idle).await.unwrap().is_none());
    store.create_session(&new("s6", c.sam), &[]).await.unwrap();
    let mut suspended = staffer("sam@example.com", "Sam Carter", "IT-0042", "201-555-0142");
    suspended.status = PersonStatus::Suspended;
    store.import_people(&[suspended], NOW, |_| {}, |_, _| ev("directory.imported")).await.unwrap();
    assert!(store.session("s6", NOW, idle).await.unwrap().is_none(), "a suspended person's session is dead");
    c.db.drop_db().await;
}

async fn signin_failures_lock_a_subject_for_a_bounded_time(backend: Backend) {
    let c = company(backend).await;
    let store = &c.db.store;
    let (window, lock) = (Duration::minutes(15), Duration::minutes(5));
    for i in 0..4 {
        let t = NOW + Duration::seconds(i);
        assert_eq!(store.record_signin_failure("account:x", t, window, 5, lock).await.unwrap(), None);
    }
    assert_eq!(store.signin_locked_until(&["account:x"], NOW).await.unwrap(), None);
    let until = store.record_signin_failure("account:x", NOW + Duration::seconds(4), window, 5, lock).await.unwrap();
    assert_eq!(until, Some(NOW + Duration::seconds(4) + lock));
    let both = ["address:192.0.2.1", "account:x"];
    assert_eq!(store.signin_locked_until(&both, NOW + Duration::minutes(1)).await.unwrap(), until);
    assert_eq!(store.signin_locked_until(&both, NOW + Duration::minutes(6)).await.unwrap(), None, "locks end");
    // Failures spread wider than the window never lock.
    for i in 0..10 {
        let t = NOW + Duration::hours(1) + Duration::minutes(16 * i);
        assert_eq!(store.record_signin_failure("account:y", t, window, 5, lock).await.unwrap(), None);
    }
    store.record_signin_failure("account:z", NOW, window, 5, lock).await.unwrap();
    store.clear_signin_failures("account:z").await.unwrap();
    for _ in 0..4 {
        assert_eq!(store.record_signin_failure("account:z", NOW, window, 5, lock).await.unwrap(), None);
    }
    c.db.drop_db().await;
}
