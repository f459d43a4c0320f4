//! The example company's last 90 days, replayed in order through the same use cases as the portal and
//! the API, each at its own moment, with the risk snapshot of every day taken at the end of that day: the
//! contact policy published 20 days ago and acknowledged over the following days, the checks people ran,
//! and a contact someone in Finance complied with and then reported. Each day's snapshot therefore reads
//! the company as it was that evening, and the trends have the shape of what happened: most departments
//! fall under tolerance once the policy is acknowledged, IT as its staff check the calls they get, and the
//! remote sales team stays over it.

use bonafide_app::records::NewPerson;
use bonafide_app::{Acting, App, Caller, Via, checks, policy, reports, risk};
use bonafide_domain::{Ask, Channel, ManualClock};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime, Time};

/// Days of history, today included.
pub(crate) const DAYS: i64 = 90;

/// The contact policy is published this many days before today.
const POLICY_DAYS_AGO: i64 = 20;

/// The demo company's contact policy, in its own words.
const POLICY_TEXT: &str = "IT will never ask you for your password, a code from your phone or remote access to \
your computer. Anyone who does is not IT, whatever their caller id says.

IT contacts you about a request **you** opened, or in outreach that security announced. Before you act on \
what a caller asks, check them in Bonafide: choose **Someone is contacting me**.

- Password resets happen only on video or in person, where you can see who you are talking to.
- IT does not contact you by text message.
- IT calls during working hours: Monday to Friday, 08:00 to 18:00 Boston time.

When something feels wrong, hang up and call the service desk on the number in the staff directory, then \
report the contact.";

/// One thing that happened, by whom.
pub(crate) enum Step<'a> {
    /// The security admin publishes version 1 of the contact policy.
    PublishPolicy,
    /// Someone confirms they read it.
    Acknowledge(&'a NewPerson),
    /// Someone checks a caller before acting: a "vendor" with a number the directory does not know.
    Check(&'a NewPerson),
    /// Someone reports a contact they complied with.
    CompliedReport(&'a NewPerson),
    /// The risk snapshot at the end of a day.
    Snapshot,
}

/// The share of each department (in fourths) that acknowledges the policy: all of Finance, three in
/// four in Sales, half of Engineering, one in four in Operations, nobody in People; IT, security and
/// audit all do.
fn acknowledges(department: &str, nth: usize) -> bool {
    let share = match department {
        "Finance" | "IT" | "Security" | "Internal Audit" => 4,
        "Sales" => 3,
        "Engineering" => 2,
        "Operations" => 1,
        _ => 0,
    };
    nth % 4 < share
}

/// What happened over the days before today, in order. `today` is the start of today (UTC).
pub(crate) fn timeline(people: &[NewPerson], today: OffsetDateTime) -> Vec<(OffsetDateTime, Step<'_>)> {
    let day = |n: i64| today - Duration::days(n);
    let mut steps = Vec::new();
    let published = day(POLICY_DAYS_AGO) + Duration::hours(9);
    steps.push((published, Step::PublishPolicy));
    let mut in_department: BTreeMap<&str, usize> = BTreeMap::new();
    let mut hours = 2i64;
    for p in people {
        let nth = in_department.entry(p.department.as_str()).or_default();
        if acknowledges(&p.department, *nth) {
            steps.push((published + Duration::hours(hours), Step::Acknowledge(p)));
            hours += 3;
        }
        *nth += 1;
    }
    // IT staff get "vendor" calls too, and check them: three each over the quarter, so IT falls under
    // its tolerance as the checks add up.
    for (i, p) in (0i64..).zip(people.iter().filter(|p| p.staff_id.is_some())) {
        for days_ago in [70 - 4 * i, 45 - 3 * i, 25 - 2 * i] {
            steps.push((day(days_ago) + Duration::hours(10 + i), Step::Check(p)));
        }
    }
    // A few salespeople check a caller now and then; it is not enough.
    for (i, p) in (0i64..).zip(people.iter().filter(|p| p.department == "Sales").step_by(3)) {
        steps.push((day(60 - 11 * i) + Duration::hours(14), Step::Check(p)));
    }
    // Ten days ago someone in Finance read out a code to a "Microsoft technician", then reported it.
    if let Some(p) = people.iter().filter(|p| p.department == "Finance" && !p.remote).nth(1) {
        steps.push((day(10) + Duration::hours(15), Step::CompliedReport(p)));
    }
    for n in 1..DAYS {
        steps.push((day(n - 1) - Duration::minutes(5), Step::Snapshot));
    }
    steps.sort_by_key(|(at, _)| *at);
    steps
}

/// The person with `email`, acting through the command line.
pub(crate) async fn caller_by_email(app: &App, email: &str) -> anyhow::Result<Caller> {
    let person = bonafide_app::directory::principal_by_email(app, email).await?;
    Ok(Caller::new(person, "demo", Via::Cli))
}

/// Replays the days before today (`now`'s day, UTC) and takes each day's risk snapshot; the clock is
/// left at `now`. The people must already be in the directory.
pub(crate) async fn seed(
    app: &App,
    clock: &ManualClock,
    admin: &Caller,
    people: &[NewPerson],
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let today = now.to_offset(time::UtcOffset::UTC).replace_time(Time::MIDNIGHT);
    for (at, step) in timeline(people, today) {
        clock.set(at);
        match step {
            Step::PublishPolicy => publish_policy(app, admin).await?,
            Step::Acknowledge(p) => {
                policy::acknowledge(app, &caller_by_email(app, p.email.as_str()).await?, "1").await?;
            }
            Step::Check(p) => {
                let claimed = checks::Claimed {
                    channel: Channel::Phone,
                    claimed_staff_id: None,
                    claimed_name: Some("Tom from the software vendor".to_owned()),
                    caller_number: Some("+1 201 555 0188".to_owned()),
                    caller_address: None,
                    request_key: None,
                    asked_for: [Ask::RemoteAccess].into(),
                };
                checks::open(app, &caller_by_email(app, p.email.as_str()).await?, claimed).await?;
            }
            Step::CompliedReport(p) => {
                let report = reports::Report {
                    channel: Some(Channel::Phone),
                    occurred_at: Some(at - Duration::minutes(20)),
                    caller_number: Some("+1 415 555 0123".to_owned()),
                    claimed_name: Some("Microsoft technician".to_owned()),
                    asked_for: Some([Ask::MfaCode].into()),
                    complied: Some(true),
                    ..reports::Report::default()
                };
                reports::file(app, &caller_by_email(app, p.email.as_str()).await?, report, None).await?;
            }
            Step::Snapshot => {
                risk::snapshot(app).await?;
            }
        }
    }
    clock.set(now);
    Ok(())
}

/// Version 1 of the contact policy, by the security admin.
async fn publish_policy(app: &App, admin: &Caller) -> anyhow::Result<()> {
    let rules = serde_json::json!({
        "channels": ["phone", "video", "chat", "email", "in_person"],
        "categories": {"password_reset": ["video", "in_person"]},
        "contact_hours": {
            "zone": "America/New_York", "days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00",
        },
        "service_desk_number": "+12015550100",
        "ack_due_days": 14,
    });
    let draft = policy::Draft { rules, text: POLICY_TEXT.to_owned(), effective_at: None };
    policy::publish(app, Acting::Person(admin), draft).await?;
    Ok(())
}
