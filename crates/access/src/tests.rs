//! Decisions from policies a company would write, each refusal and each error's place.

use super::*;
use time::macros::datetime;

fn person(email: &str, department: &str, roles: &[&str]) -> PersonFacts {
    PersonFacts {
        email: email.into(),
        department: department.into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        title: String::new(),
        location: "Boston".into(),
        remote: false,
        privileged: false,
        active: true,
        mfa_enrolled: true,
        passkey_enrolled: false,
        policy_acknowledged: true,
        risk_level: None,
    }
}

fn resource(id: &str, kind: ResourceKind, sensitivity: Sensitivity, owner: Option<&str>) -> ResourceFacts {
    ResourceFacts {
        id: id.into(),
        name: id.into(),
        kind,
        sensitivity,
        owner_department: owner.map(str::to_owned),
        tags: vec![],
    }
}

fn context(mfa: bool, device_managed: bool, network: Network) -> RequestContextFacts {
    RequestContextFacts { mfa, device_managed, network, at: datetime!(2026-12-07 10:00 UTC) }
}

/// `p`'s decision on a directory of just `who` and `what`.
fn decide(
    p: &AccessPolicies,
    who: &PersonFacts,
    action: Action,
    what: &ResourceFacts,
    ctx: &RequestContextFacts,
) -> Decision {
    let directory = Directory::build(vec![who.clone()], vec![what.clone()]).unwrap();
    p.decide(&directory, who, action, what, ctx)
}

/// The demo's advice, as policies.
const COMPANY: &str = r#"
@id("own-department-with-mfa")
permit (principal, action == Action::"access", resource)
when { resource has owner_department && principal.department == resource.owner_department && context.mfa };

@id("high-needs-mfa-and-managed-device")
forbid (principal, action, resource)
when { resource.sensitivity == "high" && !(context.mfa && context.device_managed) };

@id("no-databases-from-the-internet-for-remote-workers")
forbid (principal, action, resource)
when { resource.kind == "database" && principal.remote && context.network == "internet" };

@id("it-consoles")
permit (principal in Role::"it_staff", action, resource)
when { resource has tags && resource.tags.contains("it-console") && principal.passkey_enrolled };
"#;

#[test]
fn the_schema_is_valid_cedar_and_the_company_policies_compile() {
    assert!(schema().is_ok(), "{:?}", schema().err());
    let p = AccessPolicies::compile(COMPANY).unwrap();
    assert_eq!(p.len(), 4);
    assert!(AccessPolicies::compile("").unwrap().is_empty());
}

#[test]
fn decisions_follow_the_policies_and_name_the_deciding_ones() {
    let p = AccessPolicies::compile(COMPANY).unwrap();
    let payroll = resource("payroll-db", ResourceKind::Database, Sensitivity::High, Some("Finance"));
    let hr = resource("hr-portal", ResourceKind::Portal, Sensitivity::Medium, Some("People"));
    let erin = person("erin@example.com", "Finance", &["employee"]);
    let office = context(true, true, Network::Office);
    let cases = [
        (&erin, &payroll, office, true, vec!["own-department-with-mfa"]),
        (&erin, &hr, office, false, vec![]),
        (&erin, &payroll, context(false, true, Network::Office), false, vec!["high-needs-mfa-and-managed-device"]),
        (&erin, &payroll, context(true, false, Network::Office), false, vec!["high-needs-mfa-and-managed-device"]),
        (&erin, &hr, context(true, false, Network::Internet), false, vec![]),
    ];
    for (who, what, ctx, allow, policies) in cases {
        let d = decide(&p, who, Action::Access, what, &ctx);
        assert_eq!(
            (d.allow, d.policies.clone()),
            (allow, policies.iter().map(|s| (*s).to_owned()).collect()),
            "{} {} {ctx:?}: {d:?}",
            who.email,
            what.id
        );
        assert!(d.errors.is_empty(), "{d:?}");
    }
    // A remote worker on the internet does not reach a database, even their own department's.
    let remote = PersonFacts { remote: true, ..erin.clone() };
    let finance_db = resource("ledger-db", ResourceKind::Database, Sensitivity::Medium, Some("Finance"));
    let d = decide(&p, &remote, Action::Access, &finance_db, &context(true, true, Network::Internet));
    assert_eq!((d.allow, d.policies), (false, vec!["no-databases-from-the-internet-for-remote-workers".to_owned()]));
    assert!(decide(&p, &remote, Action::Access, &finance_db, &context(true, true, Network::Vpn)).allow);
    // IT consoles: the it_staff role (a parent group) and a passkey.
    let console = ResourceFacts {
        tags: vec!["it-console".into()],
        ..resource("intune", ResourceKind::App, Sensitivity::Medium, None)
    };
    let sam = PersonFacts { passkey_enrolled: true, ..person("sam@example.com", "IT", &["employee", "it_staff"]) };
    assert!(decide(&p, &sam, Action::Admin, &console, &office).allow);
    let no_passkey = PersonFacts { passkey_enrolled: false, ..sam.clone() };
    assert!(!decide(&p, &no_passkey, Action::Admin, &console, &office).allow);
    assert!(!decide(&p, &erin, Action::Admin, &console, &office).allow);
}

