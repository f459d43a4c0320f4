//! Events for security tools: read in order (for SIEMs that pull), or pushed to webhooks that security
//! admins add, signed, retried with backoff, with a delivery log.

mod address;
mod delivery;
mod lookup;

pub use address::WebhookPolicy;
pub(crate) use delivery::{describe, sso_http_client, tls};
pub use lookup::{HostError, HostLookup, Lookup, StaticLookup, SystemLookup, allowed_addresses};

use crate::access::{SECURITY_ADMINS, SECURITY_READERS};
use crate::{App, AppError, Caller};
use bonafide_auth::webhook::WebhookSecret;
use bonafide_domain::WebhookId;
use bonafide_store::{Delivery, Event, Webhook};
use std::time::Duration;
use time::OffsetDateTime;

/// Event kinds a webhook can ask for.
pub const EVENT_KINDS: &[&str] = &[
    "report.filed",
    "report.complied",
    "campaign.detected",
    "campaign.escalated",
    "campaign.resumed",
    "campaign.status_changed",
    "campaign.merged",
    "campaign.split",
];

/// The most events one read returns.
pub const EVENTS_LIMIT: i64 = 10_000;

/// The most deliveries one log shows.
pub const DELIVERIES_LIMIT: i64 = 200;

/// An event as one line of JSON text: what webhooks post and what the event stream lists.
pub fn event_text(e: &Event) -> String {
    delivery::event_line(e)
}

/// Delivers due webhooks until the process ends. Building the client fails only when TLS cannot be set
/// up, which no setting or retry changes; the deliveries then stay pending (and it is logged once).
pub async fn delivery_loop(app: App) {
    let policy = &app.settings().webhooks;
    let (store, seal) = (app.store().clone(), app.secret().seal_key());
    match delivery::Deliverer::new(store, app.clock(), seal, policy, app.host_lookup(), app.metrics.clone()) {
        Ok(deliverer) => deliverer.run().await,
        Err(e) => tracing::error!(error = %e, "webhook deliveries are off"),
    }
}

/// Events after `after`, oldest first, at most `limit` (1 to [`EVENTS_LIMIT`]): security admins and
/// auditors.
pub async fn events(app: &App, who: &Caller, after: i64, limit: i64) -> Result<Vec<Event>, AppError> {
    app.authorize(who, SECURITY_READERS, "events.list").await?;
    if !(1..=EVENTS_LIMIT).contains(&limit) {
        return Err(AppError::field("limit", format!("1 to {EVENTS_LIMIT}")));
    }
    Ok(app.store().events_after(after.max(0), limit).await?)
}

/// A webhook just added, with its signing secret (shown once).
#[derive(Debug)]
pub struct Added {
    /// Its id.
    pub id: WebhookId,
    /// Where it posts.
    pub url: String,
    /// The event kinds it gets (`*` for all).
    pub kinds: Vec<String>,
    /// The signing secret.
    pub secret: WebhookSecret,
    /// When it was added.
    pub at: OffsetDateTime,
}

