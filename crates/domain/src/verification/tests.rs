//! Table-driven tests: every verdict and every reason, each from the smallest world that produces it.

use super::*;
use crate::{PhoneRegion, TimeStep};
use time::Duration;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-28 10:00:30 UTC);

struct World {
    sam: StaffFacts,
    kim: StaffFacts,
    requests: Vec<RequestFacts>,
    outreach: Vec<OutreachFacts>,
    policy: ContactPolicy,
    campaign_match: bool,
    challenge: ChallengeState,
}

fn phone(s: &str) -> PhoneNumber {
    PhoneNumber::parse(s, PhoneRegion::default()).unwrap()
}

fn staff(id: &str, name: &str, number: &str, address: &str) -> StaffFacts {
    StaffFacts {
        person: PersonId::new(),
        staff_id: id.parse().unwrap(),
        display_name: name.parse().unwrap(),
        is_it_staff: true,
        active: true,
        official_numbers: vec![phone(number)],
        official_addresses: vec![address.to_owned()],
    }
}

/// Sam holds the employee's assigned request R-1001; Kim is another IT staffer.
fn world() -> World {
    let sam = staff("IT-0042", "Sam Carter", "201-555-0142", "sam.carter@example.com");
    let kim = staff("IT-0007", "Kim Novak", "201-555-0107", "kim.novak@example.com");
    let requests = vec![RequestFacts {
        key: RequestKey::from_number(1001),
        status: RequestStatus::Assigned,
        assignee: Some(sam.person),
        channels: BTreeSet::new(),
        category: None,
    }];
    World {
        sam,
        kim,
        requests,
        outreach: vec![],
        policy: ContactPolicy::default(),
        campaign_match: false,
        challenge: ChallengeState::default(),
    }
}

/// Sam calling by phone from his official number, giving his id and name.
fn sams_call() -> Claim {
    Claim {
        channel: Channel::Phone,
        claimed_staff_id: Some("IT-0042".parse().unwrap()),
        claimed_name: Some("Sam Carter".to_owned()),
        caller_number: Some(CallerNumber::Parsed(phone("+1 201 555 0142"))),
        caller_address: None,
        request_key: None,
        asked_for: BTreeSet::new(),
    }
}

fn run(w: &World, claim: &Claim, now: OffsetDateTime) -> Assessment {
    let candidates = [w.sam.clone(), w.kim.clone()];
    let facts = Facts {
        candidates: &candidates,
        requests: &w.requests,
        outreach: &w.outreach,
        policy: &w.policy,
        campaign_match: w.campaign_match,
        challenge: w.challenge,
    };
    assess(claim, &facts, now)
}

fn outreach_by(staffer: PersonId, starts: OffsetDateTime, hours: i64, channels: &[Channel]) -> OutreachFacts {
    OutreachFacts {
        id: OutreachId::new(),
        staffer,
        window: OutreachWindow { starts_at: starts, ends_at: starts + Duration::hours(hours) },
        channels: channels.iter().copied().collect(),
    }
}

/// Password resets only on video or in person.
fn reset_face_to_face() -> ContactPolicy {
    let rules = serde_json::json!({"categories": {"password_reset": ["video", "in_person"]}});
    ContactPolicy::from_json(&rules, PhoneRegion::default()).unwrap()
}

/// Contact Monday to Friday, 08:00–18:00 UTC (NOW is a Saturday).
fn weekday_hours() -> ContactPolicy {
    let rules = serde_json::json!({"contact_hours": {"zone": "UTC", "days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"}});
    ContactPolicy::from_json(&rules, PhoneRegion::default()).unwrap()
}

type Case = (&'static str, fn(&mut World, &mut Claim), Verdict, &'static [Reason]);

