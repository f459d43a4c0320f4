//! Access policies: the resources security registers, the Cedar policies that say who may reach them
//! (versioned, validated against the schema Bonafide generates), and decisions on them for the company's
//! other systems. The Cedar work is `bonafide_access`'s; this module gathers the directory's facts,
//! authorises and audits.

use crate::access::{SECURITY_ADMINS, SECURITY_READERS};
use crate::{Acting, App, AppError, Caller, FieldError};
use bonafide_access::{AccessPolicies, Action, Network, RequestContextFacts, ResourceFacts, ResourceKind, Sensitivity};
use bonafide_auth::{ApiToken, TokenHash};
use bonafide_store::{AccessPolicyRecord, Actor, AuditEvent, Outcome, ResourceRecord, ServiceRecord};
use std::sync::Arc;

pub use bonafide_access::{Decision, SCHEMA};

/// The compiled access policies held in memory, with their version.
pub(crate) type AccessCache = std::sync::RwLock<Option<(u32, Arc<AccessPolicies>)>>;

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
    app.keep_access_policies(record.version, compiled);
    Ok(record)
}

/// A decision asked for.
#[derive(Debug, Clone)]
pub struct Ask {
    /// The person, by email.
    pub principal: String,
    /// `access`, `admin` or `export`.
    pub action: String,
    /// The resource's id.
    pub resource: String,
    /// Signed in with a second factor.
    pub mfa: bool,
    /// From a managed device.
    pub device_managed: bool,
    /// `office`, `vpn` or `internet`.
    pub network: String,
}

impl App {
    /// The compiled access policies in force (none written: an empty set, which denies everything).
    async fn access_policies_in_force(&self) -> Result<Arc<AccessPolicies>, AppError> {
        let Some(record) = self.store().access_policies().await? else {
            return Ok(Arc::new(compile("")?));
        };
        if let Ok(held) = self.access_cache.read()
            && let Some((version, compiled)) = held.as_ref()
            && *version == record.version
        {
            return Ok(compiled.clone());
        }
        let compiled = compile(&record.policies).map_err(|_| {
            AppError::Internal(bonafide_store::StoreError::Corrupt("stored access policies do not compile".into()))
        })?;
        Ok(self.keep_access_policies(record.version, compiled))
    }

    fn keep_access_policies(&self, version: u32, compiled: AccessPolicies) -> Arc<AccessPolicies> {
        let compiled = Arc::new(compiled);
        if let Ok(mut held) = self.access_cache.write() {
            *held = Some((version, compiled.clone()));
        }
        compiled
    }
}

fn resource_facts(r: &ResourceRecord) -> Result<ResourceFacts, AppError> {
    let corrupt = |what: &str| AppError::Internal(bonafide_store::StoreError::Corrupt(format!("resource {what}")));
    Ok(ResourceFacts {
        id: r.id.clone(),
        name: r.name.clone(),
        kind: ResourceKind::from_name(&r.kind).ok_or_else(|| corrupt("kind"))?,
        sensitivity: Sensitivity::from_name(&r.sensitivity).ok_or_else(|| corrupt("sensitivity"))?,
        owner_department: r.owner_department.clone(),
        tags: r.tags.clone(),
    })
}

/// The scopes a service token may carry.
pub const SERVICE_SCOPES: [&str; 1] = ["authorize"];

/// A machine client, as its token authenticated it.
#[derive(Debug, Clone)]
pub struct Service {
    /// The client and its scopes.
    pub record: ServiceRecord,
    /// Its address as the adapter saw it.
    pub client: String,
}

impl Service {
    fn actor(&self) -> Actor {
        Actor { id: None, label: format!("service:{}", self.record.name), client: self.client.clone() }
    }
}

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

/// The service a presented token belongs to, if it is a service token.
pub async fn authenticate_service(app: &App, token: &str) -> Result<Option<ServiceRecord>, AppError> {
    Ok(app.store().service_by_token(TokenHash::of(token.trim()).as_str()).await?)
}

