//! Clustering reports into campaigns, incrementally.
//!
//! Each new report looks up its own indicators in an index (the last cluster seen with each value, and
//! when); it joins every cluster one of its strong indicators was seen in within the window, and every
//! cluster where its script and another weak indicator (a name, an ask) meet. Joining several clusters
//! merges them.
//! The work is proportional to the report's own indicators, never to the number of stored reports.
//!
//! These are the rules ([`joined`], [`text_hits`], [`Thresholds::is_campaign`], [`severity`]); the one
//! correlator that applies them is the store's (`crates/store/src/correlation.rs`), over its indexed
//! tables. A second, in-memory copy of the algorithm would drift from it (one did: it called a campaign
//! "started" when a report merged a campaign into a plain cluster, the store does not), so production,
//! `bench correlate` and the scenario tests (`crates/store/tests/store/correlation.rs`) all run the store's.

use crate::indicator::IndicatorKind;
use crate::pretext;

/// When a cluster becomes a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Reports needed…
    pub min_reports: u32,
    /// …from at least this many people…
    pub min_people: u32,
    /// …within this many seconds of each other.
    pub within_secs: i64,
    /// Or: reports from at least this many departments, whenever they came.
    pub min_departments: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { min_reports: 3, min_people: 2, within_secs: 72 * 3600, min_departments: 2 }
    }
}

/// What a cluster adds up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Reports in it.
    pub reports: u32,
    /// Distinct people who reported.
    pub people: u32,
    /// Distinct departments they work in.
    pub departments: u32,
    /// Reports whose author did what was asked.
    pub complied: u32,
    /// Reports from people with privileged access.
    pub privileged: u32,
    /// Seconds between the newest report and the `min_reports`-th newest, when there are that many.
    pub burst_secs: Option<i64>,
}

impl Thresholds {
    /// Whether a cluster with `t` is a campaign.
    pub fn is_campaign(&self, t: &Tally) -> bool {
        let burst = t.reports >= self.min_reports
            && t.people >= self.min_people
            && t.burst_secs.is_some_and(|s| s <= self.within_secs);
        burst || (t.departments >= self.min_departments && t.reports >= 2)
    }
}

bonafide_domain::named_enum! {
    /// How bad a campaign is.
    pub enum Severity {
        /// Not a campaign (yet).
        Low = "low",
        /// A campaign.
        Medium = "medium",
        /// Wide (several departments or people) or aimed at privileged people.
        High = "high",
        /// Someone complied, or it reached many people.
        Critical = "critical",
    }
}

impl Severity {
    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::from_name(text)
    }
}

/// The severity of a cluster with `t`, given whether it is a campaign.
pub fn severity(t: &Tally, campaign: bool) -> Severity {
    if t.complied > 0 || t.people >= 10 {
        Severity::Critical
    } else if !campaign {
        Severity::Low
    } else if t.departments >= 3 || t.people >= 5 || t.privileged > 0 {
        Severity::High
    } else {
        Severity::Medium
    }
}

/// One sighting of one of a new report's indicators in an existing cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit<C> {
    /// The cluster it was seen in.
    pub cluster: C,
    /// What kind of indicator matched.
    pub kind: IndicatorKind,
    /// Whether it ties reports together by itself.
    pub strong: bool,
}

/// The clusters a report joins, given every hit of its indicators (within the window): every cluster a
/// strong indicator hit, and every cluster where the same script (a text fingerprint) and one more weak
/// indicator (the claimed name, or what was asked over which channel) meet. A common name and a common ask
/// without the script are not enough: "Mike from IT asked for my password" describes many unrelated calls.
pub fn joined<C: Clone + Ord>(hits: &[Hit<C>]) -> Vec<C> {
    let mut out: Vec<C> = hits.iter().filter(|h| h.strong).map(|h| h.cluster.clone()).collect();
    let mut weak: Vec<(C, IndicatorKind)> =
        hits.iter().filter(|h| !h.strong).map(|h| (h.cluster.clone(), h.kind)).collect();
    weak.sort_unstable();
    weak.dedup();
    for run in weak.chunk_by(|a, b| a.0 == b.0) {
        if let Some((cluster, _)) = run.first()
            && run.len() >= 2
            && run.iter().any(|(_, kind)| *kind == IndicatorKind::Text)
        {
            out.push(cluster.clone());
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The weak hits of one text fingerprint, given the cluster each of its sampled hashes was last seen in
/// (one entry per hash found): one hit per cluster that shares at least [`pretext::SAME_PRETEXT`] of them,
/// so a single common word pair does not make two texts the same script.
pub fn text_hits<C: Clone + Ord>(mut seen: Vec<C>) -> Vec<Hit<C>> {
    seen.sort_unstable();
    seen.chunk_by(|a, b| a == b)
        .filter(|run| run.len() >= pretext::SAME_PRETEXT)
        .filter_map(|run| run.first())
        .map(|cluster| Hit { cluster: cluster.clone(), kind: IndicatorKind::Text, strong: false })
        .collect()
}

/// Correlation settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Indicators seen further apart than this do not tie reports together.
    pub window_secs: i64,
    /// When a cluster is a campaign.
    pub campaign: Thresholds,
}

impl Default for Config {
    fn default() -> Self {
        Self { window_secs: 14 * 24 * 3600, campaign: Thresholds::default() }
    }
}
