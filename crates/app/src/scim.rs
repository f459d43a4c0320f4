//! Provisioning by SCIM 2.0 (RFC 7643/7644): an identity provider's service token with the `scim`
//! scope creates, replaces, suspends and deletes people. A delete suspends and hides the person from
//! SCIM; nothing is erased, so their history and the audit trail stay. A suspension ends the person's
//! sessions and revokes their API tokens in the transaction that suspends them. Every change is audited
//! as `scim.*`, with the service as the actor. The wire format is the web crate's; `filter` parses
//! filters and `groups` maps groups to departments and roles.

pub mod filter;
pub mod groups;

use crate::decisions::Service;
use crate::{App, AppError, Caller};
use bonafide_domain::{DisplayName, Email, PersonId, PersonStatus, Roles};
use bonafide_store::{AuditEvent, Outcome, ScimRecord, ScimWrite, StoreError};

/// The scope a service token needs.
pub const SCOPE: &str = "scim";
/// The most resources one page lists.
pub const MAX_COUNT: usize = 200;
/// The page size when the client names none.
pub const DEFAULT_COUNT: usize = 100;
/// The longest text attribute, in characters.
const MAX_TEXT: usize = 254;

/// Why a SCIM operation did not happen, in SCIM's terms (`scimType`).
#[derive(Debug, thiserror::Error)]
pub enum ScimError {
    /// The filter could not be read (400 `invalidFilter`).
    #[error("{0}")]
    InvalidFilter(String),
    /// A value is missing or wrong (400 `invalidValue`).
    #[error("{0}")]
    InvalidValue(String),
    /// A userName or email someone else holds (409 `uniqueness`).
    #[error("{0}")]
    Uniqueness(String),
    /// The resource changed since the client read it (412).
    #[error("the resource changed since it was read: read it again")]
    Precondition,
    /// Anything the use cases say (not found, forbidden, unavailable).
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for ScimError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => ScimError::Uniqueness(m),
            other => ScimError::App(other.into()),
        }
    }
}

/// A user as the provider writes it (POST, PUT, or a PATCH applied to what GET gave).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserInput {
    /// `userName`.
    pub user_name: String,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `emails`: each value and whether it is primary.
    pub emails: Vec<(String, bool)>,
    /// `active` (true when absent).
    pub active: Option<bool>,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// The enterprise extension's `department`.
    pub department: Option<String>,
    /// The enterprise extension's `employeeNumber`.
    pub employee_number: Option<String>,
    /// The enterprise extension's `manager.value`: a person id.
    pub manager: Option<String>,
}

/// One page of users.
#[derive(Debug, Clone)]
pub struct UserPage {
    /// How many match in all.
    pub total: usize,
    /// The index of the first on this page, from 1.
    pub start_index: usize,
    /// This page.
    pub users: Vec<ScimRecord>,
}

/// The userName SCIM shows: the provider's, or the email.
pub fn user_name(r: &ScimRecord) -> String {
    r.user_name.clone().unwrap_or_else(|| r.email.to_string())
}

/// The version of `r` (its ETag, weak): a hash of everything SCIM shows of it, so it changes exactly
/// when the representation does.
pub fn version(r: &ScimRecord) -> String {
    let text = format!(
        "{}|{}|{}|{:?}|{}|{:?}|{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}",
        r.no_primary,
        r.id,
        r.email,
        r.user_name,
        r.display_name,
        r.other_emails,
        r.title,
        r.department,
        r.status.as_str(),
        r.external_id,
        r.employee_number,
        r.manager,
        r.manager_name,
        r.roles
    );
    format!("W/\"{:016x}\"", fnv1a(text.as_bytes()))
}

/// FNV-1a, 64 bits: a version tag needs no cryptographic hash.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// Whether an `If-Match` header value admits `version` (`*`, or a list naming it, weak or strong).
pub fn matches(if_match: &str, version: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").trim().to_owned();
    if_match.split(',').any(|t| t.trim() == "*" || bare(t) == bare(version))
}

/// Lets a service with the `scim` scope go on; otherwise records `access.denied` and refuses.
pub async fn authorize(app: &App, service: &Service, what: &str) -> Result<(), AppError> {
    if service.record.scopes.iter().any(|s| s == SCOPE) {
        return Ok(());
    }
    let event = AuditEvent::new(&service.actor(), "access.denied", what, Outcome::Denied)
        .with(serde_json::json!({ "needs": "the scim scope", "via": "scim" }));
    app.audit_refusal(event).await;
    Err(AppError::Forbidden("this service token does not have the scim scope"))
}

/// Refuses a person's token at the SCIM endpoint (audited): provisioning is for a service's token.
pub async fn refuse_person(app: &App, who: &Caller, what: &str) -> AppError {
    app.refuse(who, what, "SCIM needs a service token with the scim scope").await
}

