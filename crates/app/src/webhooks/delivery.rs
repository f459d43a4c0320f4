//! Webhook deliveries: the HTTP client, one attempt at one delivery, and the worker that sends what is
//! due and records the outcome.
//!
//! The client is reqwest over rustls (ring, Mozilla's roots compiled in, so no OpenSSL and no system
//! store). Its resolver resolves the name once, through the application's `HostLookup` as webhook
//! creation does, and hands the connector only the addresses the policy allows: the address checked is
//! the address connected to, so a name cannot be re-pointed between the check and the connection. A
//! literal address never reaches a resolver; `check_url` refuses it by the same filter. Redirects are not
//! followed (a receiver could otherwise send the request anywhere) and no proxy is taken from the
//! environment (it would connect on our behalf to an address we never checked).

use super::address::{WebhookPolicy, check_url};
use super::lookup::{HostLookup, allowed_addresses};
use bonafide_auth::seal::SealKey;
use bonafide_auth::webhook::WebhookSecret;
use bonafide_domain::Clock;
use bonafide_store::{DueDelivery, Event, Store, StoreError};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::error::Error as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Attempts before a delivery is given up.
const MAX_ATTEMPTS: i64 = 8;

/// How long connecting may take, and the whole exchange.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The wait before attempt `n + 1` after `n` failed ones: 10 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h.
fn backoff(attempts: i64) -> time::Duration {
    let secs = [10, 30, 120, 600, 1800, 3600, 7200];
    time::Duration::seconds(*secs.get(usize::try_from(attempts).unwrap_or(0)).unwrap_or(&7200))
}

/// An event as JSON text: the body of a delivery and one line of `GET /api/v1/events`.
pub(crate) fn event_line(e: &Event) -> String {
    serde_json::json!({
        "seq": e.seq,
        "kind": e.kind,
        "created_at": e.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        // The store checked the text is JSON when it read it.
        "data": serde_json::from_str::<serde_json::Value>(&e.payload).unwrap_or_default(),
    })
    .to_string()
}

/// Resolves a webhook's host through the application's lookup and keeps only the addresses the policy
/// allows ([`allowed_addresses`], the function webhook creation checks with).
struct FilteringResolver {
    policy: WebhookPolicy,
    lookup: Arc<dyn HostLookup>,
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (policy, lookup) = (self.policy.clone(), self.lookup.clone());
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let allowed = allowed_addresses(&*lookup, &policy, &host).await?;
            // Port 0: the connector puts in the URL's port (or the scheme's).
            Ok(Box::new(allowed.into_iter().map(|ip| SocketAddr::new(ip, 0))) as Addrs)
        })
    }
}

/// TLS for https receivers: ring, TLS 1.2 and 1.3, Mozilla's roots compiled in, HTTP/1.1 (no ALPN).
pub(crate) fn tls() -> Result<rustls::ClientConfig, String> {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .map_err(|e| format!("TLS setup: {e}"))
}

/// The client single sign-on reaches the identity provider with: the same TLS, no redirects (a token or
/// discovery answer that redirects is refused rather than followed), no proxy from the environment.
pub(crate) fn sso_http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls()?)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT)
        .user_agent("Bonafide-SSO/1")
        .build()
        .map_err(|e| format!("the single sign-on client cannot be built: {}", describe(&e)))
}

/// The client that posts webhooks, bound to the policy its URLs and addresses are checked against.
pub(crate) struct WebhookClient {
    http: reqwest::Client,
    policy: WebhookPolicy,
}

impl WebhookClient {
    /// A client for `policy`, resolving names through `lookup`.
    pub(crate) fn new(policy: &WebhookPolicy, lookup: Arc<dyn HostLookup>) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls()?)
            .dns_resolver(FilteringResolver { policy: policy.clone(), lookup })
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .user_agent("Bonafide-Webhook/1")
            .build()
            .map_err(|e| format!("the webhook client cannot be built: {}", describe(&e)))?;
        Ok(Self { http, policy: policy.clone() })
    }

    /// Posts `body` (JSON) with `headers` to `url`, checked against the policy first. The status, or
    /// why there was none.
    pub(crate) async fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Result<u16, String> {
        let url = check_url(url, &self.policy)?;
        let mut request = self.http.post(url).header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let response = request.body(body).send().await.map_err(|e| describe(&e))?;
        Ok(response.status().as_u16())
    }
}

/// A reqwest error with its causes (the resolver's refusal is a cause), without the URL, which the
/// delivery log already shows.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return if e.is_connect() { "connection timed out" } else { "no answer within 10 s" }.to_owned();
    }
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// One attempt at one delivery at `now`: signed with the webhook's secret. `Ok(status)` when the
/// receiver answered.
pub(crate) async fn attempt(
    client: &WebhookClient,
    seal: &SealKey,
    now: time::OffsetDateTime,
    d: &DueDelivery,
) -> Result<u16, String> {
    let secret = seal
        .open(&d.secret_sealed, &format!("webhook:{}", d.webhook))
        .and_then(WebhookSecret::from_bytes)
        .map_err(|e| format!("the signing secret cannot be read: {e}"))?;
    let body = event_line(&d.event).into_bytes();
    let timestamp = now.unix_timestamp();
    let headers = [
        ("x-bonafide-event", d.event.kind.clone()),
        ("x-bonafide-delivery", d.id.to_string()),
        ("x-bonafide-timestamp", timestamp.to_string()),
        ("x-bonafide-signature", secret.sign(timestamp, &body)),
    ];
    client.post(&d.url, &headers, body).await
}

/// What the delivery worker needs.
pub(crate) struct Deliverer {
    store: Store,
    clock: Arc<dyn Clock>,
    seal: SealKey,
    client: WebhookClient,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Deliverer {
    /// A worker delivering from `store` to where `policy` allows, resolving names through `lookup`.
    pub(crate) fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        seal: SealKey,
        policy: &WebhookPolicy,
        lookup: Arc<dyn HostLookup>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Result<Self, String> {
        Ok(Self { store, clock, seal, client: WebhookClient::new(policy, lookup)?, metrics })
    }

    /// Sends every due delivery once; returns how many were attempted.
    pub(crate) async fn deliver_due(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let due = self.store.claim_due_deliveries(now, now + time::Duration::minutes(2), 20).await?;
        for d in &due {
            let outcome = attempt(&self.client, &self.seal, self.clock.now(), d).await;
            let now = self.clock.now();
            let (delivered, status, error) = match &outcome {
                Ok(s) if (200..300).contains(s) => (true, Some(*s), None),
                Ok(s) => (false, Some(*s), Some(format!("answered {s}"))),
                Err(e) => (false, None, Some(e.clone())),
            };
            let retry_at = (!delivered && d.attempts + 1 < MAX_ATTEMPTS).then(|| now + backoff(d.attempts));
            if !delivered {
                tracing::warn!(delivery = %d.id, attempt = d.attempts + 1, error = ?error, "webhook delivery failed");
            }
            self.store.record_delivery(d.id, delivered, status, error.as_deref(), retry_at, now).await?;
            self.metrics.delivery(match (delivered, retry_at) {
                (true, _) => "delivered",
                (false, Some(_)) => "failed",
                (false, None) => "gave_up",
            });
        }
        Ok(due.len())
    }

    /// Runs deliveries until the process ends: every due delivery, then a short sleep when there was none.
    pub(crate) async fn run(self) {
        loop {
            match self.deliver_due().await {
                Ok(0) => tokio::time::sleep(Duration::from_millis(500)).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "webhook deliveries could not be read");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
