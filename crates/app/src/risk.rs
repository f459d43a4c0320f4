//! QPQ risk: each person's score with its explanation and the steps that lower it, and the profiles of
//! departments and the company against their tolerance. The model is the domain's
//! (`bonafide_domain::risk`); this module gathers the facts and decides who sees what: everyone their
//! own score, security admins named people, auditors aggregates only, and no aggregate of a group
//! smaller than [`MIN_GROUP`].

use crate::access::{EVERYONE, SECURITY_ADMINS, SECURITY_READERS};
use crate::{App, AppError, Caller, FieldError};
use bonafide_domain::risk::{Factor, Level, Profile, RiskScore, RiskWeights, Tolerance, ToleranceBreach};
use bonafide_store::RiskPerson;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// Groups smaller than this show no aggregate ("fewer than 5 people"), as works councils ask.
pub const MIN_GROUP: usize = 5;

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

/// A group's profile, or nothing when it is smaller than [`MIN_GROUP`].
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
}

/// The weights and tolerance in force.
fn model() -> (RiskWeights, Tolerance) {
    (RiskWeights::default(), Tolerance::default())
}

/// How far back events are read: twice the longest full-weight period (then they weigh nothing).
fn since(weights: &RiskWeights, now: OffsetDateTime) -> OffsetDateTime {
    let longest = weights.factors.values().map(|w| w.full_days).max().unwrap_or(0);
    now - time::Duration::days(2 * i64::from(longest))
}

async fn scored(app: &App, only: Option<bonafide_domain::PersonId>) -> Result<Vec<(RiskPerson, RiskScore)>, AppError> {
    let (weights, _) = model();
    let now = app.now();
    let version = app.policy_at(now).await?.version;
    let people = app.store().risk_people(version, since(&weights, now), only).await?;
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
    let (weights, _) = model();
    let (p, s) = scored(app, Some(who.person.id)).await?.into_iter().next().ok_or(AppError::NotFound)?;
    Ok(person_risk(p, s, &weights, app.now()))
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
    let (weights, _) = model();
    let now = app.now();
    let mut out: Vec<PersonRisk> = scored(app, None)
        .await?
        .into_iter()
        .filter(|(p, s)| department.is_none_or(|d| p.department == d) && level.is_none_or(|l| s.level == l))
        .map(|(p, s)| person_risk(p, s, &weights, now))
        .collect();
    out.sort_by(|a, b| b.score.score.total_cmp(&a.score.score).then_with(|| a.email.cmp(&b.email)));
    Ok(out)
}

/// The company's profile first, then each department's: security admins and auditors.
pub async fn departments(app: &App, who: &Caller) -> Result<Vec<GroupRisk>, AppError> {
    app.authorize(who, SECURITY_READERS, "risk.departments").await?;
    let (_, tolerance) = model();
    let scored = scored(app, None).await?;
    let mut groups: BTreeMap<&str, Vec<(&RiskScore, bool)>> = BTreeMap::new();
    for (p, s) in &scored {
        groups.entry(p.department.as_str()).or_default().push((s, p.privileged));
    }
    let group = |department: Option<String>, members: Vec<(&RiskScore, bool)>| {
        let people = members.len();
        let profile = (people >= MIN_GROUP).then(|| Profile::of(members));
        let breaches = profile.as_ref().map(|p| tolerance.breaches(p)).unwrap_or_default();
        GroupRisk { department, people, profile, breaches }
    };
    let mut out = vec![group(None, scored.iter().map(|(p, s)| (s, p.privileged)).collect())];
    out.extend(groups.into_iter().map(|(d, members)| group(Some(d.to_owned()), members)));
    Ok(out)
}