const CASES: &[Case] = &[
    ("genuine staffer before the code", |_, _| {}, Verdict::ChallengeRequired, &[]),
    ("genuine staffer after the code", |w, _| w.challenge.passed = true, Verdict::Verified, &[]),
    ("claim by name only", |_, c| c.claimed_staff_id = None, Verdict::ChallengeRequired, &[]),
    (
        "first name only",
        |_, c| {
            c.claimed_staff_id = None;
            c.claimed_name = Some("sam".into())
        },
        Verdict::ChallengeRequired,
        &[],
    ),
    (
        "claim by official number only",
        |_, c| {
            c.claimed_staff_id = None;
            c.claimed_name = None
        },
        Verdict::ChallengeRequired,
        &[],
    ),
    ("request key given", |_, c| c.request_key = Some(RequestKey::from_number(1001)), Verdict::ChallengeRequired, &[]),
    (
        "video call with a walkthrough",
        |_, c| {
            c.channel = Channel::Video;
            c.caller_number = None;
            c.asked_for.insert(Ask::LoginWalkthrough);
        },
        Verdict::ChallengeRequired,
        &[],
    ),
    (
        "password asked even by the genuine staffer",
        |w, c| {
            w.challenge.passed = true;
            c.asked_for.insert(Ask::Password);
        },
        Verdict::Unverified,
        &[Reason::SensitiveRequest],
    ),
    (
        "mfa code asked",
        |_, c| {
            c.asked_for.insert(Ask::MfaCode);
        },
        Verdict::Unverified,
        &[Reason::SensitiveRequest],
    ),
    (
        "remote access asked",
        |_, c| {
            c.asked_for.insert(Ask::RemoteAccess);
        },
        Verdict::Unverified,
        &[Reason::SensitiveRequest],
    ),
    (
        "walkthrough over the phone",
        |_, c| {
            c.asked_for.insert(Ask::LoginWalkthrough);
        },
        Verdict::Unverified,
        &[Reason::ChannelNotAllowed],
    ),
    (
        "channel the employee did not choose",
        |w, _| w.requests[0].channels = [Channel::Chat].into(),
        Verdict::Unverified,
        &[Reason::ChannelNotAllowed],
    ),
    (
        "channel the policy forbids",
        |w, _| {
            w.policy.allowed_channels.remove(&Channel::Phone);
        },
        Verdict::Unverified,
        &[Reason::ChannelNotAllowed],
    ),
    (
        "a password reset request on the phone, where policy wants video or in person",
        |w, _| {
            w.policy = reset_face_to_face();
            w.requests[0].category = Some("password_reset".into());
        },
        Verdict::Unverified,
        &[Reason::ChannelNotAllowed],
    ),
    (
        "a password reset request on video",
        |w, c| {
            w.policy = reset_face_to_face();
            w.requests[0].category = Some("password_reset".into());
            c.channel = Channel::Video;
            c.caller_number = None;
        },
        Verdict::ChallengeRequired,
        &[],
    ),
    (
        "another category on the phone",
        |w, _| {
            w.policy = reset_face_to_face();
            w.requests[0].category = Some("hardware".into());
        },
        Verdict::ChallengeRequired,
        &[],
    ),
    (
        "outside contact hours (a Saturday)",
        |w, _| w.policy = weekday_hours(),
        Verdict::Unverified,
        &[Reason::OutsideContactHours],
    ),
    (
        "outside contact hours, but announced outreach covers the moment",
        |w, _| {
            w.policy = weekday_hours();
            w.requests.clear();
            w.outreach = vec![outreach_by(w.sam.person, NOW - Duration::hours(1), 2, &[Channel::Phone])];
        },
        Verdict::ChallengeRequired,
        &[],
    ),
    ("active campaign", |w, _| w.campaign_match = true, Verdict::Unverified, &[Reason::MatchesActiveCampaign]),
    (
        "unknown staff id",
        |_, c| c.claimed_staff_id = Some("IT-9999".parse().unwrap()),
        Verdict::Unverified,
        &[Reason::UnknownStaff],
    ),
    (
        "unknown name",
        |_, c| {
            c.claimed_staff_id = None;
            c.claimed_name = Some("Mike".into())
        },
        Verdict::Unverified,
        &[Reason::UnknownStaff],
    ),
    (
        "nothing claimed from an odd number",
        |_, c| {
            c.claimed_staff_id = None;
            c.claimed_name = None;
            c.caller_number = Some(CallerNumber::Unparsed("IT DESK".into()))
        },
        Verdict::Unverified,
        &[Reason::UnknownStaff],
    ),
    (
        "a staff id of someone outside IT",
        |w, _| w.sam.is_it_staff = false,
        Verdict::Unverified,
        &[Reason::UnknownStaff],
    ),
    (
        "real id, other name",
        |_, c| c.claimed_name = Some("Mike Smith".into()),
        Verdict::Unverified,
        &[Reason::NameMismatch],
    ),
    ("suspended staffer", |w, _| w.sam.active = false, Verdict::Unverified, &[Reason::StaffInactive]),
    ("cold call", |w, _| w.requests.clear(), Verdict::Unverified, &[Reason::NoOpenRequest]),
    (
        "cold call from an unknown caller",
        |w, c| {
            w.requests.clear();
            c.claimed_staff_id = Some("IT-1234".parse().unwrap());
        },
        Verdict::Unverified,
        &[Reason::UnknownStaff, Reason::NoOpenRequest],
    ),
    (
        "request already resolved",
        |w, _| w.requests[0].status = RequestStatus::Resolved,
        Verdict::Unverified,
        &[Reason::NoOpenRequest],
    ),
    (
        "someone else's or unknown request key",
        |_, c| c.request_key = Some(RequestKey::from_number(4242)),
        Verdict::Unverified,
        &[Reason::NoOpenRequest],
    ),
    (
        "request assigned to a colleague",
        |w, _| w.requests[0].assignee = Some(w.kim.person),
        Verdict::Unverified,
        &[Reason::NotAssignee],
    ),
    (
        "request not yet assigned",
        |w, _| {
            w.requests[0].assignee = None;
            w.requests[0].status = RequestStatus::Open;
        },
        Verdict::Unverified,
        &[Reason::NotAssignee],
    ),
    (
        "named request of a colleague",
        |w, c| {
            w.requests[0].assignee = Some(w.kim.person);
            c.request_key = Some(RequestKey::from_number(1001));
        },
        Verdict::Unverified,
        &[Reason::NotAssignee],
    ),
    (
        "number that is not official",
        |_, c| c.caller_number = Some(CallerNumber::Parsed(phone("201-555-0199"))),
        Verdict::Unverified,
        &[Reason::NumberNotOfficial],
    ),
    (
        "withheld or odd number",
        |_, c| c.caller_number = Some(CallerNumber::Unparsed("Unknown".into())),
        Verdict::Unverified,
        &[Reason::NumberNotOfficial],
    ),
    (
        "address that is not official",
        |_, c| {
            c.channel = Channel::Email;
            c.caller_number = None;
            c.caller_address = Some("it-help@examp1e.com".into());
        },
        Verdict::Unverified,
        &[Reason::AddressNotOfficial],
    ),
    (
        "official address",
        |_, c| {
            c.channel = Channel::Email;
            c.caller_number = None;
            c.caller_address = Some("sam.carter@example.com".into());
        },
        Verdict::ChallengeRequired,
        &[],
    ),
    (
        "announced outreach in its window",
        |w, _| {
            w.requests.clear();
            w.outreach.push(outreach_by(w.sam.person, NOW - Duration::hours(1), 2, &[Channel::Phone]));
        },
        Verdict::ChallengeRequired,
        &[],
    ),
    (
        "announced outreach on another channel",
        |w, _| {
            w.requests.clear();
            w.outreach.push(outreach_by(w.sam.person, NOW - Duration::hours(1), 2, &[Channel::Video]));
        },
        Verdict::Unverified,
        &[Reason::ChannelNotAllowed],
    ),
    (
        "announced outreach, but tomorrow",
        |w, _| {
            w.requests.clear();
            w.outreach.push(outreach_by(w.sam.person, NOW + Duration::days(1), 2, &[Channel::Phone]));
        },
        Verdict::Unverified,
        &[Reason::NoOpenRequest, Reason::OutsideWindow],
    ),
    (
        "announced outreach for a colleague",
        |w, _| {
            w.requests.clear();
            w.outreach.push(outreach_by(w.kim.person, NOW - Duration::hours(1), 2, &[Channel::Phone]));
        },
        Verdict::Unverified,
        &[Reason::NoOpenRequest],
    ),
    (
        "a wrong code was given",
        |w, _| {
            w.challenge.failures = 1;
            w.challenge.last_failed = true;
        },
        Verdict::Unverified,
        &[Reason::ChallengeFailed],
    ),
    (
        "locked after too many codes",
        |w, _| {
            w.challenge.failures = 5;
            w.challenge.last_failed = true;
            w.challenge.locked = true;
        },
        Verdict::Unverified,
        &[Reason::ChallengeLocked],
    ),
    (
        "locked stays locked even if a code passed",
        |w, _| {
            w.challenge.locked = true;
            w.challenge.passed = true;
        },
        Verdict::Unverified,
        &[Reason::ChallengeLocked],
    ),
];

