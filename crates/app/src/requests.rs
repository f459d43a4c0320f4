//! Support requests: employees open them; IT works them. An assigned request is what authorises its
//! assignee to contact the requester.
//!
//! Visibility: the requester, the assignee and security admins see a request; IT staff also see the open,
//! unassigned queue. Anyone else gets `NotFound`, never `Forbidden`, so keys cannot be probed.

use crate::access::{DISPATCHERS, EVERYONE};
use crate::{App, AppError, Caller};
use bonafide_domain::request::{TransitionError, parse_category};
use bonafide_domain::{Channel, PersonStatus, RequestKey, RequestStatus, Role, StaffId, Summary};
use bonafide_store::{NewRequest, RequestScope, SupportRequest};
use std::collections::BTreeSet;

/// The most requests one listing shows.
pub const LIST_LIMIT: i64 = 500;

/// A request to open, as typed.
#[derive(Debug, Clone, Default)]
pub struct OpenRequest {
    /// What it is about.
    pub summary: String,
    /// A category label (`password_reset`, `hardware`, …).
    pub category: Option<String>,
    /// Channels the requester prefers; empty means any.
    pub channels: BTreeSet<Channel>,
}

/// Opens a request for the caller: every signed-in person.
pub async fn open(app: &App, who: &Caller, input: OpenRequest) -> Result<SupportRequest, AppError> {
    app.authorize(who, EVERYONE, "requests.open").await?;
    let summary: Summary = input.summary.parse()?;
    let category = input.category.as_deref().map(parse_category).transpose()?;
    let new = NewRequest { requester: who.person.id, summary, category, channels: input.channels };
    let event = |key: RequestKey| {
        who.event("request.opened", key.to_string()).with(serde_json::json!({ "via": who.via.as_str() }))
    };
    let created = app.store().create_request(&new, app.now(), event).await?;
    tracing::info!(key = %created.key, "support request opened");
    Ok(created)
}

/// Which requests a listing shows, as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The caller's own.
    Mine,
    /// Assigned to the caller (IT staff, security admins).
    Assigned,
    /// The open, unassigned queue (IT staff, security admins).
    Queue,
    /// Everything (security admins).
    All,
}

impl View {
    /// Its name in a listing's `scope`.
    pub fn as_str(self) -> &'static str {
        match self {
            View::Mine => "mine",
            View::Assigned => "assigned",
            View::Queue => "queue",
            View::All => "all",
        }
    }

    /// The view a person sees when they do not pick one.
    pub fn default_for(who: &Caller) -> Self {
        if who.has(Role::SecurityAdmin) {
            View::All
        } else if who.has(Role::ItStaff) {
            View::Assigned
        } else {
            View::Mine
        }
    }
}

/// Lists requests in `view`, newest first, at most `limit` (capped at [`LIST_LIMIT`]); a view the
/// caller's roles do not allow is refused.
pub async fn list(app: &App, who: &Caller, view: View, limit: i64) -> Result<Vec<SupportRequest>, AppError> {
    app.authorize(who, EVERYONE, "requests.list").await?;
    let dispatcher = DISPATCHERS.allows(&who.person);
    let scope = match view {
        View::Mine => RequestScope::RequestedBy(who.person.id),
        View::Assigned if dispatcher => RequestScope::AssignedTo(who.person.id),
        View::Queue if dispatcher => RequestScope::Queue,
        View::All if who.has(Role::SecurityAdmin) => RequestScope::All,
        View::Assigned | View::Queue | View::All => {
            let what = format!("requests?scope={}", view.as_str());
            return Err(app.refuse(who, &what, "this view is not available to your role").await);
        }
    };
    Ok(app.store().list_requests(scope, limit.clamp(1, LIST_LIMIT)).await?)
}

fn may_see(who: &Caller, r: &SupportRequest) -> bool {
    r.requester == who.person.id
        || r.assignee == Some(who.person.id)
        || who.has(Role::SecurityAdmin)
        || (who.has(Role::ItStaff) && r.status == RequestStatus::Open)
}

