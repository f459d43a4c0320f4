//! People in the directory: names, roles and status.

use crate::{Email, InvalidInput, PersonId, PhoneNumber, StaffId};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

crate::named_enum! {
    /// What a person may do in Bonafide. Everyone is an employee; the other roles add to that.
    pub enum Role {
        /// Opens requests, verifies contacts, reports.
        Employee = "employee",
        /// Works assigned requests and sees their challenge codes.
        ItStaff = "it_staff",
        /// Runs the directory, policy, alerts and campaigns.
        SecurityAdmin = "security_admin",
        /// Reads the audit log, campaigns and risk; changes nothing.
        Auditor = "auditor",
    }
}

impl Role {}

impl FromStr for Role {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Role::from_name(&t).ok_or_else(|| InvalidInput::new("roles", format!("unknown role `{}`", s.trim())))
    }
}

/// The set of roles a person holds; always contains [`Role::Employee`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    /// Roles from any list; `employee` is added when missing.
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Self {
        let mut set: BTreeSet<Role> = roles.into_iter().collect();
        set.insert(Role::Employee);
        Self(set)
    }

    /// Whether the set holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    /// The roles in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// Parses a list separated by `;`, `,` or `|` (as found in CSV cells).
    pub fn parse_list(s: &str) -> Result<Self, InvalidInput> {
        let roles = s
            .split([';', ',', '|'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Role>, _>>()?;
        Ok(Self::new(roles))
    }
}

crate::named_enum! {
    /// Whether a person may currently act.
    pub enum PersonStatus {
        /// Working normally.
        Active = "active",
        /// Left, on leave or blocked: cannot sign in and is never a genuine caller.
        Suspended = "suspended",
    }
}

impl PersonStatus {}

impl FromStr for PersonStatus {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "active" => Ok(PersonStatus::Active),
            "suspended" | "inactive" => Ok(PersonStatus::Suspended),
            other => Err(InvalidInput::new("status", format!("unknown status `{other}` (active or suspended)"))),
        }
    }
}

/// A person's name as shown in the directory: 1 to 120 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `claimed` names this person: case, accents of spacing and a missing surname are
    /// forgiven ("ana", "Ana  Lopez" and "ANA LOPEZ" all name "Ana Lopez"), other names are not.
    pub fn is_named_by(&self, claimed: &str) -> bool {
        let words = |s: &str| -> Vec<String> { s.split_whitespace().map(str::to_lowercase).collect() };
        let mine = words(&self.0);
        let theirs = words(claimed);
        if theirs.is_empty() {
            return false;
        }
        theirs == mine || (theirs.len() == 1 && mine.first() == theirs.first())
    }
}

impl FromStr for DisplayName {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
        let len = t.chars().count();
        if len == 0 || len > 120 || t.chars().any(char::is_control) {
            return Err(InvalidInput::new("display_name", "a name is 1 to 120 characters"));
        }
        if let Some(c) = crate::text::first_invisible(&t) {
            return Err(InvalidInput::new("display_name", format!("a name {}", crate::text::invisible_message(c))));
        }
        Ok(Self(t))
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_person_is_an_employee() {
        let roles = Roles::new([Role::ItStaff]);
        assert!(roles.has(Role::Employee) && roles.has(Role::ItStaff) && !roles.has(Role::SecurityAdmin));
    }

    #[test]
    fn role_lists_from_csv_cells() {
        let roles = Roles::parse_list("IT-Staff; security admin").map(|r| r.iter().collect::<Vec<_>>());
        assert_eq!(roles, Ok(vec![Role::Employee, Role::ItStaff, Role::SecurityAdmin]));
        assert!(Roles::parse_list("root").is_err());
    }

    #[test]
    fn claimed_names_match_loosely_but_not_other_people() {
        let name: DisplayName = "Ana  Lopez".parse().unwrap();
        assert_eq!(name.as_str(), "Ana Lopez");
        assert!(name.is_named_by("ana lopez") && name.is_named_by("Ana") && name.is_named_by(" ANA   LOPEZ "));
        assert!(!name.is_named_by("Lopez") && !name.is_named_by("Ana Garcia") && !name.is_named_by(""));
    }