#[test]
fn every_case_gives_its_verdict_and_exactly_its_reasons() {
    for (name, setup, verdict, reasons) in CASES {
        let mut w = world();
        let mut claim = sams_call();
        setup(&mut w, &mut claim);
        let a = run(&w, &claim, NOW);
        assert_eq!((a.verdict, a.reasons.as_slice()), (*verdict, *reasons), "case: {name}");
    }
}

#[test]
fn the_table_covers_every_verdict_and_every_reason() {
    let all_reasons = Reason::ALL;
    for r in all_reasons {
        assert!(CASES.iter().any(|c| c.3.contains(&r)), "no case for {}", r.as_str());
    }
    for v in [Verdict::Verified, Verdict::ChallengeRequired, Verdict::Unverified] {
        assert!(CASES.iter().any(|c| c.2 == v), "no case for {}", v.as_str());
    }
}

#[test]
fn only_a_passed_challenge_verifies() {
    for (name, setup, verdict, _) in CASES {
        let mut w = world();
        let mut claim = sams_call();
        setup(&mut w, &mut claim);
        if *verdict == Verdict::Verified {
            assert!(w.challenge.passed, "case {name} verified without a challenge");
        }
    }
}

#[test]
fn the_authority_names_the_request_or_the_outreach() {
    let w = world();
    let a = run(&w, &sams_call(), NOW);
    assert_eq!(a.authority, Some(Authority::Request { key: RequestKey::from_number(1001) }));
    assert_eq!(a.staffer, Some(w.sam.person));
    assert!(a.awaits_code());

    let mut w = world();
    w.requests.clear();
    let o = outreach_by(w.sam.person, NOW - Duration::hours(1), 2, &[Channel::Phone]);
    let id = o.id;
    w.outreach.push(o);
    assert_eq!(run(&w, &sams_call(), NOW).authority, Some(Authority::Outreach { id }));
}

