//! Scores computed by hand from the default weights, decay, advice, profiles and tolerance.

use super::*;
use std::collections::BTreeSet;
use time::Duration;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

fn facts(flags: &[Factor], events: &[(Factor, i64)]) -> RiskFacts {
    let mut f = RiskFacts { flags: flags.to_vec(), ..RiskFacts::default() };
    for (factor, days_ago) in events {
        f.events.entry(*factor).or_default().push(NOW - Duration::days(*days_ago));
    }
    f
}

#[test]
fn a_remote_salesperson_targeted_by_a_campaign_scores_by_hand() {
    let w = RiskWeights::default();
    // 40 base + 10 remote + 15 targeted (3 days ago) − 10 authenticator = 55: high.
    let f = facts(&[Factor::Remote, Factor::Authenticator], &[(Factor::TargetedByCampaign, 3)]);
    let s = w.score(&f, NOW);
    assert_eq!((s.score, s.level), (55.0, Level::High));
    let parts: Vec<(Factor, f64)> = s.contributions.iter().map(|c| (c.factor, c.points)).collect();
    // Largest effect first; equal effects in the factors' order.
    assert_eq!(parts, vec![(Factor::TargetedByCampaign, 15.0), (Factor::Remote, 10.0), (Factor::Authenticator, -10.0)]);
    // The same facts, the same score.
    assert_eq!(w.score(&f, NOW), s);
    // Well protected and reporting: 40 − 10 − 10 − 5 − 4×3 (capped at three reports) − 4 = −1, clamped to 0.
    let careful = facts(
        &[Factor::Authenticator, Factor::Passkey, Factor::PolicyAcknowledged],
        &[
            (Factor::ReportsFiled, 1),
            (Factor::ReportsFiled, 2),
            (Factor::ReportsFiled, 3),
            (Factor::ReportsFiled, 4),
            (Factor::ChecksRun, 5),
        ],
    );
    let s = w.score(&careful, NOW);
    assert_eq!((s.score, s.level), (0.0, Level::Low));
    // Privileged IT staff who complied twice: 40 + 15 + 10 + 50 = 115, clamped to 100: critical.
    let worst = facts(&[Factor::Privileged, Factor::ItStaff], &[(Factor::Complied, 10), (Factor::Complied, 20)]);
    assert_eq!((w.score(&worst, NOW).score, w.score(&worst, NOW).level), (100.0, Level::Critical));
}

#[test]
fn events_count_fully_then_fade() {
    assert_eq!(decayed(0.0, 90), 1.0);
    assert_eq!(decayed(90.0, 90), 1.0);
    assert_eq!(decayed(135.0, 90), 0.5);
    assert_eq!(decayed(180.0, 90), 0.0);
    assert_eq!(decayed(400.0, 90), 0.0);
    assert_eq!(decayed(1.0, 0), 0.0);
    let w = RiskWeights::default();
    // A report 135 days old counts half: 40 − 4 × 0.5 = 38.
    let s = w.score(&facts(&[], &[(Factor::ReportsFiled, 135)]), NOW);
    assert_eq!(s.score, 38.0);
    assert_eq!(s.contributions[0].value, 0.5);
    // A campaign 45 days ago (counts fully for 30) weighs half: 40 + 7.5.
    assert_eq!(w.score(&facts(&[], &[(Factor::TargetedByCampaign, 45)]), NOW).score, 47.5);
    assert_eq!(w.score(&facts(&[], &[(Factor::TargetedByCampaign, 61)]), NOW).score, 40.0);
    // Scored as of a day before the event, the event has not happened.
    let reported = facts(&[], &[(Factor::ReportsFiled, 0)]);
    assert_eq!(w.score(&reported, NOW - Duration::days(1)).score, 40.0);
    assert_eq!(w.score(&reported, NOW).score, 36.0);
}

#[test]
fn advice_names_the_steps_that_lower_the_score() {
    let w = RiskWeights::default();
    let f = facts(&[Factor::Remote, Factor::Authenticator], &[]);
    let advice = w.advice(&f, NOW);
    assert_eq!(
        advice,
        vec![
            (Factor::Passkey, -10.0),
            (Factor::PolicyAcknowledged, -5.0),
            (Factor::ChecksRun, -4.0),
            (Factor::ReportsFiled, -4.0),
        ]
    );
    // At 0 nothing lowers it further.
    let careful =
        facts(&[Factor::Authenticator, Factor::Passkey, Factor::PolicyAcknowledged], &[(Factor::ChecksRun, 1); 3]);
    assert!(w.advice(&careful, NOW).iter().all(|(f, _)| *f != Factor::Passkey));
}

