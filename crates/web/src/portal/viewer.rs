//! Who is looking at a page: the signed-in person, their session's CSRF token and stage, and the session
//! itself for the use cases that act on it.

use bonafide_app::Caller;
use bonafide_app::records::{Principal, SessionStage};
use bonafide_app::signin::Current;

/// Who is looking at a page, and the CSRF token their forms carry.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub me: Principal,
    pub csrf: String,
    pub stage: SessionStage,
    /// The session, for the use cases that act on it (sign-in steps, sign-out).
    pub current: Current,
    /// The contact policy version in force when this person has not acknowledged it yet (the banner).
    pub policy_due: Option<u32>,
}

impl Viewer {
    pub(crate) fn of(current: Current) -> Self {
        Self {
            me: current.caller.person.clone(),
            csrf: current.csrf.clone(),
            stage: current.stage,
            current,
            policy_due: None,
        }
    }

    /// The acting person, for use cases.
    pub(crate) fn caller(&self) -> &Caller {
        &self.current.caller
    }
}
