//! Typed identifiers and parsed identity values (emails, staff ids, request keys).

use crate::InvalidInput;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// Identifies a person in the directory.
    PersonId
);
uuid_id!(
    /// Identifies one contact check.
    CheckId
);
uuid_id!(
    /// Identifies one announced outreach.
    OutreachId
);
uuid_id!(
    /// Identifies one report of a suspicious contact.
    ReportId
);
uuid_id!(
    /// Identifies a cluster of reports, and the campaign it becomes (one id for both).
    CampaignId
);
uuid_id!(
    /// Identifies a webhook.
    WebhookId
);
uuid_id!(
    /// Identifies one webhook delivery (one event for one webhook).
    DeliveryId
);
uuid_id!(
    /// Identifies an API token (its row; the token itself is never stored).
    TokenId
);
uuid_id!(
    /// Identifies a security alert.
    AlertId
);
uuid_id!(
    /// Identifies a QPQ drill.
    DrillId
);
uuid_id!(
    /// Identifies one target of a drill (one person, one message).
    DrillTargetId
);

/// The human key of a support request, `R-1042`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestKey(u64);

impl RequestKey {
    /// The key with number `n`.
    pub fn from_number(n: u64) -> Self {
        Self(n)
    }

    /// The number part of the key.
    pub fn number(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RequestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "R-{}", self.0)
    }
}

impl FromStr for RequestKey {
    type Err = InvalidInput;

    /// Accepts `R-1042`, `r-1042` and `1042`, with surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t.strip_prefix("R-").or_else(|| t.strip_prefix("r-")).unwrap_or(t);
        if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidInput::new("request_key", "a request key looks like R-1042"));
        }
        digits.parse().map(Self).map_err(|_| InvalidInput::new("request_key", "a request key looks like R-1042"))
    }
}

impl Serialize for RequestKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An IT staff id such as `IT-0042`: 1 to 8 letters, a dash, 1 to 8 digits; stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct StaffId(String);

impl StaffId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StaffId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for StaffId {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase();
        let valid = match t.split_once('-') {
            Some((letters, digits)) => {
                (1..=8).contains(&letters.len())
                    && letters.bytes().all(|b| b.is_ascii_uppercase())
                    && (1..=8).contains(&digits.len())
                    && digits.bytes().all(|b| b.is_ascii_digit())
            }
            None => false,
        };
        if valid { Ok(Self(t)) } else { Err(InvalidInput::new("staff_id", "a staff id looks like IT-0042")) }
    }
}

/// A work email address, trimmed and lower-cased.
///
/// The check is deliberately modest (one `@`, a dotted domain, no spaces): the directory is the
/// authority on which addresses exist, not a grammar.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Email {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_lowercase();
        let ok = t.len() <= 254
            && !t.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
            && match t.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if ok {
            Ok(Self(t))
        } else {
            Err(InvalidInput::new("email", format!("`{}` is not an email address", s.trim())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_keys_parse_with_or_without_prefix() {
        assert_eq!("R-1042".parse::<RequestKey>().map(|k| k.number()), Ok(1042));
        assert_eq!(" r-7 ".parse::<RequestKey>().map(|k| k.number()), Ok(7));
        assert_eq!("1042".parse::<RequestKey>().map(|k| k.to_string()), Ok("R-1042".to_owned()));
        for bad in ["", "R-", "R-12a", "X-12", "R--1", "R-1234567890123"] {
            assert!(bad.parse::<RequestKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn staff_ids_are_upper_cased_and_shaped() {
        assert_eq!("it-0042".parse::<StaffId>().map(|s| s.to_string()), Ok("IT-0042".to_owned()));
        for bad in ["IT0042", "IT-", "-0042", "IT-00x2", "ITSUPPORTX-1", "IT-123456789", "ÏT-1"] {
            assert!(bad.parse::<StaffId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_lower_cased_and_need_a_dotted_domain() {
        assert_eq!("  Ana@Example.COM ".parse::<Email>().map(|e| e.to_string()), Ok("ana@example.com".to_owned()));
        for bad in ["ana", "ana@", "@example.com", "ana@example", "a b@example.com", "a@b@c.com", "a@.com"] {
            assert!(bad.parse::<Email>().is_err(), "{bad}");
        }
    }
}
