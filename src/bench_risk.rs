//! `bonafide bench risk`: the QPQ risk model at a company's size.
//!
//! - Scoring: every person of a `--people` directory (100,000 by default) scored from their facts on one
//!   core, against the baseline of reading those same facts from SQLite (the statements every score and
//!   snapshot starts from). Target: under a second for the scoring.
//! - The daily snapshot of that directory (read, score, every person's and group's row, breaches), on
//!   SQLite and, with `--postgres`, on PostgreSQL in a private schema dropped afterwards. Target: under
//!   30 s each.
//! - `GET /api/v1/risk/departments` as a security admin over loopback HTTP on a directory of
//!   `--api-people` (10,000), against `GET /healthz` in alternating rounds. Target: p99 under 50 ms.
//!
//! The directory is synthetic: eight departments, a third remote, one in twenty privileged, one in
//! fifty IT staff, and about one check per person over the last four months.

use crate::bench::{Caller, Driver, LoadArgs, Phase, import_synthetic, seeded, serve};
use anyhow::Context;
use bonafide_auth::{ApiToken, ChallengeSecret};
use bonafide_domain::risk::{Level, RiskSettings};
use bonafide_domain::{Assessment, Channel, Role, Roles, SystemClock, Verdict};
use bonafide_store::{Actor, NewCheck, Store};
use clap::Args;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Instant;
use time::{Duration, OffsetDateTime};

/// Options of `bonafide bench risk`.
#[derive(Debug, Args)]
pub struct RiskBenchArgs {
    /// People scored and snapshotted.
    #[arg(long, default_value_t = 100_000)]
    people: usize,
    /// People in the directory `GET /api/v1/risk/departments` is measured on.
    #[arg(long, default_value_t = 10_000)]
    api_people: usize,
    /// A PostgreSQL URL the benchmark may create a schema through, to time the snapshot there too
    /// (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
    #[arg(long)]
    postgres: Option<String>,
    #[command(flatten)]
    load: LoadArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Scoring {
    people: usize,
    /// Milliseconds to read every person's facts from SQLite (the baseline).
    read_facts_ms: f64,
    /// Milliseconds to score them all on one core (target < 1000 at 100,000 people).
    score_ms: f64,
    /// `score_ms / read_facts_ms`.
    score_over_read: f64,
    /// People at each level, low to critical: the synthetic company is not all one level.
    by_level: [usize; 4],
}

#[derive(Serialize)]
struct Snapshot {
    database: &'static str,
    people: usize,
    /// Milliseconds to seed the directory and its checks (not measured against a target).
    seed_ms: f64,
    /// Milliseconds to read the facts alone, the snapshot's first step.
    read_facts_ms: f64,
    /// Milliseconds for the whole daily snapshot (target < 30,000).
    snapshot_ms: f64,
    /// `snapshot_ms / read_facts_ms`.
    snapshot_over_read: f64,
}

#[derive(Serialize)]
struct Report {
    scoring: Scoring,
    snapshots: Vec<Snapshot>,
    api_people: usize,
    clients: usize,
    seconds: u64,
    healthz: Phase,
    departments: Phase,
}

/// Runs the benchmark.
pub async fn run_risk(args: RiskBenchArgs) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    let dir = tempfile::tempdir().context("creating a temporary directory")?;

    // SQLite at full size: reading, scoring, the snapshot.
    let url = format!("sqlite://{}", dir.path().join("risk.db").display());
    let store = crate::operator::open_store(&url).await?;
    let (scoring, sqlite) = measure(&store, "sqlite", args.people, now, args.json, true).await?;
    store.close().await;
    let mut snapshots = vec![sqlite];
    if let Some(admin) = &args.postgres {
        let scratch = bonafide_store::ScratchSchema::create(admin, "bonafide_bench").await?;
        let measured = async {
            let store = crate::operator::open_store(&scratch.url).await?;
            let (_, snapshot) = measure(&store, "postgresql", args.people, now, args.json, false).await?;
            store.close().await;
            anyhow::Ok(snapshot)
        }
        .await;
        scratch.drop_schema().await;
        snapshots.push(measured?);
    }

