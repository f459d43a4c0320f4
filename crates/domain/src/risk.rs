//! QPQ risk: a person's score from the facts Bonafide holds, each factor with a transparent weight, and
//! the profile of a department or the company held against the tolerance security states.
//!
//! The score is `base + Σ contributions`, clamped to 0–100. A flag (remote, a passkey…) contributes its
//! weight when it holds. An event (a report filed, a contact complied with…) counts 1 while it is at most
//! `full_days` old, then fades linearly to 0 over as many days again; a factor's events count up to its
//! `cap`, and contribute `weight × count`. Protection and good behaviour have negative weights. The same
//! facts and moment always give the same score. Pure: the facts and the moment come in.

use std::collections::BTreeMap;
use time::OffsetDateTime;

mod settings;
mod tolerance;

pub use settings::RiskSettings;
pub use tolerance::{Profile, Tolerance, ToleranceBreach, Transition, transitions};

crate::named_enum! {
    /// One factor of a person's risk.
    pub enum Factor {
        /// Works remotely (exposure).
        Remote = "remote",
        /// Holds privileged access (exposure).
        Privileged = "privileged",
        /// IT staff, the persona impersonated most (exposure).
        ItStaff = "it_staff",
        /// A report by them or their department in an active campaign's cluster (exposure; events).
        TargetedByCampaign = "targeted_by_campaign",
        /// Their number or address among an active campaign's indicators (exposure; events).
        InCampaignIndicators = "in_campaign_indicators",
        /// An authenticator app enrolled (protection).
        Authenticator = "authenticator",
        /// A passkey enrolled (protection).
        Passkey = "passkey",
        /// The contact policy in force acknowledged (protection).
        PolicyAcknowledged = "policy_acknowledged",
        /// Checks run before acting on a contact (behaviour, good; events).
        ChecksRun = "checks_run",
        /// Reports filed (behaviour, good; events).
        ReportsFiled = "reports_filed",
        /// Complied in a real contact they reported (behaviour, bad; events).
        Complied = "complied",
        /// Went on after a check was locked by wrong codes (behaviour, bad; events).
        IgnoredLockedCheck = "ignored_locked_check",
        /// Clicked or complied in a drill (behaviour, bad; events).
        DrillFailed = "drill_failed",
    }
}

impl Factor {
    /// Whether the factor is a flag (else it counts events).
    pub fn is_flag(self) -> bool {
        matches!(
            self,
            Factor::Remote
                | Factor::Privileged
                | Factor::ItStaff
                | Factor::Authenticator
                | Factor::Passkey
                | Factor::PolicyAcknowledged
        )
    }

    /// The step that brings this factor on, for advice (only the factors that lower the risk).
    pub fn step(self) -> Option<&'static str> {
        match self {
            Factor::Authenticator => Some("enrol an authenticator app"),
            Factor::Passkey => Some("add a passkey"),
            Factor::PolicyAcknowledged => Some("read and confirm the contact policy"),
            Factor::ChecksRun => Some("check the next IT contact in Bonafide before acting on it"),
            Factor::ReportsFiled => Some("report a suspicious contact"),
            _ => None,
        }
    }

    /// The factor in everyday words.
    pub fn in_words(self) -> &'static str {
        match self {
            Factor::Remote => "works remotely",
            Factor::Privileged => "holds privileged access",
            Factor::ItStaff => "is IT staff, whom fraudsters impersonate most",
            Factor::TargetedByCampaign => "targeted by an active campaign",
            Factor::InCampaignIndicators => "their number or address is in a campaign's indicators",
            Factor::Authenticator => "authenticator app enrolled",
            Factor::Passkey => "passkey enrolled",
            Factor::PolicyAcknowledged => "contact policy acknowledged",
            Factor::ChecksRun => "checked contacts before acting",
            Factor::ReportsFiled => "reported contacts",
            Factor::Complied => "complied with a fraudulent contact",
            Factor::IgnoredLockedCheck => "went on after a locked check",
            Factor::DrillFailed => "failed a drill",
        }
    }
}

/// One factor's weight, and for event factors their cap and decay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weight {
    /// Points per unit: a flag's, or one fresh event's. Negative lowers the risk.
    pub points: f64,
    /// Most events counted.
    pub cap: f64,
    /// Days an event counts fully, before fading over as many days again.
    pub full_days: u32,
}

/// How much each factor weighs, and the base every score starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskWeights {
    /// Where every score starts.
    pub base: f64,
    /// By factor; a factor absent weighs nothing.
    pub factors: BTreeMap<Factor, Weight>,
}

