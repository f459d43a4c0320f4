//! `bonafide bench drills`: an email drill to every one of 10,000 synthetic people on a fresh SQLite
//! file, through a real SMTP server (aiosmtpd from `target/smtp-venv`, discarding what it accepts).
//! Timed: queueing (`drills::launch`: choosing the targets, deriving their link tokens, inserting the
//! rows; target < 2 s) and delivery (`drills::sender::send_due`, the send loop's step, until every
//! message is recorded sent), against the same number of messages handed straight to the same
//! `Courier` (one pooled lettre transport) without Bonafide's database work: delivery is reported as a
//! ratio of that limit.

use crate::bench::import_synthetic;
use anyhow::Context;
use bonafide_app::drills::{
    self, Courier, DrillDelivery, NewDrillInput, Outgoing, ScenarioChoice, Smtp, SmtpTls, Targets,
};
use bonafide_app::{App, Caller, Via};
use bonafide_auth::ChallengeSecret;
use bonafide_domain::{DrillChannel, Role, SystemClock};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `bonafide bench drills`.
#[derive(Debug, Args)]
pub struct DrillsBenchArgs {
    /// Synthetic people, every one a target.
    #[arg(long, default_value_t = 10_000)]
    people: usize,
    /// The Python that has aiosmtpd (`python3 -m venv target/smtp-venv && target/smtp-venv/bin/pip
    /// install aiosmtpd`).
    #[arg(long, default_value = "target/smtp-venv/bin/python")]
    python: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    people: usize,
    /// Milliseconds for `drills::launch` (target < 2,000).
    queue_ms: f64,
    /// Messages a second handed to the mail server straight through the courier, no database.
    baseline_per_second: f64,
    /// Messages a second through `send_due`: claimed, rate-counted, sent and recorded.
    delivery_per_second: f64,
    /// `delivery_per_second / baseline_per_second`.
    ratio: f64,
    sent: i64,
    failed: i64,
}

/// aiosmtpd on a free loopback port, stopped when dropped.
struct Sink {
    child: Child,
    port: u16,
}

