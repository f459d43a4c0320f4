//! Announced outreach: IT staff propose contacting an employee; another IT staffer or a security admin,
//! never the proposer, approves it. An approved outreach in its window authorises the contact.

use crate::access::{DISPATCHERS, EVERYONE, IT_STAFF};
use crate::{App, AppError, Caller, FieldError};
use bonafide_domain::outreach::{ApprovalError, check_approval};
use bonafide_domain::{Channel, Email, OutreachId, OutreachWindow};
use bonafide_store::{NewOutreach, Outreach};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// The most outreach one listing shows.
pub const LIST_LIMIT: i64 = 200;

/// An outreach proposal, as typed.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// Whom IT wants to contact.
    pub employee_email: String,
    /// Why, in words the employee will read.
    pub reason: String,
    /// How.
    pub channels: BTreeSet<Channel>,
    /// From when.
    pub starts_at: OffsetDateTime,
    /// Until when.
    pub ends_at: OffsetDateTime,
}

/// Proposes outreach by the caller: IT staff.
pub async fn propose(app: &App, who: &Caller, input: Proposal) -> Result<Outreach, AppError> {
    app.authorize(who, IT_STAFF, "outreach.propose").await?;
    let now = app.now();
    let mut errors = Vec::new();
    let mut reject = |field: &str, message: String| errors.push(FieldError::new(field, message));
    let email: Option<Email> = input
        .employee_email
        .trim()
        .parse()
        .map_err(|e: bonafide_domain::InvalidInput| reject("employee_email", e.message))
        .ok();
    let reason = input.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        reject("reason", "a reason is 1 to 500 characters".into());
    } else if let Some(c) = bonafide_domain::text::first_invisible(&reason) {
        reject("reason", format!("a reason {}", bonafide_domain::text::invisible_message(c)));
    }
    if input.channels.is_empty() {
        reject("channels", "name at least one channel".into());
    }
    let window = OutreachWindow::new(input.starts_at, input.ends_at, now).map_err(|e| reject(e.field, e.message)).ok();
    let employee = match &email {
        Some(e) => app.store().person_by_email(e).await?,
        None => None,
    };
    if email.is_some() && employee.is_none() {
        reject("employee_email", "nobody in the directory has this email".into());
    }
    if employee.as_ref().is_some_and(|e| e.id == who.person.id) {
        reject("employee_email", "outreach is for contacting someone else".into());
    }
    let (Some(employee), Some(window), true) = (employee, window, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let new = NewOutreach { staffer: who.person.id, employee: employee.id, reason, channels: input.channels, window };
    let event = |id: OutreachId| {
        who.event("outreach.proposed", id.to_string())
            .with(serde_json::json!({ "employee": employee.email.as_str(), "via": who.via.as_str() }))
    };
    let created = app.store().create_outreach(&new, now, event).await?;
    tracing::info!(id = %created.id, "outreach proposed");
    Ok(created)
}

/// Approves outreach `id` under the four-eyes rule: IT staff or a security admin, never the proposer.
pub async fn approve(app: &App, who: &Caller, id: &str) -> Result<Outreach, AppError> {
    app.authorize(who, DISPATCHERS, "outreach.approve").await?;
    let id: OutreachId = id.parse().map_err(|_| AppError::NotFound)?;
    let o = app.store().outreach(id).await?.ok_or(AppError::NotFound)?;
    let now = app.now();
    match check_approval(o.staffer, who.person.id, &who.person.roles, o.status, &o.window, now) {
        Ok(()) => {}
        Err(ApprovalError::SelfApproval) => {
            return Err(app.refuse(who, &o.id.to_string(), "the proposer cannot approve their own outreach").await);
        }
        Err(ApprovalError::NotAnApprover) => {
            return Err(app.refuse(who, &o.id.to_string(), "only IT staff or security admins approve outreach").await);
        }
        Err(e @ (ApprovalError::AlreadyApproved | ApprovalError::Expired)) => {
            return Err(AppError::Conflict(e.to_string()));
        }
    }
    let event = who.event("outreach.approved", id.to_string()).with(serde_json::json!({ "via": who.via.as_str() }));
    if !app.store().approve_outreach(id, who.person.id, now, &event).await? {
        return Err(AppError::Conflict("this outreach is already approved".into()));
    }
    tracing::info!(%id, "outreach approved");
    app.store().outreach(id).await?.ok_or(AppError::NotFound)
}

/// Which outreach a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Proposed by the caller, or approved and naming them.
    Mine,
    /// Waiting for a second person (IT staff and security admins).
    Pending,
}

/// Lists outreach in `view`, newest first, at most `limit` (capped at [`LIST_LIMIT`]).
pub async fn list(app: &App, who: &Caller, view: View, limit: i64) -> Result<Vec<Outreach>, AppError> {
    app.authorize(who, EVERYONE, "outreach.list").await?;
    let limit = limit.clamp(1, LIST_LIMIT);
    match view {
        View::Mine => Ok(app.store().outreach_for(who.person.id, limit).await?),
        View::Pending if DISPATCHERS.allows(&who.person) => Ok(app.store().pending_outreach(app.now(), limit).await?),
        View::Pending => Err(app.refuse(who, "outreach?scope=pending", "only approvers see pending outreach").await),
    }
}
