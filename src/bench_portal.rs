//! `bonafide bench portal`: sign-in latency (password step, known and unknown accounts: they must cost
//! the same) and the weight of the portal's pages, over real HTTP on a fresh SQLite demo company.

use crate::demo;
use anyhow::Context;
use bonafide_auth::ChallengeSecret;
use bonafide_domain::SystemClock;
use bonafide_web::{AppState, Application, WebConfig};
use clap::Args;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `bonafide bench portal`.
#[derive(Debug, Args)]
pub struct PortalBenchArgs {
    /// Sign-ins measured per kind (known account, unknown account).
    #[arg(long, default_value_t = 20)]
    signins: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Latency {
    kind: &'static str,
    p50_ms: f64,
    p99_ms: f64,
}

#[derive(Serialize)]
struct PageWeight {
    path: &'static str,
    bytes: usize,
}

#[derive(Serialize)]
struct Report {
    argon2id: &'static str,
    signin: Vec<Latency>,
    pages: Vec<PageWeight>,
}

struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for set in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let Some((name, rest)) = set.to_str().ok().and_then(|s| s.split_once('=')) else { continue };
            let value = rest.split(';').next().unwrap_or("").to_owned();
            self.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value));
            }
        }
    }

    async fn get(&mut self, path: &str) -> anyhow::Result<String> {
        let r = self.client.get(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).send().await?;
        self.keep_cookies(&r);
        Ok(r.text().await?)
    }

    /// One password sign-in; returns its duration and status.
    async fn sign_in(&mut self, email: &str, password: &str) -> anyhow::Result<(Duration, u16)> {
        self.cookies.clear();
        let form = self.get("/signin").await?;
        let csrf = form
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .context("the sign-in form has no CSRF field")?
            .to_owned();
        let start = Instant::now();
        let r = self
            .client
            .post(format!("{}/signin", self.base))
            .header("cookie", self.cookie_header())
            .form(&[("csrf", csrf.as_str()), ("email", email), ("password", password)])
            .send()
            .await?;
        let status = r.status().as_u16();
        self.keep_cookies(&r);
        let _ = r.bytes().await?;
        Ok((start.elapsed(), status))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let idx = ((sorted.len().saturating_sub(1)) as f64 * p).round() as usize;
    sorted.get(idx).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Runs the benchmark.
pub async fn run_portal(args: PortalBenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let store = crate::operator::open_store(&format!("sqlite://{}", dir.path().join("bench.db").display())).await?;
    let now = time::OffsetDateTime::now_utc();
    demo::seed(&store, now).await?;
    let employee = store
        .list_people()
        .await?
        .into_iter()
        .find(|p| p.roles.iter().count() == 1 && p.staff_id.is_none())
        .context("no employee")?;
    let password = "a long bench password for one employee";
    let hash = bonafide_auth::password::hash_password(&secrecy::SecretString::from(password.to_owned()))?;
    store.set_password_hash(employee.id, hash.as_str(), now, &crate::bench::seeded("factor.password_set")).await?;

    let (secret, _) = ChallengeSecret::generate();
    // All sign-ins come from one address: at most 25 unknown-account failures stay under the address
    // throttle (30), so the defaults apply unchanged.
    // Passkeys on, as in any deployment with a public URL, so the pages weighed carry their forms.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let settings = bonafide_app::Settings {
        public_url: crate::serve::local_public_url(listener.local_addr()?),
        ..bonafide_app::Settings::default()
    };
    let app = bonafide_app::App::new(store.clone(), Arc::new(SystemClock), Arc::new(secret), settings);
    let web = WebConfig::default();
    let state = AppState::new(app, web.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(Application::serve(listener, Application::build(state), &web, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let mut b = Browser { client, base, cookies: vec![] };

    let n = args.signins.clamp(1, 25);
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..n {
        let (t, status) = b.sign_in(employee.email.as_str(), password).await?;
        anyhow::ensure!(status == 303, "sign-in answered {status}");
        known.push(t);
        let (t, status) = b.sign_in(&format!("nobody{i}@example.com"), password).await?;
        anyhow::ensure!(status == 401, "an unknown account answered {status}");
        unknown.push(t);
    }
    known.sort_unstable();
    unknown.sort_unstable();

    b.sign_in(employee.email.as_str(), password).await?;
    let mut pages = Vec::new();
    for path in ["/signin", "/", "/contact", "/staff?query=IT", "/account", "/assets/app.css", "/assets/app.js"] {
        let body = if path == "/signin" {
            let mut anonymous = Browser { client: b.client.clone(), base: b.base.clone(), cookies: vec![] };
            anonymous.get(path).await?
        } else {
            b.get(path).await?
        };
        pages.push(PageWeight { path, bytes: body.len() });
    }
    let _ = stop.send(());
    let _ = server.await;

    let report = Report {
        argon2id: "m=19456 KiB, t=2, p=1",
        signin: vec![
            Latency { kind: "known account", p50_ms: percentile(&known, 0.5), p99_ms: percentile(&known, 0.99) },
            Latency { kind: "unknown account", p50_ms: percentile(&unknown, 0.5), p99_ms: percentile(&unknown, 0.99) },
        ],
        pages,
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        outln!("Sign-in, password step over HTTP (Argon2id {}), {n} each:", report.argon2id);
        for l in &report.signin {
            outln!("  {:<16} p50 {:>7.1} ms   p99 {:>7.1} ms", l.kind, l.p50_ms, l.p99_ms);
        }
        outln!("Page weights (HTML or asset, before images):");
        for p in &report.pages {
            outln!("  {:<18} {:>7} bytes", p.path, p.bytes);
        }
    }
    Ok(())
}