/// How long webhook creation waits for its host's addresses before accepting it unchecked.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks, stores (secret sealed) and audits a new webhook: security admins. `kinds` defaults to all.
///
/// The URL is checked as delivery checks it: scheme, credentials, allow list and literal addresses,
/// then, for a host name, by resolving it through the application's [`HostLookup`] and refusing it, with
/// delivery's message, when every address it has is refused ([`allowed_addresses`]). A name that does
/// not resolve now (the lookup fails, finds nothing or takes over 5 s) is accepted with a warning in the
/// log: DNS may be down only for the moment, delivery treats it as a failure to retry, and it checks the
/// addresses again at every attempt anyway. A name with some refused and some allowed addresses is
/// accepted; delivery connects only to the allowed ones.
pub async fn add(app: &App, who: &Caller, url: &str, kinds: Option<Vec<String>>) -> Result<Added, AppError> {
    app.authorize(who, SECURITY_ADMINS, "webhooks.add").await?;
    let url = url.trim().to_owned();
    if url.len() > 2000 {
        return Err(AppError::field("url", "at most 2000 characters"));
    }
    let parsed = address::check_url(&url, &app.settings().webhooks).map_err(|e| AppError::field("url", e))?;
    if let Some(host) = parsed.domain() {
        check_host(app, host).await?;
    }
    let kinds = kinds.unwrap_or_else(|| vec!["*".to_owned()]);
    if kinds.is_empty() || kinds.iter().any(|k| k != "*" && !EVENT_KINDS.contains(&k.as_str())) {
        return Err(AppError::field("kinds", format!("`*` or some of: {}", EVENT_KINDS.join(", "))));
    }
    let id = WebhookId::new();
    let secret = WebhookSecret::generate();
    let sealed = app.secret().seal_key().seal(secret.reveal().as_bytes(), &format!("webhook:{id}"));
    let at = app.now();
    let event = who
        .event("webhook.created", &url)
        .with(serde_json::json!({ "webhook": id, "kinds": kinds, "via": who.via.as_str() }));
    app.store().add_webhook(id, &url, &sealed, &kinds, who.person.id, at, &event).await?;
    Ok(Added { id, url, kinds, secret, at })
}

/// Refuses `host` when every address it resolves to is refused; a name that does not resolve passes.
async fn check_host(app: &App, host: &str) -> Result<(), AppError> {
    let lookup = app.host_lookup();
    let resolved = tokio::time::timeout(LOOKUP_TIMEOUT, allowed_addresses(&*lookup, &app.settings().webhooks, host));
    match resolved.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(refused @ HostError::Refused(_))) => Err(AppError::field("url", refused.to_string())),
        Ok(Err(HostError::Unresolved(why))) => {
            tracing::warn!(host, error = %why, "webhook host does not resolve now; added, delivery checks it");
            Ok(())
        }
        Err(_) => {
            tracing::warn!(host, "webhook host did not resolve within 5 s; added, delivery checks it");
            Ok(())
        }
    }
}

/// Every webhook: security admins.
pub async fn list(app: &App, who: &Caller) -> Result<Vec<Webhook>, AppError> {
    app.authorize(who, SECURITY_ADMINS, "webhooks.list").await?;
    Ok(app.store().webhooks().await?)
}

/// Every webhook with its latest `per_hook` deliveries: security admins.
pub async fn with_logs(app: &App, who: &Caller, per_hook: i64) -> Result<Vec<(Webhook, Vec<Delivery>)>, AppError> {
    let hooks = list(app, who).await?;
    let mut out = Vec::with_capacity(hooks.len());
    for w in hooks {
        let log = app.store().deliveries(w.id, per_hook.clamp(1, DELIVERIES_LIMIT)).await?;
        out.push((w, log));
    }
    Ok(out)
}

/// Removes webhook `id` and its delivery log: security admins.
pub async fn delete(app: &App, who: &Caller, id: &str) -> Result<(), AppError> {
    app.authorize(who, SECURITY_ADMINS, "webhooks.delete").await?;
    let id: WebhookId = id.parse().map_err(|_| AppError::NotFound)?;
    let event = who.event("webhook.deleted", id.to_string()).with(serde_json::json!({ "via": who.via.as_str() }));
    if !app.store().delete_webhook(id, app.now(), &event).await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Webhook `id`'s delivery log, newest first: security admins.
pub async fn deliveries(app: &App, who: &Caller, id: &str) -> Result<Vec<Delivery>, AppError> {
    app.authorize(who, SECURITY_ADMINS, "webhooks.deliveries").await?;
    let id: WebhookId = id.parse().map_err(|_| AppError::NotFound)?;
    if !app.store().webhooks().await?.iter().any(|w| w.id == id) {
        return Err(AppError::NotFound);
    }
    Ok(app.store().deliveries(id, DELIVERIES_LIMIT).await?)
}
