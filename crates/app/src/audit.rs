//! The audit log: security admins and auditors browse it; the operator verifies its hash chain.

use crate::access::SECURITY_READERS;
use crate::{App, AppError, Caller};
use bonafide_store::{AuditEntry, AuditFilter, AuditVerification, Outcome};

/// The most entries one page shows.
pub const PAGE: i64 = 100;

/// What to show of the log, as typed.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only actions starting with this (`signin`, `check.created`).
    pub action: Option<String>,
    /// Only this actor (email), exactly.
    pub actor: Option<String>,
    /// `ok` or `denied`; anything else shows both.
    pub outcome: Option<String>,
    /// Only entries before this sequence number (the next page back).
    pub before: Option<i64>,
}

/// The filter as it was applied (trimmed, bounded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Action prefix.
    pub action: String,
    /// Actor.
    pub actor: String,
    /// `ok`, `denied` or empty.
    pub outcome: String,
}

/// A page of the log, newest first.
#[derive(Debug, Clone)]
pub struct Page {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// The filter as applied.
    pub filter: Applied,
    /// Where the next (older) page starts, when there is one.
    pub older: Option<i64>,
}

/// A page of entries matching `filter`: security admins and auditors.
pub async fn entries(app: &App, who: &Caller, filter: Filter) -> Result<Page, AppError> {
    app.authorize(who, SECURITY_READERS, "audit.entries").await?;
    let clean = |v: Option<String>| v.map(|s| s.trim().chars().take(120).collect::<String>()).filter(|s| !s.is_empty());
    let outcome = match filter.outcome.as_deref() {
        Some("ok") => Some(Outcome::Ok),
        Some("denied") => Some(Outcome::Denied),
        _ => None,
    };
    let query = AuditFilter {
        action_prefix: clean(filter.action),
        actor: clean(filter.actor),
        before_seq: filter.before,
        outcome,
    };
    let entries = app.store().audit_entries(&query, PAGE).await?;
    let older = entries.last().map(|e| e.seq).filter(|_| i64::try_from(entries.len()).unwrap_or(0) == PAGE);
    let filter = Applied {
        action: query.action_prefix.unwrap_or_default(),
        actor: query.actor.unwrap_or_default(),
        outcome: outcome.map(|o| o.as_str().to_owned()).unwrap_or_default(),
    };
    Ok(Page { entries, filter, older })
}

/// Verifies every link of the chain (the operator, at the command line); `progress` hears how many
/// entries were checked.
pub async fn verify(app: &App, progress: impl FnMut(i64)) -> Result<AuditVerification, AppError> {
    Ok(app.store().verify_audit(progress).await?)
}