#[test]
fn an_ambiguous_name_is_settled_only_by_an_assignment() {
    let mut w = world();
    w.kim = staff("IT-0008", "Sam Baker", "201-555-0108", "sam.baker@example.com");
    let mut claim = sams_call();
    claim.claimed_staff_id = None;
    claim.claimed_name = Some("Sam".into());
    assert_eq!(run(&w, &claim, NOW).staffer, Some(w.sam.person));
    w.requests[0].assignee = None;
    w.requests[0].status = RequestStatus::Open;
    let a = run(&w, &claim, NOW);
    assert_eq!((a.verdict, a.staffer), (Verdict::Unverified, None));
    assert!(a.reasons.contains(&Reason::UnknownStaff));
}

#[test]
fn outreach_windows_are_half_open() {
    let mut w = world();
    w.requests.clear();
    let start = TimeStep::at(NOW).rotates_at();
    w.outreach.push(outreach_by(w.sam.person, start, 1, &[Channel::Phone]));
    let at = |t| run(&w, &sams_call(), t).verdict;
    assert_eq!(at(start - Duration::seconds(1)), Verdict::Unverified);
    assert_eq!(at(start), Verdict::ChallengeRequired);
    assert_eq!(at(start + Duration::hours(1) - Duration::seconds(1)), Verdict::ChallengeRequired);
    assert_eq!(at(start + Duration::hours(1)), Verdict::Unverified);
}

#[test]
fn the_assessment_names_the_rules_broken() {
    let mut w = world();
    w.policy = reset_face_to_face();
    w.requests[0].category = Some("password_reset".into());
    let mut claim = sams_call();
    claim.asked_for.insert(Ask::LoginWalkthrough);
    let a = run(&w, &claim, NOW);
    assert_eq!(
        a.breaches,
        [
            Breach::FaceToFace(Ask::LoginWalkthrough),
            Breach::Category {
                category: "password_reset".into(),
                allowed: [Channel::Video, Channel::InPerson].into_iter().collect()
            }
        ]
    );
    assert_eq!(a.reasons, [Reason::ChannelNotAllowed]);
    assert!(run(&world(), &sams_call(), NOW).breaches.is_empty());
}
