//! QPQ drills: simulated "IT support" contacts, sent to employees and graded on whether they followed the
//! procedure (checked the contact, reported it) or made the mistake the script fishes for.
//!
//! A security admin writes a drill (a scenario, a channel, the targets, a sending window) and launches
//! it: the targets are chosen then, each gets a link token derived from the server secret, and the sends
//! are spread across the window in a random order. Senders on any instance take due messages one by one
//! from the database ([`sender`]). The landing page ([`landing`]) records an open, a button press and a
//! submission (only how many characters were typed) and turns into a lesson after a mistake. A report of
//! the drill is recognised before it reaches correlation (in `landing`, called by `reports::file`): it joins no
//! campaign and raises no alert. Results ([`results`]) grade every target.

pub mod courier;
pub mod landing;
pub mod results;
pub mod sender;

pub use courier::{Courier, DrillDelivery, Outgoing, SendError, SmsGateway, Smtp, SmtpTls};

use crate::access::{SECURITY_ADMINS, SECURITY_READERS};
use crate::{Acting, App, AppError, Caller, FieldError};
use bonafide_auth::drill::token_hash;
use bonafide_domain::drill::{self, BUILT_IN, MAX_TARGETS, MAX_WINDOW_HOURS};
use bonafide_domain::{DrillChannel, DrillId, DrillStatus, DrillTargetId, Email, PhoneNumber, Scenario, StaffId};
use bonafide_store::{Candidate, DrillRecord, NewDrill, NewTarget};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// The company setting that makes drill results anonymous.
pub(crate) const ANONYMOUS_SETTING: &str = "drill_results_anonymous";

/// A scenario: a built-in one by id, or one written for this drill.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum ScenarioChoice {
    /// A built-in scenario's id (`slow-logins`, `mailbox-quota`, `vpn-certificate`, `mfa-reenrol`,
    /// `laptop-recall`, `software-upgrade`).
    BuiltIn(String),
    /// A scenario written for this drill.
    Custom(Scenario),
}

/// Who a drill targets; at least one of these. People in several parts are targeted once.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Everyone active in the directory.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
    /// Everyone in these departments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<String>,
    /// A random sample of this many of the people chosen above (of everyone, when nothing else is chosen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100000))]
    pub sample: Option<u32>,
    /// These people, by email (a CSV's email column).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
}

/// A drill as a security admin writes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDrillInput {
    /// Its name, for the results.
    pub name: String,
    /// What it says and who it pretends to be.
    pub scenario: ScenarioChoice,
    /// How it is sent.
    pub channel: DrillChannel,
    /// Who gets it.
    pub targets: Targets,
    /// The hours the sends are spread across; 0 (the default) sends everything at launch.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 744))]
    pub window_hours: u32,
}

/// A drill as the API and the portal show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrillView {
    /// Its id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: DrillId,
    /// Its name.
    pub name: String,
    /// The built-in scenario it uses, if any.
    pub scenario_id: Option<String>,
    /// The scenario.
    pub scenario: Scenario,
    /// How it is sent.
    pub channel: DrillChannel,
    /// Who it targets.
    pub targets: Targets,
    /// The sending window in hours.
    pub window_hours: u32,
    /// Draft, running or stopped.
    pub status: DrillStatus,
    /// Whether its window is over (a running drill whose last message is due).
    pub finished: bool,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    /// When it was launched.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub launched_at: Option<OffsetDateTime>,
    /// When its window ends.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub ends_at: Option<OffsetDateTime>,
    /// When it was stopped.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub stopped_at: Option<OffsetDateTime>,
    /// How many people it targets (0 before launch).
    pub target_count: i64,
    /// How many messages went out.
    pub sent: i64,
    /// How many failed for good.
    pub failed: i64,
}

