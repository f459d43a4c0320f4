//! QPQ drills end to end on the real binary: `bonafide serve` sends through a real SMTP server
//! (aiosmtpd, `bonafide_app::testing::smtp_sink`), the landing page and the reports API grade each
//! target, nothing typed on the landing page reaches the database or the logs, a `kill -9` mid-send
//! loses no message and duplicates at most the one in flight, and two instances on one PostgreSQL
//! database never send the same message twice.
//!
//! Needs aiosmtpd in `target/smtp-venv` (`.ci/run` installs it) and, for the two-instance test,
//! PostgreSQL at `BONAFIDE_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/postgres`). Under
//! `CI=true` a missing peer fails the test; elsewhere it is reported and skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use bonafide_app::testing::smtp_sink::{Received, SmtpSink};
use common::{Kill, bonafide};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The challenge secret every server of a test shares: the link tokens are derived from it.
fn secret() -> String {
    "5e".repeat(32)
}

/// Imports `csv` (a file's text) into `db`.
fn import(dir: &Path, db: &str, csv: &str) {
    std::fs::write(dir.join("people.csv"), csv).unwrap();
    let out = bonafide(dir, &["import", "--db", db, "people.csv"]);
    assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
}

/// A new API token of `email` in `db`.
fn token(dir: &Path, db: &str, email: &str) -> String {
    let out = bonafide(dir, &["token", "create", "--db", db, "--email", email, "--json"]);
    assert!(out.status.success(), "token: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["api_token"].as_str().unwrap().to_owned()
}

/// A company of `n` employees `person{i}@example.com` and one security admin, as a CSV.
fn company(n: usize) -> String {
    let mut csv = String::from("email,name,roles,department\nadmin@example.com,Ada Admin,security_admin,Security\n");
    for i in 0..n {
        csv.push_str(&format!("person{i}@example.com,Person {i},,{}\n", ["Finance", "Sales", "Legal"][i % 3]));
    }
    csv
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// How one `bonafide serve` is started.
struct Serve<'a> {
    dir: &'a Path,
    db: &'a str,
    port: u16,
    sink: &'a SmtpSink,
    from: &'a str,
    per_minute: u32,
    /// Its stdout and stderr go to `dir/{name}.out` and `dir/{name}.err` (appended across restarts).
    name: &'a str,
}

impl Serve<'_> {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the server (JSON logs at debug level, the strictest test of what they hold).
    async fn start(&self, client: &reqwest::Client) -> Kill {
        let log = |ext: &str| {
            let path = self.dir.join(format!("{}.{ext}", self.name));
            Stdio::from(std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap())
        };
        let child = Command::new(env!("CARGO_BIN_EXE_bonafide"))
            .args(["serve", "--db", self.db, "--listen", &format!("127.0.0.1:{}", self.port)])
            .current_dir(self.dir)
            .env_remove("BONAFIDE_CONFIG")
            .env("BONAFIDE_SECRET", secret())
            .env("BONAFIDE_PUBLIC_URL", format!("http://localhost:{}", self.port))
            .env("BONAFIDE_SMTP_URL", format!("smtp://127.0.0.1:{}?tls=none", self.sink.port()))
            .env("BONAFIDE_SMTP_FROM", self.from)
            .env("BONAFIDE_DRILL_SENDS_PER_MINUTE", self.per_minute.to_string())
            .env("BONAFIDE_LOG_JSON", "true")
            .env("RUST_LOG", "debug")
            .stdout(log("out"))
            .stderr(log("err"))
            .spawn()
            .unwrap();
        let server = Kill(child);
        common::wait_healthy(client, &self.base()).await;
        server
    }
}

