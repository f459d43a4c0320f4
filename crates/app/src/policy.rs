//! The company's contact policy: versions written by security, read by everyone, acknowledged by each
//! person, enforced at every check (by the version in force when the check is judged), and the
//! reminders for those who have not acknowledged it in time.
//!
//! Versions never change once written, so each is parsed once and kept by its number: a check reads
//! which version is in force in the statement that reads its facts, and the rules come from memory.

use crate::access::{EVERYONE, SECURITY_ADMINS, SECURITY_READERS};
use crate::{Acting, App, AppError, Caller, FieldError};
use bonafide_domain::ContactPolicy;
use bonafide_store::{DepartmentAcknowledgements, NewPolicyVersion, PolicyRecord, RemindersSent, Unacknowledged};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// The longest company text a version may have, in characters.
pub const MAX_TEXT: usize = 20_000;

/// How far in the past a new version's `effective_at` may be (clocks differ a little).
const BACKDATE_TOLERANCE: Duration = Duration::minutes(1);

/// How many people still missing an acknowledgement a report lists.
pub const MISSING_LISTED: i64 = 1_000;

/// One version of the contact policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    /// Its number; 0 is the built-in default, in force until security writes version 1.
    pub version: u32,
    /// When it takes (or took) effect.
    pub effective_at: OffsetDateTime,
    /// The rules.
    pub rules: ContactPolicy,
    /// The company's own text (a small Markdown subset).
    pub text: String,
    /// When it was written.
    pub created_at: OffsetDateTime,
}

