//! Table-driven tests: each rule read, refused with its field, judged and said in words.

use super::*;
use crate::PhoneRegion;
use time::macros::datetime;

fn rules(v: Value) -> ContactPolicy {
    ContactPolicy::from_json(&v, PhoneRegion::default()).unwrap_or_else(|e| panic!("{v}: {e:?}"))
}

fn refused(v: Value) -> Vec<(String, String)> {
    match ContactPolicy::from_json(&v, PhoneRegion::default()) {
        Ok(p) => panic!("{v} was read as {p:?}"),
        Err(errors) => errors.into_iter().map(|e| (e.field, e.message)).collect(),
    }
}

fn asks(a: &[Ask]) -> BTreeSet<Ask> {
    a.iter().copied().collect()
}

/// The demo's policy: password resets on video or in person, no SMS, Monday to Friday 08:00–18:00 in Berlin.
fn company() -> ContactPolicy {
    rules(json!({
        "channels": ["phone", "video", "chat", "email", "in_person"],
        "categories": {"password_reset": ["video", "in_person"]},
        "contact_hours": {"zone": "Europe/Berlin", "days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"},
        "service_desk_number": "+1 201 555 0100",
        "ack_due_days": 7,
    }))
}

#[test]
fn absent_rules_take_the_defaults_and_the_json_form_reads_back() {
    assert_eq!(rules(json!({})), ContactPolicy::default());
    let p = company();
    assert_eq!(p.ack_due_days, 7);
    assert!(!p.allowed_channels.contains(&Channel::Sms));
    assert_eq!(p.face_to_face_only, ContactPolicy::default().face_to_face_only);
    assert_eq!(p.service_desk_number.as_ref().map(PhoneNumber::as_str), Some("+12015550100"));
    assert_eq!(rules(p.to_json()), p, "{}", p.to_json());
    assert_eq!(p.to_json()["contact_hours"]["to"], "18:00");
    let whole_day = rules(json!({"contact_hours": {"zone": "UTC", "from": "00:00", "to": "24:00"}}));
    assert_eq!(whole_day.to_json()["contact_hours"]["to"], "24:00");
    assert_eq!(whole_day.contact_hours.as_ref().unwrap().days.len(), 7, "no days named is every day");
    assert_eq!(rules(whole_day.to_json()), whole_day);
    assert_eq!(rules(json!({"contact_hours": null, "service_desk_number": ""})), ContactPolicy::default());
}

#[test]
fn each_bad_field_is_named() {
    let table: Vec<(Value, &[&str])> = vec![
        (json!([]), &["rules"]),
        (json!({"channels": ["phone", "fax"]}), &["rules.channels[1]"]),
        (json!({"channels": []}), &["rules.channels"]),
        (json!({"channels": "phone"}), &["rules.channels"]),
        (json!({"face_to_face_only": ["hug"]}), &["rules.face_to_face_only[0]"]),
        (json!({"face_to_face_only": ["password"]}), &["rules.face_to_face_only[0]"]),
        (json!({"categories": {"password_reset": []}}), &["rules.categories.password_reset"]),
        (json!({"categories": {"password_reset": ["pigeon"]}}), &["rules.categories.password_reset[0]"]),
        (json!({"categories": {"no spaces": ["video"]}}), &["rules.categories.no spaces"]),
        (json!({"channels": ["phone"], "categories": {"vpn": ["video"]}}), &["rules.categories.vpn"]),
        (
            json!({"contact_hours": {"zone": "Mars/Olympus", "from": "08:00", "to": "18:00"}}),
            &["rules.contact_hours.zone"],
        ),
        (json!({"contact_hours": {"zone": "UTC", "from": "8am", "to": "18:00"}}), &["rules.contact_hours.from"]),
        (json!({"contact_hours": {"zone": "UTC", "from": "08:00", "to": "25:00"}}), &["rules.contact_hours.to"]),
        (json!({"contact_hours": {"zone": "UTC", "from": "18:00", "to": "08:00"}}), &["rules.contact_hours.to"]),
        (
            json!({"contact_hours": {"zone": "UTC", "days": ["someday"], "from": "08:00", "to": "18:00"}}),
            &["rules.contact_hours.days[0]"],
        ),
        (
            json!({"contact_hours": {"zone": "UTC", "days": [], "from": "08:00", "to": "18:00"}}),
            &["rules.contact_hours.days"],
        ),
        (
            json!({"contact_hours": {"zone": "UTC", "from": "08:00", "to": "18:00", "tz": "x"}}),
            &["rules.contact_hours.tz"],
        ),
        (json!({"contact_hours": "9 to 5"}), &["rules.contact_hours"]),
        (json!({"service_desk_number": "call us"}), &["rules.service_desk_number"]),
        (json!({"ack_due_days": 0}), &["rules.ack_due_days"]),
        (json!({"ack_due_days": 1.5}), &["rules.ack_due_days"]),
        (json!({"allow_everything": true}), &["rules.allow_everything"]),
        // Every bad field, not only the first.
        (
            json!({"channels": ["fax"], "contact_hours": {"zone": "Nowhere", "from": "x", "to": "18:00"}, "ack_due_days": -1}),
            &["rules.ack_due_days", "rules.channels[0]", "rules.contact_hours.from", "rules.contact_hours.zone"],
        ),
    ];
    for (input, fields) in table {
        let mut named: Vec<String> = refused(input.clone()).into_iter().map(|(f, _)| f).collect();
        named.sort();
        assert_eq!(named, fields.iter().map(|f| f.to_string()).collect::<Vec<_>>(), "{input}");
    }
    let messages = refused(json!({"channels": ["fax"]}));
    assert!(messages[0].1.contains("unknown channel `fax`"), "{messages:?}");
}

