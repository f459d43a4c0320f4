//! `bonafide bench correlate`: report correlation as production runs it — the store's, filing each report
//! in its own transaction into a fresh SQLite file — over synthetic reports with a realistic mix of
//! indicators: most contacts one-off, a share of them from a few thousand recurring campaigns (the same
//! number written in several national formats, look-alike domains, a retold script).
//!
//! Two passes over the same reports in the same run: normalising the indicators only (the baseline), then
//! normalising and filing one report at a time; the ratio shows what correlation and its commit add.
//! Memory is the process's resident size before and after filing.

use anyhow::Context;
use bonafide_correlate::{Company, Sighting, indicators};
use bonafide_domain::{Ask, Channel, PersonId, PhoneRegion, Roles};
use bonafide_store::{Actor, AuditEvent, CorrelationSettings, NewPerson, NewReport, Outcome, Store};
use clap::Args;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;
use time::OffsetDateTime;
use time::macros::datetime;

/// Options of `bonafide bench correlate`.
#[derive(Debug, Args)]
pub struct CorrelateBenchArgs {
    /// Reports to file. (Each is a committed transaction, so a million would take the better part of an
    /// hour.)
    #[arg(long, default_value_t = 20_000)]
    reports: usize,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Figures {
    reports: usize,
    baseline_normalise_per_s: f64,
    correlate_per_s: f64,
    ratio: f64,
    clusters: usize,
    campaigns: usize,
    indexed_values: usize,
    rss_before_mib: f64,
    rss_after_mib: f64,
    peak_rss_mib: f64,
}

/// xorshift64*: deterministic synthetic data, not randomness for anything that matters.
struct Synth(u64);

impl Synth {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(usize::try_from(self.below(items.len() as u64)).unwrap_or(0)).copied().unwrap_or("")
    }
}

struct Raw {
    channel: Channel,
    number: Option<String>,
    address: Option<String>,
    handle: Option<String>,
    name: Option<String>,
    staff_id: Option<String>,
    asks: Vec<Ask>,
    transcript: Option<String>,
    reporter: u64,
    department: &'static str,
    at: i64,
}

const NAMES: &[&str] = &[
    "Mike from IT",
    "Michael",
    "mike",
    "Dave",
    "David Moore",
    "Chris",
    "Kate from the help desk",
    "Tom",
    "Jen",
    "Bob",
    "Robert",
    "Steve",
    "Sam",
    "Alex",
    "Liz",
    "Nick",
    "Dan",
    "Tony",
    "Pat",
    "IT support",
];
const DEPARTMENTS: &[&str] = &[
    "Finance",
    "Sales",
    "Legal",
    "Engineering",
    "Marketing",
    "HR",
    "Operations",
    "Support",
    "Procurement",
    "Research",
];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "examp1e.com",
    "example-it-help.com",
    "exarnple.com",
    "contoso-mail.net",
    "it-desk-support.org",
    "example.com",
];
const SCRIPT: &[&str] = &[
    "hi", "this", "is", "the", "it", "help", "desk", "we", "noticed", "your", "mailbox", "account", "is", "about",
    "to", "be", "locked", "several", "people", "in", "your", "office", "had", "the", "same", "problem", "today", "I",
    "can", "fix", "it", "now", "if", "you", "read", "me", "the", "code", "we", "just", "sent", "to", "your", "phone",
    "or", "install", "the", "update", "from", "the", "link",
];
const ASKS: &[Ask] = &[Ask::Password, Ask::MfaCode, Ask::RemoteAccess, Ask::SoftwareInstall, Ask::LoginWalkthrough];

fn number_format(s: &mut Synth, n: u64) -> String {
    let (area, line) = (200 + (n / 9000) % 700, 1000 + n % 9000);
    match s.below(4) {
        0 => format!("({area}) 555-{line}"),
        1 => format!("+1 {area} 555 {line}"),
        2 => format!("{area}.555.{line}"),
        _ => format!("1-{area}-555-{line}"),
    }
}

fn synthesise(count: usize, seed: u64) -> Vec<Raw> {
    let mut s = Synth(seed | 1);
    let campaigns = 2_000u64;
    (0..count)
        .map(|i| {
            // A third of reports come from recurring campaigns, the rest are one-off contacts.
            let campaign = s.chance(33).then(|| s.below(campaigns));
            let id = campaign.unwrap_or_else(|| 1_000_000 + s.next() % 1_000_000_000);
            let channel = match s.below(10) {
                0..=5 => Channel::Phone,
                6 | 7 => Channel::Email,
                8 => Channel::Chat,
                _ => Channel::Sms,
            };
            let number = matches!(channel, Channel::Phone | Channel::Sms).then(|| number_format(&mut s, id));
            let address = (channel == Channel::Email).then(|| format!("it.{id}@{}", s.pick(DOMAINS)));
            let handle = (channel == Channel::Chat).then(|| format!("@helpdesk_{id}"));
            let name = s.chance(70).then(|| s.pick(NAMES).to_owned());
            // Campaigns give their own (often made-up) staff id; one-off callers sometimes borrow a real
            // staffer's.
            let staff_id = match campaign {
                Some(c) => s.chance(40).then(|| format!("IT-{:04}", 5000 + c)),
                None => s.chance(10).then(|| format!("IT-{:04}", s.below(50))),
            };
            let asks =
                (0..s.below(3)).filter_map(|_| ASKS.get(usize::try_from(s.below(5)).unwrap_or(0)).copied()).collect();
            let transcript = s.chance(20).then(|| {
                let mut words: Vec<&str> = SCRIPT.to_vec();
                // Each telling changes a few words.
                for _ in 0..4 {
                    let at = usize::try_from(s.below(words.len() as u64)).unwrap_or(0);
                    if let Some(w) = words.get_mut(at) {
                        *w = s.pick(NAMES);
                    }
                }
                if campaign.is_none() {
                    words.rotate_left(usize::try_from(s.below(40)).unwrap_or(0));
                }
                words.join(" ")
            });
            Raw {
                channel,
                number,
                address,
                handle,
                name,
                staff_id,
                asks,
                transcript,
                reporter: s.below(50_000),
                department: s.pick(DEPARTMENTS),
                at: i64::try_from(i).unwrap_or(0) * 15,
            }
        })
        .collect()
}