impl PolicyVersion {
    /// The built-in default: every channel, any time, a login walkthrough or software install only face
    /// to face.
    pub fn builtin() -> PolicyVersion {
        PolicyVersion {
            version: 0,
            effective_at: OffsetDateTime::UNIX_EPOCH,
            rules: ContactPolicy::default(),
            text: String::new(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    /// When acknowledgements of it are due.
    pub fn due_at(&self) -> OffsetDateTime {
        self.effective_at + Duration::days(i64::from(self.rules.ack_due_days))
    }

    fn from_record(app: &App, r: PolicyRecord) -> Result<PolicyVersion, AppError> {
        let json: serde_json::Value = serde_json::from_str(&r.rules)
            .map_err(|e| AppError::Internal(bonafide_store::StoreError::Corrupt(format!("policy rules: {e}"))))?;
        let rules = ContactPolicy::from_json(&json, app.settings().default_region).map_err(|e| {
            let fields: Vec<String> = e.iter().map(ToString::to_string).collect();
            AppError::Internal(bonafide_store::StoreError::Corrupt(format!("policy rules: {}", fields.join("; "))))
        })?;
        Ok(PolicyVersion {
            version: r.version,
            effective_at: r.effective_at,
            rules,
            text: r.text,
            created_at: r.created_at,
        })
    }
}

impl App {
    /// Version `number` of the policy (0: the built-in default), from memory when it was read before.
    pub(crate) async fn policy_numbered(&self, number: u32) -> Result<Option<Arc<PolicyVersion>>, AppError> {
        if number == 0 {
            return Ok(Some(self.policies.builtin.clone()));
        }
        if let Some(v) = self.policies.read(number) {
            return Ok(Some(v));
        }
        let Some(record) = self.store().policy_version(number).await? else { return Ok(None) };
        Ok(Some(self.policies.keep(PolicyVersion::from_record(self, record)?)))
    }

    /// The version in force at `at`.
    pub(crate) async fn policy_at(&self, at: OffsetDateTime) -> Result<Arc<PolicyVersion>, AppError> {
        match self.store().policy_in_force(at).await? {
            None => Ok(self.policies.builtin.clone()),
            Some(r) => match self.policies.read(r.version) {
                Some(v) => Ok(v),
                None => Ok(self.policies.keep(PolicyVersion::from_record(self, r)?)),
            },
        }
    }
}

/// The versions read so far, by number.
#[derive(Debug)]
pub(crate) struct PolicyCache {
    builtin: Arc<PolicyVersion>,
    versions: std::sync::RwLock<std::collections::HashMap<u32, Arc<PolicyVersion>>>,
}

impl Default for PolicyCache {
    fn default() -> Self {
        Self { builtin: Arc::new(PolicyVersion::builtin()), versions: Default::default() }
    }
}

impl PolicyCache {
    fn read(&self, number: u32) -> Option<Arc<PolicyVersion>> {
        self.versions.read().ok()?.get(&number).cloned()
    }

    fn keep(&self, version: PolicyVersion) -> Arc<PolicyVersion> {
        let version = Arc::new(version);
        if let Ok(mut all) = self.versions.write() {
            all.insert(version.version, version.clone());
        }
        version
    }
}

/// The version in force for one person.
#[derive(Debug, Clone)]
pub struct ForPerson {
    /// The version.
    pub policy: Arc<PolicyVersion>,
    /// When they acknowledged it, if they did.
    pub acknowledged_at: Option<OffsetDateTime>,
    /// Whether acknowledging it is past due.
    pub overdue: bool,
}

impl ForPerson {
    /// Whether the person still has to acknowledge the version in force (never for the built-in one).
    pub fn needs_acknowledgement(&self) -> bool {
        self.policy.version > 0 && self.acknowledged_at.is_none()
    }
}

/// The version in force now, with whether the caller acknowledged it (every signed-in person).
pub async fn current(app: &App, who: &Caller) -> Result<ForPerson, AppError> {
    app.authorize(who, EVERYONE, "policy.get").await?;
    let now = app.now();
    let policy = app.policy_at(now).await?;
    let acknowledged_at = if policy.version == 0 {
        None
    } else {
        app.store().policy_acknowledged_at(policy.version, who.person.id).await?
    };
    let overdue = policy.version > 0 && acknowledged_at.is_none() && now >= policy.due_at();
    Ok(ForPerson { policy, acknowledged_at, overdue })
}

/// Every version written, newest first (every signed-in person).
pub async fn versions(app: &App, who: &Caller) -> Result<Vec<Arc<PolicyVersion>>, AppError> {
    app.authorize(who, EVERYONE, "policy.versions").await?;
    let mut out = Vec::new();
    for record in app.store().policy_versions().await? {
        out.push(match app.policies.read(record.version) {
            Some(v) => v,
            None => app.policies.keep(PolicyVersion::from_record(app, record)?),
        });
    }
    Ok(out)
}

/// Version `number`, as typed in a path (every signed-in person).
pub async fn version(app: &App, who: &Caller, number: &str) -> Result<Arc<PolicyVersion>, AppError> {
    app.authorize(who, EVERYONE, "policy.version").await?;
    let number = parse_number(number).ok_or(AppError::NotFound)?;
    app.policy_numbered(number).await?.ok_or(AppError::NotFound)
}

fn parse_number(text: &str) -> Option<u32> {
    text.trim().parse::<u32>().ok().filter(|n| *n > 0)
}

/// A new version as security writes it.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The rules' JSON form.
    pub rules: serde_json::Value,
    /// The company's text.
    pub text: String,
    /// When it takes effect; now when absent.
    pub effective_at: Option<OffsetDateTime>,
}

/// Checks a draft as [`publish`] would, naming each bad field, without writing anything (the editor's
/// preview). Returns the version it would be.
pub fn preview(app: &App, draft: &Draft, latest: Option<&PolicyVersion>) -> Result<PolicyVersion, AppError> {
    let now = app.now();
    let mut errors: Vec<FieldError> = Vec::new();
    let rules = match ContactPolicy::from_json(&draft.rules, app.settings().default_region) {
        Ok(r) => Some(r),
        Err(e) => {
            errors.extend(e.into_iter().map(|e| FieldError::new(&e.field, e.message)));
            None
        }
    };
    let text = draft.text.replace("\r\n", "\n");
    if text.chars().count() > MAX_TEXT {
        errors.push(FieldError::new("text", format!("at most {MAX_TEXT} characters")));
    }
    if let Some((line, _)) = text.lines().enumerate().find(|(_, l)| l.chars().any(|c| c.is_control() && c != '\t')) {
        errors.push(FieldError::new("text", format!("line {}: a control character", line + 1)));
    }
    let effective_at = draft.effective_at.unwrap_or(now);
    if effective_at < now - BACKDATE_TOLERANCE {
        errors.push(FieldError::new("effective_at", "a new version cannot take effect in the past"));
    } else if let Some(latest) = latest
        && effective_at < latest.effective_at
    {
        let when = latest.effective_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        errors.push(FieldError::new(
            "effective_at",
            format!("version {} takes effect at {when}; a later version cannot take effect before it", latest.version),
        ));
    }
    match rules {
        Some(rules) if errors.is_empty() => Ok(PolicyVersion {
            version: latest.map_or(1, |l| l.version + 1),
            effective_at,
            rules,
            text,
            created_at: now,
        }),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// The newest version written, whether or not it is in force yet.
pub async fn latest(app: &App, who: &Caller) -> Result<Option<Arc<PolicyVersion>>, AppError> {
    app.authorize(who, EVERYONE, "policy.versions").await?;
    latest_written(app).await
}

async fn latest_written(app: &App) -> Result<Option<Arc<PolicyVersion>>, AppError> {
    match app.store().newest_policy().await? {
        None => Ok(None),
        Some(r) => app.policy_numbered(r.version).await,
    }
}

/// Writes a new version (security admins, or the operator from the command line), audited as
/// `policy.published` and announced as a `policy.published` event.
pub async fn publish(app: &App, by: Acting<'_>, draft: Draft) -> Result<Arc<PolicyVersion>, AppError> {
    if let Acting::Person(who) = by {
        app.authorize(who, SECURITY_ADMINS, "policy.publish").await?;
    }
    let latest = latest_written(app).await?;
    let version = preview(app, &draft, latest.as_deref())?;
    let rules = version.rules.to_json().to_string();
    let created_by = match by {
        Acting::Person(who) => Some(who.person.id),
        Acting::Operator => None,
    };
    let new = NewPolicyVersion { rules: &rules, text: &version.text, effective_at: version.effective_at, created_by };
    let actor = by.actor();
    let via = by.via();
    let record = app
        .store()
        .publish_policy(new, app.now(), |n| {
            bonafide_store::AuditEvent::new(&actor, "policy.published", n.to_string(), bonafide_store::Outcome::Ok)
                .with(serde_json::json!({
                    "version": n, "effective_at": version.effective_at.unix_timestamp(), "via": via.as_str(),
                }))
        })
        .await
        .map_err(|e| match e {
            bonafide_store::StoreError::Conflict(why) => AppError::Conflict(why),
            other => other.into(),
        })?;
    tracing::info!(version = record.version, "contact policy published");
    Ok(app.policies.keep(PolicyVersion { version: record.version, created_at: record.created_at, ..version }))
}

/// Records that the caller read version `number` (every signed-in person): the version and when they
/// first did. Idempotent; a version that a later one has replaced is a conflict (they are asked to read
/// the one in force).
pub async fn acknowledge(app: &App, who: &Caller, number: &str) -> Result<(u32, OffsetDateTime), AppError> {
    app.authorize(who, EVERYONE, "policy.acknowledge").await?;
    let number = parse_number(number).ok_or(AppError::NotFound)?;
    let version = app.policy_numbered(number).await?.ok_or(AppError::NotFound)?;
    let now = app.now();
    let in_force = app.policy_at(now).await?;
    if version.version < in_force.version {
        return Err(AppError::Conflict(format!(
            "version {} was replaced by version {}; read and acknowledge that one",
            version.version, in_force.version
        )));
    }
    let audit = who
        .event("policy.acknowledged", version.version.to_string())
        .with(serde_json::json!({ "version": version.version, "via": who.via.as_str() }));
    Ok((version.version, app.store().acknowledge_policy(version.version, who.person.id, now, &audit).await?))
}

/// One department's acknowledgements of a version.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentRate {
    /// The department (empty when people have none).
    pub department: String,
    /// Active people in it.
    pub people: i64,
    /// How many acknowledged.
    pub acknowledged: i64,
    /// `acknowledged / people`, 0 to 1.
    pub rate: f64,
}

/// Someone who has not acknowledged a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// Who.
    pub person: Unacknowledged,
    /// Whether the version's due date has passed.
    pub overdue: bool,
}

/// Who acknowledged a version, by department, and who has not.
#[derive(Debug, Clone)]
pub struct Acknowledgements {
    /// The version.
    pub policy: Arc<PolicyVersion>,
    /// Per department.
    pub departments: Vec<DepartmentRate>,
    /// Active people.
    pub people: i64,
    /// How many acknowledged.
    pub acknowledged: i64,
    /// The company's rate, 0 to 1.
    pub rate: f64,
    /// The people who have not, by department and email (at most [`MISSING_LISTED`]).
    pub missing: Vec<Missing>,
}

/// Acknowledgements of version `number` (the one in force when absent): security admins and auditors.
pub async fn acknowledgements(app: &App, who: &Caller, number: Option<&str>) -> Result<Acknowledgements, AppError> {
    app.authorize(who, SECURITY_READERS, "policy.acknowledgements").await?;
    let now = app.now();
    let policy = match number {
        Some(n) => {
            let n = parse_number(n).ok_or_else(|| AppError::field("version", "a version number, 1 or more"))?;
            app.policy_numbered(n).await?.ok_or(AppError::NotFound)?
        }
        None => app.policy_at(now).await?,
    };
    if policy.version == 0 {
        return Err(AppError::Conflict("no policy version has been published yet".into()));
    }
    let totals = app.store().policy_acknowledgements(policy.version).await?;
    let rate = |a: i64, p: i64| if p == 0 { 0.0 } else { a as f64 / p as f64 };
    let departments: Vec<DepartmentRate> = totals
        .into_iter()
        .map(|DepartmentAcknowledgements { department, people, acknowledged }| DepartmentRate {
            rate: rate(acknowledged, people),
            department,
            people,
            acknowledged,
        })
        .collect();
    let people: i64 = departments.iter().map(|d| d.people).sum();
    let acknowledged: i64 = departments.iter().map(|d| d.acknowledged).sum();
    let overdue = now >= policy.due_at();
    let missing = app
        .store()
        .unacknowledged(policy.version, MISSING_LISTED)
        .await?
        .into_iter()
        .map(|person| Missing { person, overdue })
        .collect();
    Ok(Acknowledgements { rate: rate(acknowledged, people), policy, departments, people, acknowledged, missing })
}

/// Sends the reminders the version in force owes, once it is past due: an event per person missing,
/// and one alert for security. Nothing is sent twice (the store's keys decide, across instances).
pub async fn send_reminders(app: &App) -> Result<Option<RemindersSent>, AppError> {
    let now = app.now();
    let policy = app.policy_at(now).await?;
    if policy.version == 0 || now < policy.due_at() {
        return Ok(None);
    }
    let version = policy.version;
    let sent = app
        .store()
        .send_policy_reminders(version, now, |count| {
            format!("{count} people have not acknowledged contact policy version {version}, due {}", policy.due_at())
        })
        .await?;
    if sent.people > 0 || sent.alerted {
        tracing::info!(version, people = sent.people, alerted = sent.alerted, "policy reminders sent");
    }
    Ok(Some(sent))
}

/// How often the server looks for reminders to send.
pub const REMINDER_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs [`send_reminders`] every [`REMINDER_INTERVAL`] until the task is dropped.
pub async fn reminder_loop(app: App) {
    let mut tick = tokio::time::interval(REMINDER_INTERVAL);
    loop {
        tick.tick().await;
        if let Err(e) = send_reminders(&app).await {
            tracing::warn!(error = %e, "policy reminders failed; retrying later");
        }
    }
}

/// The version in force now and the newest written (a later one may be scheduled), for the operator at
/// the command line.
pub async fn in_force_and_newest(app: &App) -> Result<(Arc<PolicyVersion>, Option<Arc<PolicyVersion>>), AppError> {
    Ok((app.policy_at(app.now()).await?, latest_written(app).await?))
}
