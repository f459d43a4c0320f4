//! The audit log: append-only and hash-chained.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical form (a JSON
//! array of its columns, as stored), starting from 64 zeros. `audit_head` holds the newest sequence
//! number and hash: appending takes that row first (a row lock on PostgreSQL, the write lock on SQLite),
//! so concurrent appenders on any number of instances queue and the chain never forks. Altering,
//! inserting or removing any entry, the newest included, breaks a link that [`Store::verify_audit`]
//! names. (Whoever can rewrite the whole table and the head can forge a consistent chain; exporting the
//! head hash elsewhere now and then anchors it.)

use crate::codec::{from_millis, millis};
use crate::params::{self, Param};
use crate::{HotPath, Store, StoreError, dynamic};
use bonafide_domain::PersonId;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use time::OffsetDateTime;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

bonafide_domain::named_enum! {
    /// How an audited action ended.
    pub enum Outcome {
        /// Done.
        Ok = "ok",
        /// Refused: wrong credentials, missing role or CSRF token, rate limit.
        Denied = "denied",
    }
}

/// Who acted and from where; attached to every event of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// The person, when known.
    pub id: Option<PersonId>,
    /// Their email, or what identifies an unknown actor (`anonymous`, `system`, a typed email).
    pub label: String,
    /// The client's address, when known.
    pub client: String,
}

impl Actor {
    /// Bonafide itself (CLI commands, background work).
    pub fn system() -> Self {
        Self { id: None, label: "system".into(), client: String::new() }
    }
}