/// The request with `key`, if the caller may see it.
pub async fn get(app: &App, who: &Caller, key: &str) -> Result<SupportRequest, AppError> {
    app.authorize(who, EVERYONE, "requests.get").await?;
    let key: RequestKey = key.parse().map_err(|_| AppError::NotFound)?;
    match app.store().request(key).await? {
        Some(r) if may_see(who, &r) => Ok(r),
        _ => Err(AppError::NotFound),
    }
}

/// Assigns request `key` to the staffer `staff_id`: IT staff (open requests and their own) and security
/// admins (any active request).
pub async fn assign(app: &App, who: &Caller, key: &str, staff_id: &str) -> Result<SupportRequest, AppError> {
    app.authorize(who, DISPATCHERS, "requests.assign").await?;
    let staff_id: StaffId = staff_id.parse()?;
    let r = get(app, who, key).await?;
    let card = app.store().staff_card(&staff_id).await?;
    let Some(card) = card.filter(|c| c.status == PersonStatus::Active) else {
        return Err(AppError::field("staff_id", "no active IT staffer has this staff id"));
    };
    if card.person == r.requester {
        return Err(AppError::field("staff_id", "a request cannot be assigned to its own requester"));
    }
    let to = r.status.assign().map_err(|e| AppError::Conflict(e.to_string()))?;
    let event = who
        .event("request.assigned", r.key.to_string())
        .with(serde_json::json!({ "staff_id": staff_id.as_str(), "via": who.via.as_str() }));
    transition(app, &r, to, Some(card.person), event).await
}

type Step = fn(RequestStatus) -> Result<RequestStatus, TransitionError>;

/// A lifecycle change: who may make it, what they are told otherwise, and what it is audited as.
struct Change {
    may: fn(&Caller, &SupportRequest) -> bool,
    refusal: &'static str,
    step: Step,
    action: &'static str,
}

const RESOLVE: Change = Change {
    may: |who, r| r.assignee == Some(who.person.id) || who.has(Role::SecurityAdmin),
    refusal: "only the assignee or a security admin may resolve a request",
    step: RequestStatus::resolve,
    action: "request.resolved",
};

const CANCEL: Change = Change {
    may: |who, r| r.requester == who.person.id,
    refusal: "only the requester may cancel a request",
    step: RequestStatus::cancel,
    action: "request.cancelled",
};

const CLOSE: Change = Change {
    may: |who, r| r.requester == who.person.id || who.has(Role::SecurityAdmin),
    refusal: "only the requester or a security admin may close a request",
    step: RequestStatus::close,
    action: "request.closed",
};

/// Resolves request `key`: its assignee or a security admin.
pub async fn resolve(app: &App, who: &Caller, key: &str) -> Result<SupportRequest, AppError> {
    change(app, who, key, &RESOLVE).await
}

/// Cancels request `key`: its requester only.
pub async fn cancel(app: &App, who: &Caller, key: &str) -> Result<SupportRequest, AppError> {
    change(app, who, key, &CANCEL).await
}

/// Closes request `key`: its requester or a security admin.
pub async fn close(app: &App, who: &Caller, key: &str) -> Result<SupportRequest, AppError> {
    change(app, who, key, &CLOSE).await
}

async fn change(app: &App, who: &Caller, key: &str, c: &Change) -> Result<SupportRequest, AppError> {
    let r = get(app, who, key).await?;
    if !(c.may)(who, &r) {
        return Err(app.refuse(who, &r.key.to_string(), c.refusal).await);
    }
    let to = (c.step)(r.status).map_err(|e| AppError::Conflict(e.to_string()))?;
    let event = who.event(c.action, r.key.to_string()).with(serde_json::json!({ "via": who.via.as_str() }));
    transition(app, &r, to, None, event).await
}

async fn transition(
    app: &App,
    r: &SupportRequest,
    to: RequestStatus,
    assignee: Option<bonafide_domain::PersonId>,
    event: bonafide_store::AuditEvent,
) -> Result<SupportRequest, AppError> {
    let now = app.now();
    if !app.store().transition_request(r.key, r.status, to, assignee, now, &event).await? {
        return Err(AppError::Conflict("the request changed meanwhile; reload and retry".into()));
    }
    tracing::info!(key = %r.key, from = %r.status, to = %to, "support request changed");
    app.store().request(r.key).await?.ok_or(AppError::NotFound)
}
