//! Correlation scenarios, run against the store (the one correlator) on SQLite and PostgreSQL: reports
//! normalised as the API normalises them, filed, and the clusters they end up in; and what a filed
//! report keeps.

use bonafide_correlate::{Company, Config, Indicator, Severity, Sighting, indicators};
use bonafide_domain::{Ask, CampaignId, Channel, PersonId, PhoneRegion, Roles};
use bonafide_store::Backend;
use bonafide_store::testing::TestDb;
use bonafide_store::{Actor, AuditEvent, Cluster, CorrelationSettings, Filed, NewPerson, NewReport, Outcome};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

on_both!(
    one_number_written_four_ways_by_four_people_in_three_departments_is_one_campaign,
    unrelated_reports_do_not_merge,
    a_common_name_and_ask_without_the_script_do_not_tie_reports,
    a_retold_script_and_a_name_tie_reports,
    indicators_older_than_the_window_do_not_tie,
    a_report_with_two_clusters_indicators_merges_them,
    complying_makes_a_campaign_critical,
    a_report_keeps_the_analysis_it_was_filed_with,
);

const HOUR: i64 = 3600;
const START: OffsetDateTime = datetime!(2026-11-02 09:00 UTC);

fn known(_: &str) -> bool {
    false
}

fn normalise(s: Sighting<'_>) -> Vec<Indicator> {
    let domains = vec!["example.com".to_owned()];
    indicators(&s, &Company { region: PhoneRegion::default(), domains: &domains, staff_id_known: &known })
}

/// A report by person `who` of `department`, `at` seconds after [`START`].
#[derive(Clone, Copy)]
struct Report<'a> {
    who: usize,
    department: &'a str,
    at: i64,
    complied: bool,
    indicators: &'a [Indicator],
}

fn report<'a>(who: usize, department: &'a str, at: i64, indicators: &'a [Indicator]) -> Report<'a> {
    Report { who, department, at, complied: false, indicators }
}

/// A fresh store with `people` reporters, filing with `config`.
struct Reports {
    db: TestDb,
    people: Vec<PersonId>,
    settings: CorrelationSettings,
}

async fn reports(backend: Backend, people: usize, config: Config) -> Reports {
    let db = TestDb::new(backend).await.unwrap();
    let new: Vec<NewPerson> = (0..people)
        .map(|i| {
            let email = format!("reporter{i}@example.com").parse().unwrap();
            NewPerson::new(email, format!("Reporter {i}").parse().unwrap(), Roles::new([]))
        })
        .collect();
    db.store.import_people(&new, START, |_| {}, |_, _| crate::ev("directory.imported")).await.unwrap();
    let mut ids = Vec::with_capacity(people);
    for p in &new {
        ids.push(db.store.person_by_email(&p.email).await.unwrap().unwrap().id);
    }
    Reports { db, people: ids, settings: CorrelationSettings { config } }
}

impl Reports {
    async fn file(&self, r: Report<'_>) -> Filed {
        self.file_analysed(r, None).await
    }

    async fn file_analysed(&self, r: Report<'_>, analysis: Option<&str>) -> Filed {
        let at = START + Duration::seconds(r.at);
        let new = NewReport {
            reporter: self.people[r.who],
            department: r.department.to_owned(),
            privileged: false,
            channel: Channel::Phone,
            occurred_at: at,
            caller_number: None,
            caller_address: None,
            caller_handle: None,
            claimed_name: None,
            claimed_staff_id: None,
            claimed_team: None,
            asked_for: Default::default(),
            complied: r.complied,
            transcript: None,
            email_subject: None,
            original_email: None,
            check: None,
            indicators: r.indicators.to_vec(),
            analysis: analysis.map(str::to_owned),
        };
        let audit = AuditEvent::new(&Actor::system(), "report.filed", "test", Outcome::Ok);
        self.db.store.file_report(&new, &self.settings, &audit, at).await.unwrap()
    }

    /// The cluster `cluster` ended up in, with its counts.
    async fn root(&self, cluster: &CampaignId) -> Cluster {
        self.db.store.cluster(*cluster).await.unwrap().unwrap()
    }

    /// Whether `cluster` (after merges) is a campaign, and how severe.
    async fn campaign(&self, cluster: &CampaignId) -> Option<Severity> {
        self.db.store.campaign(*cluster).await.unwrap().map(|c| c.severity)
    }
}

