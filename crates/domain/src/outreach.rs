//! Announced outreach: the rare contact IT starts itself (a laptop recall), proposed by one staffer,
//! approved by a different person, and shown to the employee before anyone calls.

use crate::{InvalidInput, PersonId, Role, Roles};
use serde::Serialize;
use std::str::FromStr;
use time::{Duration, OffsetDateTime};

/// The longest window an outreach may announce: long windows would turn an announcement into a
/// standing permission.
pub const MAX_WINDOW: Duration = Duration::days(14);

/// How far ahead an outreach may be announced: an announcement for a distant date is no plan anyone can
/// check, and dates near the calendar's end would overflow the arithmetic on them.
pub const MAX_LEAD: Duration = Duration::days(90);

crate::named_enum! {
    /// Where an outreach is in its life.
    pub enum OutreachStatus {
        /// Proposed, waiting for a second person.
        Pending = "pending",
        /// Approved: authorises contact within its window and channels.
        Approved = "approved",
    }
}

impl OutreachStatus {}

impl FromStr for OutreachStatus {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OutreachStatus::from_name(s)
            .ok_or_else(|| InvalidInput::new("status", format!("unknown outreach status `{s}`")))
    }
}

/// When an outreach may happen: `starts_at` inclusive to `ends_at` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutreachWindow {
    /// First instant contact is allowed.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// First instant contact is no longer allowed.
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
}

impl OutreachWindow {
    /// A window that ends after `now`, starts before it ends, starts at most [`MAX_LEAD`] from `now` and
    /// lasts at most [`MAX_WINDOW`].
    pub fn new(starts_at: OffsetDateTime, ends_at: OffsetDateTime, now: OffsetDateTime) -> Result<Self, InvalidInput> {
        // Past the calendar's end nothing can start later than the horizon, so no horizon is no limit.
        if now.checked_add(MAX_LEAD).is_some_and(|horizon| starts_at > horizon) {
            return Err(InvalidInput::new("starts_at", "an outreach starts within 90 days"));
        }
        if ends_at <= starts_at {
            return Err(InvalidInput::new("ends_at", "the window must end after it starts"));
        }
        if ends_at <= now {
            return Err(InvalidInput::new("ends_at", "the window is already over"));
        }
        if ends_at - starts_at > MAX_WINDOW {
            return Err(InvalidInput::new("ends_at", "an outreach window lasts at most 14 days"));
        }
        Ok(Self { starts_at, ends_at })
    }

    /// Whether `at` falls in the window.
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

/// Why a person may not approve an outreach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// The four-eyes rule: the proposer cannot approve their own outreach.
    #[error("the proposer cannot approve their own outreach")]
    SelfApproval,
    /// Only IT staff and security admins approve outreach.
    #[error("only IT staff or security admins approve outreach")]
    NotAnApprover,
    /// It was approved already.
    #[error("this outreach is already approved")]
    AlreadyApproved,
    /// Its window is over.
    #[error("this outreach window is over")]
    Expired,
}

/// Decides whether `approver` may approve an outreach proposed by `proposer`.
pub fn check_approval(
    proposer: PersonId,
    approver: PersonId,
    approver_roles: &Roles,
    status: OutreachStatus,
    window: &OutreachWindow,
    now: OffsetDateTime,
) -> Result<(), ApprovalError> {
    if !(approver_roles.has(Role::ItStaff) || approver_roles.has(Role::SecurityAdmin)) {
        return Err(ApprovalError::NotAnApprover);
    }
    if proposer == approver {
        return Err(ApprovalError::SelfApproval);
    }
    if status == OutreachStatus::Approved {
        return Err(ApprovalError::AlreadyApproved);
    }
    if window.ends_at <= now {
        return Err(ApprovalError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-28 10:00 UTC);

    #[test]
    fn windows_must_be_ordered_current_and_short() {
        assert!(OutreachWindow::new(NOW, NOW + Duration::hours(2), NOW).is_ok());
        assert!(OutreachWindow::new(NOW, NOW, NOW).is_err());
        assert!(OutreachWindow::new(NOW - Duration::hours(3), NOW - Duration::hours(1), NOW).is_err());
        assert!(OutreachWindow::new(NOW, NOW + Duration::days(15), NOW).is_err());
        let w = OutreachWindow::new(NOW, NOW + Duration::hours(1), NOW).unwrap();
        assert!(w.contains(NOW) && !w.contains(NOW + Duration::hours(1)) && !w.contains(NOW - Duration::seconds(1)));
    }

    #[test]
    fn windows_start_within_90_days_even_at_the_end_of_the_calendar() {
        assert!(OutreachWindow::new(NOW + MAX_LEAD, NOW + MAX_LEAD + Duration::hours(1), NOW).is_ok());
        let late = NOW + MAX_LEAD + Duration::minutes(1);
        assert_eq!(OutreachWindow::new(late, late + Duration::hours(1), NOW).unwrap_err().field, "starts_at");
        let end = datetime!(9999-12-31 23:00 UTC);
        assert!(OutreachWindow::new(end, end + Duration::minutes(30), end - Duration::days(1)).is_ok());
        assert!(OutreachWindow::new(end, end + Duration::minutes(30), end + Duration::minutes(10)).is_ok());
    }

    #[test]
    fn approval_needs_a_second_person_with_the_right_role() {
        let (a, b) = (PersonId::new(), PersonId::new());
        let w = OutreachWindow::new(NOW, NOW + Duration::hours(1), NOW).unwrap();
        let it = Roles::new([Role::ItStaff]);
        let sec = Roles::new([Role::SecurityAdmin]);
        let emp = Roles::new([]);
        use OutreachStatus::*;
        assert_eq!(check_approval(a, b, &it, Pending, &w, NOW), Ok(()));
        assert_eq!(check_approval(a, b, &sec, Pending, &w, NOW), Ok(()));
        assert_eq!(check_approval(a, a, &it, Pending, &w, NOW), Err(ApprovalError::SelfApproval));
        assert_eq!(check_approval(a, b, &emp, Pending, &w, NOW), Err(ApprovalError::NotAnApprover));
        assert_eq!(check_approval(a, b, &it, Approved, &w, NOW), Err(ApprovalError::AlreadyApproved));
        assert_eq!(check_approval(a, b, &it, Pending, &w, NOW + Duration::hours(2)), Err(ApprovalError::Expired));
    }
}
