//! `bonafide bench authorize`: access decisions on a directory of `--people` synthetic people, 20
//! resources and `--policies` Cedar policies, in a fresh SQLite file.
//!
//! - Over HTTP: `POST /api/v1/authorize` with a service token against `GET /healthz`, in alternating
//!   rounds, on loopback. Nine asks in ten are allowed on resources that are not `high` (counted); one
//!   in ten is audited (a deny, or an allow on a `high` resource), as in front of intranet apps.
//! - In process: Cedar's own evaluation of requests built beforehand (`Authorizer::is_authorized`, the
//!   limit), against a decision that finds the person and the resource in the directory and builds the
//!   request, and against the whole use case (generation check, lookups, counting) on the counted asks.
//! - The reverse query: every active person who can reach `payroll-db`.
//!
//! The ratios are what to compare between machines and runs.

use crate::bench::{Caller, DEPARTMENTS, Driver, LoadArgs, Phase, import_synthetic, seeded, serve};
use crate::demo;
use anyhow::Context;
use bonafide_access::{Action, Network, Prepared, RequestContextFacts, Sensitivity};
use bonafide_app::decisions::{self, Ask, Asker, Circumstances, Service};
use bonafide_app::{Acting, resources};
use bonafide_auth::ChallengeSecret;
use bonafide_domain::SystemClock;
use bonafide_store::{ResourceRecord, Store};
use clap::Args;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

/// Options of `bonafide bench authorize`.
#[derive(Debug, Args)]
pub struct AuthorizeBenchArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// Synthetic people in the directory (besides the demo company's).
    #[arg(long, default_value_t = 10_000)]
    people: usize,
    /// Access policies in force (the demo's four and generated ones).
    #[arg(long, default_value_t = 50)]
    policies: usize,
    /// Of every ten asks over HTTP, how many are audited (a deny or an allow on a `high` resource); the
    /// rest are allows that are counted.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=10))]
    audited_per_ten: u8,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

const CITIES: [&str; 10] =
    ["Boston", "Austin", "Denver", "Chicago", "Seattle", "Toronto", "London", "Dublin", "Berlin", "Lisbon"];

#[derive(Serialize)]
struct InProcess {
    /// Nanoseconds per decision, Cedar alone on requests built beforehand, over every policy.
    cedar_ns: f64,
    /// The same on each request's slice of the policies (those whose scope admits it).
    cedar_slice_ns: f64,
    /// Nanoseconds per decision: the person and resource found in the directory, the slice found, the
    /// request built, Cedar on the slice.
    decide_ns: f64,
    /// Nanoseconds per decision of the whole use case, on the counted asks.
    use_case_ns: f64,
    /// `decide_ns / cedar_ns` (target ≤ 1.5).
    decide_over_cedar: f64,
    /// `decide_ns / cedar_slice_ns`: what finding and building add to Cedar's own work.
    decide_over_cedar_slice: f64,
    /// `use_case_ns / cedar_ns`.
    use_case_over_cedar: f64,
}

#[derive(Serialize)]
struct Reverse {
    resource: &'static str,
    /// Active people allowed.
    allowed: usize,
    /// Milliseconds, the median of the runs (target < 1000).
    median_ms: f64,
    runs: usize,
}

#[derive(Serialize)]
struct Report {
    people: usize,
    resources: usize,
    policies: usize,
    /// Milliseconds to read the directory and build its entities (after every change to it).
    directory_build_ms: f64,
    clients: usize,
    seconds: u64,
    healthz: Phase,
    authorize: Phase,
    /// `authorize / healthz` throughput (target ≥ 0.5).
    ratio: f64,
    /// Of every ten asks over HTTP, how many were audited.
    audited_per_ten: u8,
    in_process: InProcess,
    reverse: Reverse,
}

/// One ask, with the answer the policies give it.
struct Sample {
    ask: Ask,
    allow: bool,
    high: bool,
}

