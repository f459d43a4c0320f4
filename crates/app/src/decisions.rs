//! Access decisions: the ask of another system (or of a security admin trying one), decided by the
//! access policies in force on the directory's facts, and the listings that show who can reach what
//! before anyone asks.

use crate::access::{SECURITY_ADMINS, SECURITY_READERS};
use crate::resources::compile;
use crate::risk::day_of;
use crate::{App, AppError, Caller, FieldError};
use bonafide_access::{
    AccessPolicies, Action, Directory, Network, PersonFacts, RequestContextFacts, ResourceFacts, ResourceKind,
    Sensitivity,
};
use bonafide_auth::TokenHash;
use bonafide_store::{AccessCount, Actor, AuditEvent, Outcome, ResourceRecord, ServiceRecord};
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;

pub use bonafide_access::Decision;

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

/// What decisions read, as of one generation of the directory: the people and resources as Cedar
/// entities, the compiled policies in force and the contact policy version whose acknowledgement counts.
#[derive(Debug)]
pub struct Snapshot {
    generation: i64,
    /// When a scheduled contact policy version comes into force (acknowledgements then count anew).
    until: Option<OffsetDateTime>,
    policies_version: u32,
    policies: Arc<AccessPolicies>,
    directory: Directory,
    /// The unrevoked service tokens, by hash.
    services: HashMap<String, ServiceRecord>,
    /// Decisions made on this snapshot, by what decides them (see [`AccessPolicies::time_slot`]).
    decided: std::sync::RwLock<HashMap<Asked, Decision>>,
}

/// What a decision depends on besides the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Asked {
    principal: String,
    action: Action,
    resource: String,
    mfa: bool,
    device_managed: bool,
    network: Network,
    slot: i64,
}

/// Whom to tell once a decision's audit entry is written.
type Written = tokio::sync::oneshot::Sender<Result<(), String>>;

/// Most decisions a snapshot keeps before it starts afresh.
const MAX_DECIDED: usize = 100_000;

impl Snapshot {
    /// The policies' decision, made once per snapshot and time slot: the same person asking for the
    /// same resource in the same circumstances (every page a proxy serves them) is not decided again.
    fn decide(
        &self,
        person: &PersonFacts,
        action: Action,
        resource: &ResourceFacts,
        context: &RequestContextFacts,
    ) -> Decision {
        let asked = Asked {
            principal: person.email.clone(),
            action,
            resource: resource.id.clone(),
            mfa: context.mfa,
            device_managed: context.device_managed,
            network: context.network,
            slot: self.policies.time_slot(context.at),
        };
        if let Some(d) = self.decided.read().ok().and_then(|d| d.get(&asked).cloned()) {
            return d;
        }
        let d = self.policies.decide(&self.directory, person, action, resource, context);
        if let Ok(mut decided) = self.decided.write() {
            if decided.len() >= MAX_DECIDED {
                decided.clear();
            }
            decided.insert(asked, d.clone());
        }
        d
    }

    /// The people and resources as Cedar entities.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The compiled policies in force.
    pub fn policies(&self) -> &AccessPolicies {
        &self.policies
    }
}

/// The directory and the policies as decisions read them now, for the operator's own tools at the
/// command line (`bench authorize` measures Cedar alone on them).
pub async fn snapshot(app: &App) -> Result<Arc<Snapshot>, AppError> {
    app.access_snapshot().await
}

/// A machine client, as its token authenticated it.
#[derive(Debug, Clone)]
pub struct Service {
    /// The client and its scopes.
    pub record: ServiceRecord,
    /// Its address as the adapter saw it.
    pub client: String,
}

impl Service {
    pub(crate) fn actor(&self) -> Actor {
        Actor { id: None, label: format!("service:{}", self.record.name), client: self.client.clone() }
    }
}

/// The service a presented token belongs to, if it is a service token.
pub async fn authenticate_service(app: &App, token: &str) -> Result<Option<ServiceRecord>, AppError> {
    service_by_hash(app, TokenHash::of(token.trim()).as_str()).await
}