#[test]
fn a_suspended_person_is_denied_whatever_the_policies_say() {
    let p = AccessPolicies::compile("permit (principal, action, resource);").unwrap();
    let r = resource("wiki", ResourceKind::App, Sensitivity::Low, None);
    let erin = person("erin@example.com", "Finance", &["employee"]);
    assert!(decide(&p, &erin, Action::Access, &r, &context(false, false, Network::Internet)).allow);
    let gone = PersonFacts { active: false, ..erin };
    let d = decide(&p, &gone, Action::Access, &r, &context(true, true, Network::Office));
    assert_eq!((d.allow, d.suspended, d.policies.len()), (false, true, 0));
}

#[test]
fn bad_policies_are_refused_with_each_error_at_its_line_and_column() {
    let unparsable = "permit (principal, action, resource);\n\npermit (principal action, resource);";
    let errors = AccessPolicies::compile(unparsable).unwrap_err();
    assert!(errors.iter().all(|e| e.line == 3), "{errors:?}");
    // Parses, but names an attribute and an entity type the schema does not have.
    let invalid = "permit (principal, action, resource)\nwhen { principal.salary > 10 };\n\npermit (principal == Robot::\"r2\", action, resource);";
    let errors = AccessPolicies::compile(invalid).unwrap_err();
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert!(lines.contains(&2) && lines.contains(&4), "{errors:?}");
    assert!(errors.iter().all(|e| e.column > 0 && !e.message.is_empty()), "{errors:?}");
    let dup = "@id(\"a\")\npermit (principal, action, resource);\n@id(\"a\")\nforbid (principal, action, resource);";
    assert!(AccessPolicies::compile(dup).is_err(), "two policies with one id");
    assert_eq!(place("ab\ncd", 4), (2, 2));
}

#[test]
fn requests_and_the_directory_hold_to_the_schema() {
    let schema = schema().unwrap();
    let erin = person("erin@example.com", "Finance", &["employee", "security_admin"]);
    let r = ResourceFacts {
        tags: vec!["pii".into()],
        ..resource("payroll-db", ResourceKind::Database, Sensitivity::High, Some("Finance"))
    };
    for action in Action::ALL {
        for network in Network::ALL {
            let c = context(true, false, network);
            let checked = Request::new(
                uid(PERSON, &erin.email).unwrap(),
                action_uid(action).unwrap(),
                uid(RESOURCE, &r.id).unwrap(),
                request_context(&c).unwrap(),
                Some(&schema),
            );
            assert!(checked.is_ok(), "{action:?} {network:?}: {checked:?}");
        }
    }
    // Many people sharing departments and roles, one of them suspended, build one directory.
    let mut people: Vec<PersonFacts> =
        (0..50).map(|i| person(&format!("p{i}@example.com"), ["Finance", "IT"][i % 2], &["employee"])).collect();
    people[3].active = false;
    let d = Directory::build(people, vec![r.clone()]).unwrap();
    assert_eq!((d.people().len(), d.resources().len()), (50, 1));
    let p = AccessPolicies::compile("permit (principal in Department::\"IT\", action, resource);").unwrap();
    let ctx = context(true, true, Network::Office);
    let allowed: Vec<&str> = d
        .people()
        .iter()
        .filter(|who| p.decide(&d, who, Action::Access, &r, &ctx).allow)
        .map(|who| who.email.as_str())
        .collect();
    // 25 people in IT, one of them suspended.
    assert_eq!(allowed.len(), 24, "{allowed:?}");
    assert!(!p.decide(&d, d.person("p3@example.com").unwrap(), Action::Access, &r, &ctx).allow);
    let prepared = Prepared::new(&p, &d, d.person("p1@example.com").unwrap(), Action::Access, &r, &ctx).unwrap();
    assert!(p.is_authorized(&prepared, &d) && p.is_authorized_on_slice(&prepared, &d));
}

/// The whole set's decision, without the index.
fn unindexed(
    p: &AccessPolicies,
    d: &Directory,
    who: &PersonFacts,
    action: Action,
    what: &ResourceFacts,
    c: &RequestContextFacts,
) -> Decision {
    let request = Request::new(
        uid(PERSON, &who.email).unwrap(),
        action_uid(action).unwrap(),
        uid(RESOURCE, &what.id).unwrap(),
        request_context(c).unwrap(),
        None,
    )
    .unwrap();
    let answer = Authorizer::new().is_authorized(&request, &p.set, &d.entities);
    let mut policies: Vec<String> = answer.diagnostics().reason().map(ToString::to_string).collect();
    policies.sort();
    Decision {
        allow: answer.decision() == CedarDecision::Allow,
        policies,
        errors: answer.diagnostics().errors().map(ToString::to_string).collect(),
        suspended: false,
    }
}

