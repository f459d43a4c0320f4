//! A group's profile (a department's or the company's) and the tolerance security states for it.

use super::{Level, RiskScore};
use std::collections::BTreeSet;

/// The distribution of a group's scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// People scored.
    pub people: usize,
    /// How many at each level, in [`Level::ALL`] order.
    pub by_level: [usize; 4],
    /// The mean score, rounded to one decimal (0 for nobody).
    pub mean: f64,
    /// The share at high or critical, 0–1.
    pub high_or_above: f64,
    /// Privileged people at critical.
    pub privileged_critical: usize,
}

impl Profile {
    /// The profile of `scores`, each with whether the person is privileged.
    pub fn of<'a>(scores: impl IntoIterator<Item = (&'a RiskScore, bool)>) -> Profile {
        let (mut people, mut by_level, mut sum, mut privileged_critical) = (0usize, [0usize; 4], 0.0, 0usize);
        for (s, privileged) in scores {
            people += 1;
            sum += s.score;
            let i = Level::ALL.iter().position(|l| *l == s.level).unwrap_or(0);
            if let Some(n) = by_level.get_mut(i) {
                *n += 1;
            }
            if privileged && s.level == Level::Critical {
                privileged_critical += 1;
            }
        }
        let high = by_level.get(2).copied().unwrap_or(0) + by_level.get(3).copied().unwrap_or(0);
        let (mean, high_or_above) = if people == 0 {
            (0.0, 0.0)
        } else {
            ((sum / people as f64 * 10.0).round() / 10.0, high as f64 / people as f64)
        };
        Profile { people, by_level, mean, high_or_above, privileged_critical }
    }
}

/// What security tolerates for a group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// The largest share of people at high or critical, 0–1 (none: any).
    pub max_high_share: Option<f64>,
    /// Whether no privileged person may be at critical.
    pub no_privileged_critical: bool,
}

impl Default for Tolerance {
    fn default() -> Self {
        Self { max_high_share: Some(0.10), no_privileged_critical: true }
    }
}

/// A way a profile is over its tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ToleranceBreach {
    /// More people at high or above than tolerated.
    HighShare,
    /// A privileged person at critical.
    PrivilegedCritical,
}

impl ToleranceBreach {
    /// Its name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ToleranceBreach::HighShare => "high_share",
            ToleranceBreach::PrivilegedCritical => "privileged_critical",
        }
    }
}

impl Tolerance {
    /// How far `p`'s share at high or above is over the tolerated share, in shares (negative: under
    /// it); none when any share is tolerated. Departments are ranked by it.
    pub fn excess(&self, p: &Profile) -> Option<f64> {
        self.max_high_share.map(|max| p.high_or_above - max)
    }

    /// How `p` is over this tolerance (nothing for a group of nobody).
    pub fn breaches(&self, p: &Profile) -> BTreeSet<ToleranceBreach> {
        let mut out = BTreeSet::new();
        if p.people == 0 {
            return out;
        }
        if self.max_high_share.is_some_and(|max| p.high_or_above > max + 1e-9) {
            out.insert(ToleranceBreach::HighShare);
        }
        if self.no_privileged_critical && p.privileged_critical > 0 {
            out.insert(ToleranceBreach::PrivilegedCritical);
        }
        out
    }
}

/// A breach starting or ending between two looks at a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Over tolerance now, not before: one alert.
    Started(ToleranceBreach),
    /// Not over any more: one event.
    Ended(ToleranceBreach),
}

/// What changed from `before` to `now`: each breach that started, then each that ended.
pub fn transitions(before: &BTreeSet<ToleranceBreach>, now: &BTreeSet<ToleranceBreach>) -> Vec<Transition> {
    let started = now.difference(before).map(|b| Transition::Started(*b));
    let ended = before.difference(now).map(|b| Transition::Ended(*b));
    started.chain(ended).collect()
}