impl DrillView {
    pub(crate) fn of(r: &DrillRecord, now: OffsetDateTime) -> Result<Self, AppError> {
        let corrupt = |what: &str| AppError::Internal(bonafide_store::StoreError::Corrupt(format!("drill {what}")));
        let scenario: Scenario = serde_json::from_str(&r.drill.scenario).map_err(|_| corrupt("scenario"))?;
        let targets: Targets = serde_json::from_str(&r.drill.targets).map_err(|_| corrupt("targets"))?;
        Ok(Self {
            id: r.drill.id,
            name: r.drill.name.clone(),
            scenario_id: r.drill.scenario_id.clone(),
            scenario,
            channel: r.drill.channel,
            targets,
            window_hours: r.drill.window_hours,
            status: r.status,
            finished: r.status == DrillStatus::Stopped || r.ends_at.is_some_and(|e| e <= now),
            created_at: r.created_at,
            launched_at: r.launched_at,
            ends_at: r.ends_at,
            stopped_at: r.stopped_at,
            target_count: r.targets,
            sent: r.sent,
            failed: r.failed,
        })
    }
}

/// The built-in scenarios: every signed-in security reader (for the drill form).
pub fn scenarios() -> Vec<(&'static str, &'static str, Scenario)> {
    BUILT_IN.iter().map(|b| (b.id, b.title, b.scenario())).collect()
}

/// The persona a report or a check is matched on: the scenario's address (for an email drill without
/// one, `smtp_from`, which its messages come from), number and staff id, normalised.
fn persona(s: &Scenario, channel: DrillChannel, app: &App) -> (Option<String>, Option<String>, Option<String>) {
    let from = (channel == DrillChannel::Email).then_some(app.settings().drills.from.as_deref()).flatten();
    let address = s.sender_address.as_deref().or(from).and_then(bonafide_store::normal_address);
    let number = s.caller_number.as_deref().map(|n| normal_number(app, n));
    let staff = s.claimed_staff_id.as_deref().map(normal_staff_id);
    (address, number, staff)
}

/// A number as drills and reports are matched on: E.164 when it reads as a number, else its digits.
pub(crate) fn normal_number(app: &App, raw: &str) -> String {
    PhoneNumber::normalize(raw, app.settings().default_region)
        .map(|n| n.as_str().to_owned())
        .unwrap_or_else(|_| raw.chars().filter(char::is_ascii_digit).collect())
}

/// A staff id as drills and reports are matched on: the parsed id, else the text upper-cased.
pub(crate) fn normal_staff_id(raw: &str) -> String {
    raw.parse::<StaffId>().map(|s| s.as_str().to_owned()).unwrap_or_else(|_| raw.trim().to_ascii_uppercase())
}

fn check_targets(t: &Targets, people: &[Candidate], errors: &mut Vec<FieldError>) {
    if !t.all && t.departments.is_empty() && t.emails.is_empty() && t.sample.is_none() {
        errors.push(FieldError::new("targets", "choose everyone, departments, a sample or a list of emails"));
    }
    if t.sample.is_some_and(|n| n == 0 || n as usize > MAX_TARGETS) {
        errors.push(FieldError::new("targets.sample", format!("1 to {MAX_TARGETS}")));
    }
    let departments: BTreeSet<&str> = people.iter().map(|p| p.department.as_str()).collect();
    let unknown: Vec<&str> =
        t.departments.iter().map(|d| d.trim()).filter(|d| !departments.contains(d)).take(5).collect();
    if !unknown.is_empty() {
        errors.push(FieldError::new("targets.departments", format!("no active people in: {}", unknown.join(", "))));
    }
    if t.emails.len() > MAX_TARGETS {
        errors.push(FieldError::new("targets.emails", format!("at most {MAX_TARGETS}")));
        return;
    }
    let known: BTreeSet<&str> = people.iter().map(|p| p.email.as_str()).collect();
    let mut bad = Vec::new();
    for e in &t.emails {
        match e.trim().to_lowercase().parse::<Email>() {
            Ok(email) if known.contains(email.as_str()) => {}
            _ => bad.push(e.trim().chars().take(254).collect::<String>()),
        }
    }
    if !bad.is_empty() {
        let more = if bad.len() > 5 { format!(" and {} more", bad.len() - 5) } else { String::new() };
        let shown: Vec<String> = bad.into_iter().take(5).collect();
        errors.push(FieldError::new(
            "targets.emails",
            format!("not active people in the directory: {}{more}", shown.join(", ")),
        ));
    }
}