impl Default for RiskWeights {
    fn default() -> Self {
        let flag = |points| Weight { points, cap: 1.0, full_days: 0 };
        let events = |points, cap, full_days| Weight { points, cap, full_days };
        let factors = BTreeMap::from([
            (Factor::Remote, flag(10.0)),
            (Factor::Privileged, flag(15.0)),
            (Factor::ItStaff, flag(10.0)),
            (Factor::TargetedByCampaign, events(15.0, 1.0, 30)),
            (Factor::InCampaignIndicators, events(20.0, 1.0, 30)),
            (Factor::Authenticator, flag(-10.0)),
            (Factor::Passkey, flag(-10.0)),
            (Factor::PolicyAcknowledged, flag(-5.0)),
            (Factor::ChecksRun, events(-4.0, 3.0, 90)),
            (Factor::ReportsFiled, events(-4.0, 3.0, 90)),
            (Factor::Complied, events(25.0, 2.0, 90)),
            (Factor::IgnoredLockedCheck, events(15.0, 2.0, 90)),
            (Factor::DrillFailed, events(10.0, 3.0, 90)),
        ]);
        Self { base: 40.0, factors }
    }
}

crate::named_enum! {
    /// Where a score falls.
    pub enum Level {
        /// Below 25.
        Low = "low",
        /// 25 to below 50.
        Medium = "medium",
        /// 50 to below 75.
        High = "high",
        /// 75 and above.
        Critical = "critical",
    }
}

impl Level {
    /// The level of `score`.
    pub fn of(score: f64) -> Level {
        if score >= 75.0 {
            Level::Critical
        } else if score >= 50.0 {
            Level::High
        } else if score >= 25.0 {
            Level::Medium
        } else {
            Level::Low
        }
    }
}

/// What is known of one person, for their risk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RiskFacts {
    /// The flags that hold.
    pub flags: Vec<Factor>,
    /// Each event factor's events, by when they happened.
    pub events: BTreeMap<Factor, Vec<OffsetDateTime>>,
}

/// One factor's part in a score.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// The factor.
    pub factor: Factor,
    /// 1 for a flag that holds; the decayed count of events, capped.
    pub value: f64,
    /// `value × points`.
    pub points: f64,
}

/// A score with its level and explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskScore {
    /// 0–100, rounded to one decimal.
    pub score: f64,
    /// Its level.
    pub level: Level,
    /// The base it started from.
    pub base: f64,
    /// Every factor that contributed, largest effect first.
    pub contributions: Vec<Contribution>,
}

/// How much an event `age_days` old still counts: 1 up to `full_days`, then fading to 0 over as many.
pub fn decayed(age_days: f64, full_days: u32) -> f64 {
    let full = f64::from(full_days);
    if age_days < 0.0 || age_days <= full {
        1.0
    } else if full == 0.0 || age_days >= 2.0 * full {
        0.0
    } else {
        1.0 - (age_days - full) / full
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl RiskWeights {
    /// The score of `facts` at `now`.
    pub fn score(&self, facts: &RiskFacts, now: OffsetDateTime) -> RiskScore {
        let mut contributions = Vec::new();
        for (&factor, w) in &self.factors {
            let value = if factor.is_flag() {
                if facts.flags.contains(&factor) { 1.0 } else { 0.0 }
            } else {
                let events = facts.events.get(&factor).map(Vec::as_slice).unwrap_or_default();
                // An event after `now` has not happened yet (a score as of a past day).
                let count: f64 = events
                    .iter()
                    .filter(|at| **at <= now)
                    .map(|at| decayed((now - *at).as_seconds_f64() / 86_400.0, w.full_days))
                    .sum();
                count.min(w.cap)
            };
            if value > 0.0 && w.points != 0.0 {
                contributions.push(Contribution {
                    factor,
                    value: round1(value * 100.0) / 100.0,
                    points: round1(value * w.points),
                });
            }
        }
        contributions.sort_by(|a, b| b.points.abs().total_cmp(&a.points.abs()).then(a.factor.cmp(&b.factor)));
        let total = self.base + contributions.iter().map(|c| c.points).sum::<f64>();
        let score = round1(total.clamp(0.0, 100.0));
        RiskScore { score, level: Level::of(score), base: self.base, contributions }
    }

    /// The steps that would lower `facts`' score, each with its effect: a protection not held, and
    /// running checks and reporting while their count is below its cap.
    pub fn advice(&self, facts: &RiskFacts, now: OffsetDateTime) -> Vec<(Factor, f64)> {
        let current = self.score(facts, now);
        let mut out = Vec::new();
        for (&factor, w) in self.factors.iter().filter(|(_, w)| w.points < 0.0) {
            let mut better = facts.clone();
            if factor.is_flag() {
                if facts.flags.contains(&factor) {
                    continue;
                }
                better.flags.push(factor);
            } else {
                better.events.entry(factor).or_default().push(now);
            }
            let gain = round1(self.score(&better, now).score - current.score);
            if gain < 0.0 && w.points < 0.0 {
                out.push((factor, gain));
            }
        }
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod tests;
