//! QPQ risk: each person's score with its explanation and the steps that lower it, and the profiles of
//! departments and the company against their tolerance. The model is the domain's
//! (`bonafide_domain::risk`); this module gathers the facts and decides who sees what: everyone their
//! own score, security admins named people, auditors aggregates only, and no aggregate of a group
//! smaller than the settings' `min_group` (5 by default, as works councils ask). A daily snapshot keeps
//! the trend, and holds each group against its tolerance.

use crate::access::{EVERYONE, SECURITY_ADMINS, SECURITY_READERS};
use crate::{App, AppError, Caller, FieldError};
use bonafide_domain::risk::{Factor, Level, Profile, RiskScore, RiskSettings, RiskWeights, Tolerance, ToleranceBreach};
use bonafide_store::{AuditEvent, BreachChanges, BreachKey, GroupSnapshot, Outcome, PersonSnapshot, RiskPerson};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// A person's score, with the steps that lower it.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRisk {
    /// Who.
    pub email: String,
    /// Their name.
    pub display_name: String,
    /// Their department.
    pub department: String,
    /// The score and its explanation.
    pub score: RiskScore,
    /// Each step and how much it lowers the score.
    pub advice: Vec<(Factor, f64)>,
}

/// A group's profile, or nothing when it is smaller than the settings' `min_group`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRisk {
    /// The department (none: the company).
    pub department: Option<String>,
    /// People in it.
    pub people: usize,
    /// The profile, hidden for a small group.
    pub profile: Option<Profile>,
    /// How it is over its tolerance (empty for a hidden profile).
    pub breaches: BTreeSet<ToleranceBreach>,
    /// The tolerance it is held to.
    pub tolerance: Tolerance,
    /// The smallest group whose profile is shown (the settings' `min_group`): a hidden group is
    /// "fewer than" this many people.
    pub min_group: usize,
}

/// The settings in force, with their version (0: the defaults, before security writes any).
async fn in_force(app: &App) -> Result<(u32, RiskSettings), AppError> {
    match app.store().risk_settings().await? {
        None => Ok((0, RiskSettings::default())),
        Some(r) => {
            let value: serde_json::Value = serde_json::from_str(&r.settings)
                .map_err(|_| AppError::Internal(bonafide_store::StoreError::Corrupt("risk settings".into())))?;
            let s = RiskSettings::from_json(&value)
                .map_err(|_| AppError::Internal(bonafide_store::StoreError::Corrupt("risk settings".into())))?;
            Ok((r.version, s))
        }
    }
}

/// The smallest group whose aggregates are shown, under the settings in force.
pub(crate) async fn min_group(app: &App) -> Result<usize, AppError> {
    Ok(in_force(app).await?.1.min_group)
}

/// How far back events are read: twice the longest full-weight period (then they weigh nothing).
fn since(weights: &RiskWeights, now: OffsetDateTime) -> OffsetDateTime {
    let longest = weights.factors.values().map(|w| w.full_days).max().unwrap_or(0);
    now - time::Duration::days(2 * i64::from(longest))
}

async fn scored(
    app: &App,
    weights: &RiskWeights,
    only: Option<bonafide_domain::PersonId>,
) -> Result<Vec<(RiskPerson, RiskScore)>, AppError> {
    let now = app.now();
    let version = app.policy_at(now).await?.version;
    let people = app.store().risk_people(version, since(weights, now), only).await?;
    Ok(people
        .into_iter()
        .map(|p| {
            let s = weights.score(&p.facts, now);
            (p, s)
        })
        .collect())
}

fn person_risk(p: RiskPerson, score: RiskScore, weights: &RiskWeights, now: OffsetDateTime) -> PersonRisk {
    let advice = weights.advice(&p.facts, now);
    PersonRisk { email: p.email, display_name: p.display_name, department: p.department, score, advice }
}

/// The caller's own score, its explanation and advice: everyone.
pub async fn me(app: &App, who: &Caller) -> Result<PersonRisk, AppError> {
    app.authorize(who, EVERYONE, "risk.me").await?;
    let (_, settings) = in_force(app).await?;
    let weights = &settings.weights;
    let (p, s) = scored(app, weights, Some(who.person.id)).await?.into_iter().next().ok_or(AppError::NotFound)?;
    Ok(person_risk(p, s, weights, app.now()))
}

/// Named people's scores, highest first, of `department` and at `level` when given: security admins.
pub async fn people(
    app: &App,
    who: &Caller,
    department: Option<&str>,
    level: Option<&str>,
) -> Result<Vec<PersonRisk>, AppError> {
    app.authorize(who, SECURITY_ADMINS, "risk.people").await?;
    let level = match level.map(str::trim).filter(|l| !l.is_empty()) {
        None => None,
        Some(l) => Some(Level::from_name(l).ok_or_else(|| {
            AppError::Invalid(vec![FieldError::new("level", format!("one of {}", Level::NAMES.join(", ")))])
        })?),
    };
    let department = department.map(str::trim).filter(|d| !d.is_empty());
    let (_, settings) = in_force(app).await?;
    let now = app.now();
    let mut out: Vec<PersonRisk> = scored(app, &settings.weights, None)
        .await?
        .into_iter()
        .filter(|(p, s)| department.is_none_or(|d| p.department == d) && level.is_none_or(|l| s.level == l))
        .map(|(p, s)| person_risk(p, s, &settings.weights, now))
        .collect();
    out.sort_by(|a, b| b.score.score.total_cmp(&a.score.score).then_with(|| a.email.cmp(&b.email)));
    Ok(out)
}