/// Writes a drill as a draft: security admins. Every field is checked; the targets must name active
/// people and departments that have some.
pub async fn create(app: &App, who: &Caller, input: NewDrillInput) -> Result<DrillView, AppError> {
    app.authorize(who, SECURITY_ADMINS, "drills.create").await?;
    let mut errors = Vec::new();
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        errors.push(FieldError::new("name", "1 to 120 characters on one line"));
    }
    let (scenario_id, scenario) = match input.scenario {
        ScenarioChoice::BuiltIn(id) => match drill::builtin(id.trim()) {
            Some(b) => (Some(b.id.to_owned()), Some(b.scenario())),
            None => {
                let ids: Vec<&str> = BUILT_IN.iter().map(|b| b.id).collect();
                errors.push(FieldError::new("scenario", format!("one of {} or a scenario object", ids.join(", "))));
                (None, None)
            }
        },
        ScenarioChoice::Custom(s) => match s.validate() {
            Ok(()) => (None, Some(s)),
            Err(e) => {
                errors.push(FieldError::new(e.field, e.message));
                (None, None)
            }
        },
    };
    if input.window_hours > MAX_WINDOW_HOURS {
        errors.push(FieldError::new("window_hours", format!("0 to {MAX_WINDOW_HOURS}")));
    }
    let people = app.store().drill_candidates().await?;
    check_targets(&input.targets, &people, &mut errors);
    let Some(scenario) = scenario.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let (sender_address, caller_number, claimed_staff_id) = persona(&scenario, input.channel, app);
    let mut targets = input.targets;
    targets.departments = targets.departments.iter().map(|d| d.trim().to_owned()).collect();
    targets.emails = targets.emails.iter().map(|e| e.trim().to_lowercase()).collect();
    let new = NewDrill {
        id: DrillId::new(),
        name,
        scenario_id,
        scenario: serde_json::to_string(&scenario).unwrap_or_default(),
        channel: input.channel,
        targets: serde_json::to_string(&targets).unwrap_or_default(),
        window_hours: input.window_hours,
        sender_address,
        caller_number,
        claimed_staff_id,
        created_by: who.person.id,
    };
    let event = who.event("drill.created", new.id.to_string()).with(serde_json::json!({
        "name": new.name, "channel": new.channel.as_str(), "via": who.via.as_str(),
    }));
    let now = app.now();
    app.store().create_drill(&new, &event, now).await?;
    let record = app.store().drill(new.id).await?.ok_or(AppError::NotFound)?;
    DrillView::of(&record, now)
}

/// Every drill, newest first: security admins and auditors.
pub async fn list(app: &App, who: &Caller) -> Result<Vec<DrillView>, AppError> {
    app.authorize(who, SECURITY_READERS, "drills.list").await?;
    let now = app.now();
    app.store().drills().await?.iter().map(|d| DrillView::of(d, now)).collect()
}

/// Drill `id`: security admins and auditors.
pub async fn get(app: &App, who: &Caller, id: &str) -> Result<DrillView, AppError> {
    app.authorize(who, SECURITY_READERS, "drills.get").await?;
    DrillView::of(&record(app, id).await?, app.now())
}

pub(crate) async fn record(app: &App, id: &str) -> Result<DrillRecord, AppError> {
    let id: DrillId = id.parse().map_err(|_| AppError::NotFound)?;
    app.store().drill(id).await?.ok_or(AppError::NotFound)
}