/// The users matching `filter` (every user when none), `count` from `start_index` (from 1).
pub async fn list(
    app: &App,
    service: &Service,
    filter: Option<&str>,
    start_index: usize,
    count: Option<usize>,
) -> Result<UserPage, ScimError> {
    authorize(app, service, "scim.users.list").await?;
    let filter = filter.map(filter::parse).transpose().map_err(ScimError::InvalidFilter)?;
    let people = app.store().scim_people().await?;
    let matching: Vec<ScimRecord> =
        people.into_iter().filter(|p| filter.as_ref().is_none_or(|f| f.matches(p))).collect();
    let start_index = start_index.max(1);
    let count = count.unwrap_or(DEFAULT_COUNT).min(MAX_COUNT);
    let total = matching.len();
    let users = matching.into_iter().skip(start_index - 1).take(count).collect();
    Ok(UserPage { total, start_index, users })
}

/// User `id`.
pub async fn get(app: &App, service: &Service, id: &str) -> Result<ScimRecord, ScimError> {
    authorize(app, service, "scim.users.get").await?;
    Ok(find(app, id).await?)
}

async fn find(app: &App, id: &str) -> Result<ScimRecord, AppError> {
    let id: PersonId = id.parse().map_err(|_| AppError::NotFound)?;
    app.store().scim_person(id).await?.ok_or(AppError::NotFound)
}

fn text(name: &str, value: Option<&str>) -> Result<Option<String>, ScimError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    if v.chars().count() > MAX_TEXT || v.chars().any(char::is_control) {
        return Err(ScimError::InvalidValue(format!("{name} is at most {MAX_TEXT} printable characters")));
    }
    Ok(Some(v.to_owned()))
}

/// Checks `input` into a write of person `id` (`new` when they are not in the directory) with `roles`.
async fn checked(app: &App, id: PersonId, new: bool, input: &UserInput, roles: Roles) -> Result<ScimWrite, ScimError> {
    let user_name = text("userName", Some(&input.user_name))?
        .ok_or_else(|| ScimError::InvalidValue("userName is required".into()))?;
    let mut emails = Vec::new();
    let mut ordered: Vec<&(String, bool)> = input.emails.iter().filter(|(_, primary)| *primary).collect();
    ordered.extend(input.emails.iter().filter(|(_, primary)| !*primary));
    for (value, _) in ordered {
        let email: Email =
            value.parse().map_err(|_| ScimError::InvalidValue(format!("`{value}` is not an email address")))?;
        if !emails.contains(&email) {
            emails.push(email);
        }
    }
    if emails.is_empty() {
        let from_name = user_name.parse::<Email>().map_err(|_| {
            ScimError::InvalidValue("a user needs an email: give emails, or an email as userName".into())
        })?;
        emails.push(from_name);
    }
    let mut emails = emails.into_iter();
    let email = emails.next().ok_or_else(|| ScimError::InvalidValue("a user needs an email".into()))?;
    let display_name: DisplayName =
        input.display_name.as_deref().filter(|d| !d.trim().is_empty()).unwrap_or(&user_name).parse().map_err(
            |e: bonafide_domain::InvalidInput| ScimError::InvalidValue(format!("displayName: {}", e.message)),
        )?;
    let manager = match text("manager", input.manager.as_deref())? {
        None => None,
        Some(m) => {
            let found = find(app, &m).await.map_err(|_| ScimError::InvalidValue(format!("no user has id `{m}`")))?;
            if found.id == id {
                return Err(ScimError::InvalidValue("a user cannot be their own manager".into()));
            }
            Some(found.id)
        }
    };
    Ok(ScimWrite {
        id,
        new,
        user_name: Some(user_name.clone()).filter(|n| n.to_lowercase() != email.as_str()),
        email,
        display_name,
        other_emails: emails.collect(),
        no_primary: !input.emails.is_empty() && !input.emails.iter().any(|(_, primary)| *primary),
        title: text("title", input.title.as_deref())?.unwrap_or_default(),
        department: text("department", input.department.as_deref())?.unwrap_or_default(),
        status: if input.active.unwrap_or(true) { PersonStatus::Active } else { PersonStatus::Suspended },
        external_id: text("externalId", input.external_id.as_deref())?,
        employee_number: text("employeeNumber", input.employee_number.as_deref())?,
        manager,
        roles,
        deprovisioned: false,
    })
}

/// Who already holds `w`'s email or userName, other than person `w.id`.
async fn holder(app: &App, w: &ScimWrite, user_name: &str) -> Result<Option<(PersonId, bool)>, ScimError> {
    Ok(app.store().scim_holder(&w.email, user_name).await?.filter(|(id, _)| *id != w.id))
}

