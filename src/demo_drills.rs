//! The example company's drills: one finished two weeks ago against the sales team (a mailbox-quota
//! script by email, with every outcome present), and one running since this morning against
//! engineering (a software-upgrade script, its sends spread over three days). Each person's part is
//! played through the same use cases as the landing page, the reports and the checks.

use bonafide_app::drills::{self, DrillDelivery, NewDrillInput, ScenarioChoice, Targets};
use bonafide_app::{Acting, App, Caller, checks, reports};
use bonafide_domain::{Ask, Channel, DrillChannel, ManualClock};
use time::{Duration, OffsetDateTime};

/// Who the demo's drill emails come from (a look-alike of the company's domain, as attackers use).
pub(crate) const DRILL_FROM: &str = "it-servicedesk@example-support.com";

/// How the demo sends drill messages: written into `outbox`, never sent.
pub(crate) fn delivery(outbox: std::path::PathBuf) -> DrillDelivery {
    DrillDelivery {
        from: Some(DRILL_FROM.to_owned()),
        sends_per_minute: 100_000,
        outbox: Some(outbox),
        ..DrillDelivery::default()
    }
}

fn input(name: &str, scenario: &str, department: &str, window_hours: u32) -> NewDrillInput {
    NewDrillInput {
        name: name.to_owned(),
        scenario: ScenarioChoice::BuiltIn(scenario.to_owned()),
        channel: DrillChannel::Email,
        targets: Targets { departments: vec![department.to_owned()], ..Targets::default() },
        window_hours,
    }
}

/// Sends what is due from `from` to `to`, an hour at a time.
async fn send_through(app: &App, clock: &ManualClock, from: OffsetDateTime, to: OffsetDateTime) -> anyhow::Result<()> {
    let courier = drills::Courier::new(&app.settings().drills).map_err(anyhow::Error::msg)?;
    let mut at = from;
    while at <= to {
        clock.set(at);
        while drills::sender::send_due(app, &courier).await? > 0 {}
        at += Duration::hours(1);
    }
    clock.set(to);
    Ok(())
}

/// A target's token, from their link.
fn token(link: &str) -> &str {
    link.rsplit('/').next().unwrap_or("")
}

/// Plays both drills; the clock is left at `now`.
pub(crate) async fn seed(app: &App, clock: &ManualClock, admin: &Caller, now: OffsetDateTime) -> anyhow::Result<()> {
    // Two weeks ago: the sales team, over two days.
    let launched = now - Duration::days(15);
    clock.set(launched);
    let finished = drills::create(app, admin, input("Mailbox quota, sales team", "mailbox-quota", "Sales", 48)).await?;
    let id = finished.id.to_string();
    drills::launch(app, admin, &id).await?;
    send_through(app, clock, launched, launched + Duration::hours(48)).await?;
    let links = drills::links(app, Acting::Operator, &id).await?;
    for (i, (email, link)) in links.iter().enumerate() {
        let who = crate::demo_history::caller_by_email(app, email).await?;
        clock.set(launched + Duration::hours(50) + Duration::minutes(i64::try_from(i)? * 17));
        match i % 6 {
            // Reported: the sender's address, as the portal's report form takes it.
            0 => {
                let report = reports::Report {
                    channel: Some(Channel::Email),
                    caller_address: Some(DRILL_FROM.to_owned()),
                    claimed_name: Some("Exchange Administrator".to_owned()),
                    ..reports::Report::default()
                };
                reports::file(app, &who, report, None).await?;
            }
            // Checked the staff id the message gave, and was told it was not verified.
            1 => {
                let claimed = checks::Claimed {
                    channel: Channel::Email,
                    claimed_staff_id: Some("IT-2208".parse()?),
                    claimed_name: Some("Exchange Administrator".to_owned()),
                    caller_number: None,
                    caller_address: Some(DRILL_FROM.to_owned()),
                    request_key: None,
                    asked_for: [Ask::Password].into(),
                };
                checks::open(app, &who, claimed).await?;
            }
            // Opened it, pressed the button, and (one in two) typed a password and read the lesson.
            2 => {
                drills::landing::open(app, token(link), "demo").await?;
                drills::landing::press(app, token(link), if i % 4 == 0 { 14 } else { 0 }, "demo").await?;
                if i % 4 == 0 {
                    drills::landing::lesson_read(app, token(link), "demo").await?;
                }
            }
            // Opened it and did nothing more.
            3 => {
                drills::landing::open(app, token(link), "demo").await?;
            }
            _ => {}
        }
    }
    // This morning: engineering, over three days; the first sends are out and one was reported.
    let started = now - Duration::hours(5);
    clock.set(started);
    let running =
        drills::create(app, admin, input("Software upgrade, engineering", "software-upgrade", "Engineering", 72))
            .await?;
    let id = running.id.to_string();
    drills::launch(app, admin, &id).await?;
    send_through(app, clock, started, now - Duration::minutes(30)).await?;
    let links = drills::links(app, Acting::Operator, &id).await?;
    if let Some((email, _)) = links.first() {
        let who = crate::demo_history::caller_by_email(app, email).await?;
        let report = reports::Report {
            channel: Some(Channel::Email),
            caller_address: Some(DRILL_FROM.to_owned()),
            claimed_name: Some("Desktop Engineering".to_owned()),
            ..reports::Report::default()
        };
        reports::file(app, &who, report, None).await?;
    }
    clock.set(now);
    Ok(())
}
