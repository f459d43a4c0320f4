//! Clustering reports into campaigns, incrementally.
//!
//! Each new report looks up its own indicators in an index (the last cluster seen with each value, and
//! when); it joins every cluster one of its strong indicators was seen in within the window, and every
//! cluster where its script and another weak indicator (a name, an ask) meet. Joining several clusters
//! merges them.
//! The work is proportional to the report's own indicators, never to the number of stored reports.
//!
//! The rules ([`joined`], [`Thresholds::is_campaign`], [`severity`]) are shared with the database-backed
//! correlator in the store; [`Correlator`] is the in-memory one, for benchmarks and tests.

use crate::indicator::{Indicator, IndicatorKind};
use crate::pretext;
use serde::Serialize;
use std::collections::HashMap;

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

/// How bad a campaign is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Not a campaign (yet).
    Low,
    /// A campaign.
    Medium,
    /// Wide (several departments or people) or aimed at privileged people.
    High,
    /// Someone complied, or it reached many people.
    Critical,
}

impl Severity {
    /// The stored and exported name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
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

/// A report as the correlator sees it.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// Who reported (any stable key).
    pub reporter: u64,
    /// Their department.
    pub department: &'a str,
    /// When the contact happened (seconds).
    pub at: i64,
    /// Whether they did what was asked.
    pub complied: bool,
    /// Whether they hold privileged access.
    pub privileged: bool,
    /// Its normalised indicators.
    pub indicators: &'a [Indicator],
}

/// What adding a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// The cluster it is in now.
    pub cluster: u32,
    /// Clusters merged into that one.
    pub merged: Vec<u32>,
    /// Whether the cluster became a campaign with this report.
    pub campaign_started: bool,
    /// The campaign's severity, when this report raised it.
    pub escalated_to: Option<Severity>,
}

const RECENT: usize = 8;

#[derive(Debug, Clone)]
struct Cluster {
    reports: u32,
    people: Vec<u64>,
    departments: Vec<u32>,
    complied: u32,
    privileged: u32,
    /// The newest report times, newest first.
    recent: Vec<i64>,
    campaign: bool,
    severity: Severity,
}

impl Cluster {
    fn tally(&self, t: &Thresholds) -> Tally {
        let n = usize::try_from(t.min_reports.max(1)).unwrap_or(1).min(RECENT);
        Tally {
            reports: self.reports,
            people: u32::try_from(self.people.len()).unwrap_or(u32::MAX),
            departments: u32::try_from(self.departments.len()).unwrap_or(u32::MAX),
            complied: self.complied,
            privileged: self.privileged,
            burst_secs: match (self.recent.first(), self.recent.get(n - 1)) {
                (Some(newest), Some(nth)) => Some(newest - nth),
                _ => None,
            },
        }
    }

    fn absorb(&mut self, other: Cluster) {
        self.reports += other.reports;
        self.complied += other.complied;
        self.privileged += other.privileged;
        union_sorted(&mut self.people, &other.people);
        union_sorted(&mut self.departments, &other.departments);
        self.recent.extend(other.recent);
        self.recent.sort_unstable_by(|a, b| b.cmp(a));
        self.recent.truncate(RECENT);
        self.campaign |= other.campaign;
        self.severity = self.severity.max(other.severity);
    }
}