/// A contact (channel, asks, the request's category, the moment) and the breaches it makes.
type Case = (Channel, &'static [Ask], Option<&'static str>, Option<OffsetDateTime>, Vec<Breach>);

#[test]
fn each_rule_is_judged_with_its_breach() {
    let p = company();
    let tuesday_ten = Some(datetime!(2026-12-08 09:00 UTC)); // 10:00 in Berlin
    let none: &[Ask] = &[];
    let password_reset = Some("password_reset");
    let table: Vec<Case> = vec![
        (Channel::Phone, none, None, tuesday_ten, vec![]),
        (Channel::Sms, none, None, tuesday_ten, vec![Breach::Channel(Channel::Sms)]),
        (Channel::Phone, &[Ask::LoginWalkthrough], None, tuesday_ten, vec![Breach::FaceToFace(Ask::LoginWalkthrough)]),
        (Channel::Video, &[Ask::LoginWalkthrough, Ask::SoftwareInstall], None, tuesday_ten, vec![]),
        (
            Channel::Chat,
            &[Ask::SoftwareInstall, Ask::LoginWalkthrough],
            None,
            tuesday_ten,
            vec![Breach::FaceToFace(Ask::SoftwareInstall), Breach::FaceToFace(Ask::LoginWalkthrough)],
        ),
        (
            Channel::Phone,
            none,
            password_reset,
            tuesday_ten,
            vec![Breach::Category {
                category: "password_reset".into(),
                allowed: [Channel::Video, Channel::InPerson].into_iter().collect(),
            }],
        ),
        (Channel::InPerson, none, password_reset, tuesday_ten, vec![]),
        (Channel::Phone, none, Some("hardware"), tuesday_ten, vec![]),
        (Channel::Phone, none, None, Some(datetime!(2026-12-08 17:30 UTC)), vec![Breach::OutsideHours]),
        (Channel::Phone, none, None, Some(datetime!(2026-12-12 09:00 UTC)), vec![Breach::OutsideHours]),
        // Approved outreach covers the moment: the hours do not apply.
        (Channel::Phone, none, None, None, vec![]),
        (
            Channel::Sms,
            &[Ask::LoginWalkthrough],
            password_reset,
            Some(datetime!(2026-12-13 12:00 UTC)),
            vec![
                Breach::Channel(Channel::Sms),
                Breach::FaceToFace(Ask::LoginWalkthrough),
                Breach::Category {
                    category: "password_reset".into(),
                    allowed: [Channel::Video, Channel::InPerson].into_iter().collect(),
                },
                Breach::OutsideHours,
            ],
        ),
    ];
    for (channel, asked, category, at, expected) in table {
        assert_eq!(
            p.breaches(channel, &asks(asked), category, at),
            expected,
            "{channel} {asked:?} {category:?} {at:?}"
        );
    }
    assert!(ContactPolicy::default().allows(Channel::Sms, &asks(&[Ask::PersonalInfo])));
    assert!(!ContactPolicy::default().allows(Channel::Email, &asks(&[Ask::SoftwareInstall])));
}