impl Sink {
    fn start(python: &std::path::Path) -> anyhow::Result<Self> {
        let installed = Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        anyhow::ensure!(
            installed,
            "aiosmtpd is not installed at {}: run `python3 -m venv target/smtp-venv && target/smtp-venv/bin/pip \
             install aiosmtpd` in the repository, or pass --python",
            python.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Sink"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting aiosmtpd with {}", python.display()))?;
        let mut sink = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(sink.child.try_wait()?.is_none(), "aiosmtpd exited at start");
            anyhow::ensure!(Instant::now() < deadline, "aiosmtpd did not listen on port {port} within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(sink)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the benchmark.
pub async fn run_drills(args: DrillsBenchArgs) -> anyhow::Result<()> {
    let sink = Sink::start(&args.python)?;
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let store = crate::operator::open_store(&format!("sqlite://{}", dir.path().join("drills.db").display())).await?;
    let now = time::OffsetDateTime::now_utc();
    let admin_email = "bench.drill0@example.com";
    import_synthetic(&store, args.people, now, args.json, ("bench.drill", "Bench Drill"), |i, p| {
        if i == 0 {
            p.roles = bonafide_domain::Roles::new([Role::SecurityAdmin]);
        }
    })
    .await?;
    let delivery = DrillDelivery {
        smtp: Some(Smtp {
            host: "127.0.0.1".into(),
            port: sink.port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            timeout: Duration::from_secs(30),
        }),
        from: Some("it-desk@example.com".into()),
        sends_per_minute: 100_000,
        ..DrillDelivery::default()
    };
    let settings = bonafide_app::Settings {
        public_url: Some("https://bonafide.example.com".into()),
        drills: delivery.clone(),
        ..bonafide_app::Settings::default()
    };
    let (secret, _) = ChallengeSecret::generate();
    let app = App::new(store.clone(), Arc::new(SystemClock), Arc::new(secret), settings);
    let admin = bonafide_app::directory::principal_by_email(&app, admin_email).await?;
    let who = Caller::new(admin, "bench", Via::Cli);
    let courier = Courier::new(&delivery).map_err(anyhow::Error::msg)?;

    let baseline_per_second = baseline(&courier, args.people, args.json).await?;

    let input = NewDrillInput {
        name: "Bench".into(),
        scenario: ScenarioChoice::BuiltIn("slow-logins".into()),
        channel: DrillChannel::Email,
        targets: Targets { all: true, ..Targets::default() },
        window_hours: 0,
    };
    let id = drills::create(&app, &who, input).await?.id.to_string();
    let started = Instant::now();
    let launched = drills::launch(&app, &who, &id).await?;
    let queue_ms = started.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(launched.target_count as usize == args.people, "{} targets", launched.target_count);

    let bar = crate::progress::bar(Some(args.people as u64), "sent", args.json);
    let started = Instant::now();
    loop {
        let attempted = drills::sender::send_due(&app, &courier).await?;
        if attempted == 0 {
            break;
        }
        bar.inc(attempted as u64);
    }
    let elapsed = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let view = drills::get(&app, &who, &id).await?;
    store.close().await;
    drop(sink);
    let delivery_per_second = view.sent as f64 / elapsed;
    let ratio = if baseline_per_second > 0.0 { delivery_per_second / baseline_per_second } else { 0.0 };
    let report = Report {
        people: args.people,
        queue_ms,
        baseline_per_second,
        delivery_per_second,
        ratio,
        sent: view.sent,
        failed: view.failed,
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        outln!("An email drill to {} people, SQLite, aiosmtpd on loopback (no TLS)", report.people);
        outln!("  queueing (drills::launch)          {:>9.0} ms   (target < 2000 ms)", report.queue_ms);
        outln!("  straight through the courier       {:>9.0} messages/s", report.baseline_per_second);
        outln!(
            "  delivery (send_due until all sent) {:>9.0} messages/s   ({:.2} of the courier alone; {} sent, {} failed)",
            report.delivery_per_second,
            report.ratio,
            report.sent,
            report.failed
        );
    }
    anyhow::ensure!(view.sent as usize == args.people, "{} of {} messages were sent", view.sent, args.people);
    Ok(())
}

/// Messages a second handed to the mail server through `courier`, as many at once as the send loop
/// hands over, with a message of the drill's shape and size and no database.
async fn baseline(courier: &Courier, n: usize, json: bool) -> anyhow::Result<f64> {
    let scenario = bonafide_domain::drill::builtin("slow-logins").context("no slow-logins scenario")?.scenario();
    let bar = crate::progress::bar(Some(n as u64), "sent straight", json);
    let started = Instant::now();
    let mut flying = tokio::task::JoinSet::new();
    for i in 0..n {
        let name = format!("Bench Drill {i}");
        let link = format!("https://bonafide.example.com/d/{:043}", i);
        let m = Outgoing {
            channel: DrillChannel::Email,
            to_email: format!("bench.drill{i}@example.com"),
            to_name: name.clone(),
            to_phone: None,
            from_name: scenario.sender_name.clone(),
            from_address: None,
            subject: scenario.subject_line().to_owned(),
            text: scenario.render(&name, &link),
            message_id: format!("drill-{}@bonafide.example.com", uuid_like(i)),
            drill_header: "0".repeat(100),
        };
        while flying.len() >= drills::sender::IN_FLIGHT {
            flying.join_next().await.context("a send")???;
        }
        let courier = courier.clone();
        flying
            .spawn(async move { courier.send(&m).await.map_err(|e| anyhow::anyhow!("the baseline's send {i}: {e}")) });
        bar.inc(1);
    }
    while let Some(sent) = flying.join_next().await {
        sent??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    Ok(n as f64 / elapsed)
}

/// A 36-character id like a target's, distinct per `i`.
fn uuid_like(i: usize) -> String {
    format!("00000000-0000-7000-8000-{i:012}")
}