/// The service whose token hashes to `hash`, from the snapshot (a new or revoked token changes it).
async fn service_by_hash(app: &App, hash: &str) -> Result<Option<ServiceRecord>, AppError> {
    Ok(app.access_snapshot().await?.services.get(hash).cloned())
}

/// The snapshot in force and the allows counted since the last flush.
#[derive(Debug, Default)]
pub(crate) struct AccessCache {
    snapshot: std::sync::RwLock<Option<Arc<Snapshot>>>,
    /// One rebuild at a time; the others wait for it.
    building: tokio::sync::Mutex<()>,
    counts: std::sync::Mutex<HashMap<(String, String, Action), i64>>,
    /// Decisions' audit entries waiting to be written, each with whom to tell once it is.
    audits: std::sync::Mutex<Vec<(AuditEvent, Written)>>,
    /// One writer of those at a time.
    auditing: tokio::sync::Mutex<()>,
}

impl App {
    /// The snapshot of the directory's current generation, read afresh when the directory has changed on
    /// any instance (or a scheduled contact policy version has come into force).
    async fn access_snapshot(&self) -> Result<Arc<Snapshot>, AppError> {
        let generation = self.store().directory_generation().await?;
        let fresh = |now: OffsetDateTime| {
            let held = self.access_cache.snapshot.read().ok()?.clone()?;
            (held.generation == generation && held.until.is_none_or(|u| now < u)).then_some(held)
        };
        if let Some(s) = fresh(self.now()) {
            return Ok(s);
        }
        let _one = self.access_cache.building.lock().await;
        if let Some(s) = fresh(self.now()) {
            return Ok(s);
        }
        let now = self.now();
        let contact = self.policy_at(now).await?.version;
        let until =
            self.store().policy_versions().await?.into_iter().map(|v| v.effective_at).filter(|at| *at > now).min();
        let record = self.store().access_policies().await?;
        let previous = self.access_cache.snapshot.read().ok().and_then(|s| s.clone());
        let policies_version = record.as_ref().map_or(0, |r| r.version);
        let policies = match (previous, record) {
            (Some(p), _) if p.policies_version == policies_version => p.policies.clone(),
            (_, None) => Arc::new(compile("")?),
            (_, Some(r)) => Arc::new(compile(&r.policies).map_err(|_| {
                AppError::Internal(bonafide_store::StoreError::Corrupt("stored access policies do not compile".into()))
            })?),
        };
        let people = self.store().access_people(contact).await?;
        let resources = self.store().resources().await?.iter().map(resource_facts).collect::<Result<Vec<_>, _>>()?;
        let services = self.store().services().await?.into_iter().collect();
        let directory = tokio::task::spawn_blocking(move || Directory::build(people, resources))
            .await
            .map_err(|e| {
                AppError::Internal(bonafide_store::StoreError::Corrupt(format!("building the directory: {e}")))
            })?
            .map_err(|e| {
                AppError::Internal(bonafide_store::StoreError::Corrupt(format!("the directory's entities: {e}")))
            })?;
        let decided = std::sync::RwLock::default();
        let snapshot =
            Arc::new(Snapshot { generation, until, policies_version, policies, directory, services, decided });
        if let Ok(mut held) = self.access_cache.snapshot.write() {
            *held = Some(snapshot.clone());
        }
        Ok(snapshot)
    }