/// Why `channel` cannot be sent on with these settings, if it cannot.
fn unavailable(app: &App, channel: DrillChannel, scenario: &Scenario) -> Option<&'static str> {
    let d = &app.settings().drills;
    if app.settings().public_url.is_none() {
        return Some("drills need public_url, so that links reach the portal");
    }
    if d.outbox.is_some() {
        return None;
    }
    match channel {
        DrillChannel::Email if d.smtp.is_none() => Some("email drills need smtp_url in the settings"),
        DrillChannel::Email if d.from.is_none() && scenario.sender_address.is_none() => {
            Some("email drills need smtp_from in the settings, or a sender_address in the scenario")
        }
        DrillChannel::Chat if d.chat_webhook_url.is_none() => {
            Some("chat drills need drill_chat_webhook_url in the settings")
        }
        DrillChannel::Sms if d.sms.is_none() => Some("SMS drills need drill_sms_url in the settings"),
        _ => None,
    }
}

/// The people `targets` names now: active, each once, in a random order (by their link tokens, which
/// nobody can predict), the sample taken from the front.
fn choose(app: &App, targets: &Targets, people: Vec<Candidate>) -> Vec<(DrillTargetId, String, Candidate)> {
    let departments: BTreeSet<&str> = targets.departments.iter().map(String::as_str).collect();
    let emails: BTreeSet<&str> = targets.emails.iter().map(String::as_str).collect();
    let everyone = targets.all || (departments.is_empty() && emails.is_empty());
    let key = app.secret().drill_key();
    let mut chosen: Vec<(DrillTargetId, String, Candidate)> = people
        .into_iter()
        .filter(|p| everyone || departments.contains(p.department.as_str()) || emails.contains(p.email.as_str()))
        .map(|p| {
            let id = DrillTargetId::new();
            (id, key.token(&id.to_string()), p)
        })
        .collect();
    chosen.sort_by(|a, b| a.1.cmp(&b.1));
    if let Some(n) = targets.sample {
        chosen.truncate(n as usize);
    }
    chosen.truncate(MAX_TARGETS);
    chosen
}

/// Launches draft `id`: security admins. The targets are chosen now; the sends are spread across the
/// window from now. Refused (422) when nobody matches or the channel is not set up.
pub async fn launch(app: &App, who: &Caller, id: &str) -> Result<DrillView, AppError> {
    app.authorize(who, SECURITY_ADMINS, "drills.launch").await?;
    let record = record(app, id).await?;
    if record.status != DrillStatus::Draft {
        return Err(AppError::Conflict(format!("this drill is {}, only a draft can be launched", record.status)));
    }
    let view = DrillView::of(&record, app.now())?;
    if let Some(why) = unavailable(app, view.channel, &view.scenario) {
        return Err(AppError::field("channel", why));
    }
    let people = app.store().drill_candidates().await?;
    let chosen = choose(app, &view.targets, people);
    if chosen.is_empty() {
        return Err(AppError::field("targets", "nobody active in the directory matches these targets now"));
    }
    if view.channel == DrillChannel::Sms && chosen.iter().all(|(_, _, p)| p.phone.is_none()) {
        return Err(AppError::field("targets", "none of these people has a mobile number in the directory"));
    }
    let now = app.now();
    let count = chosen.len();
    let targets: Vec<NewTarget> = chosen
        .into_iter()
        .enumerate()
        .map(|(i, (id, token, p))| NewTarget {
            id,
            person: p.person,
            email: p.email,
            display_name: p.display_name,
            department: p.department,
            phone: p.phone,
            token_hash: token_hash(&token),
            send_at: drill::send_at(now, view.window_hours, i, count),
        })
        .collect();
    let ends_at = now + time::Duration::hours(i64::from(view.window_hours));
    let event = who.event("drill.launched", record.drill.id.to_string()).with(serde_json::json!({
        "targets": count, "window_hours": view.window_hours, "via": who.via.as_str(),
    }));
    if !app.store().launch_drill(record.drill.id, &targets, ends_at, &event, now).await? {
        return Err(AppError::Conflict("this drill was launched meanwhile".into()));
    }
    tracing::info!(drill = %record.drill.id, targets = count, "drill launched");
    DrillView::of(&app.store().drill(record.drill.id).await?.ok_or(AppError::NotFound)?, now)
}