#[test]
fn contact_hours_follow_the_wall_clock_across_a_daylight_saving_change() {
    let hours = company().contact_hours.unwrap();
    // Berlin moves from UTC+1 to UTC+2 on Sunday 29 March 2026, and back on Sunday 25 October.
    let table = [
        (datetime!(2026-03-27 06:59 UTC), false), // Friday 07:59 CET
        (datetime!(2026-03-27 07:00 UTC), true),  // Friday 08:00 CET
        (datetime!(2026-03-27 16:59 UTC), true),  // Friday 17:59 CET
        (datetime!(2026-03-27 17:00 UTC), false), // Friday 18:00 CET
        (datetime!(2026-03-30 06:00 UTC), true),  // Monday 08:00 CEST: the same UTC time was 07:00 on Friday
        (datetime!(2026-03-30 05:59 UTC), false), // Monday 07:59 CEST
        (datetime!(2026-03-30 16:00 UTC), false), // Monday 18:00 CEST
        (datetime!(2026-03-30 15:59 UTC), true),  // Monday 17:59 CEST
        (datetime!(2026-10-23 06:00 UTC), true),  // Friday 08:00 CEST
        (datetime!(2026-10-26 06:00 UTC), false), // Monday 07:00 CET
        (datetime!(2026-10-26 07:00 UTC), true),  // Monday 08:00 CET
        (datetime!(2026-03-29 09:00 UTC), false), // the Sunday of the change itself
    ];
    for (at, inside) in table {
        assert_eq!(hours.contain(at), inside, "{at}");
    }
    let around_the_clock =
        rules(json!({"contact_hours": {"zone": "America/New_York", "from": "00:00", "to": "24:00"}}));
    assert!(around_the_clock.contact_hours.unwrap().contain(datetime!(2026-03-08 07:30 UTC)), "the skipped hour");
}

#[test]
fn rules_and_breaches_are_said_in_everyday_words() {
    let p = company();
    let words = p.in_words();
    assert!(words[0].contains("password, an MFA code or remote access"), "{words:?}");
    assert!(words[1].contains("a request you opened"), "{words:?}");
    for expected in [
        "IT contacts you only by phone, on video, by chat, by email or in person; never by text message.",
        "Installing software or walking you through signing in happens only on video or in person.",
        "Password reset requests are handled only on video or in person.",
        "IT contacts you only Monday to Friday, 08:00–18:00 (Europe/Berlin time), unless security announced outreach for another time.",
        "When a contact is not verified, hang up and call the service desk on +1 201-555-0100.",
    ] {
        assert!(words.iter().any(|w| w == expected), "{expected:?} not in {words:#?}");
    }
    let breach = &p.breaches(Channel::Phone, &BTreeSet::new(), Some("password_reset"), None)[0];
    assert_eq!(
        breach.sentence(&p, Channel::Phone),
        "Password reset requests are handled only on video or in person. This was a phone call."
    );
    assert_eq!(breach.rule(), "categories");
    assert_eq!(
        Breach::Channel(Channel::Sms).sentence(&p, Channel::Sms),
        "IT never contacts you by text message. This was a text message."
    );
    assert_eq!(
        Breach::OutsideHours.sentence(&p, Channel::Phone),
        "IT contacts you only Monday to Friday, 08:00–18:00 (Europe/Berlin time). This contact came outside those hours."
    );
    let odd_days =
        rules(json!({"contact_hours": {"zone": "UTC", "days": ["mon", "wed", "fri"], "from": "09:00", "to": "17:00"}}));
    assert!(odd_days.in_words().iter().any(|w| w.contains("only Monday, Wednesday and Friday, 09:00–17:00")));
    // The default policy says only the built-in rules and the face-to-face asks.
    assert_eq!(ContactPolicy::default().in_words().len(), 3);
}
