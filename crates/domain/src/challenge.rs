//! Challenge time steps and what a code is bound to. The code itself is an HMAC computed in the
//! `auth` crate; this module owns the arithmetic of time and the binding, which are policy.

use crate::{OutreachId, PersonId, RequestKey};
use serde::Serialize;
use time::OffsetDateTime;

/// Length of one challenge time step in seconds.
pub const STEP_SECONDS: i64 = 60;

/// Wrong codes allowed on one check before it locks and security is alerted.
pub const MAX_CHALLENGE_ATTEMPTS: u32 = 5;

/// Wrong codes allowed across checks, per employee and per request or outreach, within
/// [`FAILURE_WINDOW_SECONDS`], before verification for it locks and security is alerted. Opening new
/// checks restarts the per-check count, so this is the limit that bounds guessing.
pub const MAX_FAILURES_ACROSS_CHECKS: u32 = 10;

/// The window [`MAX_FAILURES_ACROSS_CHECKS`] counts over: 15 minutes.
pub const FAILURE_WINDOW_SECONDS: i64 = 15 * 60;

/// How long verification stays locked once the limit across checks is reached: one hour.
pub const VERIFICATION_LOCK_SECONDS: i64 = 60 * 60;

/// What wrong codes are counted against across checks: the employee, and the request or outreach the
/// codes were for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardScope {
    /// Every check the employee opens.
    Employee(PersonId),
    /// Every check that a request authorises.
    Request(RequestKey),
    /// Every check that an outreach authorises.
    Outreach(OutreachId),
}

impl GuardScope {
    /// The scopes a wrong code for `subject` counts against.
    pub fn of(subject: &ChallengeSubject) -> [GuardScope; 2] {
        let authority = match subject.authority {
            Authority::Request { key } => GuardScope::Request(key),
            Authority::Outreach { id } => GuardScope::Outreach(id),
        };
        [GuardScope::Employee(subject.employee), authority]
    }

    /// The stored key: `employee:<id>`, `request:<key>` or `outreach:<id>`.
    pub fn key(&self) -> String {
        match self {
            GuardScope::Employee(p) => format!("employee:{p}"),
            GuardScope::Request(k) => format!("request:{k}"),
            GuardScope::Outreach(o) => format!("outreach:{o}"),
        }
    }

    /// What it is, for people: `your checks`, `request REQ-12`, `outreach <id>`.
    pub fn describe(&self) -> String {
        match self {
            GuardScope::Employee(_) => "all of the employee's checks".into(),
            GuardScope::Request(k) => format!("request {k}"),
            GuardScope::Outreach(o) => format!("outreach {o}"),
        }
    }
}

/// A 60-second slice of time; codes change at every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeStep(i64);

impl TimeStep {
    /// The step `at` falls in.
    pub fn at(at: OffsetDateTime) -> Self {
        Self(at.unix_timestamp().div_euclid(STEP_SECONDS))
    }

    /// The steps whose codes are accepted at `now`: the current one, then the previous one (so a code
    /// read out just before it rotates still works).
    pub fn accepted(now: OffsetDateTime) -> [TimeStep; 2] {
        let current = Self::at(now);
        [current, TimeStep(current.0 - 1)]
    }

    /// The step number, as fed to the HMAC.
    pub fn number(self) -> i64 {
        self.0
    }

    /// When the console shows the next code.
    pub fn rotates_at(self) -> OffsetDateTime {
        unix(self.0.saturating_add(1).saturating_mul(STEP_SECONDS))
    }

    /// The last instant (exclusive) at which this step's code is accepted.
    pub fn valid_until(self) -> OffsetDateTime {
        unix(self.0.saturating_add(2).saturating_mul(STEP_SECONDS))
    }
}

fn unix(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// What authorises a staffer to contact an employee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Authority {
    /// An assigned support request opened by the employee.
    Request {
        /// The request's key.
        key: RequestKey,
    },
    /// An approved outreach naming the employee.
    Outreach {
        /// The outreach's id.
        id: OutreachId,
    },
}

/// Everything a challenge code is bound to (besides the time step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeSubject {
    /// The request or outreach that authorises the contact.
    pub authority: Authority,
    /// The IT staffer whose console shows the code.
    pub staffer: PersonId,
    /// The employee who types it in.
    pub employee: PersonId,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn steps_change_on_the_minute_and_the_previous_one_is_accepted() {
        let t = datetime!(2026-11-28 10:00:00 UTC);
        let before = t - time::Duration::seconds(1);
        assert_eq!(TimeStep::at(t).number(), TimeStep::at(before).number() + 1);
        assert_eq!(TimeStep::at(t), TimeStep::at(t + time::Duration::seconds(59)));
        let [current, previous] = TimeStep::accepted(t);
        assert_eq!(current, TimeStep::at(t));
        assert_eq!(previous, TimeStep::at(before));
        assert_eq!(current.rotates_at(), t + time::Duration::seconds(60));
        assert_eq!(previous.valid_until(), t + time::Duration::seconds(60));
    }

    #[test]
    fn a_wrong_code_counts_against_the_employee_and_the_authority() {
        let employee = PersonId::new();
        let key = RequestKey::from_number(12);
        let subject = ChallengeSubject { authority: Authority::Request { key }, staffer: PersonId::new(), employee };
        let [first, second] = GuardScope::of(&subject);
        assert_eq!(first.key(), format!("employee:{employee}"));
        assert_eq!(second.key(), format!("request:{key}"));
        assert_ne!(first.key(), second.key());
    }

    #[test]
    fn steps_before_the_epoch_do_not_collide() {
        let t = datetime!(1969-12-31 23:59:30 UTC);
        assert_eq!(TimeStep::at(t).number(), -1);
    }
}