#[test]
fn deciding_on_the_slice_of_the_policies_is_deciding_on_them_all() {
    // Scopes of every kind: a person, a department, a role, `is`, `is … in`, an action, a list of
    // actions, a resource; and a condition that errs (an overflow).
    let text = format!(
        "{COMPANY}\n{}",
        r#"
@id("erin-exports") permit (principal == Person::"erin@example.com", action == Action::"export", resource);
@id("finance") permit (principal in Department::"Finance", action in [Action::"access", Action::"export"], resource);
@id("people-is") permit (principal is Person, action == Action::"admin", resource == Resource::"hr-portal");
@id("it-is-in") forbid (principal is Person in Role::"it_staff", action == Action::"export", resource);
@id("wiki-only") permit (principal, action, resource == Resource::"wiki") when { context.network != "internet" };
@id("errs") forbid (principal, action, resource == Resource::"intune") when { context.time.unix * 10000000000 > 0 };
"#
    );
    let p = AccessPolicies::compile(&text).unwrap();
    let people = vec![
        person("erin@example.com", "Finance", &["employee"]),
        person("sam@example.com", "IT", &["employee", "it_staff"]),
        PersonFacts { passkey_enrolled: true, ..person("kim@example.com", "IT", &["it_staff"]) },
        person("pat@example.com", "People", &["employee", "security_admin"]),
    ];
    let resources = vec![
        resource("payroll-db", ResourceKind::Database, Sensitivity::High, Some("Finance")),
        resource("hr-portal", ResourceKind::Portal, Sensitivity::Medium, Some("People")),
        resource("wiki", ResourceKind::App, Sensitivity::Low, None),
        ResourceFacts {
            tags: vec!["it-console".into()],
            ..resource("intune", ResourceKind::App, Sensitivity::High, Some("IT"))
        },
    ];
    let d = Directory::build(people.clone(), resources.clone()).unwrap();
    let (mut compared, mut erred) = (0, 0);
    for who in d.people() {
        for what in d.resources() {
            for action in Action::ALL {
                for network in Network::ALL {
                    for (mfa, managed) in [(true, true), (true, false), (false, false)] {
                        let c = context(mfa, managed, network);
                        let mut sliced = p.decide(&d, who, action, what, &c);
                        sliced.policies.sort();
                        let whole = unindexed(&p, &d, who, action, what, &c);
                        assert_eq!(sliced, whole, "{} {action:?} {} {c:?}", who.email, what.id);
                        compared += 1;
                        erred += usize::from(!whole.errors.is_empty());
                    }
                }
            }
        }
    }
    assert_eq!(compared, 4 * 4 * 3 * 3 * 3);
    assert_eq!(erred, 4 * 3 * 3 * 3, "the overflowing policy errs on intune, for everyone");
    // The index leaves policies out: Finn's slice for the wiki holds neither Erin's nor Finance's.
    let (finn, wiki) = (person("finn@example.com", "Sales", &["employee"]), &resources[2]);
    let d = Directory::build(vec![finn.clone()], resources.clone()).unwrap();
    let prepared = Prepared::new(&p, &d, &finn, Action::Access, wiki, &context(true, true, Network::Office)).unwrap();
    let ids: Vec<String> = prepared.slice.policies().map(|p| p.id().to_string()).collect();
    assert!(
        ids.contains(&"wiki-only".to_owned()) && !ids.iter().any(|i| i == "erin-exports" || i == "finance"),
        "{ids:?}"
    );
    assert!(ids.len() < p.len(), "{ids:?}");
}

#[test]
fn a_decision_holds_for_a_minute_unless_a_policy_reads_the_second() {
    let by_minute =
        AccessPolicies::compile("permit (principal, action, resource) when { context.time.hour < 18 };").unwrap();
    let by_second =
        AccessPolicies::compile("permit (principal, action, resource) when { context.time.unix > 1800000000 };")
            .unwrap();
    let (a, b) = (datetime!(2026-12-07 10:00:00 UTC), datetime!(2026-12-07 10:00:59 UTC));
    assert_eq!(by_minute.time_slot(a), by_minute.time_slot(b));
    assert_ne!(by_minute.time_slot(b), by_minute.time_slot(datetime!(2026-12-07 10:01:00 UTC)));
    assert_ne!(by_second.time_slot(a), by_second.time_slot(a + time::Duration::seconds(1)));
}