/// Who asks for a decision: a security admin trying one, or a service with the `authorize` scope.
#[derive(Debug, Clone, Copy)]
pub enum Asker<'a> {
    /// A signed-in person (security admins only).
    Person(&'a Caller),
    /// A machine client.
    Service(&'a Service),
}

/// Decides `ask` by the access policies in force, for a security admin or a service with the
/// `authorize` scope. Every deny, and every allow on a `high` resource, is audited with the deciding
/// policies.
pub async fn authorize(app: &App, by: Asker<'_>, ask: Ask) -> Result<Decision, AppError> {
    let (actor, via) = match by {
        Asker::Person(who) => {
            app.authorize(who, SECURITY_ADMINS, "authorize").await?;
            (who.actor(), who.via.as_str())
        }
        Asker::Service(s) if s.record.scopes.iter().any(|x| x == "authorize") => (s.actor(), "service"),
        Asker::Service(s) => {
            let event = AuditEvent::new(&s.actor(), "access.denied", "authorize", Outcome::Denied)
                .with(serde_json::json!({ "needs": "the authorize scope", "via": "service" }));
            app.audit_refusal(event).await;
            return Err(AppError::Forbidden("this service token does not have the authorize scope"));
        }
    };
    let mut errors = Vec::new();
    let action = Action::from_name(&ask.action);
    if action.is_none() {
        errors.push(FieldError::new("action", format!("one of {}", Action::NAMES.join(", "))));
    }
    let network = Network::from_name(&ask.network);
    if network.is_none() {
        errors.push(FieldError::new("context.network", format!("one of {}", Network::NAMES.join(", "))));
    }
    let now = app.now();
    let contact_policy = app.policy_at(now).await?.version;
    let email = ask.principal.trim().to_lowercase();
    let person = app.store().access_person(&email, contact_policy).await?;
    if person.is_none() {
        errors.push(FieldError::new("principal", "no person in the directory has this email"));
    }
    let resource = app.store().resource(&ask.resource).await?;
    if resource.is_none() {
        errors.push(FieldError::new("resource", "no resource is registered with this id"));
    }
    let (Some(action), Some(network), Some(person), Some(resource)) = (action, network, person, resource) else {
        // An ask that names nobody or nothing known is a deny too, and every deny is audited.
        let event =
            AuditEvent::new(&actor, "access.decided", ask.resource.clone(), Outcome::Denied).with(serde_json::json!({
                "principal": email, "action": ask.action, "allow": false,
                "errors": errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>(), "via": via,
            }));
        app.store().audit(&[event], now).await?;
        return Err(AppError::Invalid(errors));
    };
    let policies = app.access_policies_in_force().await?;
    let context = RequestContextFacts { mfa: ask.mfa, device_managed: ask.device_managed, network, at: now };
    let facts = resource_facts(&resource)?;
    let decision = policies.decide(&person, action, &facts, &context);
    if !decision.allow || facts.sensitivity == Sensitivity::High {
        let outcome = if decision.allow { Outcome::Ok } else { Outcome::Denied };
        let event = AuditEvent::new(&actor, "access.decided", resource.id.clone(), outcome).with(serde_json::json!({
            "principal": email, "action": action.as_str(), "allow": decision.allow, "policies": decision.policies,
            "suspended": decision.suspended, "mfa": ask.mfa, "device_managed": ask.device_managed,
            "network": network.as_str(), "via": via,
        }));
        app.store().audit(&[event], now).await?;
    }
    Ok(decision)
}

/// The circumstances a listing of access assumes.
#[derive(Debug, Clone)]
pub struct Circumstances {
    /// Signed in with a second factor.
    pub mfa: bool,
    /// From a managed device.
    pub device_managed: bool,
    /// `office`, `vpn` or `internet`.
    pub network: String,
}

impl Circumstances {
    fn context(&self, at: time::OffsetDateTime) -> Result<RequestContextFacts, AppError> {
        let network = Network::from_name(&self.network)
            .ok_or_else(|| AppError::field("network", format!("one of {}", Network::NAMES.join(", "))))?;
        Ok(RequestContextFacts { mfa: self.mfa, device_managed: self.device_managed, network, at })
    }
}

/// Every active person the policies in force let `access` resource `id` in `c`, by email: security
/// admins and auditors (who can reach it, before anyone asks).
pub async fn who_can_access(app: &App, who: &Caller, id: &str, c: &Circumstances) -> Result<Vec<String>, AppError> {
    app.authorize(who, SECURITY_READERS, "resources.access").await?;
    let now = app.now();
    let context = c.context(now)?;
    let resource = app.store().resource(id).await?.ok_or(AppError::NotFound)?;
    let facts = resource_facts(&resource)?;
    let policies = app.access_policies_in_force().await?;
    let contact_policy = app.policy_at(now).await?.version;
    let people = app.store().access_people(contact_policy).await?;
    Ok(people
        .into_iter()
        .filter(|p| policies.decide(p, Action::Access, &facts, &context).allow)
        .map(|p| p.email)
        .collect())
}

/// The resources the person with `email` may `access` in `c`, by id: security admins and auditors.
pub async fn what_can_reach(app: &App, who: &Caller, email: &str, c: &Circumstances) -> Result<Vec<String>, AppError> {
    app.authorize(who, SECURITY_READERS, "people.access").await?;
    let now = app.now();
    let context = c.context(now)?;
    let contact_policy = app.policy_at(now).await?.version;
    let person =
        app.store().access_person(&email.trim().to_lowercase(), contact_policy).await?.ok_or(AppError::NotFound)?;
    let policies = app.access_policies_in_force().await?;
    let mut out = Vec::new();
    for r in app.store().resources().await? {
        if policies.decide(&person, Action::Access, &resource_facts(&r)?, &context).allow {
            out.push(r.id);
        }
    }
    Ok(out)
}

/// One case of `bonafide policy test`: an ask and the decision expected.
#[derive(Debug, Clone)]
pub struct Case {
    /// The ask.
    pub ask: Ask,
    /// Whether it should be allowed.
    pub expect_allow: bool,
}

/// What one case gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// Whether the decision was the one expected.
    pub passed: bool,
    /// Allowed or not (none when the case could not be decided).
    pub allowed: Option<bool>,
    /// The deciding policies.
    pub policies: Vec<String>,
    /// Why it could not be decided (an unknown person, resource, action or network).
    pub error: Option<String>,
}