/// The company's profile first, then each department's: security admins and auditors.
pub async fn departments(app: &App, who: &Caller) -> Result<Vec<GroupRisk>, AppError> {
    app.authorize(who, SECURITY_READERS, "risk.departments").await?;
    let (version, settings) = in_force(app).await?;
    // Every change is audited: the profiles stay right while the audit head and the settings do, within
    // the minute (scores fade with time, and a scheduled contact policy comes into force by itself).
    let key = CacheKey { audit_seq: app.store().audit_seq().await?, settings: version, minute: minute(app.now()) };
    let fresh =
        |cache: &DepartmentsCache| cache.held.read().ok()?.as_ref().filter(|(k, _)| *k == key).map(|(_, g)| g.clone());
    if let Some(held) = fresh(&app.risk_cache) {
        return Ok(held);
    }
    let _one = app.risk_cache.building.lock().await;
    if let Some(held) = fresh(&app.risk_cache) {
        return Ok(held);
    }
    let scored = scored(app, &settings.weights, None).await?;
    let computed = groups(&settings, &scored);
    if let Ok(mut held) = app.risk_cache.held.write() {
        *held = Some((key, computed.clone()));
    }
    Ok(computed)
}

/// The departments' profiles as last computed, and what they were computed from.
#[derive(Debug, Default)]
pub(crate) struct DepartmentsCache {
    held: std::sync::RwLock<Option<(CacheKey, Vec<GroupRisk>)>>,
    /// One computation at a time; the others wait for it and take its result.
    building: tokio::sync::Mutex<()>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CacheKey {
    audit_seq: i64,
    settings: u32,
    minute: i64,
}

fn minute(now: OffsetDateTime) -> i64 {
    now.unix_timestamp().div_euclid(60)
}

/// The company's group, then each department's, under `settings`.
fn groups(settings: &RiskSettings, scored: &[(RiskPerson, RiskScore)]) -> Vec<GroupRisk> {
    let mut by_department: BTreeMap<&str, Vec<(&RiskScore, bool)>> = BTreeMap::new();
    for (p, s) in scored {
        by_department.entry(p.department.as_str()).or_default().push((s, p.privileged));
    }
    let group = |department: Option<String>, members: Vec<(&RiskScore, bool)>| {
        let people = members.len();
        let profile = (people >= settings.min_group).then(|| Profile::of(members));
        let tolerance = settings.tolerance_for(department.as_deref());
        let breaches = profile.as_ref().map(|p| tolerance.breaches(p)).unwrap_or_default();
        GroupRisk { department, people, profile, breaches, tolerance, min_group: settings.min_group }
    };
    let mut out = vec![group(None, scored.iter().map(|(p, s)| (s, p.privileged)).collect())];
    out.extend(by_department.into_iter().map(|(d, members)| group(Some(d.to_owned()), members)));
    out
}

/// The risk settings in force (their JSON form) and their version: security admins.
pub async fn settings(app: &App, who: &Caller) -> Result<(u32, serde_json::Value), AppError> {
    app.authorize(who, SECURITY_ADMINS, "risk.settings").await?;
    let (version, s) = in_force(app).await?;
    Ok((version, s.to_json()))
}

/// Checks `value` as risk settings, each bad field named.
fn checked(value: &serde_json::Value) -> Result<RiskSettings, AppError> {
    RiskSettings::from_json(value)
        .map_err(|errors| AppError::Invalid(errors.into_iter().map(|e| FieldError::new(&e.field, e.message)).collect()))
}

/// Writes new risk settings as the next version (audited): security admins. Fields left out take
/// their defaults.
pub async fn put_settings(app: &App, who: &Caller, value: &serde_json::Value) -> Result<u32, AppError> {
    app.authorize(who, SECURITY_ADMINS, "risk.settings.update").await?;
    let s = checked(value)?;
    let text = s.to_json().to_string();
    let (actor, via) = (who.actor(), who.via.as_str());
    let record = app
        .store()
        .publish_risk_settings(&text, Some(who.person.id), app.now(), |n| {
            AuditEvent::new(&actor, "risk.settings_published", n.to_string(), Outcome::Ok)
                .with(serde_json::json!({ "version": n, "via": via }))
        })
        .await
        .map_err(|e| match e {
            bonafide_store::StoreError::Conflict(why) => AppError::Conflict(why),
            other => other.into(),
        })?;
    Ok(record.version)
}

/// How the groups would look under `value`, before it is saved: security admins.
pub async fn preview(app: &App, who: &Caller, value: &serde_json::Value) -> Result<Vec<GroupRisk>, AppError> {
    app.authorize(who, SECURITY_ADMINS, "risk.settings.preview").await?;
    let s = checked(value)?;
    let scored = scored(app, &s.weights, None).await?;
    Ok(groups(&s, &scored))
}

/// The day (UTC) of `at`, `YYYY-MM-DD`, as snapshots and decision counts are kept.
pub fn day_of(at: OffsetDateTime) -> String {
    let d = at.to_offset(time::UtcOffset::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Takes today's snapshot unless another instance already has (the day is claimed first): every
/// person's score and every group's profile; a tolerance breach that starts raises one alert, one that
/// ends an event. Returns whether this instance took it.
pub async fn snapshot(app: &App) -> Result<bool, AppError> {
    let now = app.now();
    let day = day_of(now);
    if !app.store().claim_risk_day(&day, now).await? {
        return Ok(false);
    }
    write_snapshot(app, &day).await?;
    Ok(true)
}

/// Writes `day`'s snapshot from the scores now (again, if it was written: it replaces that day's).
pub(crate) async fn write_snapshot(app: &App, day: &str) -> Result<(), AppError> {
    let now = app.now();
    let (_, settings) = in_force(app).await?;
    let scored = scored(app, &settings.weights, None).await?;
    let people: Vec<PersonSnapshot> = scored
        .iter()
        .map(|(p, s)| PersonSnapshot {
            person: p.id,
            department: p.department.clone(),
            score: s.score,
            level: s.level.as_str(),
        })
        .collect();
    let groups = groups(&settings, &scored);
    let rows: Vec<GroupSnapshot> = groups
        .iter()
        .filter_map(|g| {
            let p = g.profile.as_ref()?;
            let n = |i: usize| i64::try_from(p.by_level.get(i).copied().unwrap_or(0)).unwrap_or(i64::MAX);
            Some(GroupSnapshot {
                day: day.to_owned(),
                department: g.department.clone(),
                people: i64::try_from(p.people).unwrap_or(i64::MAX),
                mean: p.mean,
                by_level: [n(0), n(1), n(2), n(3)],
                high_or_above: p.high_or_above,
            })
        })
        .collect();
    let open: BTreeSet<BreachKey> = app.store().open_risk_breaches().await?.into_iter().collect();
    let now_open: BTreeSet<BreachKey> =
        groups.iter().flat_map(|g| g.breaches.iter().map(|b| (g.department.clone(), b.as_str().to_owned()))).collect();
    let mut changes = BreachChanges::default();
    let system = bonafide_store::Actor::system();
    for key in now_open.difference(&open) {
        let (department, breach) = key;
        let group = department.as_deref().unwrap_or("the company");
        let message = match breach.as_str() {
            "high_share" => format!("QPQ risk in {group} is over tolerance: too many people at high or critical"),
            _ => format!("QPQ risk in {group} is over tolerance: a privileged person is at critical"),
        };
        changes.started.push((key.clone(), message));
        changes.audit.push(
            AuditEvent::new(&system, "risk.tolerance_breached", group, Outcome::Ok)
                .with(serde_json::json!({ "department": department, "breach": breach, "day": day })),
        );
    }
    for key in open.difference(&now_open) {
        let (department, breach) = key;
        changes.ended.push(key.clone());
        changes.audit.push(
            AuditEvent::new(
                &system,
                "risk.tolerance_restored",
                department.as_deref().unwrap_or("the company"),
                Outcome::Ok,
            )
            .with(serde_json::json!({ "department": department, "breach": breach, "day": day })),
        );
    }
    app.store().write_risk_snapshot(day, &people, &rows, &changes, now).await?;
    Ok(())
}

/// How often the server looks whether today's snapshot is taken.
pub const SNAPSHOT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs [`snapshot`] every [`SNAPSHOT_INTERVAL`], the first one interval after the start, until the task
/// is dropped.
pub async fn snapshot_loop(app: App) {
    let first = tokio::time::Instant::now() + SNAPSHOT_INTERVAL;
    let mut tick = tokio::time::interval_at(first, SNAPSHOT_INTERVAL);
    loop {
        tick.tick().await;
        match snapshot(&app).await {
            Ok(true) => tracing::info!("risk snapshot taken"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "the risk snapshot failed; retrying later"),
        }
    }
}

/// The daily profiles of `department` (none: the company) over the last `days` days: security admins
/// and auditors. A group under the smallest size shown has no rows, and no day is shown on which the
/// group was smaller than the settings in force now allow (after `min_group` is raised, say).
pub async fn trend(
    app: &App,
    who: &Caller,
    department: Option<&str>,
    days: u16,
) -> Result<Vec<GroupSnapshot>, AppError> {
    app.authorize(who, SECURITY_READERS, "risk.trend").await?;
    if !(1..=366).contains(&days) {
        return Err(AppError::field("days", "1 to 366"));
    }
    let since = day_of(app.now() - time::Duration::days(i64::from(days) - 1));
    let department = department.map(str::trim).filter(|d| !d.is_empty());
    let (_, settings) = in_force(app).await?;
    let smallest = i64::try_from(settings.min_group).unwrap_or(i64::MAX);
    let mut rows = app.store().risk_trend(department, &since).await?;
    rows.retain(|r| r.people >= smallest);
    Ok(rows)
}