    // The departments' profiles over HTTP at `api_people`.
    let url = format!("sqlite://{}", dir.path().join("api.db").display());
    let store = crate::operator::open_store(&url).await?;
    let admin = seed(&store, args.api_people, now, args.json).await?;
    let token = ApiToken::generate();
    store.create_token(admin, token.hash().as_str(), "bench", now, &seeded("token.created")).await?;
    let (secret, _) = ChallengeSecret::generate();
    let app = bonafide_app::App::new(store.clone(), Arc::new(SystemClock), Arc::new(secret), Default::default());
    let (base, stop, server) = serve(app.clone()).await?;
    let driver = Driver {
        client: reqwest::Client::builder().pool_max_idle_per_host(args.load.clients).build()?,
        healthz: format!("{base}/healthz").parse()?,
        checks: format!("{base}/api/v1/risk/departments").parse()?,
        // No bodies: the measured endpoint is a GET.
        callers: Arc::new(vec![Caller { token: format!("Bearer {}", token.reveal()), bodies: Vec::new() }]),
        turn: Arc::new(AtomicUsize::new(0)),
        clients: args.load.clients,
    };
    let (healthz, departments) = driver.alternate(&args.load).await?;
    let (healthz, departments) = (healthz.phase("GET /healthz"), departments.phase("GET /api/v1/risk/departments"));
    let _ = stop.send(());
    let _ = server.await;
    app.close().await;

    let report = Report {
        scoring,
        snapshots,
        api_people: args.api_people,
        clients: args.load.clients,
        seconds: args.load.seconds,
        healthz,
        departments,
    };
    print(&report, args.json)?;
    if report.departments.errors > 0 || report.healthz.errors > 0 {
        anyhow::bail!("some requests failed");
    }
    Ok(())
}

