//! Challenge time steps and what a code is bound to. The code itself is an HMAC computed in the
//! `auth` crate; this module owns the arithmetic of time and the binding, which are policy.

use crate::{OutreachId, PersonId, RequestKey};
use serde::Serialize;
use time::OffsetDateTime;

/// Length of one challenge time step in seconds.
pub const STEP_SECONDS: i64 = 60;

/// Wrong codes allowed on one check before it locks and security is alerted.
pub const MAX_CHALLENGE_ATTEMPTS: u32 = 5;

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
    fn steps_before_the_epoch_do_not_collide() {
        let t = datetime!(1969-12-31 23:59:30 UTC);
        assert_eq!(TimeStep::at(t).number(), -1);
    }
}
