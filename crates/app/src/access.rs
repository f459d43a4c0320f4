//! Who is acting, and what their roles let them do.
//!
//! The role sets are defined once here. Every use case names the set it serves and calls
//! [`App::authorize`]; the adapters' gates (the API's and the portal's extractors) name the same sets
//! through [`Serves`] and call the same function, so a page and its API route cannot disagree, and every
//! refusal is audited by the one function that decides it.

use crate::{App, AppError};
use bonafide_auth::TokenHash;
use bonafide_domain::Role;
use bonafide_store::{Actor, AuditEvent, Outcome, Principal};

bonafide_domain::named_enum! {
    /// How the caller reached Bonafide; recorded with what they did.
    pub enum Via {
        /// The JSON API, with a bearer token.
        Api = "api",
        /// The portal, with a session cookie.
        Portal = "portal",
        /// The command line, run by an operator on the person's behalf.
        Cli = "cli",
    }
}

/// The acting person: who they are (as authenticated), where from and how.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The signed-in person.
    pub person: Principal,
    /// The client's address as the adapter saw it (empty when unknown).
    pub client: String,
    /// The adapter.
    pub via: Via,
}

impl Caller {
    /// `person` acting through `via` from `client`.
    pub fn new(person: Principal, client: impl Into<String>, via: Via) -> Self {
        Self { person, client: client.into(), via }
    }

    /// Whether the person has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.person.roles.has(role)
    }

    /// The audit log's view of this caller.
    pub(crate) fn actor(&self) -> Actor {
        Actor { id: Some(self.person.id), label: self.person.email.to_string(), client: self.client.clone() }
    }

    /// An audit event by this caller.
    pub(crate) fn event(&self, action: &'static str, target: impl Into<String>) -> AuditEvent {
        AuditEvent::new(&self.actor(), action, target, Outcome::Ok)
    }
}

/// Who makes a change that the operator may also make from the command line (imports, tokens): a
/// signed-in person, whose roles are checked, or the operator, whose access to the server and its
/// database is the authorisation.
#[derive(Debug, Clone, Copy)]
pub enum Acting<'a> {
    /// A signed-in person.
    Person(&'a Caller),
    /// The operator at the command line (recorded as `system`).
    Operator,
}

impl Acting<'_> {
    /// The audit log's view of whoever acts.
    pub(crate) fn actor(&self) -> Actor {
        match self {
            Acting::Person(who) => who.actor(),
            Acting::Operator => Actor::system(),
        }
    }

    /// How they reached Bonafide.
    pub(crate) fn via(&self) -> Via {
        match self {
            Acting::Person(who) => who.via,
            Acting::Operator => Via::Cli,
        }
    }
}

/// Someone not signed in, as the audit log names them: `anonymous`, or the email they typed.
pub(crate) fn anonymous(client: &str, label: Option<&str>) -> Actor {
    Actor { id: None, label: label.unwrap_or("anonymous").chars().take(254).collect(), client: client.to_owned() }
}

/// A set of roles a use case or page serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleSet {
    /// Who, in words: "IT staff", "security admins and auditors".
    pub who: &'static str,
    /// What a refused person is told.
    pub refusal: &'static str,
    /// Any of these roles is enough; empty means every signed-in person.
    roles: &'static [Role],
}

impl RoleSet {
    /// Whether `person` is in the set.
    pub fn allows(&self, person: &Principal) -> bool {
        self.roles.is_empty() || self.roles.iter().any(|r| person.roles.has(*r))
    }
}

/// Every signed-in person (everyone is an employee).
pub const EVERYONE: RoleSet = RoleSet { who: "signed-in people", refusal: "sign in first", roles: &[] };
/// IT staff.
pub const IT_STAFF: RoleSet =
    RoleSet { who: "IT staff", refusal: "only IT staff may do this", roles: &[Role::ItStaff] };
/// Security admins.
pub const SECURITY_ADMINS: RoleSet =
    RoleSet { who: "security admins", refusal: "only security admins may do this", roles: &[Role::SecurityAdmin] };
/// Those who read security data (campaigns, everyone's reports, the audit log): security admins and auditors.
pub const SECURITY_READERS: RoleSet = RoleSet {
    who: "security admins and auditors",
    refusal: "only security admins and auditors may read this",
    roles: &[Role::SecurityAdmin, Role::Auditor],
};
/// Those who assign requests and approve outreach: IT staff and security admins.
pub const DISPATCHERS: RoleSet = RoleSet {
    who: "IT staff and security admins",
    refusal: "only IT staff or security admins may do this",
    roles: &[Role::ItStaff, Role::SecurityAdmin],
};

/// A role set as a type, so an adapter's gate can name it in a handler's signature
/// (`Api<ItStaff>`, `Page<SecurityReaders>`).
pub trait Serves: Send + Sync + 'static {
    /// The set.
    const ROLES: RoleSet;
}