    /// Records a decision's audit entry before it is answered. Entries of concurrent decisions are
    /// written together in one transaction (group commit): each waits for the writer ahead of it, and
    /// the next writer takes every entry queued meanwhile.
    async fn audit_decision(&self, event: AuditEvent) -> Result<(), AppError> {
        let (done, written) = tokio::sync::oneshot::channel();
        if let Ok(mut queued) = self.access_cache.audits.lock() {
            queued.push((event, done));
        }
        // A task of its own, so that a caller who goes away does not take its neighbours' entries along.
        let app = self.clone();
        tokio::spawn(async move {
            let _writer = app.access_cache.auditing.lock().await;
            let batch = app.access_cache.audits.lock().map(|mut q| std::mem::take(&mut *q)).unwrap_or_default();
            if !batch.is_empty() {
                let (events, waiting): (Vec<AuditEvent>, Vec<_>) = batch.into_iter().unzip();
                let result = app.store().audit(&events, app.now()).await.map_err(|e| e.to_string());
                for w in waiting {
                    let _ = w.send(result.clone());
                }
            }
        });
        match written.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(AppError::Internal(bonafide_store::StoreError::Write(e))),
            Err(_) => Err(AppError::Internal(bonafide_store::StoreError::Write("the audit writer stopped".into()))),
        }
    }

    /// Counts an allow that is not audited one by one.
    fn count_allow(&self, day: String, resource: &str, action: Action) {
        if let Ok(mut counts) = self.access_cache.counts.lock() {
            *counts.entry((day, resource.to_owned(), action)).or_default() += 1;
        }
    }

    /// The allows counted since the last flush, taken out.
    fn take_counts(&self) -> Vec<AccessCount> {
        let taken = self.access_cache.counts.lock().map(|mut c| std::mem::take(&mut *c)).unwrap_or_default();
        taken
            .into_iter()
            .map(|((day, resource, action), allows)| AccessCount {
                day,
                resource,
                action: action.as_str().to_owned(),
                allows,
            })
            .collect()
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

/// Writes the allows counted in memory to the store (every instance adds its own).
pub async fn flush_counts(app: &App) -> Result<(), AppError> {
    let counts = app.take_counts();
    if let Err(e) = app.store().add_access_counts(&counts).await {
        // Put them back: they are written with the next flush.
        if let Ok(mut held) = app.access_cache.counts.lock() {
            for c in counts {
                if let Some(action) = Action::from_name(&c.action) {
                    *held.entry((c.day, c.resource, action)).or_default() += c.allows;
                }
            }
        }
        return Err(e.into());
    }
    Ok(())
}

/// How often counted allows are written to the store.
pub const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs [`flush_counts`] every [`FLUSH_INTERVAL`] until the task is dropped.
pub async fn flush_loop(app: App) {
    let mut tick = tokio::time::interval(FLUSH_INTERVAL);
    loop {
        tick.tick().await;
        if let Err(e) = flush_counts(&app).await {
            tracing::warn!(error = %e, "writing the counted access decisions failed; retrying later");
        }
    }
}

/// The allows counted over the last `days` days (today included), by day, resource and action: security
/// admins and auditors. What this instance has not written yet is included.
pub async fn allow_counts(app: &App, who: &Caller, days: u16) -> Result<Vec<AccessCount>, AppError> {
    app.authorize(who, SECURITY_READERS, "access.counts").await?;
    if !(1..=366).contains(&days) {
        return Err(AppError::field("days", "1 to 366"));
    }
    flush_counts(app).await?;
    let since = day_of(app.now() - time::Duration::days(i64::from(days) - 1));
    Ok(app.store().access_counts(&since).await?)
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
    let snapshot = app.access_snapshot().await?;
    let email = ask.principal.trim().to_lowercase();
    let person = snapshot.directory.person(&email);
    if person.is_none() {
        errors.push(FieldError::new("principal", "no person in the directory has this email"));
    }
    let resource = snapshot.directory.resource(&ask.resource);
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
        app.audit_decision(event).await?;
        return Err(AppError::Invalid(errors));
    };
    let context = RequestContextFacts { mfa: ask.mfa, device_managed: ask.device_managed, network, at: now };
    let decision = snapshot.decide(person, action, resource, &context);
    if !decision.allow || resource.sensitivity == Sensitivity::High {
        let outcome = if decision.allow { Outcome::Ok } else { Outcome::Denied };
        let event = AuditEvent::new(&actor, "access.decided", resource.id.clone(), outcome).with(serde_json::json!({
            "principal": email, "action": action.as_str(), "allow": decision.allow, "policies": decision.policies,
            "suspended": decision.suspended, "mfa": ask.mfa, "device_managed": ask.device_managed,
            "network": network.as_str(), "via": via,
        }));
        app.audit_decision(event).await?;
    } else {
        app.count_allow(day_of(now), &resource.id, action);
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
    let context = c.context(app.now())?;
    let s = app.access_snapshot().await?;
    let resource = s.directory.resource(id).ok_or(AppError::NotFound)?;
    Ok(s.directory
        .people()
        .iter()
        .filter(|p| p.active && s.policies.decide(&s.directory, p, Action::Access, resource, &context).allow)
        .map(|p| p.email.clone())
        .collect())
}

/// The resources the person with `email` may `access` in `c`, by id: security admins and auditors.
pub async fn what_can_reach(app: &App, who: &Caller, email: &str, c: &Circumstances) -> Result<Vec<String>, AppError> {
    app.authorize(who, SECURITY_READERS, "people.access").await?;
    let context = c.context(app.now())?;
    let s = app.access_snapshot().await?;
    let person = s.directory.person(&email.trim().to_lowercase()).ok_or(AppError::NotFound)?;
    Ok(s.directory
        .resources()
        .iter()
        .filter(|r| s.policies.decide(&s.directory, person, Action::Access, r, &context).allow)
        .map(|r| r.id.clone())
        .collect())
}

/// Who may `access` what, for a page of the active people (of `department`, when named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    /// The resources' ids: the columns.
    pub resources: Vec<String>,
    /// The page's people: the rows.
    pub rows: Vec<MatrixRow>,
    /// Active people matching, on every page.
    pub total: usize,
}

