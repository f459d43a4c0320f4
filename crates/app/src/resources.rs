//! Access policies: the resources security registers, the Cedar policies that say who may reach them
//! (versioned, validated against the schema Bonafide generates), and decisions on them for the company's
//! other systems. The Cedar work is `bonafide_access`'s; the decisions are [`crate::decisions`]'.

use crate::access::{SECURITY_ADMINS, SECURITY_READERS};
use crate::{Acting, App, AppError, Caller, FieldError};
use bonafide_access::{AccessPolicies, ResourceKind, Sensitivity};
use bonafide_auth::ApiToken;
use bonafide_store::{AccessPolicyRecord, Actor, AuditEvent, Outcome, ResourceRecord, ServiceRecord};

pub use bonafide_access::SCHEMA;

/// The longest access policy text, in bytes.
pub const MAX_POLICIES: usize = 200_000;

/// A resource as security describes it.
#[derive(Debug, Clone, Default)]
pub struct ResourceInput {
    /// Its id: 1 to 64 lower-case letters, digits, `-`, `_` or `.`.
    pub id: String,
    /// `portal`, `database` or `app`.
    pub kind: String,
    /// Its name, 1 to 120 characters.
    pub name: String,
    /// The department that owns it.
    pub owner_department: Option<String>,
    /// `low`, `medium` or `high`.
    pub sensitivity: String,
    /// Tags, each like an id.
    pub tags: Vec<String>,
}

fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