/// One security-relevant event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Who did it.
    pub actor: Actor,
    /// What, as `area.verb` (`signin.password`, `check.created`, `token.revoked`, …).
    pub action: &'static str,
    /// What it was done to (an id, a key, an email), or empty.
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Anything else worth keeping (never a secret).
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// An event with no detail.
    pub fn new(actor: &Actor, action: &'static str, target: impl Into<String>, outcome: Outcome) -> Self {
        Self { actor: actor.clone(), action, target: target.into(), outcome, detail: serde_json::Value::Null }
    }

    /// Adds detail.
    #[must_use]
    pub fn with(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who, when known.
    pub actor_id: Option<String>,
    /// Who, as a label.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub target: String,
    /// `ok` or `denied`.
    pub outcome: String,
    /// JSON detail, as stored.
    pub detail: String,
    /// The client's address.
    pub client: String,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl AuditEntry {
    fn link(&self) -> String {
        // The canonical form: a JSON array of the columns, in order, written straight into the hash.
        let canonical = (
            self.seq,
            millis(self.at),
            &self.actor_id,
            &self.actor,
            &self.action,
            &self.target,
            &self.outcome,
            &self.detail,
            &self.client,
        );
        let mut h = HashWriter(Sha256::new());
        h.0.update(self.prev_hash.as_bytes());
        h.0.update(b"\n");
        // Serialising strings and integers into a hasher cannot fail.
        let _ = serde_json::to_writer(&mut h, &canonical);
        hex::encode(h.0.finalize())
    }
}

struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What [`Store::verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    /// Entries checked.
    pub entries: i64,
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
}

/// Where and how the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    /// The first sequence number that does not verify.
    pub seq: i64,
    /// Why, in words.
    pub problem: String,
}

/// Filters for browsing the log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only actions starting with this (`signin`, `check.created`).
    pub action_prefix: Option<String>,
    /// Only this actor label (email), exactly.
    pub actor: Option<String>,
    /// Only entries with `seq` below this (for paging backwards).
    pub before_seq: Option<i64>,
    /// Only this outcome.
    pub outcome: Option<Outcome>,
}

/// Chains `events` after (`head_seq`, `head_hash`) at `at`.
pub(crate) fn chain(head_seq: i64, head_hash: &str, at: OffsetDateTime, events: &[&AuditEvent]) -> Vec<AuditEntry> {
    let mut prev = head_hash.to_owned();
    let mut out = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let mut entry = AuditEntry {
            seq: head_seq + 1 + i64::try_from(i).unwrap_or(i64::MAX - head_seq - 1),
            at,
            actor_id: e.actor.id.map(|p| p.to_string()),
            actor: e.actor.label.clone(),
            action: e.action.to_owned(),
            target: e.target.clone(),
            outcome: e.outcome.as_str().to_owned(),
            detail: if e.detail.is_null() { "{}".to_owned() } else { e.detail.to_string() },
            client: e.actor.client.clone(),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        entry.hash = entry.link();
        prev.clone_from(&entry.hash);
        out.push(entry);
    }
    out
}

/// The columns of `audit_log`, in insert order.
pub(crate) const INSERT_ENTRY: &str = "INSERT INTO audit_log \
    (seq, at, actor_id, actor, action, target, outcome, detail, client, prev_hash, hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// Takes the head for `n` new entries: returns the sequence number and hash before them. Must run in the
/// transaction that inserts them; the UPDATE holds the head until commit.
pub(crate) const TAKE_HEAD: &str = "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash";

/// Moves the head's hash to the newest entry.
pub(crate) const SET_HEAD_HASH: &str = "UPDATE audit_head SET hash = $1 WHERE id = 1";

impl AuditEntry {
    /// The entry's values in the order of [`INSERT_ENTRY`]'s placeholders.
    pub(crate) fn params(&self) -> [Param<'_>; 11] {
        [
            Param::int(self.seq),
            Param::int(millis(self.at)),
            Param::opt_text(self.actor_id.as_deref()),
            Param::text(&self.actor),
            Param::text(&self.action),
            Param::text(&self.target),
            Param::text(&self.outcome),
            Param::text(&self.detail),
            Param::text(&self.client),
            Param::text(&self.prev_hash),
            Param::text(&self.hash),
        ]
    }
}

/// Appends `events` in the open sqlx transaction `tx`. A failure is [`StoreError::Audit`]: the caller's
/// transaction, and the change it holds, must not commit without its entries.
pub(crate) async fn append_in(
    tx: &mut sqlx::AnyConnection,
    events: &[&AuditEvent],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    append_entries(tx, events, at).await.map_err(|e| match e {
        StoreError::Database(e) => StoreError::Audit(e.to_string()),
        other => other,
    })
}

async fn append_entries(
    tx: &mut sqlx::AnyConnection,
    events: &[&AuditEvent],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let head = params::bind(sqlx::query(TAKE_HEAD), &[Param::int(n)]).fetch_one(&mut *tx).await?;
    let (seq, hash): (i64, String) = (head.try_get("seq")?, head.try_get("hash")?);
    let entries = chain(seq - n, &hash, at, events);
    for e in &entries {
        params::bind(sqlx::query(INSERT_ENTRY), &e.params()).execute(&mut *tx).await?;
    }
    if let Some(last) = entries.last() {
        params::bind(sqlx::query(SET_HEAD_HASH), &[Param::text(&last.hash)]).execute(&mut *tx).await?;
    }
    Ok(())
}

fn entry_from(row: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        at: from_millis(row.try_get("at")?)?,
        actor_id: row.try_get("actor_id")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        outcome: row.try_get("outcome")?,
        detail: row.try_get("detail")?,
        client: row.try_get("client")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// Entries read per page while verifying.
const VERIFY_PAGE: i64 = 5000;

impl Store {
    /// The newest audit entry's number. Every change is audited in its own transaction, so this moves
    /// with every change on any instance: what is derived from the data can be kept until it does.
    pub async fn audit_seq(&self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT seq FROM audit_head WHERE id = 1";
        match &self.hot {
            HotPath::Sqlite(lite) => lite.probe_int("audit_seq", SQL),
            HotPath::Postgres(_) => Ok(sqlx::query(SQL).fetch_one(&self.write).await?.try_get("seq")?),
        }
    }

    /// Appends `events` in one transaction.
    pub async fn audit(&self, events: &[AuditEvent], now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        append_in(&mut tx, &events.iter().collect::<Vec<_>>(), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest entries matching `filter`, newest first, at most `limit`.
    pub async fn audit_entries(&self, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = limit.clamp(1, 1000);
        let rows = sqlx::query(dynamic(format!(
            "SELECT * FROM audit_log \
             WHERE ($1 IS NULL OR action LIKE $1 ESCAPE '!') AND ($2 IS NULL OR actor = $2) \
               AND ($3 IS NULL OR seq < $3) AND ($4 IS NULL OR outcome = $4) \
             ORDER BY seq DESC LIMIT {limit}"
        )))
        .bind(
            filter
                .action_prefix
                .as_ref()
                .map(|p| format!("{}%", p.replace('!', "!!").replace('%', "!%").replace('_', "!_"))),
        )
        .bind(filter.actor.clone())
        .bind(filter.before_seq)
        .bind(filter.outcome.map(Outcome::as_str))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(entry_from).collect()
    }

    /// Walks the whole chain in order and reports the first broken link: a row whose hash does not
    /// match its content, whose `prev_hash` is not the previous row's hash, a gap in the sequence, or a
    /// head that does not match the newest row.
    pub async fn verify_audit(&self, mut progress: impl FnMut(i64)) -> Result<AuditVerification, StoreError> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.read).await?;
        let (head_seq, head_hash): (i64, String) = (head.try_get("seq")?, head.try_get("hash")?);
        let (mut expected_seq, mut prev) = (1_i64, GENESIS.to_owned());
        let broken = |seq: i64, problem: String| {
            Ok(AuditVerification { entries: seq - 1, broken: Some(BrokenLink { seq, problem }) })
        };
        loop {
            let rows = sqlx::query(dynamic(format!(
                "SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT {VERIFY_PAGE}"
            )))
            .bind(expected_seq)
            .fetch_all(&self.read)
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let e = entry_from(row)?;
                if e.seq != expected_seq {
                    return broken(expected_seq, format!("entry {expected_seq} is missing"));
                }
                if e.prev_hash != prev {
                    return broken(e.seq, "its previous hash does not match the entry before it".into());
                }
                if e.link() != e.hash {
                    return broken(e.seq, "its content does not match its hash (altered)".into());
                }
                prev = e.hash;
                expected_seq += 1;
            }
            progress(expected_seq - 1);
        }
        let last = expected_seq - 1;
        if last != head_seq {
            return broken(last + 1, format!("the head says {head_seq} entries but {last} were found"));
        }
        if prev != head_hash {
            return broken(last.max(1), "the head hash does not match the newest entry".into());
        }
        Ok(AuditVerification { entries: last, broken: None })
    }
}