/// Stops running drill `id`: security admins. Messages not yet sent are cancelled; what people do with
/// those already sent is still recorded.
pub async fn stop(app: &App, who: &Caller, id: &str) -> Result<DrillView, AppError> {
    app.authorize(who, SECURITY_ADMINS, "drills.stop").await?;
    let record = record(app, id).await?;
    let event =
        who.event("drill.stopped", record.drill.id.to_string()).with(serde_json::json!({ "via": who.via.as_str() }));
    let now = app.now();
    if !app.store().stop_drill(record.drill.id, &event, now).await? {
        return Err(AppError::Conflict(format!(
            "this drill is {}, only a running drill can be stopped",
            record.status
        )));
    }
    DrillView::of(&app.store().drill(record.drill.id).await?.ok_or(AppError::NotFound)?, now)
}

/// Every target of drill `id` with their link, for the operator alone (the demo plays its targets'
/// part with them; nobody signed in may see another person's link).
pub async fn links(app: &App, by: Acting<'_>, id: &str) -> Result<Vec<(String, String)>, AppError> {
    if let Acting::Person(who) = by {
        return Err(app.refuse(who, "drills.links", "only the operator at the command line sees drill links").await);
    }
    let record = record(app, id).await?;
    let base = app.settings().public_url.as_deref().unwrap_or("").trim_end_matches('/').to_owned();
    let key = app.secret().drill_key();
    let targets = app.store().drill_targets(record.drill.id).await?;
    Ok(targets.into_iter().map(|t| (t.email, format!("{base}/d/{}", key.token(&t.id.to_string())))).collect())
}

/// Whether drill results are anonymous (the company's switch).
pub(crate) async fn anonymous(app: &App) -> Result<bool, AppError> {
    Ok(app.store().setting(ANONYMOUS_SETTING).await?.is_some_and(|v| v == "true"))
}

/// Whether drill results are anonymous: security admins and auditors.
pub async fn results_anonymous(app: &App, who: &Caller) -> Result<bool, AppError> {
    app.authorize(who, SECURITY_READERS, "drills.settings").await?;
    anonymous(app).await
}

/// Turns anonymous drill results on or off: security admins. While on, nobody sees who did what, only
/// counts of groups of at least the minimum size.
pub async fn set_results_anonymous(app: &App, who: &Caller, on: bool) -> Result<bool, AppError> {
    app.authorize(who, SECURITY_ADMINS, "drills.settings").await?;
    let event = who
        .event("settings.changed", ANONYMOUS_SETTING)
        .with(serde_json::json!({ "drill_results_anonymous": on, "via": who.via.as_str() }));
    app.store().set_settings(&[(ANONYMOUS_SETTING, if on { "true" } else { "false" })], app.now(), &event).await?;
    Ok(on)
}

/// The `X-Bonafide-Drill` header a message of drill `drill` to `recipient` carries.
pub(crate) fn header(app: &App, drill: DrillId, recipient: &str) -> String {
    app.secret().drill_key().header(&drill.to_string(), recipient)
}

/// Whether `value` is a genuine `X-Bonafide-Drill` header for `recipient`: security admins (and the
/// mail filter's token, which acts as one). The drill's id when it is.
pub async fn verify_header(app: &App, who: &Caller, value: &str, recipient: &str) -> Result<Option<DrillId>, AppError> {
    app.authorize(who, SECURITY_ADMINS, "drills.verify_header").await?;
    Ok(app.secret().drill_key().verify_header(value, recipient).and_then(|d| d.parse().ok()))
}