/// Checks `input`, naming each bad field.
fn checked(input: ResourceInput, now: time::OffsetDateTime) -> Result<ResourceRecord, AppError> {
    let mut errors = Vec::new();
    if !is_id(&input.id) {
        errors.push(FieldError::new("id", "1 to 64 lower-case letters, digits, `-`, `_` or `.`"));
    }
    if ResourceKind::from_name(&input.kind).is_none() {
        errors.push(FieldError::new("kind", format!("one of {}", ResourceKind::NAMES.join(", "))));
    }
    if Sensitivity::from_name(&input.sensitivity).is_none() {
        errors.push(FieldError::new("sensitivity", format!("one of {}", Sensitivity::NAMES.join(", "))));
    }
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        errors.push(FieldError::new("name", "1 to 120 printable characters"));
    }
    let owner = input.owner_department.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    if owner.as_ref().is_some_and(|d| d.chars().count() > 120 || d.chars().any(char::is_control)) {
        errors.push(FieldError::new("owner_department", "at most 120 printable characters"));
    }
    if input.tags.len() > 20 {
        errors.push(FieldError::new("tags", "at most 20 tags"));
    }
    for (i, t) in input.tags.iter().enumerate() {
        if !is_id(t) {
            errors.push(FieldError::new(&format!("tags[{i}]"), "1 to 64 lower-case letters, digits, `-`, `_` or `.`"));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(ResourceRecord {
        id: input.id,
        kind: input.kind,
        name,
        owner_department: owner,
        sensitivity: input.sensitivity,
        tags: input.tags,
        created_at: now,
        updated_at: now,
    })
}

fn resource_audit(who: &Caller, action: &'static str, r: &ResourceRecord) -> AuditEvent {
    who.event(action, r.id.clone()).with(serde_json::json!({
        "kind": r.kind, "sensitivity": r.sensitivity, "owner_department": r.owner_department, "via": who.via.as_str(),
    }))
}

/// Registers a resource: security admins.
pub async fn register(app: &App, who: &Caller, input: ResourceInput) -> Result<ResourceRecord, AppError> {
    app.authorize(who, SECURITY_ADMINS, "resources.create").await?;
    let r = checked(input, app.now())?;
    app.store().create_resource(&r, &resource_audit(who, "resource.created", &r)).await.map_err(|e| match e {
        bonafide_store::StoreError::Conflict(why) => AppError::Conflict(why),
        other => other.into(),
    })?;
    Ok(r)
}

/// Every resource: security admins and auditors.
pub async fn list(app: &App, who: &Caller) -> Result<Vec<ResourceRecord>, AppError> {
    app.authorize(who, SECURITY_READERS, "resources.list").await?;
    Ok(app.store().resources().await?)
}

/// Resource `id`: security admins and auditors.
pub async fn get(app: &App, who: &Caller, id: &str) -> Result<ResourceRecord, AppError> {
    app.authorize(who, SECURITY_READERS, "resources.get").await?;
    app.store().resource(id).await?.ok_or(AppError::NotFound)
}

/// Replaces resource `id` with `input` (whose id must be `id` or empty): security admins.
pub async fn update(app: &App, who: &Caller, id: &str, mut input: ResourceInput) -> Result<ResourceRecord, AppError> {
    app.authorize(who, SECURITY_ADMINS, "resources.update").await?;
    if input.id.is_empty() {
        input.id = id.to_owned();
    } else if input.id != id {
        return Err(AppError::field("id", "a resource's id does not change; register a new one"));
    }
    let existing = app.store().resource(id).await?.ok_or(AppError::NotFound)?;
    let r = ResourceRecord { created_at: existing.created_at, ..checked(input, app.now())? };
    if !app.store().update_resource(&r, &resource_audit(who, "resource.updated", &r)).await? {
        return Err(AppError::NotFound);
    }
    Ok(r)
}

/// Removes resource `id`: security admins.
pub async fn delete(app: &App, who: &Caller, id: &str) -> Result<(), AppError> {
    app.authorize(who, SECURITY_ADMINS, "resources.delete").await?;
    let audit = who.event("resource.deleted", id.to_owned()).with(serde_json::json!({ "via": who.via.as_str() }));
    if app.store().delete_resource(id, &audit, app.now()).await? { Ok(()) } else { Err(AppError::NotFound) }
}

/// The access policies in force (none before security writes a version): security admins and auditors.
pub async fn policies(app: &App, who: &Caller) -> Result<Option<AccessPolicyRecord>, AppError> {
    app.authorize(who, SECURITY_READERS, "access_policies.get").await?;
    Ok(app.store().access_policies().await?)
}

/// Compiles `text` against the schema; each error is a field error at its line and column.
pub fn compile(text: &str) -> Result<AccessPolicies, AppError> {
    if text.len() > MAX_POLICIES {
        return Err(AppError::field("policies", format!("at most {MAX_POLICIES} bytes")));
    }
    AccessPolicies::compile(text).map_err(|errors| {
        AppError::Invalid(errors.into_iter().map(|e| FieldError::at("policies", e.line, e.column, e.message)).collect())
    })
}

/// Publishes a new version of the access policies, after validating it (security admins, or the
/// operator): a version that does not compile is refused and the one in force stays.
pub async fn publish(app: &App, by: Acting<'_>, text: &str) -> Result<AccessPolicyRecord, AppError> {
    if let Acting::Person(who) = by {
        app.authorize(who, SECURITY_ADMINS, "access_policies.publish").await?;
    }
    let compiled = compile(text)?;
    let created_by = match by {
        Acting::Person(who) => Some(who.person.id),
        Acting::Operator => None,
    };
    let (actor, via, count) = (by.actor(), by.via(), compiled.len());
    let record = app
        .store()
        .publish_access_policies(text, created_by, app.now(), |n| {
            AuditEvent::new(&actor, "access_policies.published", n.to_string(), Outcome::Ok)
                .with(serde_json::json!({ "version": n, "policies": count, "via": via.as_str() }))
        })
        .await
        .map_err(|e| match e {
            bonafide_store::StoreError::Conflict(why) => AppError::Conflict(why),
            other => other.into(),
        })?;
    Ok(record)
}

/// The scopes a service token may carry.
pub const SERVICE_SCOPES: [&str; 3] = ["authorize", "metrics", "scim"];

/// Makes a token for the machine client `name` with `scopes` (the operator, at the command line: a
/// service is not a person and is made by whoever runs the server). Shown once; stored as SHA-256.
pub async fn create_service_token(
    app: &App,
    name: &str,
    scopes: &[String],
) -> Result<(ServiceRecord, ApiToken), AppError> {
    let mut errors = Vec::new();
    if !is_id(name) {
        errors.push(FieldError::new("service", "1 to 64 lower-case letters, digits, `-`, `_` or `.`"));
    }
    if scopes.is_empty() {
        errors.push(FieldError::new("scope", format!("name at least one scope: {}", SERVICE_SCOPES.join(", "))));
    }
    for s in scopes.iter().filter(|s| !SERVICE_SCOPES.contains(&s.as_str())) {
        errors.push(FieldError::new("scope", format!("unknown scope `{s}`; scopes are {}", SERVICE_SCOPES.join(", "))));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let token = ApiToken::generate();
    let audit = AuditEvent::new(&Actor::system(), "service_token.created", name, Outcome::Ok)
        .with(serde_json::json!({ "scopes": scopes, "via": "cli" }));
    let record = app.store().create_service_token(name, scopes, token.hash().as_str(), app.now(), &audit).await?;
    Ok((record, token))
}
