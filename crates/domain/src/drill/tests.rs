use super::*;
use time::macros::datetime;

const T: OffsetDateTime = datetime!(2026-12-01 09:00 UTC);

fn at(minutes: i64) -> Option<OffsetDateTime> {
    Some(T + time::Duration::minutes(minutes))
}

#[test]
fn a_mistake_outranks_a_later_report_and_the_best_good_deed_counts_otherwise() {
    let none = Signals::default();
    assert_eq!(grade(&none), Outcome::Ignored);
    assert_eq!(grade(&Signals { opened: at(1), ..none }), Outcome::Ignored, "a GET alone is not a click");
    assert_eq!(grade(&Signals { verified: at(2), ..none }), Outcome::VerifiedFirst);
    assert_eq!(grade(&Signals { verified: at(2), reported: at(3), ..none }), Outcome::Reported);
    assert_eq!(grade(&Signals { clicked: at(2), reported: at(3), ..none }), Outcome::Clicked);
    assert_eq!(grade(&Signals { clicked: at(2), submitted: at(3), reported: at(4), ..none }), Outcome::Complied);
    assert_eq!(grade(&Signals { reported: at(4), reported_complied: true, ..none }), Outcome::Complied);
    assert_eq!(mistake_at(&Signals { clicked: at(5), submitted: at(3), ..none }), at(3));
    assert_eq!(mistake_at(&Signals { reported: at(4), ..none }), None);
    assert_eq!(mistake_at(&Signals { reported: at(4), reported_complied: true, ..none }), at(4));
    assert!(Outcome::ALL.iter().filter(|o| o.is_mistake()).eq([Outcome::Clicked, Outcome::Complied].iter()));
}

#[test]
fn sends_spread_evenly_across_the_window_and_all_go_at_launch_without_one() {
    assert_eq!(send_at(T, 0, 7, 10), T);
    assert_eq!(send_at(T, 10, 0, 1), T);
    assert_eq!(send_at(T, 10, 0, 10), T);
    assert_eq!(send_at(T, 10, 5, 10), T + time::Duration::hours(5));
    assert_eq!(send_at(T, 10, 9, 10), T + time::Duration::hours(9));
    let last = send_at(T, MAX_WINDOW_HOURS, MAX_TARGETS - 1, MAX_TARGETS);
    assert!(last < T + time::Duration::hours(i64::from(MAX_WINDOW_HOURS)));
}

#[test]
fn every_built_in_scenario_is_valid_links_once_and_names_its_persona() {
    assert_eq!(BUILT_IN.len(), 6);
    for b in BUILT_IN {
        let s = b.scenario();
        s.validate().unwrap_or_else(|e| panic!("{}: {e}", b.id));
        let text = s.render("Dana Fox", "https://portal.example/d/TOKEN");
        assert_eq!(text.matches("https://portal.example/d/TOKEN").count(), 1, "{}", b.id);
        assert!(text.starts_with("Hi Dana,") || text.starts_with("Hello Dana,"), "{}: {text}", b.id);
        assert!(!text.contains('{'), "{}: a placeholder is left: {text}", b.id);
        assert!(builtin(b.id).is_some());
    }
    assert!(builtin("lottery").is_none());
}

#[test]
fn a_body_without_the_link_gets_it_at_the_end_and_bad_fields_are_named() {
    let mut s = builtin("mailbox-quota").map(BuiltIn::scenario).unwrap_or_else(|| unreachable!());
    s.body = "Call me back, {name}.".into();
    assert_eq!(s.render("Ann Lee", "L"), "Call me back, Ann Lee.\n\nL\n");
    s.sender_name = " ".into();
    assert_eq!(s.validate().map_err(|e| e.field), Err("scenario.sender_name"));
    s.sender_name = "IT".into();
    s.sender_address = Some("not an address".into());
    assert_eq!(s.validate().map_err(|e| e.field), Err("scenario.sender_address"));
    s.sender_address = None;
    s.body = "x\u{0}".into();
    assert_eq!(s.validate().map_err(|e| e.field), Err("scenario.body"));
}