/// One person's row of a [`Matrix`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixRow {
    /// Their email.
    pub email: String,
    /// Their department.
    pub department: String,
    /// Allowed or not, per resource, in the matrix's column order.
    pub allowed: Vec<bool>,
}

/// The people × resources matrix for `c`: security admins and auditors. At most `limit` (1 to 500)
/// people from `offset`, by email.
pub async fn matrix(
    app: &App,
    who: &Caller,
    c: &Circumstances,
    department: Option<&str>,
    offset: usize,
    limit: usize,
) -> Result<Matrix, AppError> {
    app.authorize(who, SECURITY_READERS, "access.matrix").await?;
    if !(1..=500).contains(&limit) {
        return Err(AppError::field("limit", "1 to 500"));
    }
    let context = c.context(app.now())?;
    let s = app.access_snapshot().await?;
    let department = department.map(str::trim).filter(|d| !d.is_empty());
    let matching = || s.directory.people().iter().filter(|p| p.active && department.is_none_or(|d| p.department == d));
    let resources = s.directory.resources();
    let rows = matching()
        .skip(offset)
        .take(limit)
        .map(|p| MatrixRow {
            email: p.email.clone(),
            department: p.department.clone(),
            allowed: resources
                .iter()
                .map(|r| s.policies.decide(&s.directory, p, Action::Access, r, &context).allow)
                .collect(),
        })
        .collect();
    Ok(Matrix { resources: resources.iter().map(|r| r.id.clone()).collect(), rows, total: matching().count() })
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
    let s = app.access_snapshot().await?;
    let compiled = match policies {
        Some(text) => Arc::new(compile(text)?),
        None => s.policies.clone(),
    };
    let now = app.now();
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        let ask = &case.ask;
        let failed = |why: String| CaseResult { passed: false, allowed: None, policies: vec![], error: Some(why) };
        let Some(action) = Action::from_name(&ask.action) else {
            out.push(failed(format!("unknown action `{}`", ask.action)));
            continue;
        };
        let Some(network) = Network::from_name(&ask.network) else {
            out.push(failed(format!("unknown network `{}`", ask.network)));
            continue;
        };
        let context = RequestContextFacts { mfa: ask.mfa, device_managed: ask.device_managed, network, at: now };
        let Some(person) = s.directory.person(&ask.principal.trim().to_lowercase()) else {
            out.push(failed(format!("no person has the email {}", ask.principal)));
            continue;
        };
        let Some(resource) = s.directory.resource(&ask.resource) else {
            out.push(failed(format!("no resource has the id {}", ask.resource)));
            continue;
        };
        let d = compiled.decide(&s.directory, person, action, resource, &context);
        out.push(CaseResult {
            passed: d.allow == case.expect_allow,
            allowed: Some(d.allow),
            policies: d.policies,
            error: None,
        });
    }
    Ok(out)
}
