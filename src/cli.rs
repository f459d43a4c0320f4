//! Command-line arguments and dispatch.

use crate::settings::{Overrides, Settings};
use crate::{
    InvalidInputError, TamperedError, bench, bench_analyze, bench_correlate, bench_portal, demo, import, scan, serve,
};
use anyhow::Context;
use bonafide_auth::ApiToken;
use bonafide_domain::Email;
use bonafide_store::{Actor, AuditEvent, Outcome, Store};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

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
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
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
    /// Database URL: sqlite://FILE or postgres://USER@HOST/DB.
    #[arg(long, env = "BONAFIDE_DB")]
    pub db: Option<String>,
    /// TOML settings file.
    #[arg(long, env = "BONAFIDE_CONFIG")]
    pub config: Option<PathBuf>,
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
    /// Address to listen on.
    #[arg(long, env = "BONAFIDE_LISTEN")]
    listen: Option<String>,
    /// File holding the challenge secret (64+ hex characters).
    #[arg(long, env = "BONAFIDE_SECRET_FILE")]
    secret_file: Option<PathBuf>,
    /// Log as JSON lines.
    #[arg(long)]
    log_json: bool,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token for a person; it is shown once.
    Create {
        #[command(flatten)]
        common: CommonArgs,
        /// The person's email.
        #[arg(long)]
        email: String,
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
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(a) => demo::run(a.listen, a.db, a.credentials_out).await,
        Command::Serve(a) => {
            let overrides = Overrides { db: a.common.db, listen: a.listen, secret_file: a.secret_file };
            let settings = Settings::load(a.common.config.as_deref(), overrides)?;
            serve::init_logging(a.log_json || settings.log_json);
            serve::run(settings).await
        }
        Command::Migrate(common) => {
            let settings =
                Settings::load(common.config.as_deref(), Overrides { db: common.db, ..Overrides::default() })?;
            let store = connect(&settings.db).await?;
            store.migrate().await.context("applying migrations")?;
            outln!("migrations applied to {}", settings.redacted_db());
            Ok(())
        }
        Command::Token(TokenCommand::Create { common, email, label, json }) => {
            let settings =
                Settings::load(common.config.as_deref(), Overrides { db: common.db, ..Overrides::default() })?;
            let store = connect(&settings.db).await?;
            store.migrate().await.context("applying migrations")?;
            let email: Email =
                email.parse().map_err(|e: bonafide_domain::InvalidInput| InvalidInputError(e.message))?;
            let person = store
                .person_by_email(&email)
                .await?
                .ok_or_else(|| InvalidInputError(format!("nobody in the directory has the email {email}")))?;
            let token = ApiToken::generate();
            let now = time::OffsetDateTime::now_utc();
            store.create_token(person.id, token.hash().as_str(), &label, now).await?;
            let event = AuditEvent::new(&Actor::system(), "token.created", email.as_str(), Outcome::Ok)
                .with(serde_json::json!({ "label": label, "via": "cli" }));
            store.audit(&[event], now).await?;
            if json {
                outln!("{}", serde_json::json!({"email": email.as_str(), "label": label, "api_token": token.reveal()}));
            } else {
                outln!("API token for {email} (shown once, store it safely):\n{}", token.reveal());
            }
            Ok(())
        }
        Command::Import(a) => {
            let settings =
                Settings::load(a.common.config.as_deref(), Overrides { db: a.common.db, ..Overrides::default() })?;
            import::run(&settings, &a.file, a.skip_invalid, a.json).await
        }
        Command::Report(a) => report(a).await,
        Command::Scan(a) => scan::run_scan(a),
        Command::Eval(a) => scan::run_eval(a),
        Command::Train(a) => crate::train::run(a),
        Command::Audit(AuditCommand::Verify { common, json }) => {
            let settings =
                Settings::load(common.config.as_deref(), Overrides { db: common.db, ..Overrides::default() })?;
            let store = connect(&settings.db).await?;
            store.migrate().await.context("applying migrations")?;
            let bar = crate::progress::bar(None, "entries", json);
            let verdict = store.verify_audit(|n| bar.set_position(u64::try_from(n).unwrap_or(0))).await?;
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
        Command::Bench(BenchCommand::Api(a)) => bench::run_api(a).await,
        Command::Bench(BenchCommand::Portal(a)) => bench_portal::run_portal(a).await,
        Command::Bench(BenchCommand::Correlate(a)) => bench_correlate::run_correlate(a).await,
        Command::Bench(BenchCommand::Analyze(a)) => bench_analyze::run_analyze(a),
    }
}

/// Connects to the database, with a message that says which one failed.
pub async fn connect(url: &str) -> anyhow::Result<Store> {
    Store::connect(url).await.with_context(|| format!("cannot open the database {}", crate::settings::redact(url)))
}

/// `bonafide report`: files a report exactly as the API would, as the person named by `--email`.
async fn report(a: ReportArgs) -> anyhow::Result<()> {
    use std::io::Read;
    let settings = Settings::load(a.common.config.as_deref(), Overrides { db: a.common.db, ..Overrides::default() })?;
    let store = connect(&settings.db).await?;
    store.migrate().await.context("applying migrations")?;
    let email: Email = a.email.parse().map_err(|e: bonafide_domain::InvalidInput| InvalidInputError(e.message))?;
    let person = store
        .person_by_email(&email)
        .await?
        .filter(|p| p.status == bonafide_domain::PersonStatus::Active)
        .ok_or_else(|| InvalidInputError(format!("nobody active in the directory has the email {email}")))?;
    let mut bytes = Vec::new();
    if a.file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("reading standard input")?;
    } else {
        bytes = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
    }
    let is_email = a.eml || a.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"));
    let input = if is_email { bonafide_web::ReportInput::Email(bytes) } else { bonafide_web::ReportInput::Json(bytes) };
    let mut web = settings.web;
    if web.company_domains.is_empty() {
        web.company_domains = store.email_domains().await?;
    }
    // Filing a report uses no key; the state still wants one.
    let (secret, _) = bonafide_auth::ChallengeSecret::generate();
    let state = bonafide_web::AppState::new(
        store.clone(),
        std::sync::Arc::new(secret),
        std::sync::Arc::new(bonafide_domain::SystemClock),
        std::sync::Arc::new(web),
    );
    let principal = bonafide_store::Principal::from(person);
    let received = bonafide_web::file_report(&state, &principal, input).await.map_err(|e| match e {
        bonafide_web::error::ApiError::Invalid(errors) => InvalidInputError(
            errors.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
        )
        .into(),
        bonafide_web::error::ApiError::MalformedBody(m) => InvalidInputError(m).into(),
        other => anyhow::Error::from(other),
    })?;
    if a.json {
        outln!("{received}");
    } else {
        let field = |name: &str| received.get(name);
        outln!("report received: {}", field("id").and_then(serde_json::Value::as_str).unwrap_or_default());
        if let Some(c) = field("campaign_id").and_then(serde_json::Value::as_str) {
            outln!("part of campaign {c}");
        }
        if let Some(steps) = field("act_now").and_then(serde_json::Value::as_array) {
            outln!("act now:");
            for s in steps {
                outln!("  - {}", s.as_str().unwrap_or_default());
            }
        }
    }
    Ok(())
}
