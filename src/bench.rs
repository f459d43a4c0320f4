//! `bonafide bench api`: throughput and latency of `POST /api/v1/checks` (or, with `--endpoint reports`,
//! `POST /api/v1/reports`) against `GET /healthz` in the same run, over real HTTP on loopback, on a fresh
//! SQLite demo company.
//!
//! The ratio is what to compare between machines and runs; absolute numbers depend on the machine.
//! The clients act as the demo company plus `--employees` synthetic employees (a third with an assigned
//! request), so each person's own check rate stays human-like. Checks per person per minute are raised to
//! 600 for the run (the count is still made on every check), since a benchmark is faster than people.

use crate::demo;
use anyhow::Context;
use bonafide_auth::{ApiToken, ChallengeSecret};
use bonafide_domain::{PersonStatus, Role, SystemClock};
use bonafide_store::{RequestScope, Store};
use bonafide_web::{AppState, Application, WebConfig};
use clap::Args;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The load an HTTP benchmark puts on the server, measured against `GET /healthz`.
#[derive(Debug, Args)]
pub(crate) struct LoadArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub(crate) clients: usize,
    /// Measured seconds per endpoint (and per measure).
    #[arg(long, default_value_t = 10)]
    pub(crate) seconds: u64,
    /// The measured seconds are split into this many rounds, alternating the endpoints, so that a
    /// slowdown of the machine during the run weighs on both alike.
    #[arg(long, default_value_t = 5)]
    pub(crate) rounds: u32,
    /// Unmeasured warm-up seconds per endpoint.
    #[arg(long, default_value_t = 2)]
    pub(crate) warmup: u64,
}

/// Options of `bonafide bench api`.
#[derive(Debug, Args)]
pub struct ApiBenchArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// Employees the clients act as (besides the demo company's); each has an assigned request or not.
    #[arg(long, default_value_t = 2000)]
    employees: usize,
    /// What to measure against `GET /healthz`.
    #[arg(long, value_enum, default_value_t = Endpoint::Checks)]
    endpoint: Endpoint,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// The endpoint measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Endpoint {
    /// `POST /api/v1/checks`: a contact check.
    Checks,
    /// `POST /api/v1/reports`: a report, committed and correlated before the answer.
    Reports,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Checks => "/api/v1/checks",
            Endpoint::Reports => "/api/v1/reports",
        }
    }
}

/// What one endpoint did over the measured rounds.
#[derive(Debug, Serialize)]
pub(crate) struct Phase {
    pub(crate) endpoint: &'static str,
    pub(crate) requests: usize,
    pub(crate) errors: usize,
    pub(crate) per_second: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

#[derive(Serialize)]
struct Report {
    clients: usize,
    seconds: u64,
    healthz: Phase,
    #[serde(rename = "measured")]
    checks: Phase,
    ratio: f64,
}

/// One client identity: its `Authorization` header and the bodies it sends in turn (none: it GETs).
pub(crate) struct Caller {
    pub(crate) token: String,
    /// Serialised once: the client's work per request should be the same for both endpoints.
    pub(crate) bodies: Vec<Vec<u8>>,
}

/// Runs the benchmark.
pub async fn run_api(args: ApiBenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = crate::operator::open_store(&url).await?;
    let now = time::OffsetDateTime::now_utc();
    demo::seed(&store, now).await?;
    add_employees(&store, args.employees, now).await?;
    let callers = callers(&store, now, args.endpoint).await?;

    let settings = bonafide_app::Settings { checks_per_minute: 600, ..bonafide_app::Settings::default() };
    let (secret, _) = ChallengeSecret::generate();
    let app = bonafide_app::App::new(store.clone(), Arc::new(SystemClock), Arc::new(secret), settings);
    let (base, stop, server) = serve(app).await?;

    let client = reqwest::Client::builder().pool_max_idle_per_host(args.load.clients).build()?;
    let driver = Driver {
        client,
        healthz: format!("{base}/healthz").parse()?,
        checks: format!("{base}{}", args.endpoint.path()).parse()?,
        callers: Arc::new(callers),
        turn: Arc::new(AtomicUsize::new(0)),
        clients: args.load.clients,
    };
    let (healthz, checks) = driver.alternate(&args.load).await?;
    let measured = match args.endpoint {
        Endpoint::Checks => "POST /api/v1/checks",
        Endpoint::Reports => "POST /api/v1/reports",
    };
    let (healthz, checks) = (healthz.phase("GET /healthz"), checks.phase(measured));
    let _ = stop.send(());
    let _ = server.await;
    let ratio = if healthz.per_second > 0.0 { checks.per_second / healthz.per_second } else { 0.0 };
    let report = Report { clients: args.load.clients, seconds: args.load.seconds, healthz, checks, ratio };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        outln!(
            "{} clients, {} s per endpoint in {} alternating rounds, SQLite, loopback HTTP",
            report.clients,
            report.seconds,
            args.load.rounds
        );
        for p in [&report.healthz, &report.checks] {
            outln!(
                "  {:<22} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} requests, {} errors)",
                p.endpoint,
                p.per_second,
                p.p50_ms,
                p.p99_ms,
                p.requests,
                p.errors
            );
        }
        outln!("  {} / healthz throughput: {:.1} %", args.endpoint.path(), report.ratio * 100.0);
    }
    if report.checks.errors > 0 || report.healthz.errors > 0 {
        anyhow::bail!("some requests failed");
    }
    Ok(())
}