/// The SCIM attributes `w` changes of `r`, by their SCIM names.
fn changed(r: &ScimRecord, w: &ScimWrite) -> Vec<&'static str> {
    let checks = [
        ("userName", r.user_name != w.user_name),
        ("emails", r.email != w.email || r.other_emails != w.other_emails || r.no_primary != w.no_primary),
        ("displayName", r.display_name != w.display_name),
        ("title", r.title != w.title),
        ("active", r.status != w.status),
        ("externalId", r.external_id != w.external_id),
        ("department", r.department != w.department),
        ("employeeNumber", r.employee_number != w.employee_number),
        ("manager", r.manager != w.manager),
    ];
    checks.into_iter().filter(|(_, c)| *c).map(|(name, _)| name).collect()
}

fn audit(service: &Service, action: &'static str, w: &ScimWrite) -> AuditEvent {
    audit_with(service, action, w, serde_json::Value::Null)
}

fn audit_with(service: &Service, action: &'static str, w: &ScimWrite, changed: serde_json::Value) -> AuditEvent {
    AuditEvent::new(&service.actor(), action, w.email.as_str(), Outcome::Ok).with(serde_json::json!({
        "id": w.id.to_string(),
        "changed": changed,
        "status": w.status.as_str(),
        "department": w.department,
        "roles": w.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "via": "scim",
    }))
}

/// Provisions a user. A userName or email the provider deleted earlier brings that person back (same
/// id and history); one held by a person SCIM lists is a `uniqueness` conflict.
pub async fn create(app: &App, service: &Service, input: &UserInput) -> Result<ScimRecord, ScimError> {
    authorize(app, service, "scim.users.create").await?;
    let mut w = checked(app, PersonId::new(), true, input, Roles::new([])).await?;
    let user_name = input.user_name.trim().to_owned();
    let action = match holder(app, &w, &user_name).await? {
        Some((_, false)) => return Err(ScimError::Uniqueness(format!("{user_name} is already provisioned"))),
        Some((id, true)) => {
            (w.id, w.new) = (id, false);
            if let Some(old) = app.store().person_record(id).await? {
                w.roles = old.roles;
            }
            "scim.user_restored"
        }
        None => "scim.user_created",
    };
    app.store().scim_save(&w, app.now(), &audit(service, action, &w)).await?;
    Ok(find(app, &w.id.to_string()).await?)
}

/// Replaces user `id` with `input` when `if_match` (if given) names its version.
pub async fn replace(
    app: &App,
    service: &Service,
    id: &str,
    input: &UserInput,
    if_match: Option<&str>,
) -> Result<ScimRecord, ScimError> {
    authorize(app, service, "scim.users.replace").await?;
    let current = find(app, id).await?;
    if if_match.is_some_and(|m| !matches(m, &version(&current))) {
        return Err(ScimError::Precondition);
    }
    let w = checked(app, current.id, false, input, current.roles.clone()).await?;
    if holder(app, &w, input.user_name.trim()).await?.is_some() {
        return Err(ScimError::Uniqueness(format!("{} is someone else's", input.user_name.trim())));
    }
    let action = match (current.status, w.status) {
        (PersonStatus::Active, PersonStatus::Suspended) => "scim.user_suspended",
        (PersonStatus::Suspended, PersonStatus::Active) => "scim.user_reactivated",
        _ => "scim.user_replaced",
    };
    let detail = serde_json::json!(changed(&current, &w));
    app.store().scim_save(&w, app.now(), &audit_with(service, action, &w, detail)).await?;
    Ok(find(app, id).await?)
}

/// Deletes user `id` as SCIM sees it: the person is suspended (sessions ended, tokens revoked) and
/// hidden from SCIM; their record and history stay.
pub async fn delete(app: &App, service: &Service, id: &str, if_match: Option<&str>) -> Result<(), ScimError> {
    authorize(app, service, "scim.users.delete").await?;
    let current = find(app, id).await?;
    if if_match.is_some_and(|m| !matches(m, &version(&current))) {
        return Err(ScimError::Precondition);
    }
    let w = ScimWrite {
        id: current.id,
        new: false,
        email: current.email.clone(),
        user_name: current.user_name.clone(),
        display_name: current.display_name.clone(),
        other_emails: current.other_emails.clone(),
        no_primary: current.no_primary,
        title: current.title.clone(),
        department: current.department.clone(),
        status: PersonStatus::Suspended,
        external_id: current.external_id.clone(),
        employee_number: current.employee_number.clone(),
        manager: current.manager,
        roles: current.roles.clone(),
        deprovisioned: true,
    };
    app.store().scim_save(&w, app.now(), &audit(service, "scim.user_deleted", &w)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn if_match_takes_a_star_or_a_list_of_weak_or_strong_tags() {
        let v = "W/\"00ab\"";
        assert!(super::matches("*", v) && super::matches(v, v) && super::matches("\"00ab\"", v));
        assert!(super::matches("W/\"ffff\", W/\"00ab\"", v));
        assert!(!super::matches("W/\"ffff\"", v) && !super::matches("", v));
    }
}