/// Runs `cases` against the access policies in force, or against `policies` (a file not applied yet),
/// on the directory's people and resources: the operator at the command line (nothing is audited; these
/// are tests, not decisions).
pub async fn test_cases(app: &App, policies: Option<&str>, cases: &[Case]) -> Result<Vec<CaseResult>, AppError> {
    let compiled = match policies {
        Some(text) => Arc::new(compile(text)?),
        None => app.access_policies_in_force().await?,
    };
    let now = app.now();
    let contact_policy = app.policy_at(now).await?.version;
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        let ask = &case.ask;
        let failed = |why: String| CaseResult { passed: false, allowed: None, policies: vec![], error: Some(why) };
        let Some(action) = Action::from_name(&ask.action) else {
            out.push(failed(format!("unknown action `{}`", ask.action)));
            continue;
        };
        let context =
            match (Circumstances { mfa: ask.mfa, device_managed: ask.device_managed, network: ask.network.clone() })
                .context(now)
            {
                Ok(c) => c,
                Err(_) => {
                    out.push(failed(format!("unknown network `{}`", ask.network)));
                    continue;
                }
            };
        let Some(person) = app.store().access_person(&ask.principal.trim().to_lowercase(), contact_policy).await?
        else {
            out.push(failed(format!("no person has the email {}", ask.principal)));
            continue;
        };
        let Some(resource) = app.store().resource(&ask.resource).await? else {
            out.push(failed(format!("no resource has the id {}", ask.resource)));
            continue;
        };
        let d = compiled.decide(&person, action, &resource_facts(&resource)?, &context);
        out.push(CaseResult {
            passed: d.allow == case.expect_allow,
            allowed: Some(d.allow),
            policies: d.policies,
            error: None,
        });
    }
    Ok(out)
}
