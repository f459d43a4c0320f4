//! A real SMTP server for tests to send to: aiosmtpd (PyPI), run from the virtualenv
//! `target/smtp-venv` that `.ci/run` installs, with a small handler of ours that writes every message it
//! accepts to a file as JSON (envelope, decoded headers, decoded body, raw text).
//!
//! ```ignore
//! use bonafide_app::testing::smtp_sink::SmtpSink;
//!
//! // Under CI=true a missing virtualenv fails the test; elsewhere it prints why and gives None.
//! let Some(sink) = SmtpSink::start_or_skip(&["nobody@example.com"]) else { return };
//! // … send to 127.0.0.1:sink.port() without TLS; RCPT TO nobody@example.com is answered 550 …
//! let got = sink.wait_for(1, Duration::from_secs(5)).await;
//! assert_eq!(got[0].header("Subject"), Some("Your mailbox is full"));
//! assert_eq!(got[0].body.trim_end(), "Bonjour");
//! ```
//!
//! The server stops when the [`SmtpSink`] is dropped.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The handler aiosmtpd runs (`-c bonafide_smtp_sink.Sink`). A message is written before the server
/// answers 250, so a client that got its reply finds the file.
const HANDLER: &str = r#"
import email, email.policy, json, os, pathlib

class Sink:
    def __init__(self):
        self.dir = pathlib.Path(os.environ["BONAFIDE_SMTP_SINK_DIR"])
        self.refuse = {a.strip().lower() for a in os.environ.get("BONAFIDE_SMTP_SINK_REFUSE", "").split(",") if a.strip()}
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": [[k, str(v)] for k, v in msg.items()],
            "body": "" if msg.is_multipart() else msg.get_content().replace("\r\n", "\n"),
            "raw": envelope.content.decode("utf-8", "replace"),
        }
        tmp = self.dir / f".{self.count:06}.json"
        tmp.write_text(json.dumps(record), encoding="utf-8")
        tmp.rename(self.dir / f"{self.count:06}.json")
        return "250 Message accepted for delivery"
"#;

/// One message the server accepted.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The envelope recipients the server accepted (`RCPT TO`).
    pub rcpt_tos: Vec<String>,
    /// The headers in order, decoded (RFC 2047 words as text).
    pub headers: Vec<(String, String)>,
    /// The body, decoded from its transfer encoding and charset, with lines ending in `\n` (empty for a
    /// multipart message: read `raw`).
    pub body: String,
    /// The message as it came over the wire.
    pub raw: String,
}

impl Received {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A running aiosmtpd on 127.0.0.1, stopped on drop.
#[derive(Debug)]
pub struct SmtpSink {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl SmtpSink {
    /// The virtualenv's Python: `<workspace root>/target/smtp-venv/bin/python`.
    pub fn python() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/smtp-venv/bin/python")
    }

    /// Whether aiosmtpd can be imported from [`Self::python`].
    pub fn installed() -> bool {
        Command::new(Self::python())
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// [`Self::start`] when aiosmtpd is installed. When it is not: under `CI=true` this fails the test;
    /// elsewhere it prints how to install it and gives `None`, so the test returns. A sink that is
    /// installed but cannot start fails the test.
    #[expect(clippy::panic, reason = "a helper for tests: a sink that cannot start fails the test")]
    pub fn start_or_skip(refuse: &[&str]) -> Option<Self> {
        if !Self::installed() {
            assert!(std::env::var("CI").is_err(), "CI must run the SMTP tests: install aiosmtpd into target/smtp-venv");
            use std::io::Write as _;
            let _ = std::io::stderr().write_all(
                b"SKIPPED an SMTP test: aiosmtpd is not installed; run `python3 -m venv target/smtp-venv && target/smtp-venv/bin/pip install aiosmtpd` (under CI=true this fails)\n",
            );
            return None;
        }
        Some(Self::start(refuse).unwrap_or_else(|e| panic!("{e}")))
    }

    /// Starts aiosmtpd on a free port of 127.0.0.1, answering `550 no such user` to `RCPT TO` any of
    /// `refuse` (any case), and waits until it accepts connections.
    pub fn start(refuse: &[&str]) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("a directory for the SMTP sink: {e}"))?;
        let (scripts, mail) = (dir.path().join("py"), dir.path().join("mail"));
        for d in [&scripts, &mail] {
            std::fs::create_dir(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        std::fs::write(scripts.join("bonafide_smtp_sink.py"), HANDLER).map_err(|e| format!("the handler: {e}"))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("a free port: {e}"))?
            .port();
        let log = std::fs::File::create(dir.path().join("aiosmtpd.log")).map_err(|e| format!("the log: {e}"))?;
        let child = Command::new(Self::python())
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "bonafide_smtp_sink.Sink"])
            .env("PYTHONPATH", &scripts)
            .env("BONAFIDE_SMTP_SINK_DIR", &mail)
            .env("BONAFIDE_SMTP_SINK_REFUSE", refuse.join(","))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting aiosmtpd with {}: {e}", Self::python().display()))?;
        let mut sink = Self { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = sink.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(sink.dir.path().join("aiosmtpd.log")).unwrap_or_default();
                return Err(format!("aiosmtpd did not start on port {port} ({exited:?}): {log}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(sink)
    }

    /// The port it listens on, at 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message accepted so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        let mail = self.dir.path().join("mail");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&mail)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|x| x == "json") && !is_hidden(p));
        files.sort();
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|text| serde_json::from_str(&text).ok())
            .collect()
    }

    /// The messages once there are at least `n`, or what there is after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn is_hidden(p: &Path) -> bool {
    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