fn sighting(r: &Raw) -> Sighting<'_> {
    Sighting {
        channel: Some(r.channel),
        caller_number: r.number.as_deref(),
        caller_address: r.address.as_deref(),
        caller_handle: r.handle.as_deref(),
        claimed_name: r.name.as_deref(),
        claimed_staff_id: r.staff_id.as_deref(),
        asked_for: &r.asks,
        transcript: r.transcript.as_deref(),
    }
}

/// Resident and peak resident memory of this process, in MiB (Linux; 0 elsewhere).
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn known(id: &str) -> bool {
    id.ends_with('7')
}

/// When the first synthetic contact happened.
const START: OffsetDateTime = datetime!(2026-01-05 08:00 UTC);

/// Imports one person per distinct reporter of `raw` and returns their ids.
async fn reporters(store: &Store, raw: &[Raw]) -> anyhow::Result<HashMap<u64, PersonId>> {
    let mut keys: Vec<u64> = raw.iter().map(|r| r.reporter).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut people = Vec::with_capacity(keys.len());
    for k in &keys {
        let email = format!("reporter{k}@example.com").parse()?;
        people.push(NewPerson::new(email, format!("Reporter {k}").parse()?, Roles::new([])));
    }
    store.import_people(&people, START, |_| {}, |_, _| crate::bench::seeded("directory.imported")).await?;
    let mut ids = HashMap::with_capacity(keys.len());
    for (k, p) in keys.iter().zip(&people) {
        ids.insert(*k, store.person_by_email(&p.email).await?.context("imported reporter missing")?.id);
    }
    Ok(ids)
}

/// Runs `bonafide bench correlate`.
pub async fn run_correlate(args: CorrelateBenchArgs) -> anyhow::Result<()> {
    let n = args.reports.max(1);
    let raw = synthesise(n, args.seed);
    let domains = vec!["example.com".to_owned()];
    let company = Company { region: PhoneRegion::default(), domains: &domains, staff_id_known: &known };

    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("bench.db").display())).await?;
    store.migrate().await?;
    let people = reporters(&store, &raw).await?;

    let bar = crate::progress::bar(Some(2 * n as u64), "reports", args.json);
    let started = Instant::now();
    let mut count = 0usize;
    for (i, r) in raw.iter().enumerate() {
        count += indicators(&sighting(r), &company).len();
        if i % 10_000 == 0 {
            bar.set_position(i as u64);
        }
    }
    let baseline = started.elapsed().as_secs_f64();
    std::hint::black_box(count);

    let (rss_before, _) = memory_mib();
    let settings = CorrelationSettings::default();
    let audit = AuditEvent::new(&Actor::system(), "report.filed", "bench", Outcome::Ok);
    let started = Instant::now();
    for (i, r) in raw.iter().enumerate() {
        let occurred_at = START + time::Duration::seconds(r.at);
        let report = NewReport {
            reporter: *people.get(&r.reporter).context("reporter not imported")?,
            department: r.department.to_owned(),
            privileged: false,
            channel: r.channel,
            occurred_at,
            caller_number: r.number.clone(),
            caller_address: r.address.clone(),
            caller_handle: r.handle.clone(),
            claimed_name: r.name.clone(),
            claimed_staff_id: r.staff_id.clone(),
            claimed_team: None,
            asked_for: r.asks.iter().copied().collect(),
            complied: false,
            transcript: r.transcript.clone(),
            email_subject: None,
            original_email: None,
            check: None,
            indicators: indicators(&sighting(r), &company),
            analysis: None,
        };
        store.file_report(&report, &settings, &audit, occurred_at).await?;
        if i % 100 == 0 {
            bar.set_position((n + i) as u64);
        }
    }
    let full = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let (rss_after, peak) = memory_mib();
    let counts = store.correlation_counts().await?;
    store.close().await;
    let figures = Figures {
        reports: n,
        baseline_normalise_per_s: n as f64 / baseline.max(1e-9),
        correlate_per_s: n as f64 / full.max(1e-9),
        ratio: baseline / full.max(1e-9),
        clusters: usize::try_from(counts.clusters).unwrap_or(0),
        campaigns: usize::try_from(counts.campaigns).unwrap_or(0),
        indexed_values: usize::try_from(counts.indexed_values).unwrap_or(0),
        rss_before_mib: rss_before,
        rss_after_mib: rss_after,
        peak_rss_mib: peak,
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        outln!(
            "Report correlation in the store (SQLite, one transaction per report), {} synthetic reports:",
            figures.reports
        );
        outln!("  normalise only (baseline)   {:>10.0} reports/s", figures.baseline_normalise_per_s);
        outln!(
            "  normalise + file            {:>10.0} reports/s  ({:.4} of the baseline's rate)",
            figures.correlate_per_s,
            figures.ratio
        );
        outln!(
            "  clusters {}, campaigns {}, indexed values {}",
            figures.clusters,
            figures.campaigns,
            figures.indexed_values
        );
        outln!(
            "  memory: {:.0} MiB before filing, {:.0} MiB after, peak {:.0} MiB",
            figures.rss_before_mib,
            figures.rss_after_mib,
            figures.peak_rss_mib
        );
    }
    Ok(())
}
