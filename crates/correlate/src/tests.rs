//! The campaign rule, and normalisation of any input. The clustering scenarios run against the store, the
//! one correlator (`crates/store/tests/store/correlation.rs`).

use super::*;
use bonafide_domain::PhoneRegion;

const HOUR: i64 = 3600;

fn known(_: &str) -> bool {
    false
}

fn normalise(s: Sighting<'_>) -> Vec<Indicator> {
    let domains = vec!["example.com".to_owned()];
    indicators(&s, &Company { region: PhoneRegion::default(), domains: &domains, staff_id_known: &known })
}

#[test]
fn the_campaign_rule_needs_the_reports_close_together() {
    let t = Thresholds::default();
    let spread = Tally { reports: 3, people: 3, departments: 1, burst_secs: Some(100 * HOUR), ..Tally::default() };
    assert!(!t.is_campaign(&spread));
    assert!(t.is_campaign(&Tally { burst_secs: Some(10 * HOUR), ..spread }));
    assert!(!t.is_campaign(&Tally { people: 1, burst_secs: Some(HOUR), ..spread }), "one person reporting thrice");
}

#[test]
fn a_script_is_one_hit_per_cluster_only_with_enough_shared_hashes() {
    let hits = text_hits(vec!["b", "a", "b", "c", "b"]);
    assert_eq!(hits, vec![Hit { cluster: "b", kind: IndicatorKind::Text, strong: false }]);
    assert!(text_hits(vec!["a", "c"]).is_empty(), "one shared word pair is not the same script");
}

#[test]
fn a_strong_hit_joins_and_weak_ones_need_the_script() {
    let hit = |cluster, kind, strong| Hit { cluster, kind, strong };
    let name_and_ask = [hit(1, IndicatorKind::Name, false), hit(1, IndicatorKind::Ask, false)];
    assert!(joined(&name_and_ask).is_empty(), "a common name and ask without the script");
    let script_and_name = [hit(2, IndicatorKind::Text, false), hit(2, IndicatorKind::Name, false)];
    assert_eq!(joined(&script_and_name), vec![2]);
    assert_eq!(joined(&[hit(3, IndicatorKind::Phone, true), hit(3, IndicatorKind::Phone, true)]), vec![3]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Filing the indicators into an empty store makes a cluster of one report: that half of this
        // property runs against the store (`any_input_files_into_a_cluster_of_its_own`).
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
        }
    }
}