#[test]
fn a_profile_over_its_tolerance_starts_one_breach_and_ends_it() {
    let w = RiskWeights::default();
    let low = w.score(&facts(&[Factor::Authenticator, Factor::Passkey], &[]), NOW);
    let high = w.score(&facts(&[Factor::Remote, Factor::Privileged], &[]), NOW);
    let critical =
        w.score(&facts(&[Factor::Privileged, Factor::ItStaff, Factor::Remote], &[(Factor::Complied, 1)]), NOW);
    assert_eq!((low.level, high.level, critical.level), (Level::Low, Level::High, Level::Critical));
    let mut people: Vec<(&RiskScore, bool)> = vec![(&low, false); 9];
    people.push((&high, false));
    let p = Profile::of(people.clone());
    assert_eq!((p.people, p.by_level, p.high_or_above), (10, [9, 0, 1, 0], 0.1));
    assert_eq!(p.mean, ((9.0 * low.score + high.score) / 10.0 * 10.0_f64).round() / 10.0);
    let t = Tolerance::default();
    assert!(t.breaches(&p).is_empty(), "10 % is at the line, not over it");
    assert!(t.excess(&p).is_some_and(|e| e.abs() < 1e-9), "at the line: no excess");
    people.push((&critical, true));
    let over = Profile::of(people);
    let breaches = t.breaches(&over);
    assert_eq!(breaches, [ToleranceBreach::HighShare, ToleranceBreach::PrivilegedCritical].into());
    assert_eq!(
        transitions(&BTreeSet::new(), &breaches),
        vec![Transition::Started(ToleranceBreach::HighShare), Transition::Started(ToleranceBreach::PrivilegedCritical)]
    );
    assert!(transitions(&breaches, &breaches).is_empty(), "one alert when it starts, none while it lasts");
    let only_share: BTreeSet<_> = [ToleranceBreach::HighShare].into();
    assert_eq!(transitions(&breaches, &only_share), vec![Transition::Ended(ToleranceBreach::PrivilegedCritical)]);
    assert!(t.breaches(&Profile::of(Vec::<(&RiskScore, bool)>::new())).is_empty());
    let lax = Tolerance { max_high_share: None, no_privileged_critical: false };
    assert!(lax.breaches(&over).is_empty());
    assert_eq!(lax.excess(&over), None, "any share tolerated: nothing to rank by");
    assert!(t.excess(&over).is_some_and(|e| (e - (2.0 / 11.0 - 0.1)).abs() < 1e-9));
}

#[test]
fn settings_read_back_what_they_write_and_name_each_bad_field() {
    let d = RiskSettings::default();
    assert_eq!(RiskSettings::from_json(&d.to_json()).unwrap(), d);
    let v = serde_json::json!({
        "weights": { "passkey": -15, "remote": 12 },
        "decay_days": { "reports_filed": 60 },
        "tolerance": { "company": { "max_high_share": 0.2 }, "departments": { "Sales": { "max_high_share": 0.3, "no_privileged_critical": false } } },
        "min_group": 8,
    });
    let s = RiskSettings::from_json(&v).unwrap();
    assert_eq!(s.weights.factors[&Factor::Passkey].points, -15.0);
    assert_eq!(s.weights.factors[&Factor::ReportsFiled].full_days, 60);
    assert_eq!(s.tolerance_for(Some("Sales")).max_high_share, Some(0.3));
    assert_eq!(s.tolerance_for(Some("IT")).max_high_share, Some(0.2));
    assert_eq!(s.min_group, 8);
    let bad = serde_json::json!({
        "weights": { "passkey": "ten", "luck": 3 },
        "decay_days": { "remote": 10, "checks_run": 0.5 },
        "tolerance": { "company": { "max_high_share": 2 }, "teams": {} },
        "min_group": 0,
        "colour": "red",
    });
    let mut fields: Vec<String> = RiskSettings::from_json(&bad).unwrap_err().into_iter().map(|e| e.field).collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "colour",
            "decay_days.checks_run",
            "decay_days.remote",
            "min_group",
            "tolerance.company.max_high_share",
            "tolerance.teams",
            "weights.luck",
            "weights.passkey",
        ]
    );
}
