//! Support requests: opened by an employee, the only thing that authorises IT to contact them.

use crate::InvalidInput;
use serde::Serialize;
use std::str::FromStr;

crate::named_enum! {
    /// Where a support request is in its life.
    ///
    /// ```text
    /// open ──assign──▶ assigned ──resolve──▶ resolved ──close──▶ closed
    ///   │                 │ ▲ reassign
    ///   └────cancel───────┴─┘──▶ cancelled
    /// ```
    /// Only an `assigned` request authorises its assignee to contact the requester.
    pub enum RequestStatus {
        /// Waiting for IT to pick it up.
        Open = "open",
        /// A staffer works on it and may contact the requester.
        Assigned = "assigned",
        /// The staffer says it is fixed.
        Resolved = "resolved",
        /// Finished for good.
        Closed = "closed",
        /// Withdrawn by the requester.
        Cancelled = "cancelled",
    }
}

/// A status change that the lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} request cannot be {action}")]
pub struct TransitionError {
    /// The status the request was in.
    pub from: RequestStatus,
    /// What was attempted, in past participle ("assigned", "resolved"...).
    pub action: &'static str,
}

impl RequestStatus {
    /// Whether work is still to be done (open or assigned).
    pub fn is_active(self) -> bool {
        matches!(self, RequestStatus::Open | RequestStatus::Assigned)
    }

    /// The status after assigning (or reassigning) the request.
    pub fn assign(self) -> Result<Self, TransitionError> {
        self.step(self.is_active(), RequestStatus::Assigned, "assigned")
    }

    /// The status after the assignee marks it fixed.
    pub fn resolve(self) -> Result<Self, TransitionError> {
        self.step(self == RequestStatus::Assigned, RequestStatus::Resolved, "resolved")
    }

    /// The status after the requester withdraws it.
    pub fn cancel(self) -> Result<Self, TransitionError> {
        self.step(self.is_active(), RequestStatus::Cancelled, "cancelled")
    }

    /// The status after the requester (or security) closes it.
    pub fn close(self) -> Result<Self, TransitionError> {
        self.step(self != RequestStatus::Cancelled && self != RequestStatus::Closed, RequestStatus::Closed, "closed")
    }

    fn step(self, allowed: bool, to: RequestStatus, action: &'static str) -> Result<Self, TransitionError> {
        if allowed { Ok(to) } else { Err(TransitionError { from: self, action }) }
    }
}

impl FromStr for RequestStatus {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            RequestStatus::Open,
            RequestStatus::Assigned,
            RequestStatus::Resolved,
            RequestStatus::Closed,
            RequestStatus::Cancelled,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| InvalidInput::new("status", format!("unknown request status `{s}`")))
    }
}

/// What a request is about: 1 to 500 characters of text, no control characters but newlines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Summary(String);

impl Summary {
    /// The summary as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Summary {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let len = t.chars().count();
        if len == 0 || len > 500 {
            return Err(InvalidInput::new("summary", "a summary is 1 to 500 characters"));
        }
        if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(InvalidInput::new("summary", "a summary cannot hold control characters"));
        }
        if let Some(c) = crate::text::first_invisible(t) {
            return Err(InvalidInput::new("summary", format!("a summary {}", crate::text::invisible_message(c))));
        }
        Ok(Self(t.to_owned()))
    }
}

/// A short category label (`access`, `hardware`...): 1 to 40 letters, digits, `-` or `_`.
pub fn parse_category(s: &str) -> Result<String, InvalidInput> {
    let t = s.trim().to_ascii_lowercase();
    if (1..=40).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Ok(t)
    } else {
        Err(InvalidInput::new("category", "a category is 1 to 40 letters, digits, `-` or `_`"))
    }
}

#[cfg(test)]
mod tests {
    use super::RequestStatus::*;
    use super::*;

    #[test]
    fn the_lifecycle_allows_exactly_the_drawn_transitions() {
        type Step = fn(RequestStatus) -> Result<RequestStatus, TransitionError>;
        let table: [(&str, Step, [Option<RequestStatus>; 5]); 4] = [
            // from:        Open              Assigned          Resolved      Closed  Cancelled
            ("assign", RequestStatus::assign, [Some(Assigned), Some(Assigned), None, None, None]),
            ("resolve", RequestStatus::resolve, [None, Some(Resolved), None, None, None]),
            ("cancel", RequestStatus::cancel, [Some(Cancelled), Some(Cancelled), None, None, None]),
            ("close", RequestStatus::close, [Some(Closed), Some(Closed), Some(Closed), None, None]),
        ];
        for (name, step, expected) in table {
            for (from, want) in [Open, Assigned, Resolved, Closed, Cancelled].into_iter().zip(expected) {
                assert_eq!(step(from).ok(), want, "{name} from {from}");
            }
        }
    }

    #[test]
    fn summaries_are_trimmed_and_bounded() {
        assert_eq!("  VPN drops  ".parse::<Summary>().map(|s| s.as_str().to_owned()), Ok("VPN drops".to_owned()));
        assert!("   ".parse::<Summary>().is_err());
        assert!("é".repeat(501).parse::<Summary>().is_err());
        assert!("é".repeat(500).parse::<Summary>().is_ok());
        assert!("bell\u{7}".parse::<Summary>().is_err());
    }

    #[test]
    fn categories_are_short_slugs() {
        assert_eq!(parse_category(" Access "), Ok("access".to_owned()));
        assert!(parse_category("no spaces please").is_err());
        assert!(parse_category("").is_err());
    }
}
