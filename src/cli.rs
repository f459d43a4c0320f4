//! Command-line arguments and dispatch.

use crate::operator::{cli_app, input_error, open_store};
use crate::settings::{Overrides, Settings};
use crate::{
    InvalidInputError, TamperedError, backup, bench, bench_analyze, bench_authorize, bench_correlate, bench_drills,
    bench_portal, bench_risk, demo, import, policy, scan, serve,
};
use anyhow::Context;
use bonafide_app::reports::Report;
use bonafide_app::{Acting, App, Caller, Via};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

/// Stops quid pro quo social engineering: staff directory, support requests and caller verification.
#[derive(Debug, Parser)]
#[command(name = "bonafide", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create (or reuse) an example company on SQLite and serve it.
    Demo(DemoArgs),
    /// Serve the API.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(CommonArgs),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Import the directory from a CSV file (header-driven; all or nothing unless --skip-invalid).
    Import(ImportArgs),
    /// File a report of a suspicious contact for a person (JSON as the API takes it, or an .eml file).
    Report(ReportArgs),
    /// Look for the "IT support" script (and other scams) in a text, an email, or NDJSON lines.
    Scan(scan::ScanArgs),
    /// Precision, recall, F1 and false-positive rate of the analyzer on labelled NDJSON files.
    Eval(scan::EvalArgs),
    /// Learn the analyzer's weights from the team-written training text (or check they are up to date).
    Train(crate::train::TrainArgs),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a backup of the database to one portable file, online (the server may run).
    Backup {
        #[command(flatten)]
        common: CommonArgs,
        /// The file to write (it appears only once complete).
        #[arg(long)]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup into an empty database (SQLite or PostgreSQL); all or nothing.
    Restore {
        /// The backup file.
        file: PathBuf,
        #[command(flatten)]
        common: CommonArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The company's contact policy (show the version in force, or publish one from files), and tests of
    /// the access policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Print the version in force (and the newest, when one is scheduled).
    Show {
        #[command(flatten)]
        common: CommonArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Publish a new version from a rules file (TOML, or JSON when it ends in `.json`) and a Markdown
    /// text; exit 3 naming each bad field with its line.
    Set {
        #[command(flatten)]
        common: CommonArgs,
        /// The rules: channels, face_to_face_only, categories, contact_hours, service_desk_number,
        /// ack_due_days.
        rules: PathBuf,
        /// The company's text (paragraphs, lists, **bold**, [links](https://…)).
        #[arg(long)]
        text: PathBuf,
        /// When it takes effect, RFC 3339 (now by default).
        #[arg(long)]
        effective_at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run access-policy test cases (`[{principal, action, resource, context, expect}]`) on the directory,
    /// against the access policies in force or a file not applied yet; exit 1 if any fails.
    Test {
        #[command(flatten)]
        common: CommonArgs,
        /// The cases, as JSON.
        cases: PathBuf,
        /// Cedar policies to test instead of the version in force.
        #[arg(long)]
        policies: Option<PathBuf>,
        /// Print a JSON line per case.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exit 4 naming the first broken link if any entry was altered or removed.
    Verify {
        #[command(flatten)]
        common: CommonArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Settings shared by every command that touches the database.
#[derive(Debug, Args, Clone, Default)]
pub struct CommonArgs {
    /// Database URL: sqlite://FILE or postgres://USER@HOST/DB (else BONAFIDE_DB, else the file's `db`).
    // No clap `env` here or on the other keys' flags: the settings loader reads `BONAFIDE_<KEY>` for every
    // key, so an error can say whether a value came from the flag or the variable.
    #[arg(long)]
    pub db: Option<String>,
    /// TOML settings file.
    #[arg(long, env = "BONAFIDE_CONFIG")]
    pub config: Option<PathBuf>,
}

impl CommonArgs {
    /// The settings with `--db` over the environment and the file, for commands with no other flags.
    fn settings(self) -> anyhow::Result<Settings> {
        self.settings_with(Overrides::default())
    }

    /// The settings with `--db` and `overrides` over the process environment and the file.
    fn settings_with(self, overrides: Overrides) -> anyhow::Result<Settings> {
        Settings::load(self.config.as_deref(), Overrides { db: self.db, ..overrides }, std::env::vars_os())
    }
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Database URL (default: sqlite://bonafide-demo.db in the working directory).
    #[arg(long)]
    db: Option<String>,
    /// Write the demo people and their fresh API tokens as JSON to this file.
    #[arg(long)]
    credentials_out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to listen on (else BONAFIDE_LISTEN, else the file's `listen`).
    #[arg(long)]
    listen: Option<String>,
    /// File holding the challenge secret, 64+ hex characters (else BONAFIDE_SECRET_FILE, else the file's
    /// `secret_file`; BONAFIDE_SECRET wins over all of them).
    #[arg(long)]
    secret_file: Option<PathBuf>,
    /// Log as JSON lines (else BONAFIDE_LOG_JSON, else the file's `log_json`).
    #[arg(long)]
    log_json: bool,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token for a person, or with --service for a machine client; it is shown once.
    Create {
        #[command(flatten)]
        common: CommonArgs,
        /// The person's email.
        #[arg(long, required_unless_present = "service", conflicts_with = "service")]
        email: Option<String>,
        /// A machine client's name (a reverse proxy, an app): its token is not a person's, signs in
        /// nowhere and calls only what its scopes allow.
        #[arg(long, requires = "scope")]
        service: Option<String>,
        /// What the service may call (`authorize`: `POST /api/v1/authorize` and `GET /authz/{resource}`;
        /// `metrics`: `GET /metrics`).
        #[arg(long)]
        scope: Vec<String>,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        label: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct ReportArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The reporter's email.
    #[arg(long)]
    email: String,
    /// The report: a JSON file (the API's body), an .eml file, or - for standard input.
    file: PathBuf,
    /// Read the input as an email even without the .eml extension.
    #[arg(long)]
    eml: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ImportArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The CSV file.
    file: PathBuf,
    /// Import the valid rows and report the invalid ones instead of importing nothing.
    #[arg(long)]
    skip_invalid: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// `POST /api/v1/checks` against `GET /healthz` over HTTP, on a fresh SQLite demo company.
    Api(bench::ApiBenchArgs),
    /// Sign-in latency (known and unknown accounts) and page weights of the portal.
    Portal(bench_portal::PortalBenchArgs),
    /// Report correlation in the store (a fresh SQLite file) against normalising alone, over synthetic
    /// reports.
    Correlate(bench_correlate::CorrelateBenchArgs),
    /// The analyzer against the scikit-learn baseline on the same messages.
    Analyze(bench_analyze::AnalyzeBenchArgs),
    /// Access decisions over HTTP against `GET /healthz`, in process against Cedar alone, and "who can
    /// reach payroll-db", on 10,000 synthetic people and 50 policies.
    Authorize(bench_authorize::AuthorizeBenchArgs),
    /// QPQ risk: scoring 100,000 people against reading their facts, the daily snapshot on SQLite (and
    /// PostgreSQL with --postgres), and `GET /api/v1/risk/departments` at 10,000 people against
    /// `GET /healthz`.
    Risk(bench_risk::RiskBenchArgs),
    /// QPQ drills: queueing an email drill to 10,000 synthetic people, and delivering it through a real
    /// SMTP server (aiosmtpd) against the same messages sent straight through one SMTP transport.
    Drills(bench_drills::DrillsBenchArgs),
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(a) => demo::run(a.listen, a.db, a.credentials_out).await,
        Command::Serve(a) => {
            let log_json = a.log_json.then_some(true);
            let overrides =
                Overrides { listen: a.listen, secret_file: a.secret_file, log_json, ..Overrides::default() };
            let settings = a.common.settings_with(overrides)?;
            serve::init_logging(settings.log_json);
            serve::run(settings).await
        }
        Command::Migrate(common) => {
            let settings = common.settings()?;
            open_store(&settings.db).await?;
            outln!("migrations applied to {}", settings.redacted_db());
            Ok(())
        }
        Command::Token(TokenCommand::Create { common, service: Some(name), scope, json, .. }) => {
            let app = cli_app(&common.settings()?).await?;
            let (service, token) =
                bonafide_app::resources::create_service_token(&app, &name, &scope).await.map_err(input_error)?;
            if json {
                outln!(
                    "{}",
                    serde_json::json!({"service": service.name, "scopes": service.scopes, "api_token": token.reveal()})
                );
            } else {
                outln!("service token for {} (shown once, store it safely):\n{}", service.name, token.reveal());
            }
            Ok(())
        }
        Command::Token(TokenCommand::Create { common, email, label, json, .. }) => {
            let email = email.unwrap_or_default();
            let app = cli_app(&common.settings()?).await?;
            let created = bonafide_app::account::create_token(&app, Acting::Operator, &email, &label)
                .await
                .map_err(input_error)?;
            let (email, token) = (created.email, created.token);
            if json {
                outln!(
                    "{}",
                    serde_json::json!({"email": email.as_str(), "label": created.label, "api_token": token.reveal()})
                );
            } else {
                outln!("API token for {email} (shown once, store it safely):\n{}", token.reveal());
            }
            Ok(())
        }
        Command::Import(a) => {
            let settings = a.common.settings()?;
            import::run(&settings, &a.file, a.skip_invalid, a.json).await
        }
        Command::Report(a) => report(a).await,
        Command::Scan(a) => scan::run_scan(a),
        Command::Eval(a) => scan::run_eval(a),
        Command::Train(a) => crate::train::run(a),
        Command::Backup { common, out, json } => backup::run_backup(&common.settings()?, &out, json).await,
        Command::Restore { file, common, json } => backup::run_restore(&common.settings()?, &file, json).await,
        Command::Audit(AuditCommand::Verify { common, json }) => {
            let app = cli_app(&common.settings()?).await?;
            let bar = crate::progress::bar(None, "entries", json);
            let verdict =
                bonafide_app::audit::verify(&app, |n| bar.set_position(u64::try_from(n).unwrap_or(0))).await?;
            bar.finish_and_clear();
            if json {
                outln!("{}", serde_json::to_string(&verdict)?);
            }
            match verdict.broken {
                None => {
                    if !json {
                        outln!("audit log intact: {} entries, every link verified", verdict.entries);
                    }
                    Ok(())
                }
                Some(b) => Err(TamperedError(format!("audit log broken at entry {}: {}", b.seq, b.problem)).into()),
            }
        }
        Command::Policy(PolicyCommand::Show { common, json }) => {
            let app = cli_app(&common.settings()?).await?;
            policy::show(&app, json).await.map_err(input_error)
        }
        Command::Policy(PolicyCommand::Test { common, cases, policies, json }) => {
            let app = cli_app(&common.settings()?).await?;
            policy::test(&app, &cases, policies.as_deref(), json).await
        }
        Command::Policy(PolicyCommand::Set { common, rules, text, effective_at, json }) => {
            let app = cli_app(&common.settings()?).await?;
            policy::set(&app, &rules, &text, effective_at.as_deref(), json).await
        }
        Command::Bench(BenchCommand::Api(a)) => bench::run_api(a).await,
        Command::Bench(BenchCommand::Portal(a)) => bench_portal::run_portal(a).await,
        Command::Bench(BenchCommand::Correlate(a)) => bench_correlate::run_correlate(a).await,
        Command::Bench(BenchCommand::Analyze(a)) => bench_analyze::run_analyze(a),
        Command::Bench(BenchCommand::Authorize(a)) => bench_authorize::run_authorize(a).await,
        Command::Bench(BenchCommand::Risk(a)) => bench_risk::run_risk(a).await,
        Command::Bench(BenchCommand::Drills(a)) => bench_drills::run_drills(a).await,
    }
}

/// `bonafide report`: files a report exactly as the API would, as the person named by `--email`.
async fn report(a: ReportArgs) -> anyhow::Result<()> {
    use std::io::Read;
    let settings = a.common.settings()?;
    // Filing correlates, and look-alike senders are judged against the company's domains: read from the
    // directory when not configured, as the server does (no other command needs them).
    let (secret, _) = bonafide_auth::ChallengeSecret::generate();
    let clock = Arc::new(bonafide_domain::SystemClock);
    let app = App::start(open_store(&settings.db).await?, clock, Arc::new(secret), settings.app.clone())
        .await
        .context("reading the directory's domains")?;
    let person = bonafide_app::directory::principal_by_email(&app, &a.email).await.map_err(input_error)?;
    let who = Caller::new(person, "cli", Via::Cli);
    let mut bytes = Vec::new();
    if a.file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("reading standard input")?;
    } else {
        bytes = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
    }
    let is_email = a.eml || a.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"));
    let filed = if is_email {
        bonafide_app::reports::file(&app, &who, Report::default(), Some(&bytes)).await
    } else {
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let report: Report = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let (path, inner) = (e.path().to_string(), e.inner().to_string());
            if e.inner().is_syntax() || e.inner().is_eof() {
                InvalidInputError(format!("not valid JSON: {inner}"))
            } else {
                InvalidInputError(format!("{path}: {inner}"))
            }
        })?;
        bonafide_app::reports::file(&app, &who, report, None).await
    };
    let received = filed.map_err(input_error)?;
    if a.json {
        // The API's answer: absent fields are left out, not null.
        let mut answer = serde_json::Map::new();
        answer.insert("id".into(), received.id.to_string().into());
        if let Some(c) = received.campaign_id {
            answer.insert("campaign_id".into(), c.to_string().into());
        }
        answer.insert("received".into(), true.into());
        if let Some(steps) = received.act_now {
            answer.insert("act_now".into(), steps.into());
        }
        if let Some(practice) = received.practice {
            answer.insert("practice".into(), practice.into());
        }
        outln!("{}", serde_json::Value::Object(answer));
    } else {
        outln!("report received: {}", received.id);
        if let Some(practice) = &received.practice {
            outln!("{practice}");
        }
        if let Some(c) = &received.campaign_id {
            outln!("part of campaign {c}");
        }
        if let Some(steps) = &received.act_now {
            outln!("act now:");
            for s in steps {
                outln!("  - {s}");
            }
        }
    }
    Ok(())
}