/// Runs the benchmark.
pub async fn run_authorize(args: AuthorizeBenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = crate::operator::open_store(&url).await?;
    let now = time::OffsetDateTime::now_utc();
    demo::seed(&store, now).await?;
    add_people(&store, args.people, now, args.json).await?;
    let resources = add_resources(&store, now).await?;
    let (secret, _) = ChallengeSecret::generate();
    let app = bonafide_app::App::new(store.clone(), Arc::new(SystemClock), Arc::new(secret), Default::default());
    let text = policies(args.policies);
    let published = resources::publish(&app, Acting::Operator, &text).await.context("publishing the policies")?;
    let (service, token) = resources::create_service_token(&app, "bench", &["authorize".to_owned()]).await?;
    let service = Service { record: service, client: "bench".to_owned() };

    // The first snapshot reads the directory and builds its entities.
    let started = Instant::now();
    let snapshot = decisions::snapshot(&app).await?;
    let directory_build_ms = started.elapsed().as_secs_f64() * 1000.0;
    let samples = samples(&snapshot, &resources, now);
    let counted: Vec<&Sample> = samples.iter().filter(|s| s.allow && !s.high).collect();
    let audited: Vec<&Sample> = samples.iter().filter(|s| !s.allow || s.high).collect();
    anyhow::ensure!(!counted.is_empty() && !audited.is_empty(), "the synthetic asks need allows and denies");

    let in_process = in_process(&app, &snapshot, &service, &counted, &args).await?;
    let reverse = reverse(&app).await?;

    // Over HTTP: one service token, each client sending `audited_per_ten` audited asks of every ten.
    let (base, stop, server) = serve(app.clone()).await?;
    let bearer = format!("Bearer {}", token.reveal());
    let callers = (0..256)
        .map(|c| {
            let bodies = (0..10)
                .map(|i| {
                    let pool = if i < usize::from(args.audited_per_ten) { &audited } else { &counted };
                    let s = pool.get((c * 10 + i) % pool.len()).context("no ask")?;
                    Ok(serde_json::to_vec(&ask_json(&s.ask))?)
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(Caller { token: bearer.clone(), bodies })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let driver = Driver {
        client: reqwest::Client::builder().pool_max_idle_per_host(args.load.clients).build()?,
        healthz: format!("{base}/healthz").parse()?,
        checks: format!("{base}/api/v1/authorize").parse()?,
        callers: Arc::new(callers),
        turn: Arc::new(AtomicUsize::new(0)),
        clients: args.load.clients,
    };
    let (healthz, authorize) = driver.alternate(&args.load).await?;
    let (healthz, authorize) = (healthz.phase("GET /healthz"), authorize.phase("POST /api/v1/authorize"));
    let _ = stop.send(());
    let _ = server.await;
    app.close().await;
    let ratio = if healthz.per_second > 0.0 { authorize.per_second / healthz.per_second } else { 0.0 };
    let report = Report {
        people: snapshot.directory().people().len(),
        resources: snapshot.directory().resources().len(),
        policies: snapshot.policies().len(),
        directory_build_ms,
        clients: args.load.clients,
        seconds: args.load.seconds,
        healthz,
        authorize,
        ratio,
        audited_per_ten: args.audited_per_ten,
        in_process,
        reverse,
    };
    print(&report, published.version, args.json)?;
    if report.authorize.errors > 0 || report.healthz.errors > 0 {
        anyhow::bail!("some requests failed");
    }
    Ok(())
}

fn print(r: &Report, version: u32, json: bool) -> anyhow::Result<()> {
    if json {
        outln!("{}", serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    outln!(
        "{} people, {} resources, {} policies (version {version}); directory read and built in {:.0} ms",
        r.people,
        r.resources,
        r.policies,
        r.directory_build_ms
    );
    outln!("Over HTTP, {} clients, {} s per endpoint, SQLite, loopback:", r.clients, r.seconds);
    for p in [&r.healthz, &r.authorize] {
        outln!(
            "  {:<24} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} requests, {} errors)",
            p.endpoint,
            p.per_second,
            p.p50_ms,
            p.p99_ms,
            p.requests,
            p.errors
        );
    }
    outln!(
        "  decisions / healthz throughput: {:.2} (target ≥ 0.5); {} asks in ten audited, the rest counted",
        r.ratio,
        r.audited_per_ten
    );
    let i = &r.in_process;
    outln!("In process, per decision:");
    outln!("  Cedar alone, every policy               {:>8.1} µs", i.cedar_ns / 1000.0);
    outln!("  Cedar alone, the request's slice        {:>8.1} µs", i.cedar_slice_ns / 1000.0);
    outln!(
        "  lookup, slice, request and Cedar        {:>8.1} µs   {:.2}× Cedar alone (target ≤ 1.5), {:.2}× on the slice",
        i.decide_ns / 1000.0,
        i.decide_over_cedar,
        i.decide_over_cedar_slice
    );
    outln!(
        "  the whole use case (counted allows)     {:>8.1} µs   {:.2}× Cedar alone",
        i.use_case_ns / 1000.0,
        i.use_case_over_cedar
    );
    outln!(
        "Who can reach {}: {} people, {:.0} ms (median of {}; target < 1000 ms)",
        r.reverse.resource,
        r.reverse.allowed,
        r.reverse.median_ms,
        r.reverse.runs
    );
    Ok(())
}

fn ask_json(a: &Ask) -> serde_json::Value {
    serde_json::json!({
        "principal": a.principal, "action": a.action, "resource": a.resource,
        "context": { "mfa": a.mfa, "device_managed": a.device_managed, "network": a.network },
    })
}

/// Adds `n` employees across eight departments and ten cities; a third remote, one in twenty
/// privileged.
async fn add_people(store: &Store, n: usize, now: time::OffsetDateTime, json: bool) -> anyhow::Result<()> {
    import_synthetic(store, n, now, json, ("person", "Synthetic Person"), |i, p| {
        p.location = CITIES.get(i % CITIES.len()).copied().unwrap_or("Boston").to_owned();
        p.title = if i % 7 == 0 { "Manager".to_owned() } else { "Analyst".to_owned() };
    })
    .await
}

/// The demo's four resources and two per department (a wiki and a database): 20 in all.
async fn add_resources(store: &Store, now: time::OffsetDateTime) -> anyhow::Result<Vec<ResourceRecord>> {
    for (i, d) in DEPARTMENTS.iter().enumerate() {
        let tag = d.to_lowercase();
        for (kind, sensitivity, suffix) in
            [("app", "medium", "wiki"), ("database", if i % 2 == 0 { "low" } else { "high" }, "db")]
        {
            let r = ResourceRecord {
                id: format!("{tag}-{suffix}"),
                kind: kind.to_owned(),
                name: format!("{d} {suffix}"),
                owner_department: Some((*d).to_owned()),
                sensitivity: sensitivity.to_owned(),
                tags: vec![tag.clone(), suffix.to_owned()],
                created_at: now,
                updated_at: now,
            };
            store.create_resource(&r, &seeded("resource.created")).await?;
        }
    }
    Ok(store.resources().await?)
}

/// The demo's policies and `n - 4` generated ones of five kinds a company writes.
fn policies(n: usize) -> String {
    let mut text = demo::ACCESS_POLICIES.to_owned();
    for i in 0..n.saturating_sub(4) {
        let d = DEPARTMENTS.get(i % DEPARTMENTS.len()).copied().unwrap_or("Sales");
        let tag = d.to_lowercase();
        let city = CITIES.get(i % CITIES.len()).copied().unwrap_or("Boston");
        let p = match i % 5 {
            0 => format!(
                "@id(\"g{i}-{tag}-reads-its-wiki\")\npermit (principal in Department::\"{d}\", action == Action::\"access\", resource)\nwhen {{ resource.tags.contains(\"{tag}\") && context.mfa }};"
            ),
            1 => format!(
                "@id(\"g{i}-no-{tag}-exports-at-night\")\nforbid (principal, action == Action::\"export\", resource)\nwhen {{ resource.tags.contains(\"{tag}\") && (context.time.hour < {} || context.time.hour > 20) }};",
                5 + i % 3
            ),
            2 => format!(
                "@id(\"g{i}-privileged-admin-over-vpn\")\npermit (principal, action == Action::\"admin\", resource)\nwhen {{ principal.privileged && context.network == \"vpn\" && resource has owner_department && resource.owner_department == principal.department && principal.location == \"{city}\" }};"
            ),
            3 => format!(
                "@id(\"g{i}-nothing-sensitive-from-{}-on-the-internet\")\nforbid (principal, action, resource)\nwhen {{ principal.location == \"{city}\" && context.network == \"internet\" && resource.sensitivity != \"low\" && !context.device_managed }};",
                city.to_lowercase()
            ),
            _ => format!(
                "@id(\"g{i}-managers-read-wikis\")\npermit (principal, action == Action::\"access\", resource)\nwhen {{ resource.tags.contains(\"wiki\") && principal.title == \"Manager\" && principal.policy_acknowledged && principal.location == \"{city}\" }};"
            ),
        };
        text.push_str("\n\n");
        text.push_str(&p);
    }
    text
}

/// Asks of the synthetic people on every resource in varied circumstances, decided once to know which
/// are allowed.
fn samples(s: &decisions::Snapshot, resources: &[ResourceRecord], now: time::OffsetDateTime) -> Vec<Sample> {
    let people: Vec<&bonafide_access::PersonFacts> =
        s.directory().people().iter().filter(|p| p.email.starts_with("person")).collect();
    let mut out = Vec::new();
    for i in 0..4000usize {
        let (Some(p), Some(r)) =
            (people.get((i * 7919) % people.len().max(1)), resources.get((i * 3) % resources.len()))
        else {
            continue;
        };
        let network = Network::ALL.get(i % 3).copied().unwrap_or(Network::Office);
        let action = if i % 11 == 0 { Action::Export } else { Action::Access };
        let ask = Ask {
            principal: p.email.clone(),
            action: action.as_str().to_owned(),
            resource: r.id.clone(),
            mfa: i % 13 != 0,
            device_managed: i % 5 != 0,
            network: network.as_str().to_owned(),
        };
        let Some(facts) = s.directory().resource(&r.id) else { continue };
        let context = RequestContextFacts { mfa: ask.mfa, device_managed: ask.device_managed, network, at: now };
        let allow = s.policies().decide(s.directory(), p, action, facts, &context).allow;
        out.push(Sample { ask, allow, high: facts.sensitivity == Sensitivity::High });
    }
    out
}

/// Cedar alone, a decision from the directory, and the whole use case, in alternating rounds.
async fn in_process(
    app: &bonafide_app::App,
    s: &decisions::Snapshot,
    service: &Service,
    counted: &[&Sample],
    args: &AuthorizeBenchArgs,
) -> anyhow::Result<InProcess> {
    let now = time::OffsetDateTime::now_utc();
    let typed = |a: &Ask| -> anyhow::Result<_> {
        let action = Action::from_name(&a.action).context("action")?;
        let network = Network::from_name(&a.network).context("network")?;
        Ok((action, RequestContextFacts { mfa: a.mfa, device_managed: a.device_managed, network, at: now }))
    };
    let mut prepared = Vec::new();
    for c in counted {
        let (action, context) = typed(&c.ask)?;
        let p = s.directory().person(&c.ask.principal).context("person")?;
        let r = s.directory().resource(&c.ask.resource).context("resource")?;
        prepared.push(Prepared::new(s.policies(), s.directory(), p, action, r, &context).map_err(anyhow::Error::msg)?);
    }
    let typed_asks = counted.iter().map(|c| typed(&c.ask).map(|t| (&c.ask, t))).collect::<anyhow::Result<Vec<_>>>()?;
    let slice = Duration::from_secs(args.load.seconds) / args.load.rounds.max(1);
    let zero = (0u64, Duration::ZERO);
    let (mut cedar, mut sliced, mut decide, mut use_case) = (zero, zero, zero, zero);
    let mut allowed = 0usize;
    for _ in 0..args.load.rounds.max(1) {
        let start = Instant::now();
        while start.elapsed() < slice {
            for p in &prepared {
                allowed += usize::from(s.policies().is_authorized(p, s.directory()));
            }
            cedar.0 += prepared.len() as u64;
        }
        cedar.1 += start.elapsed();
        let start = Instant::now();
        while start.elapsed() < slice {
            for p in &prepared {
                allowed += usize::from(s.policies().is_authorized_on_slice(p, s.directory()));
            }
            sliced.0 += prepared.len() as u64;
        }
        sliced.1 += start.elapsed();
        let start = Instant::now();
        while start.elapsed() < slice {
            for (ask, (action, context)) in &typed_asks {
                let (Some(p), Some(r)) = (s.directory().person(&ask.principal), s.directory().resource(&ask.resource))
                else {
                    continue;
                };
                allowed += usize::from(s.policies().decide(s.directory(), p, *action, r, context).allow);
            }
            decide.0 += typed_asks.len() as u64;
        }
        decide.1 += start.elapsed();
        let start = Instant::now();
        while start.elapsed() < slice {
            for c in counted.iter().take(500) {
                allowed += usize::from(decisions::authorize(app, Asker::Service(service), c.ask.clone()).await?.allow);
                use_case.0 += 1;
            }
        }
        use_case.1 += start.elapsed();
    }
    anyhow::ensure!(allowed > 0, "no decision allowed anything");
    let per = |(n, d): (u64, Duration)| if n == 0 { 0.0 } else { d.as_nanos() as f64 / n as f64 };
    let (cedar_ns, slice_ns, decide_ns, use_case_ns) = (per(cedar), per(sliced), per(decide), per(use_case));
    let over = |x: f64, base: f64| if base > 0.0 { x / base } else { 0.0 };
    Ok(InProcess {
        cedar_ns,
        cedar_slice_ns: slice_ns,
        decide_ns,
        use_case_ns,
        decide_over_cedar: over(decide_ns, cedar_ns),
        decide_over_cedar_slice: over(decide_ns, slice_ns),
        use_case_over_cedar: over(use_case_ns, cedar_ns),
    })
}

/// Who can reach `payroll-db`, asked by the demo's security admin, five times.
async fn reverse(app: &bonafide_app::App) -> anyhow::Result<Reverse> {
    let admin = demo::caller(app, "Rhea Grant").await?;
    let office = Circumstances { mfa: true, device_managed: true, network: "office".to_owned() };
    let mut times = Vec::new();
    let mut allowed = 0;
    for _ in 0..5 {
        let start = Instant::now();
        allowed = decisions::who_can_access(app, &admin, "payroll-db", &office).await?.len();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(Reverse {
        resource: "payroll-db",
        allowed,
        median_ms: times.get(times.len() / 2).copied().unwrap_or(0.0),
        runs: 5,
    })
}