fn union_sorted<T: Ord + Copy>(into: &mut Vec<T>, other: &[T]) {
    for x in other {
        if let Err(at) = into.binary_search(x) {
            into.insert(at, *x);
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Posting {
    cluster: u32,
    seen: i64,
}

/// The in-memory correlator.
#[derive(Debug, Default)]
pub struct Correlator {
    config: Config,
    index: HashMap<(IndicatorKind, Box<str>), Posting>,
    departments: HashMap<Box<str>, u32>,
    parent: Vec<u32>,
    clusters: Vec<Option<Cluster>>,
}

impl Correlator {
    /// An empty correlator.
    pub fn new(config: Config) -> Self {
        Self { config, ..Self::default() }
    }

    fn root(&mut self, mut c: u32) -> u32 {
        let mut path = Vec::new();
        while let Some(&p) = self.parent.get(c as usize) {
            if p == c {
                break;
            }
            path.push(c);
            c = p;
        }
        for node in path {
            if let Some(slot) = self.parent.get_mut(node as usize) {
                *slot = c;
            }
        }
        c
    }

    /// Adds a report; says which cluster it joined, what merged and whether a campaign started or grew
    /// more severe.
    pub fn add(&mut self, r: &Report<'_>) -> Added {
        let window = self.config.window_secs;
        let mut hits: Vec<Hit<u32>> = Vec::with_capacity(r.indicators.len() + 2);
        for i in r.indicators {
            if i.kind == IndicatorKind::Text {
                // One weak hit per cluster sharing enough of the text's sampled word pairs.
                let mut text_hits: Vec<u32> = Vec::new();
                for key in i.index_values() {
                    if let Some(p) = self.index.get(&(IndicatorKind::Text, key.into_boxed_str()))
                        && (r.at - p.seen).abs() <= window
                    {
                        text_hits.push(self.root(p.cluster));
                    }
                }
                text_hits.sort_unstable();
                for run in text_hits.chunk_by(|a, b| a == b) {
                    if let (Some(&cluster), true) = (run.first(), run.len() >= pretext::SAME_PRETEXT) {
                        hits.push(Hit { cluster, kind: i.kind, strong: false });
                    }
                }
            } else if let Some(p) = self.index.get(&(i.kind, Box::from(i.value.as_str())))
                && (r.at - p.seen).abs() <= window
            {
                hits.push(Hit { cluster: p.cluster, kind: i.kind, strong: i.is_strong() });
            }
        }
        for h in &mut hits {
            h.cluster = self.root(h.cluster);
        }
        let mut targets = joined(&hits);
        let department = self.department(r.department);
        let own = Cluster {
            reports: 1,
            people: vec![r.reporter],
            departments: vec![department],
            complied: u32::from(r.complied),
            privileged: u32::from(r.privileged),
            recent: vec![r.at],
            campaign: false,
            severity: Severity::Low,
        };
        // The largest cluster absorbs the others and the new report.
        targets.sort_by_key(|c| {
            std::cmp::Reverse(self.clusters.get(*c as usize).and_then(Option::as_ref).map_or(0, |k| k.reports))
        });
        let (cluster, merged) = match targets.split_first() {
            Some((&first, rest)) => (first, rest.to_vec()),
            None => {
                let id = u32::try_from(self.parent.len()).unwrap_or(u32::MAX);
                self.parent.push(id);
                self.clusters.push(None);
                (id, vec![])
            }
        };
        let (was_campaign, was_severity) = self
            .clusters
            .get(cluster as usize)
            .and_then(Option::as_ref)
            .map_or((false, Severity::Low), |c| (c.campaign, c.severity));
        let mut into = self.clusters.get_mut(cluster as usize).and_then(Option::take).unwrap_or_else(|| Cluster {
            reports: 0,
            people: vec![],
            departments: vec![],
            complied: 0,
            privileged: 0,
            recent: vec![],
            campaign: false,
            severity: Severity::Low,
        });
        into.absorb(own);
        for &m in &merged {
            if let Some(other) = self.clusters.get_mut(m as usize).and_then(Option::take) {
                into.absorb(other);
            }
            if let Some(slot) = self.parent.get_mut(m as usize) {
                *slot = cluster;
            }
        }
        let tally = into.tally(&self.config.campaign);
        into.campaign |= self.config.campaign.is_campaign(&tally);
        into.severity = into.severity.max(severity(&tally, into.campaign));
        let added = Added {
            cluster,
            merged,
            campaign_started: into.campaign && !was_campaign,
            escalated_to: (into.campaign && was_campaign && into.severity > was_severity).then_some(into.severity),
        };
        if let Some(slot) = self.clusters.get_mut(cluster as usize) {
            *slot = Some(into);
        }
        for i in r.indicators {
            for key in i.index_values() {
                let posting =
                    self.index.entry((i.kind, key.into_boxed_str())).or_insert(Posting { cluster, seen: r.at });
                posting.cluster = cluster;
                posting.seen = posting.seen.max(r.at);
            }
        }
        added
    }

    fn department(&mut self, name: &str) -> u32 {
        let next = u32::try_from(self.departments.len()).unwrap_or(u32::MAX);
        *self.departments.entry(Box::from(name)).or_insert(next)
    }

    /// The cluster `c` ended up in, and its tally.
    pub fn cluster_of(&mut self, c: u32) -> (u32, Tally) {
        let root = self.root(c);
        let tally = self
            .clusters
            .get(root as usize)
            .and_then(Option::as_ref)
            .map(|k| k.tally(&self.config.campaign))
            .unwrap_or_default();
        (root, tally)
    }

    /// Whether cluster `c` (after merges) is a campaign, and how severe.
    pub fn campaign(&mut self, c: u32) -> Option<Severity> {
        let root = self.root(c);
        self.clusters.get(root as usize).and_then(Option::as_ref).filter(|k| k.campaign).map(|k| k.severity)
    }

    /// Distinct indicator values indexed, for memory reports.
    pub fn indexed(&self) -> usize {
        self.index.len()
    }
}