async fn one_number_written_four_ways_by_four_people_in_three_departments_is_one_campaign(backend: Backend) {
    let c = reports(backend, 4, Config::default()).await;
    let ways = ["(201) 555-0199", "+1 201 555 0199", "201.555.0199", "1-201-555-0199"];
    let departments = ["Finance", "Sales", "Finance", "Legal"];
    let mut clusters = vec![];
    let mut started = 0;
    for (i, (number, department)) in ways.iter().zip(departments).enumerate() {
        let found = normalise(Sighting { caller_number: Some(number), ..Sighting::default() });
        let added = c.file(report(i, department, i as i64 * HOUR, &found)).await;
        clusters.push(added.cluster);
        started += usize::from(added.campaign_started);
    }
    let root = c.root(&clusters[0]).await.id;
    for k in &clusters {
        assert_eq!(c.root(k).await.id, root, "{clusters:?}");
    }
    let tally = c.root(&root).await;
    assert_eq!((tally.report_count, tally.people_count, tally.department_count), (4, 4, 3));
    assert_eq!(started, 1, "the campaign starts once");
    assert_eq!(c.campaign(&root).await, Some(Severity::High), "three departments");
    c.db.drop_db().await;
}

async fn unrelated_reports_do_not_merge(backend: Backend) {
    let c = reports(backend, 3, Config::default()).await;
    let a = normalise(Sighting {
        caller_number: Some("(201) 555-0199"),
        claimed_name: Some("Mike"),
        ..Sighting::default()
    });
    let b = normalise(Sighting {
        caller_number: Some("(201) 555-0123"),
        claimed_name: Some("Michael"),
        ..Sighting::default()
    });
    let x = c.file(report(1, "Finance", 0, &a)).await;
    let y = c.file(report(2, "Sales", HOUR, &b)).await;
    assert_ne!(x.cluster, y.cluster, "a shared first name alone is too weak");
    assert_eq!(c.campaign(&x.cluster).await, None);
    c.db.drop_db().await;
}

async fn a_common_name_and_ask_without_the_script_do_not_tie_reports(backend: Backend) {
    let c = reports(backend, 3, Config::default()).await;
    let ask = [Ask::MfaCode];
    let a = normalise(Sighting {
        channel: Some(Channel::Phone),
        claimed_name: Some("Mike from IT"),
        asked_for: &ask,
        ..Sighting::default()
    });
    let b = normalise(Sighting {
        channel: Some(Channel::Phone),
        claimed_name: Some("michael"),
        asked_for: &ask,
        ..Sighting::default()
    });
    let x = c.file(report(1, "Finance", 0, &a)).await;
    let y = c.file(report(2, "Finance", HOUR, &b)).await;
    assert_ne!(c.root(&x.cluster).await.id, c.root(&y.cluster).await.id);
    c.db.drop_db().await;
}

async fn a_retold_script_and_a_name_tie_reports(backend: Backend) {
    let c = reports(backend, 3, Config::default()).await;
    let script = "Hello, this is the IT help desk, we noticed your mailbox is about to be locked, a lot of \
        people on your floor had it today. I can sort it out now if you read me the code on your phone.";
    let retold = script.replace("Hello", "Hi there").replace("today", "this morning");
    let a = normalise(Sighting { claimed_name: Some("Dave"), transcript: Some(script), ..Sighting::default() });
    let b = normalise(Sighting { claimed_name: Some("David"), transcript: Some(&retold), ..Sighting::default() });
    let x = c.file(report(1, "Finance", 0, &a)).await;
    let y = c.file(report(2, "Sales", HOUR, &b)).await;
    assert_eq!(c.root(&x.cluster).await.id, c.root(&y.cluster).await.id);
    c.db.drop_db().await;
}

async fn indicators_older_than_the_window_do_not_tie(backend: Backend) {
    let config = Config { window_secs: 24 * HOUR, ..Config::default() };
    let c = reports(backend, 4, config).await;
    let a = normalise(Sighting { caller_address: Some("it-desk@examp1e.com"), ..Sighting::default() });
    let x = c.file(report(1, "Finance", 0, &a)).await;
    let y = c.file(report(2, "Sales", 48 * HOUR, &a)).await;
    assert_ne!(c.root(&x.cluster).await.id, c.root(&y.cluster).await.id);
    let z = c.file(report(3, "Sales", 50 * HOUR, &a)).await;
    assert_eq!(c.root(&y.cluster).await.id, c.root(&z.cluster).await.id, "the window slides with each sighting");
    c.db.drop_db().await;
}