/// [`EVERYONE`] as a type.
#[derive(Debug)]
pub struct Everyone;
/// [`IT_STAFF`] as a type.
#[derive(Debug)]
pub struct ItStaff;
/// [`SECURITY_ADMINS`] as a type.
#[derive(Debug)]
pub struct SecurityAdmins;
/// [`SECURITY_READERS`] as a type.
#[derive(Debug)]
pub struct SecurityReaders;
/// [`DISPATCHERS`] as a type.
#[derive(Debug)]
pub struct Dispatchers;

impl Serves for Everyone {
    const ROLES: RoleSet = EVERYONE;
}
impl Serves for ItStaff {
    const ROLES: RoleSet = IT_STAFF;
}
impl Serves for SecurityAdmins {
    const ROLES: RoleSet = SECURITY_ADMINS;
}
impl Serves for SecurityReaders {
    const ROLES: RoleSet = SECURITY_READERS;
}
impl Serves for Dispatchers {
    const ROLES: RoleSet = DISPATCHERS;
}

/// What an adapter refused before any use case ran, for the audit log.
#[derive(Debug, Clone, Copy)]
pub enum Refusal<'a> {
    /// A form without its CSRF token, or with a wrong one, at `path`.
    Csrf {
        /// Where it was posted.
        path: &'a str,
    },
    /// A session cookie that names no live session, at `path`.
    ExpiredSession {
        /// What was asked for.
        path: &'a str,
    },
}

impl App {
    /// Lets `who` go on when `roles` allows them; otherwise records `access.denied` for `what` (a path or
    /// a use case) and refuses with the set's reason.
    pub async fn authorize(&self, who: &Caller, roles: RoleSet, what: &str) -> Result<(), AppError> {
        if roles.allows(&who.person) {
            return Ok(());
        }
        let event = AuditEvent::new(&who.actor(), "access.denied", what, Outcome::Denied)
            .with(serde_json::json!({ "needs": roles.who, "via": who.via.as_str() }));
        self.audit_refusal(event).await;
        Err(AppError::Forbidden(roles.refusal))
    }

    /// Refuses `who` what they may not do to `what` although they may see it (a request that is not theirs
    /// to close, their own outreach to approve, a view their roles do not open), recording
    /// `access.denied`: every refusal is audited from here or [`App::authorize`].
    pub(crate) async fn refuse(&self, who: &Caller, what: &str, why: &'static str) -> AppError {
        let event = AuditEvent::new(&who.actor(), "access.denied", what, Outcome::Denied)
            .with(serde_json::json!({ "why": why, "via": who.via.as_str() }));
        self.audit_refusal(event).await;
        AppError::Forbidden(why)
    }

    /// The person an API token belongs to, if it is live and they are active.
    pub async fn authenticate_token(&self, token: &str) -> Result<Option<Principal>, AppError> {
        let hash = TokenHash::of(token.trim());
        Ok(self.store().principal_by_token(hash.as_str()).await?)
    }

    /// Records what an adapter refused: `by` when a person is known, else the client (and the email
    /// typed, when there was one).
    pub async fn record_refusal(&self, by: Option<&Caller>, client: &str, typed: Option<&str>, what: Refusal<'_>) {
        let actor = by.map_or_else(|| anonymous(client, typed), Caller::actor);
        let event = match what {
            Refusal::Csrf { path } => AuditEvent::new(&actor, "csrf.rejected", path, Outcome::Denied),
            Refusal::ExpiredSession { path } => AuditEvent::new(&actor, "session.rejected", path, Outcome::Denied)
                .with(serde_json::json!({ "why": "expired or unknown session" })),
        };
        self.audit_refusal(event).await;
    }

    /// Appends a refusal on its own. A refusal changes nothing, so when the log cannot take it the
    /// refusal still stands; the failure is logged.
    pub(crate) async fn audit_refusal(&self, event: AuditEvent) {
        if let Err(e) = self.store().audit(&[event], self.now()).await {
            tracing::error!(error = %e, "could not append to the audit log");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bonafide_domain::{PersonId, Roles};

    fn person(roles: &[Role]) -> Principal {
        Principal {
            id: PersonId::new(),
            email: "a@example.com".parse().unwrap(),
            display_name: "A".parse().unwrap(),
            roles: Roles::new(roles.iter().copied()),
            department: String::new(),
            staff_id: None,
        }
    }

    #[test]
    fn each_role_set_admits_exactly_its_roles() {
        let employee = person(&[]);
        let it = person(&[Role::ItStaff]);
        let admin = person(&[Role::SecurityAdmin]);
        let auditor = person(&[Role::Auditor]);
        let table: [(RoleSet, [bool; 4]); 5] = [
            (EVERYONE, [true, true, true, true]),
            (IT_STAFF, [false, true, false, false]),
            (SECURITY_ADMINS, [false, false, true, false]),
            (SECURITY_READERS, [false, false, true, true]),
            (DISPATCHERS, [false, true, true, false]),
        ];
        for (set, expected) in table {
            let got = [&employee, &it, &admin, &auditor].map(|p| set.allows(p));
            assert_eq!(got, expected, "{}", set.who);
        }
    }
}