    #[test]
    fn names_must_be_printable_and_bounded() {
        assert!("".parse::<DisplayName>().is_err());
        assert!("a\u{7}b".parse::<DisplayName>().is_err());
        assert!("x".repeat(121).parse::<DisplayName>().is_err());
    }
}

crate::named_enum! {
    /// How far a portal session has got through sign-in.
    pub enum SessionStage {
        /// The password was right; a second factor is due.
        SecondFactor = "second_factor",
        /// Signed in, but TOTP enrolment is mandatory and missing: only enrolment is allowed.
        Enrol = "enrol",
        /// Signed in.
        Full = "full",
        /// Signed in through single sign-on whose token asserted the MFA the company demands: full, and
        /// Bonafide's own authenticator is not demanded of this session.
        ProviderMfa = "provider_mfa",
    }
}

/// A person as written to the directory (by import, the demo or an admin).
#[derive(Debug, Clone, PartialEq)]
pub struct NewPerson {
    /// Primary work email; the key for updates.
    pub email: Email,
    /// Name shown everywhere.
    pub display_name: DisplayName,
    /// Department.
    pub department: String,
    /// Job title.
    pub title: String,
    /// Office or city.
    pub location: String,
    /// Works remotely.
    pub remote: bool,
    /// Holds privileged access.
    pub privileged: bool,
    /// Their manager's email; must be in the directory or in the same import.
    pub manager_email: Option<Email>,
    /// Roles.
    pub roles: Roles,
    /// Active or suspended.
    pub status: PersonStatus,
    /// Photo address.
    pub photo_url: Option<String>,
    /// Staff id, for IT staff.
    pub staff_id: Option<StaffId>,
    /// IT team.
    pub team: Option<String>,
    /// Whether the staffer is on duty.
    pub on_duty: bool,
    /// Personal work numbers.
    pub phones: Vec<PhoneNumber>,
    /// Further work emails.
    pub other_emails: Vec<Email>,
    /// Numbers IT calls from (staff only).
    pub official_phones: Vec<PhoneNumber>,
    /// Addresses IT writes from (staff only).
    pub official_addresses: Vec<Email>,
}

impl NewPerson {
    /// An active person with only an email, a name and roles; every other field empty.
    pub fn new(email: Email, display_name: DisplayName, roles: Roles) -> Self {
        Self {
            email,
            display_name,
            department: String::new(),
            title: String::new(),
            location: String::new(),
            remote: false,
            privileged: false,
            manager_email: None,
            roles,
            status: PersonStatus::Active,
            photo_url: None,
            staff_id: None,
            team: None,
            on_duty: false,
            phones: vec![],
            other_emails: vec![],
            official_phones: vec![],
            official_addresses: vec![],
        }
    }
}

/// A signed-in person, as the API sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// Person id.
    pub id: PersonId,
    /// Primary email.
    pub email: Email,
    /// Name.
    pub display_name: DisplayName,
    /// Roles.
    pub roles: Roles,
    /// Department.
    pub department: String,
    /// Staff id, for IT staff.
    pub staff_id: Option<StaffId>,
}

/// A person as the access policies see them: the directory's record with what sign-in knows (factors)
/// and whether they acknowledged the contact policy in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFacts {
    /// Their email, the entity's id.
    pub email: String,
    /// Their department (also a parent group).
    pub department: String,
    /// Their roles (also parent groups).
    pub roles: Vec<String>,
    /// Title.
    pub title: String,
    /// Location.
    pub location: String,
    /// Works remotely.
    pub remote: bool,
    /// Holds privileged access.
    pub privileged: bool,
    /// Whether their account is active; a suspended person is denied everything.
    pub active: bool,
    /// Has an authenticator app.
    pub mfa_enrolled: bool,
    /// Has a passkey.
    pub passkey_enrolled: bool,
    /// Has acknowledged the contact policy in force.
    pub policy_acknowledged: bool,
    /// Their QPQ risk level (`low` … `critical`) in the latest daily snapshot; none before one.
    pub risk_level: Option<String>,
}