async fn a_report_with_two_clusters_indicators_merges_them(backend: Backend) {
    let c = reports(backend, 4, Config::default()).await;
    let phone = normalise(Sighting { caller_number: Some("(201) 555-0199"), ..Sighting::default() });
    let mail = normalise(Sighting { caller_address: Some("helpdesk@example-it.com"), ..Sighting::default() });
    let both = normalise(Sighting {
        caller_number: Some("2015550199"),
        caller_address: Some("HelpDesk@example-it.com"),
        ..Sighting::default()
    });
    let x = c.file(report(1, "Finance", 0, &phone)).await;
    let y = c.file(report(2, "Finance", HOUR, &mail)).await;
    assert_ne!(x.cluster, y.cluster);
    let z = c.file(report(3, "Finance", 2 * HOUR, &both)).await;
    assert_eq!(z.merged.len(), 1);
    assert_eq!(c.root(&x.cluster).await.id, c.root(&y.cluster).await.id);
    let tally = c.root(&x.cluster).await;
    assert_eq!((tally.report_count, tally.people_count), (3, 3));
    assert!(z.campaign_started, "3 reports from 3 people within 72 hours");
    c.db.drop_db().await;
}

async fn complying_makes_a_campaign_critical(backend: Backend) {
    let c = reports(backend, 4, Config::default()).await;
    let phone = normalise(Sighting { caller_number: Some("(201) 555-0199"), ..Sighting::default() });
    let mut first = report(1, "Finance", 0, &phone);
    c.file(first).await;
    first.who = 2;
    first.department = "Sales";
    let second = c.file(first).await;
    assert!(second.campaign_started);
    assert_eq!(c.campaign(&second.cluster).await, Some(Severity::Medium));
    let mut third = report(3, "Sales", HOUR, &phone);
    third.complied = true;
    let escalated = c.file(third).await;
    assert_eq!(escalated.escalated_to, Some(Severity::Critical));
    c.db.drop_db().await;
}

async fn a_report_keeps_the_analysis_it_was_filed_with(backend: Backend) {
    let c = reports(backend, 2, Config::default()).await;
    let reading = r#"{"score":0.91,"verdict":"qpq","stages":[]}"#;
    let analysed = c.file_analysed(report(0, "Finance", 0, &[]), Some(reading)).await;
    let plain = c.file(report(1, "Sales", HOUR, &[])).await;
    let store = &c.db.store;
    assert_eq!(store.report(analysed.id).await.unwrap().unwrap().analysis.as_deref(), Some(reading));
    assert_eq!(store.report(plain.id).await.unwrap().unwrap().analysis, None);
    let listed = store.list_reports(None, 10).await.unwrap();
    let analyses: Vec<_> = listed.iter().map(|r| (r.id, r.analysis.as_deref())).collect();
    assert_eq!(analyses, vec![(plain.id, None), (analysed.id, Some(reading))], "newest first");
    c.db.drop_db().await;
}

/// Any input the API accepts normalises and files into a cluster of its own (the normalisation half of
/// this property is `bonafide_correlate`'s `any_input_normalises_without_panicking`).
fn any_input_files_into_a_cluster_of_its_own(backend: Backend) {
    use proptest::prelude::*;
    use proptest::test_runner::{Config as Cases, TestRunner};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let c = runtime.block_on(reports(backend, 1, Config::default()));
    // The API refuses control characters (and PostgreSQL text cannot hold NUL).
    let text = |max: usize| {
        proptest::string::string_regex(&format!(".{{0,{max}}}"))
            .unwrap()
            .prop_map(|s| s.chars().filter(|ch| !ch.is_control()).collect::<String>())
    };
    let inputs = (text(80), text(80), text(80), text(40), text(400));
    let filed = std::cell::Cell::new(0_i64);
    let mut runner = TestRunner::new(Cases::default());
    let result = runner.run(&inputs, |(number, address, name, id, text)| {
        let found = normalise(Sighting {
            caller_number: Some(&number),
            caller_address: Some(&address),
            caller_handle: Some(&name),
            claimed_name: Some(&name),
            claimed_staff_id: Some(&id),
            transcript: Some(&text),
            ..Sighting::default()
        });
        // Each case comes further apart than the window from every other, as if into an empty store.
        let at = filed.get() * 30 * 24 * HOUR;
        filed.set(filed.get() + 1);
        let reports = runtime.block_on(async {
            let added = c.file(report(0, "x", at, &found)).await;
            c.root(&added.cluster).await.report_count
        });
        prop_assert_eq!(reports, 1);
        Ok(())
    });
    runtime.block_on(c.db.drop_db());
    result.unwrap();
}

#[test]
fn any_input_files_into_a_cluster_of_its_own_on_sqlite() {
    any_input_files_into_a_cluster_of_its_own(Backend::Sqlite);
}

#[test]
fn any_input_files_into_a_cluster_of_its_own_on_postgres() {
    any_input_files_into_a_cluster_of_its_own(Backend::Postgres);
}