/// The API as one token holder calls it.
struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self.client.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let r = self.client.post(format!("{}{path}", self.base)).bearer_auth(token).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// A form post to the landing page (no token: the link is the credential): status and HTML.
    async fn form(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let r = self.client.post(format!("{}{path}", self.base)).form(fields).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// An email drill of `slow-logins` to `targets`, launched; its id.
    async fn launch(&self, admin: &str, targets: Value) -> String {
        let drill = json!({ "name": "Slow logins", "scenario": "slow-logins", "channel": "email", "targets": targets });
        let (status, created) = self.post("/api/v1/drills", admin, drill).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let (status, launched) = self.post(&format!("/api/v1/drills/{id}/launch"), admin, json!({})).await;
        assert_eq!(status, 200, "{launched}");
        id
    }

    /// The drill's results, per person, by email.
    async fn results(&self, admin: &str, id: &str) -> BTreeMap<String, Value> {
        let (status, r) = self.get(&format!("/api/v1/drills/{id}/results"), admin).await;
        assert_eq!(status, 200, "{r}");
        let people = r["people"].as_array().unwrap_or_else(|| panic!("no people in {r}"));
        people.iter().map(|p| (p["email"].as_str().unwrap().to_owned(), p.clone())).collect()
    }

    /// Waits (up to `secs`) until every target's message is recorded as sent; the results then.
    async fn wait_all_sent(&self, admin: &str, id: &str, secs: u64) -> BTreeMap<String, Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let people = self.results(admin, id).await;
            if people.values().all(|p| p["send_status"] == "sent") {
                return people;
            }
            if Instant::now() > deadline {
                let stuck: Vec<_> = people.iter().filter(|(_, p)| p["send_status"] != "sent").collect();
                panic!("{} messages not sent after {secs} s: {stuck:?}", stuck.len());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn client() -> reqwest::Client {
    bonafide_web::install_tls_provider();
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

/// The recipient of a message the sink got (one per drill message).
fn recipient(m: &Received) -> String {
    assert_eq!(m.rcpt_tos.len(), 1, "one recipient per drill message: {:?}", m.rcpt_tos);
    m.rcpt_tos[0].to_lowercase()
}

/// The messages per recipient, each as its `Message-ID`s.
fn by_recipient(got: &[Received]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in got {
        let id = m.header("Message-ID").unwrap_or_else(|| panic!("no Message-ID:\n{}", m.raw)).to_owned();
        out.entry(recipient(m)).or_default().push(id);
    }
    out
}

/// The link token in a message's text (after `/d/`).
fn token_in(text: &str) -> String {
    let at = text.find("/d/").unwrap_or_else(|| panic!("no link in:\n{text}")) + 3;
    text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// Whether any of `files` holds `needle`, read as bytes.
fn found_in(files: &[PathBuf], needle: &str) -> Vec<PathBuf> {
    let needle = needle.as_bytes();
    files
        .iter()
        .filter(|f| std::fs::read(f).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle)))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_drill_is_sent_through_smtp_graded_and_reported_and_keeps_no_typed_text() {
    let Some(sink) = SmtpSink::start_or_skip(&[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://bonafide.db";
    import(dir.path(), db, &company(3));
    let admin = token(dir.path(), db, "admin@example.com");
    let b_token = token(dir.path(), db, "person1@example.com");
    let client = client();
    let serve = Serve {
        dir: dir.path(),
        db,
        port: free_port(),
        sink: &sink,
        from: "it-desk@example.com",
        per_minute: 600,
        name: "serve",
    };
    let server = serve.start(&client).await;
    let api = Api { client: client.clone(), base: serve.base() };
    let (a, b) = ("person0@example.com", "person1@example.com");
    let id = api.launch(&admin, json!({ "emails": [a, b] })).await;

    let got = sink.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 2, "both emails arrive: {got:?}");
    let mut links = BTreeMap::new();
    for m in &got {
        let to = recipient(m);
        assert_eq!(m.mail_from, "it-desk@example.com");
        assert_eq!(m.header("From"), Some("IT Service Desk <it-desk@example.com>"), "{}", m.raw);
        assert!(m.header("To").is_some_and(|t| t.contains(&to)), "{}", m.raw);
        assert_eq!(m.header("Subject"), Some("Re: slow sign-in on your laptop"));
        let message_id = m.header("Message-ID").unwrap();
        assert!(message_id.starts_with("<drill-") && message_id.ends_with("@localhost>"), "{message_id}");
        let header = m.header("X-Bonafide-Drill").unwrap_or_else(|| panic!("no X-Bonafide-Drill:\n{}", m.raw));
        let (status, v) =
            api.post("/api/v1/drills/verify-header", &admin, json!({ "header": header, "recipient": to })).await;
        assert_eq!((status, &v["genuine"], &v["drill"]), (200, &json!(true), &json!(id)), "{v}");
        let (_, v) = api
            .post("/api/v1/drills/verify-header", &admin, json!({ "header": header, "recipient": "x@example.com" }))
            .await;
        assert_eq!(v["genuine"], false, "the header is bound to its recipient");
        assert!(m.body.contains(&format!("http://localhost:{}/d/", serve.port)), "{}", m.body);
        links.insert(to, (token_in(&m.body), m.body.clone()));
    }
    let (a_link, _) = &links[a];
    let (_, b_text) = &links[b];

    // Employee A: a GET is an open, never a click (scanners and previews fetch links).
    let opened = client.get(format!("{}/d/{a_link}", serve.base())).send().await.unwrap();
    assert_eq!(opened.status(), 200);
    let people = api.results(&admin, &id).await;
    assert!(people[a]["opened_at"].is_string(), "{}", people[a]);
    assert_eq!(people[a]["outcome"], "ignored");
    let (status, _) = api.form(&format!("/d/{a_link}"), &[("username", ""), ("secret", "")]).await;
    assert_eq!(status, 200);
    assert_eq!(api.results(&admin, &id).await[a]["outcome"], "clicked");
    let marker = format!("Typed-{}-Marker", uuid_like());
    let (status, lesson) = api.form(&format!("/d/{a_link}"), &[("username", "person0"), ("secret", &marker)]).await;
    assert_eq!(status, 200);
    assert!(lesson.contains("This was a practice drill"), "{lesson}");
    assert!(!lesson.contains(&marker), "the page does not echo what was typed");
    let people = api.results(&admin, &id).await;
    assert_eq!(people[a]["outcome"], "complied");
    assert_eq!(people[a]["typed_chars"], "person0".len() + marker.len());

    // Employee B reports the email (its sender and its text, link included): a practice run.
    let report = json!({ "channel": "email", "caller_address": "it-desk@example.com", "transcript": b_text });
    let (status, filed) = api.post("/api/v1/reports", &b_token, report).await;
    assert_eq!(status, 201, "{filed}");
    assert!(filed["practice"].is_string(), "{filed}");
    assert!(filed.get("campaign_id").is_none_or(Value::is_null), "{filed}");
    let (status, campaigns) = api.get("/api/v1/campaigns", &admin).await;
    assert_eq!(status, 200, "{campaigns}");
    assert_eq!(campaigns.as_array().map(Vec::len), Some(0), "a drill report joins no campaign: {campaigns}");
    let people = api.results(&admin, &id).await;
    assert_eq!(people[b]["outcome"], "reported");
    assert_eq!(people[a]["outcome"], "complied");
    // The scenario names no sender address, so the From people see is `smtp_from`: a report naming just
    // that sender (no link, no number) is the drill's result too.
    let (status, filed) = api
        .post("/api/v1/reports", &b_token, json!({ "channel": "email", "caller_address": "it-desk@example.com" }))
        .await;
    assert_eq!(status, 201, "{filed}");
    assert!(filed["practice"].is_string(), "{filed}");

    // What A typed is in no database file and no log line; A's email is in the database (the search works).
    drop(server);
    let files: Vec<PathBuf> = ["bonafide.db", "bonafide.db-wal", "bonafide.db-shm", "serve.out", "serve.err"]
        .iter()
        .map(|f| dir.path().join(f))
        .filter(|f| f.exists())
        .collect();
    assert!(found_in(&files, a).iter().any(|f| f.to_string_lossy().contains(".db")), "the control is found");
    assert!(std::fs::metadata(dir.path().join("serve.err")).unwrap().len() > 0, "the server logged something");
    assert_eq!(found_in(&files, &marker), Vec::<PathBuf>::new(), "what was typed was kept");
    assert_eq!(found_in(&files, &secret()), Vec::<PathBuf>::new(), "the secret was written out");
}

/// A value no earlier run wrote anywhere.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{nanos:x}-{}", std::process::id())
}

/// Marks every message a killed server had taken but not recorded as free to take again, as its lease
/// running out (5 minutes later) would; the test does not wait those minutes. How many there were.
fn expire_leases(db_file: &Path) -> usize {
    let db = rusqlite::Connection::open(db_file).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    db.execute("UPDATE drill_targets SET lease_until = 1 WHERE send_status = 'sending'", []).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_while_sending_a_drill_loses_no_message_and_resends_at_most_the_ones_in_flight() {
    let Some(sink) = SmtpSink::start_or_skip(&[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://bonafide.db";
    let employees = 120;
    import(dir.path(), db, &company(employees));
    let admin = token(dir.path(), db, "admin@example.com");
    let client = client();
    // 1,000 a minute: a send every 60 ms, about 7 s for everyone.
    let serve = Serve {
        dir: dir.path(),
        db,
        port: free_port(),
        sink: &sink,
        from: "it-desk@example.com",
        per_minute: 1000,
        name: "serve",
    };
    let mut server = serve.start(&client).await;
    let api = Api { client: client.clone(), base: serve.base() };
    let id = api.launch(&admin, json!({ "all": true })).await;
    let targets = employees + 1;

    let kills = 2;
    for k in 1..=kills {
        // Not a multiple of the 20 messages a sender takes at a time, so a batch is in flight.
        let at = targets * k / (kills + 1) + 7;
        let got = sink.wait_for(at, Duration::from_secs(60)).await;
        assert!(got.len() >= at, "only {} of {targets} messages arrived before kill {k}", got.len());
        drop(server); // SIGKILL, mid-send
        let taken = expire_leases(&dir.path().join("bonafide.db"));
        let _ = std::io::stderr().write_all(
            format!("kill {k}: {} messages at the sink, {taken} taken but not recorded\n", got.len()).as_bytes(),
        );
        server = serve.start(&client).await;
    }
    let people = api.wait_all_sent(&admin, &id, 120).await;
    assert_eq!(people.len(), targets);
    assert!(people.values().all(|p| p["send_status"] == "sent"), "nothing is left queued or sending");
    drop(server);

    // SMTP cannot promise exactly once: a crash after the mail server's 250 and before our commit
    // sends that message again on restart. The honest guarantee is at least once, with the resend
    // carrying the same Message-ID (so mail clients show one message), and at most one such copy per
    // crash (only the message in flight).
    let got = by_recipient(&sink.received());
    let missing: Vec<&String> = people.keys().filter(|e| !got.contains_key(*e)).collect();
    assert!(missing.is_empty(), "never received: {missing:?}");
    for (to, ids) in &got {
        let distinct: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), 1, "{to} got different messages: {ids:?}");
    }
    let extra: usize = got.values().map(|ids| ids.len() - 1).sum();
    let _ = std::io::stderr().write_all(format!("{extra} extra copies after {kills} kills\n").as_bytes());
    // A sender hands over at most 8 messages at once (`drills::sender`), so a crash can leave at most 8
    // accepted but unrecorded; at this rate (a send every 60 ms, each taking less) it is mostly one.
    assert!(extra <= kills * 8, "{extra} extra copies after {kills} kills: {got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_database_send_each_message_exactly_once() {
    let Some(sink) = SmtpSink::start_or_skip(&[]) else { return };
    let pg = match bonafide_store::testing::TestDb::new(bonafide_store::Backend::Postgres).await {
        Ok(pg) => pg,
        Err(e) => {
            assert!(std::env::var("CI").is_err(), "CI must run the two-instance drill test on PostgreSQL: {e}");
            let _ = std::io::stderr()
                .write_all(format!("SKIPPED the two-instance drill test: PostgreSQL is unreachable: {e}\n").as_bytes());
            return;
        }
    };
    // The schema is dropped whether the test passes or not (the servers are killed first).
    let outcome = tokio::spawn(two_instances_send_once(pg.url.clone(), sink)).await;
    pg.drop_db().await;
    if let Err(failed) = outcome {
        std::panic::resume_unwind(failed.into_panic());
    }
}

async fn two_instances_send_once(url: String, sink: SmtpSink) {
    let dir = tempfile::tempdir().unwrap();
    let employees = 100;
    import(dir.path(), &url, &company(employees));
    let admin = token(dir.path(), &url, "admin@example.com");
    let client = client();
    // Each instance has its own From address, so the messages tell which one sent them.
    let (port_a, port_b) = (free_port(), free_port());
    let one = Serve {
        dir: dir.path(),
        db: &url,
        port: port_a,
        sink: &sink,
        from: "a@example.com",
        per_minute: 1200,
        name: "a",
    };
    let two = Serve { port: port_b, from: "b@example.com", name: "b", ..one };
    let (_a, _b) = (one.start(&client).await, two.start(&client).await);
    let api = Api { client: client.clone(), base: one.base() };
    let id = api.launch(&admin, json!({ "all": true })).await;
    let people = api.wait_all_sent(&admin, &id, 120).await;
    // A late duplicate would arrive just after the last record: give it a moment.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received = sink.received();
    let got = by_recipient(&received);
    assert_eq!(got.keys().collect::<Vec<_>>(), people.keys().collect::<Vec<_>>(), "everyone got one");
    let twice: Vec<_> = got.iter().filter(|(_, ids)| ids.len() != 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    let by_a = received.iter().filter(|m| m.mail_from == "a@example.com").count();
    let _ =
        std::io::stderr().write_all(format!("instance a sent {by_a}, b sent {}\n", received.len() - by_a).as_bytes());
    assert!(by_a > 0 && by_a < received.len(), "both instances sent: a {by_a} of {}", received.len());
}