/// Seeds `n` people on `store`, then times reading their facts, scoring them (when `score`) and the
/// daily snapshot.
async fn measure(
    store: &Store,
    database: &'static str,
    n: usize,
    now: OffsetDateTime,
    json: bool,
    score: bool,
) -> anyhow::Result<(Scoring, Snapshot)> {
    let started = Instant::now();
    seed(store, n, now, json).await?;
    let seed_ms = ms(started);
    let settings = RiskSettings::default();
    let longest = settings.weights.factors.values().map(|w| w.full_days).max().unwrap_or(0);
    let since = now - Duration::days(2 * i64::from(longest));

    let started = Instant::now();
    let people = store.risk_people(0, since, None).await?;
    let read_facts_ms = ms(started);
    let mut by_level = [0usize; 4];
    let mut score_ms = 0.0;
    if score {
        let started = Instant::now();
        let mut levels = Vec::with_capacity(people.len());
        for p in &people {
            levels.push(settings.weights.score(&p.facts, now).level);
        }
        score_ms = ms(started);
        for level in levels {
            let i = match level {
                Level::Low => 0,
                Level::Medium => 1,
                Level::High => 2,
                Level::Critical => 3,
            };
            if let Some(n) = by_level.get_mut(i) {
                *n += 1;
            }
        }
    }
    let scoring = Scoring {
        people: people.len(),
        read_facts_ms,
        score_ms,
        score_over_read: score_ms / read_facts_ms.max(f64::EPSILON),
        by_level,
    };
    drop(people);

    let (secret, _) = ChallengeSecret::generate();
    let app = bonafide_app::App::new(store.clone(), Arc::new(SystemClock), Arc::new(secret), Default::default());
    let started = Instant::now();
    let taken = bonafide_app::risk::snapshot(&app).await?;
    let snapshot_ms = ms(started);
    anyhow::ensure!(taken, "the day's snapshot was already taken on a fresh database");
    let snapshot = Snapshot {
        database,
        people: scoring.people,
        seed_ms,
        read_facts_ms,
        snapshot_ms,
        snapshot_over_read: snapshot_ms / read_facts_ms.max(f64::EPSILON),
    };
    Ok((scoring, snapshot))
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Adds `n` people (the first a security admin) and about one check per person, spread over the last
/// 120 days; returns the admin's id.
async fn seed(store: &Store, n: usize, now: OffsetDateTime, json: bool) -> anyhow::Result<bonafide_domain::PersonId> {
    import_synthetic(store, n, now, json, ("risk", "Risk Person"), |i, p| match i {
        0 => p.roles = Roles::new([Role::SecurityAdmin]),
        _ if i % 50 == 1 => p.roles = Roles::new([Role::ItStaff]),
        _ => {}
    })
    .await?;
    let ids = store.list_people().await?;
    let admin = ids.iter().find(|p| p.email.as_str() == "risk0@example.com").context("the admin is missing")?.id;

    // Every third person runs none, the others one to three checks; written concurrently, so the
    // store's group commit takes them as it takes real checks.
    let mut checks = Vec::new();
    for (i, p) in ids.iter().enumerate() {
        for k in 0..(i % 3 + i % 2) {
            let days = i64::try_from((i * 7 + k * 41) % 120)?;
            checks.push((p.id, now - Duration::days(days) - Duration::minutes(i64::try_from(k)?)));
        }
    }
    let bar = crate::progress::bar(Some(checks.len() as u64), "checks", json);
    let assessment = Assessment {
        verdict: Verdict::Unverified,
        reasons: Vec::new(),
        staffer: None,
        authority: None,
        breaches: Vec::new(),
    };
    for chunk in checks.chunks(256) {
        let mut set = tokio::task::JoinSet::new();
        for &(employee, at) in chunk {
            let (store, assessment) = (store.clone(), assessment.clone());
            set.spawn(async move {
                let new = NewCheck {
                    employee,
                    channel: Channel::Phone,
                    claimed_staff_id: None,
                    claimed_name: Some("Mike from IT".to_owned()),
                    caller_number: Some("+12025550199".to_owned()),
                    caller_address: None,
                    request_key: None,
                    asked_for: Default::default(),
                };
                store.create_check(&new, &assessment, 0, &Actor::system(), at).await
            });
        }
        while let Some(done) = set.join_next().await {
            done??;
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(admin)
}

fn print(r: &Report, json: bool) -> anyhow::Result<()> {
    if json {
        outln!("{}", serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    let s = &r.scoring;
    outln!("Scoring {} people on one core (levels low..critical: {:?}):", s.people, s.by_level);
    outln!("  reading their facts (SQLite)   {:>9.0} ms", s.read_facts_ms);
    outln!(
        "  scoring them                   {:>9.0} ms   {:.2}× the read (target < 1000 ms)",
        s.score_ms,
        s.score_over_read
    );
    outln!("The daily snapshot:");
    for snap in &r.snapshots {
        outln!(
            "  {:<11} {} people   {:>9.0} ms   {:.2}× reading the facts, {:.0} ms (target < 30000 ms)",
            snap.database,
            snap.people,
            snap.snapshot_ms,
            snap.snapshot_over_read,
            snap.read_facts_ms
        );
    }
    if r.snapshots.len() == 1 {
        outln!("  (PostgreSQL not measured: give --postgres URL)");
    }
    outln!(
        "Over HTTP, {} people, {} clients, {} s per endpoint, SQLite, loopback:",
        r.api_people,
        r.clients,
        r.seconds
    );
    for p in [&r.healthz, &r.departments] {
        outln!(
            "  {:<30} {:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests, {} errors)",
            p.endpoint,
            p.per_second,
            p.p50_ms,
            p.p99_ms,
            p.requests,
            p.errors
        );
    }
    outln!("  p99 target for the departments: < 50 ms");
    Ok(())
}
