//! Scenarios across normalisation and clustering.

use super::*;
use bonafide_domain::{Ask, Channel, PhoneRegion};

const HOUR: i64 = 3600;

fn known(_: &str) -> bool {
    false
}

fn company_domains() -> Vec<String> {
    vec!["example.com".to_owned()]
}

fn normalise(s: Sighting<'_>) -> Vec<Indicator> {
    let domains = company_domains();
    indicators(&s, &Company { region: PhoneRegion::default(), domains: &domains, staff_id_known: &known })
}

fn report<'a>(who: u64, department: &'a str, at: i64, indicators: &'a [Indicator]) -> Report<'a> {
    Report { reporter: who, department, at, complied: false, privileged: false, indicators }
}

#[test]
fn one_number_written_four_ways_by_four_people_in_three_departments_is_one_campaign() {
    let mut c = Correlator::new(Config::default());
    let ways = ["(201) 555-0199", "+1 201 555 0199", "201.555.0199", "1-201-555-0199"];
    let departments = ["Finance", "Sales", "Finance", "Legal"];
    let mut clusters = vec![];
    let mut started = 0;
    for (i, (number, department)) in ways.iter().zip(departments).enumerate() {
        let found = normalise(Sighting { caller_number: Some(number), ..Sighting::default() });
        let added = c.add(&report(i as u64, department, i as i64 * HOUR, &found));
        clusters.push(added.cluster);
        started += usize::from(added.campaign_started);
    }
    let root = c.cluster_of(clusters[0]).0;
    assert!(clusters.iter().all(|&k| c.cluster_of(k).0 == root), "{clusters:?}");
    let (_, tally) = c.cluster_of(root);
    assert_eq!((tally.reports, tally.people, tally.departments), (4, 4, 3));
    assert_eq!(started, 1, "the campaign starts once");
    assert_eq!(c.campaign(root), Some(Severity::High), "three departments");
}

#[test]
fn unrelated_reports_do_not_merge() {
    let mut c = Correlator::new(Config::default());
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
    let x = c.add(&report(1, "Finance", 0, &a));
    let y = c.add(&report(2, "Sales", HOUR, &b));
    assert_ne!(x.cluster, y.cluster, "a shared first name alone is too weak");
    assert_eq!(c.campaign(x.cluster), None);
}

#[test]
fn a_common_name_and_ask_without_the_script_do_not_tie_reports() {
    let mut c = Correlator::new(Config::default());
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
    let x = c.add(&report(1, "Finance", 0, &a));
    let y = c.add(&report(2, "Finance", HOUR, &b));
    assert_ne!(c.cluster_of(x.cluster).0, c.cluster_of(y.cluster).0);
}

#[test]
fn a_retold_script_and_a_name_tie_reports() {
    let mut c = Correlator::new(Config::default());
    let script = "Hello, this is the IT help desk, we noticed your mailbox is about to be locked, a lot of \
        people on your floor had it today. I can sort it out now if you read me the code on your phone.";
    let retold = script.replace("Hello", "Hi there").replace("today", "this morning");
    let a = normalise(Sighting { claimed_name: Some("Dave"), transcript: Some(script), ..Sighting::default() });
    let b = normalise(Sighting { claimed_name: Some("David"), transcript: Some(&retold), ..Sighting::default() });
    let x = c.add(&report(1, "Finance", 0, &a));
    let y = c.add(&report(2, "Sales", HOUR, &b));
    assert_eq!(c.cluster_of(x.cluster).0, c.cluster_of(y.cluster).0);
}

#[test]
fn indicators_older_than_the_window_do_not_tie() {
    let config = Config { window_secs: 24 * HOUR, ..Config::default() };
    let mut c = Correlator::new(config);
    let a = normalise(Sighting { caller_address: Some("it-desk@examp1e.com"), ..Sighting::default() });
    let x = c.add(&report(1, "Finance", 0, &a));
    let y = c.add(&report(2, "Sales", 48 * HOUR, &a));
    assert_ne!(c.cluster_of(x.cluster).0, c.cluster_of(y.cluster).0);
    let z = c.add(&report(3, "Sales", 50 * HOUR, &a));
    assert_eq!(c.cluster_of(y.cluster).0, c.cluster_of(z.cluster).0, "the window slides with each sighting");
}

#[test]
fn a_report_with_two_clusters_indicators_merges_them() {
    let mut c = Correlator::new(Config::default());
    let phone = normalise(Sighting { caller_number: Some("(201) 555-0199"), ..Sighting::default() });
    let mail = normalise(Sighting { caller_address: Some("helpdesk@example-it.com"), ..Sighting::default() });
    let both = normalise(Sighting {
        caller_number: Some("2015550199"),
        caller_address: Some("HelpDesk@example-it.com"),
        ..Sighting::default()
    });
    let x = c.add(&report(1, "Finance", 0, &phone));
    let y = c.add(&report(2, "Finance", HOUR, &mail));
    assert_ne!(x.cluster, y.cluster);
    let z = c.add(&report(3, "Finance", 2 * HOUR, &both));
    assert_eq!(z.merged.len(), 1);
    assert_eq!(c.cluster_of(x.cluster).0, c.cluster_of(y.cluster).0);
    let (_, tally) = c.cluster_of(x.cluster);
    assert_eq!((tally.reports, tally.people), (3, 3));
    assert!(z.campaign_started, "3 reports from 3 people within 72 hours");
}

#[test]
fn complying_makes_a_campaign_critical() {
    let mut c = Correlator::new(Config::default());
    let phone = normalise(Sighting { caller_number: Some("(201) 555-0199"), ..Sighting::default() });
    let mut first = report(1, "Finance", 0, &phone);
    c.add(&first);
    first.reporter = 2;
    first.department = "Sales";
    let second = c.add(&first);
    assert!(second.campaign_started);
    assert_eq!(c.campaign(second.cluster), Some(Severity::Medium));
    let mut third = report(3, "Sales", HOUR, &phone);
    third.complied = true;
    let escalated = c.add(&third);
    assert_eq!(escalated.escalated_to, Some(Severity::Critical));
}

#[test]
fn the_campaign_rule_needs_the_reports_close_together() {
    let t = Thresholds::default();
    let spread = Tally { reports: 3, people: 3, departments: 1, burst_secs: Some(100 * HOUR), ..Tally::default() };
    assert!(!t.is_campaign(&spread));
    assert!(t.is_campaign(&Tally { burst_secs: Some(10 * HOUR), ..spread }));
    assert!(!t.is_campaign(&Tally { people: 1, burst_secs: Some(HOUR), ..spread }), "one person reporting thrice");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_input_normalises_without_panicking(number in ".{0,80}", address in ".{0,80}", name in ".{0,80}", id in ".{0,40}", text in ".{0,400}") {
            let found = normalise(Sighting {
                caller_number: Some(&number),
                caller_address: Some(&address),
                caller_handle: Some(&name),
                claimed_name: Some(&name),
                claimed_staff_id: Some(&id),
                transcript: Some(&text),
                ..Sighting::default()
            });
            for i in &found {
                prop_assert!(i.value.len() <= indicator::MAX_VALUE * 4);
            }
            let mut c = Correlator::new(Config::default());
            let added = c.add(&report(1, "x", 0, &found));
            prop_assert_eq!(c.cluster_of(added.cluster).1.reports, 1);
        }
    }
}