/// A server for `app` on a free loopback port: its base URL, the sender that stops it and its task.
pub(crate) async fn serve(
    app: bonafide_app::App,
) -> anyhow::Result<(String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let web = WebConfig::default();
    let state = AppState::new(app, web.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(Application::serve(listener, Application::build(state), &web, async {
        let _ = stopped.await;
    }));
    Ok((base, stop, server))
}

/// The departments the synthetic companies are spread over.
pub(crate) const DEPARTMENTS: [&str; 8] =
    ["Finance", "People", "Sales", "Engineering", "Legal", "Marketing", "Operations", "Support"];

/// Imports `n` synthetic employees, `{prefix}{i}@example.com` named `{name} {i}`, spread over
/// [`DEPARTMENTS`], a third remote and one in twenty privileged, each then shaped by `shape` (roles,
/// location, title); 1,000 to a transaction, with a progress bar.
pub(crate) async fn import_synthetic(
    store: &Store,
    n: usize,
    now: time::OffsetDateTime,
    json: bool,
    (prefix, name): (&str, &str),
    shape: impl Fn(usize, &mut bonafide_domain::NewPerson),
) -> anyhow::Result<()> {
    use bonafide_domain::{NewPerson, Role, Roles};
    let bar = crate::progress::bar(Some(n as u64), "people", json);
    let mut people = Vec::with_capacity(n);
    for i in 0..n {
        let mut p = NewPerson::new(
            format!("{prefix}{i}@example.com").parse()?,
            format!("{name} {i}").parse()?,
            Roles::new([Role::Employee]),
        );
        p.department = DEPARTMENTS.get(i % DEPARTMENTS.len()).copied().unwrap_or("Sales").to_owned();
        p.remote = i % 3 == 0;
        p.privileged = i % 20 == 0;
        shape(i, &mut p);
        people.push(p);
    }
    for chunk in people.chunks(1000) {
        store.import_people(chunk, now, |_| {}, |_, _| seeded("directory.imported")).await?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

/// The audit entry of the benchmark's own seeding.
pub(crate) fn seeded(action: &'static str) -> bonafide_store::AuditEvent {
    bonafide_store::AuditEvent::new(&bonafide_store::Actor::system(), action, "bench", bonafide_store::Outcome::Ok)
}

/// Adds `n` employees; every third opens a request that IT assigns.
async fn add_employees(store: &Store, n: usize, now: time::OffsetDateTime) -> anyhow::Result<()> {
    let template = demo::people()?.into_iter().find(|p| p.roles.iter().count() == 1).context("no employee template")?;
    let mut people = Vec::with_capacity(n);
    for i in 0..n {
        let mut p = template.clone();
        p.email = format!("bench.person{i}@example.com").parse()?;
        p.display_name = format!("Bench Person {i}").parse()?;
        p.phones = vec![];
        people.push(p);
    }
    store.import_people(&people, now, |_| {}, |_, _| seeded("directory.imported")).await?;
    let staff = store.search_staff("IT-", 10).await?;
    for (i, p) in people.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let requester = store.person_by_email(&p.email).await?.context("bench person missing")?.id;
        let new = bonafide_store::NewRequest {
            requester,
            summary: "Email sync is slow".parse()?,
            category: None,
            channels: Default::default(),
        };
        let r = store.create_request(&new, now, |_| seeded("request.opened")).await?;
        if let Some(s) = staff.get(i % staff.len().max(1)) {
            let (open, assigned) = (bonafide_domain::RequestStatus::Open, bonafide_domain::RequestStatus::Assigned);
            store.transition_request(r.key, open, assigned, Some(s.person), now, &seeded("request.assigned")).await?;
        }
    }
    Ok(())
}

/// One caller per active plain employee, each with a realistic mix of claims: the genuine assignee,
/// a cold call from an unknown staff id, a name-only claim asking for a password, a number-only claim.
async fn callers(store: &Store, now: time::OffsetDateTime, endpoint: Endpoint) -> anyhow::Result<Vec<Caller>> {
    let requests = store.list_requests(RequestScope::All, 10_000).await?;
    let mut out = Vec::new();
    for p in store.list_people().await? {
        if p.status != PersonStatus::Active || p.roles.has(Role::ItStaff) || p.roles.iter().count() > 1 {
            continue;
        }
        let token = ApiToken::generate();
        store.create_token(p.id, token.hash().as_str(), "bench", now, &seeded("token.created")).await?;
        let assignee = requests
            .iter()
            .find(|r| r.requester == p.id && r.assignee_staff_id.is_some())
            .and_then(|r| r.assignee_staff_id.clone())
            .map_or_else(|| "IT-0042".to_owned(), |s| s.to_string());
        let n = out.len();
        let bodies = match endpoint {
            Endpoint::Checks => vec![
                serde_json::json!({"channel": "phone", "claimed_staff_id": assignee, "caller_number": "(201) 555-0140"}),
                serde_json::json!({"channel": "phone", "claimed_staff_id": "IT-9999", "claimed_name": "Mike", "caller_number": "+1 555 010 9999"}),
                serde_json::json!({"channel": "chat", "claimed_name": "Sam", "asked_for": ["password", "mfa_code"]}),
                serde_json::json!({"channel": "sms", "caller_number": "201-555-0141", "asked_for": ["login_walkthrough"]}),
            ],
            // A realistic mix: a few recurring campaigns (one number in several formats, a look-alike
            // sender, a retold script) among one-off contacts.
            Endpoint::Reports => vec![
                serde_json::json!({"channel": "phone", "caller_number": format!("(555) 010-{:04}", n % 40), "claimed_name": "Mike from IT", "asked_for": ["mfa_code"]}),
                serde_json::json!({"channel": "email", "caller_address": format!("it-desk{}@examp1e-support.com", n % 25), "transcript": "Your mailbox is over quota and will be locked today. Sign in at https://examp1e-support.com/keep to keep it open, or call the help desk.", "asked_for": ["password"]}),
                serde_json::json!({"channel": "phone", "caller_number": format!("+1 202 555 {:04}", 1000 + n), "claimed_name": "Dave", "claimed_staff_id": format!("IT-{:04}", 5000 + n % 30)}),
                serde_json::json!({"channel": "chat", "caller_handle": format!("@helpdesk_{n}"), "claimed_name": "Kate", "asked_for": ["remote_access"], "transcript": "Hi, this is Kate from the IT service desk. We are seeing errors from your laptop and a few people on your floor have the same issue. Can I connect remotely to fix it?"}),
            ],
        };
        let bodies = bodies.iter().map(serde_json::to_vec).collect::<Result<_, _>>()?;
        out.push(Caller { token: format!("Bearer {}", token.reveal()), bodies });
    }
    anyhow::ensure!(!out.is_empty(), "the demo company has no employees");
    Ok(out)
}

/// The load generator: closed-loop clients over one shared connection pool.
pub(crate) struct Driver {
    pub(crate) client: reqwest::Client,
    pub(crate) healthz: reqwest::Url,
    /// The endpoint measured (POSTed with each caller's bodies, or fetched by a caller with none).
    pub(crate) checks: reqwest::Url,
    pub(crate) callers: Arc<Vec<Caller>>,
    /// One round-robin over all callers, continued across rounds, so every caller's own check rate
    /// stays even (their recent checks are counted on every check).
    pub(crate) turn: Arc<AtomicUsize>,
    pub(crate) clients: usize,
}

/// Requests measured for one endpoint, over one or more rounds.
#[derive(Default)]
pub(crate) struct Load {
    latencies: Vec<Duration>,
    errors: usize,
    elapsed: Duration,
}

impl Load {
    pub(crate) fn add(&mut self, other: Load) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.elapsed += other.elapsed;
    }

    pub(crate) fn phase(mut self, endpoint: &'static str) -> Phase {
        self.latencies.sort_unstable();
        let pct = |p: f64| {
            let idx = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
            self.latencies.get(idx).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        let seconds = self.elapsed.as_secs_f64();
        Phase {
            endpoint,
            requests: self.latencies.len(),
            errors: self.errors,
            per_second: if seconds > 0.0 { self.latencies.len() as f64 / seconds } else { 0.0 },
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
        }
    }
}

impl Driver {
    /// `/healthz` and the measured endpoint in `load.rounds` alternating rounds (the first with the
    /// whole warm-up, the others with a quarter of it): the loads of each.
    pub(crate) async fn alternate(&self, load: &LoadArgs) -> anyhow::Result<(Load, Load)> {
        let (mut healthz, mut measured) = (Load::default(), Load::default());
        let rounds = load.rounds.max(1);
        let slice = Duration::from_secs(load.seconds) / rounds;
        let warmup = Duration::from_secs(load.warmup);
        for round in 0..rounds {
            let warmup = if round == 0 { warmup } else { warmup / 4 };
            healthz.add(self.run(false, warmup, slice).await?);
            measured.add(self.run(true, warmup, slice).await?);
        }
        Ok((healthz, measured))
    }

    /// Runs the clients against one endpoint: `warmup` unmeasured, then `measured`.
    pub(crate) async fn run(&self, checks: bool, warmup: Duration, measured: Duration) -> anyhow::Result<Load> {
        let spawn = |duration: Duration| {
            let deadline = Instant::now() + duration;
            (0..self.clients)
                .map(|_| {
                    let (client, callers, turn) =
                        (self.client.clone(), Arc::clone(&self.callers), Arc::clone(&self.turn));
                    let url = if checks { self.checks.clone() } else { self.healthz.clone() };
                    tokio::spawn(async move {
                        let mut latencies = Vec::new();
                        let mut errors = 0usize;
                        while Instant::now() < deadline {
                            let k = turn.fetch_add(1, Ordering::Relaxed);
                            let caller = callers.get(k % callers.len());
                            let start = Instant::now();
                            let request = match (checks, caller) {
                                // A caller with no bodies measures a GET of the endpoint.
                                (true, Some(c)) if c.bodies.is_empty() => {
                                    client.get(url.clone()).header(reqwest::header::AUTHORIZATION, &c.token)
                                }
                                (true, Some(c)) => {
                                    let body =
                                        c.bodies.get((k / callers.len()) % c.bodies.len()).cloned().unwrap_or_default();
                                    client
                                        .post(url.clone())
                                        .header(reqwest::header::AUTHORIZATION, &c.token)
                                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                                        .body(body)
                                }
                                _ => client.get(url.clone()),
                            };
                            let ok = match request.send().await {
                                Ok(r) => {
                                    let status = r.status();
                                    let body = r.bytes().await;
                                    if !status.is_success() && errors == 0 {
                                        eprintln!("{url}: {status}: {body:?}");
                                    }
                                    status.is_success() && body.is_ok()
                                }
                                Err(e) => {
                                    if errors == 0 {
                                        eprintln!("{url}: {e:?}");
                                    }
                                    false
                                }
                            };
                            latencies.push(start.elapsed());
                            if !ok {
                                errors += 1;
                            }
                        }
                        (latencies, errors)
                    })
                })
                .collect::<Vec<_>>()
        };
        if !warmup.is_zero() {
            for t in spawn(warmup) {
                t.await?;
            }
        }
        let started = Instant::now();
        let mut load = Load::default();
        for t in spawn(measured) {
            let (latencies, errors) = t.await?;
            load.latencies.extend(latencies);
            load.errors += errors;
        }
        load.elapsed = started.elapsed();
        Ok(load)
    }
}
