//! The IT console: the staffer's live challenge codes, one per open assigned request and per approved
//! outreach in its window, with the queue and the outreach waiting for a second person. IT staff only.

use crate::access::IT_STAFF;
use crate::{App, AppError, Caller};
use bonafide_domain::{Authority, ChallengeSubject, OutreachId, RequestKey, RequestStatus, TimeStep};
use bonafide_store::{Outreach, RequestScope, SupportRequest};
use time::OffsetDateTime;

/// What a live code is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeFor {
    /// An assigned request, with its summary.
    Request {
        /// Its key.
        key: RequestKey,
        /// What it is about.
        summary: String,
    },
    /// An approved outreach in its window, with its reason.
    Outreach {
        /// Its id.
        id: OutreachId,
        /// Why IT contacts the employee.
        reason: String,
    },
}

/// A code the staffer reads out to prove who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCode {
    /// What it authorises.
    pub subject: CodeFor,
    /// The employee's email.
    pub employee_email: String,
    /// The employee's name.
    pub employee_name: String,
    /// The six digits.
    pub code: String,
    /// When the console shows the next code.
    pub rotates_at: OffsetDateTime,
    /// Until when this code is accepted.
    pub valid_until: OffsetDateTime,
}

/// The caller's live codes (IT staff).
pub async fn codes(app: &App, who: &Caller) -> Result<Vec<LiveCode>, AppError> {
    app.authorize(who, IT_STAFF, "console.codes").await?;
    let now = app.now();
    let step = TimeStep::at(now);
    let live = |authority: Authority, employee, subject, email: String, name: String| LiveCode {
        code: app
            .secret()
            .code(&ChallengeSubject { authority, staffer: who.person.id, employee }, step)
            .as_str()
            .to_owned(),
        subject,
        employee_email: email,
        employee_name: name,
        rotates_at: step.rotates_at(),
        valid_until: step.valid_until(),
    };
    let mut out = Vec::new();
    for r in app.store().list_requests(RequestScope::AssignedTo(who.person.id), 500).await? {
        if r.status == RequestStatus::Assigned {
            let subject = CodeFor::Request { key: r.key, summary: r.summary };
            let (email, name) = (r.requester_email.to_string(), r.requester_name.to_string());
            out.push(live(Authority::Request { key: r.key }, r.requester, subject, email, name));
        }
    }
    for o in app.store().live_outreach_by(who.person.id, now).await? {
        if o.window.contains(now) {
            let subject = CodeFor::Outreach { id: o.id, reason: o.reason };
            let (email, name) = (o.employee_email.to_string(), o.employee_name.to_string());
            out.push(live(Authority::Outreach { id: o.id }, o.employee, subject, email, name));
        }
    }
    Ok(out)
}

/// Everything the console page shows.
#[derive(Debug, Clone)]
pub struct Console {
    /// The live codes.
    pub codes: Vec<LiveCode>,
    /// Open, unassigned requests.
    pub queue: Vec<SupportRequest>,
    /// Outreach waiting for a second person.
    pub pending: Vec<Outreach>,
    /// When the page was made.
    pub now: OffsetDateTime,
}

/// The console page's contents (IT staff).
pub async fn console(app: &App, who: &Caller) -> Result<Console, AppError> {
    let codes = codes(app, who).await?;
    let now = app.now();
    let queue = app.store().list_requests(RequestScope::Queue, 50).await?;
    let pending = app.store().pending_outreach(now, 50).await?;
    Ok(Console { codes, queue, pending, now })
}
