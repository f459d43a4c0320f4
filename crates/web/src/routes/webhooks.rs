//! Events for security tools: `GET /api/v1/events` (JSON lines, for SIEMs that pull) and webhooks that
//! push them (`/api/v1/webhooks`, security admins), signed, retried with backoff, with a delivery log.
//!
//! Outbound addresses are restricted: HTTPS only, and never to loopback, private, link-local or metadata
//! addresses (checked on the addresses the name resolves to at delivery time, which are then the ones
//! connected to, so a name cannot be re-pointed between the check and the connection), unless the
//! settings allow private targets; `webhook_allowed_hosts`, when set, is the only hosts allowed.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientAddr, SecurityAdmin, SecurityReader, actor};
use crate::routes::views::rfc3339;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bonafide_auth::webhook::WebhookSecret;
use bonafide_store::{AuditEvent, DueDelivery, Event, Outcome};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Where webhooks may point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// When not empty, the only hosts allowed: exact names, or `*.example.com` for any subdomain.
    pub allowed_hosts: Vec<String>,
    /// Allow loopback, private and link-local targets, and plain HTTP (an internal SIEM, tests).
    pub allow_private: bool,
}

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

/// Attempts before a delivery is given up.
const MAX_ATTEMPTS: i64 = 8;

/// The wait before attempt `n + 1` after `n` failed ones: 10 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h.
fn backoff(attempts: i64) -> time::Duration {
    let secs = [10, 30, 120, 600, 1800, 3600, 7200];
    time::Duration::seconds(*secs.get(usize::try_from(attempts).unwrap_or(0)).unwrap_or(&7200))
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || (a == 198 && (18..20).contains(&b))) // benchmarking
        }
        IpAddr::V6(v6) => {
            let first = v6.segments().first().copied().unwrap_or(0);
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
                || v6.to_ipv4_mapped().is_some_and(|v4| !is_public(IpAddr::V4(v4))))
        }
    }
}

fn host_allowed(host: &str, policy: &WebhookPolicy) -> bool {
    policy.allowed_hosts.is_empty()
        || policy.allowed_hosts.iter().any(|allowed| match allowed.strip_prefix("*.") {
            Some(suffix) => host.ends_with(&format!(".{suffix}")),
            None => allowed.eq_ignore_ascii_case(host),
        })
}

/// A checked webhook address.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    https: bool,
    host: String,
    port: u16,
    /// Path and query.
    path: String,
}

/// Checks a webhook address against the policy (before any resolution): scheme, host, allow list.
pub(crate) fn check_url(url: &str, policy: &WebhookPolicy) -> Result<Target, String> {
    let uri: axum::http::Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") if policy.allow_private => false,
        _ => return Err("webhooks are delivered over https only".into()),
    };
    let authority = uri.authority().ok_or("the URL has no host")?;
    if authority.as_str().contains('@') {
        return Err("put credentials in the signing secret, not the URL".into());
    }
    let host = authority.host().trim_matches(['[', ']']).to_ascii_lowercase();
    if host.is_empty() {
        return Err("the URL has no host".into());
    }
    if !host_allowed(&host, policy) {
        return Err(format!("{host} is not among the allowed webhook hosts"));
    }
    if let Ok(ip) = host.parse::<IpAddr>()
        && !is_public(ip)
        && !policy.allow_private
    {
        return Err("private, loopback and link-local addresses are not allowed".into());
    }
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
    let path = uri.path_and_query().map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    Ok(Target { https, host, port, path })
}

/// Resolves the webhook's host and returns an address that the policy allows.
async fn resolve(target: &Target, policy: &WebhookPolicy) -> Result<SocketAddr, String> {
    let host = target.host.as_str();
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, target.port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if !policy.allow_private && addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(format!("{host} resolves to a private address"));
    }
    addrs.into_iter().next().ok_or_else(|| format!("{host} has no address"))
}

fn tls() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
                .map_err(|e| format!("TLS setup: {e}"))
        })
        .clone()
}

/// Posts `body` with `headers` to `target` at `addr`: HTTP/1.1, over TLS for https (certificate checked
/// for the URL's host). The status, or why there was none.
async fn post(target: &Target, addr: SocketAddr, headers: &[(&str, String)], body: Vec<u8>) -> Result<u16, String> {
    let connect = tokio::net::TcpStream::connect(addr);
    let tcp = tokio::time::timeout(Duration::from_secs(10), connect)
        .await
        .map_err(|_| "connection timed out".to_owned())?
        .map_err(|e| format!("cannot connect: {e}"))?;
    let mut request = axum::http::Request::post(target.path.as_str())
        .header(header::HOST, format!("{}:{}", target.host, target.port))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "Bonafide-Webhook/1")
        .header(header::CONTENT_LENGTH, body.len());
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let request = request.body(http_body_util::Full::new(axum::body::Bytes::from(body))).map_err(|e| e.to_string())?;
    let exchange = async {
        if target.https {
            let name = rustls::pki_types::ServerName::try_from(target.host.clone()).map_err(|e| e.to_string())?;
            let stream =
                tokio_rustls::TlsConnector::from(tls()?).connect(name, tcp).await.map_err(|e| format!("TLS: {e}"))?;
            send_on(hyper_util::rt::TokioIo::new(stream), request).await
        } else {
            send_on(hyper_util::rt::TokioIo::new(tcp), request).await
        }
    };
    tokio::time::timeout(Duration::from_secs(10), exchange).await.map_err(|_| "no answer within 10 s".to_owned())?
}

async fn send_on<T>(io: T, request: axum::http::Request<http_body_util::Full<axum::body::Bytes>>) -> Result<u16, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}

/// One attempt at one delivery: `Ok(status)` when the receiver answered.
async fn send(state: &AppState, d: &DueDelivery) -> Result<u16, String> {
    let policy = &state.config.webhooks;
    let target = check_url(&d.url, policy)?;
    let addr = resolve(&target, policy).await?;
    let secret = state
        .secret
        .seal_key()
        .open(&d.secret_sealed, &format!("webhook:{}", d.webhook))
        .and_then(WebhookSecret::from_bytes)
        .map_err(|e| format!("the signing secret cannot be read: {e}"))?;
    let body = serde_json::to_vec(&event_json(&d.event)).map_err(|e| e.to_string())?;
    let timestamp = state.clock.now().unix_timestamp();
    let headers = [
        ("x-bonafide-event", d.event.kind.clone()),
        ("x-bonafide-delivery", d.id.clone()),
        ("x-bonafide-timestamp", timestamp.to_string()),
        ("x-bonafide-signature", secret.sign(timestamp, &body)),
    ];
    post(&target, addr, &headers, body).await
}

/// Sends every due delivery once; returns how many were attempted.
pub async fn deliver_due(state: &AppState) -> Result<usize, bonafide_store::StoreError> {
    let now = state.clock.now();
    let due = state.store.claim_due_deliveries(now, now + time::Duration::minutes(2), 20).await?;
    for d in &due {
        let outcome = send(state, d).await;
        let now = state.clock.now();
        let (delivered, status, error) = match &outcome {
            Ok(s) if (200..300).contains(s) => (true, Some(*s), None),
            Ok(s) => (false, Some(*s), Some(format!("answered {s}"))),
            Err(e) => (false, None, Some(e.clone())),
        };
        let retry_at = (!delivered && d.attempts + 1 < MAX_ATTEMPTS).then(|| now + backoff(d.attempts));
        if !delivered {
            tracing::warn!(delivery = %d.id, attempt = d.attempts + 1, error = ?error, "webhook delivery failed");
        }
        state.store.record_delivery(&d.id, delivered, status, error.as_deref(), retry_at, now).await?;
    }
    Ok(due.len())
}

/// Runs deliveries until the process ends: every due delivery, then a short sleep when there was none.
pub async fn delivery_loop(state: AppState) {
    loop {
        match deliver_due(&state).await {
            Ok(0) => tokio::time::sleep(Duration::from_millis(500)).await,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "webhook deliveries could not be read");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

fn event_json(e: &Event) -> serde_json::Value {
    serde_json::json!({ "seq": e.seq, "kind": e.kind, "created_at": rfc3339(e.created_at), "data": e.payload })
}

#[derive(Deserialize)]
pub(crate) struct EventsQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/events?after=SEQ&limit=N`: events after `after` as JSON lines (`application/x-ndjson`),
/// oldest first; a SIEM polls with the last `seq` it read.
pub(crate) async fn events(
    _: SecurityReader,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::field("limit", "1 to 10000"));
    }
    let found = state.store.events_after(q.after.unwrap_or(0).max(0), limit).await?;
    let mut body = String::new();
    for e in &found {
        body.push_str(&event_json(e).to_string());
        body.push('\n');
    }
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookBody {
    url: String,
    kinds: Option<Vec<String>>,
}

#[derive(Serialize)]
pub(crate) struct WebhookView {
    id: String,
    url: String,
    kinds: Vec<String>,
    active: bool,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

/// A webhook just added, with its secret (shown once).
pub(crate) struct Added {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) kinds: Vec<String>,
    pub(crate) secret: WebhookSecret,
    pub(crate) at: time::OffsetDateTime,
}

/// Checks, stores (secret sealed) and audits a new webhook; for the API and the portal alike.
pub(crate) async fn add(
    state: &AppState,
    who: &bonafide_store::Actor,
    by: bonafide_domain::PersonId,
    url: &str,
    kinds: Option<Vec<String>>,
) -> Result<Added, ApiError> {
    let url = url.trim().to_owned();
    if url.len() > 2000 {
        return Err(ApiError::field("url", "at most 2000 characters"));
    }
    check_url(&url, &state.config.webhooks).map_err(|e| ApiError::field("url", &e))?;
    let kinds = kinds.unwrap_or_else(|| vec!["*".to_owned()]);
    if kinds.is_empty() || kinds.iter().any(|k| k != "*" && !EVENT_KINDS.contains(&k.as_str())) {
        return Err(ApiError::field("kinds", format!("`*` or some of: {}", EVENT_KINDS.join(", "))));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let secret = WebhookSecret::generate();
    let sealed = state.secret.seal_key().seal(secret.reveal().as_bytes(), &format!("webhook:{id}"));
    let at = state.clock.now();
    state.store.add_webhook(&id, &url, &sealed, &kinds, by, at).await?;
    let event = AuditEvent::new(who, "webhook.created", &url, Outcome::Ok)
        .with(serde_json::json!({ "webhook": id, "kinds": kinds }));
    state.store.audit(&[event], at).await?;
    Ok(Added { id, url, kinds, secret, at })
}

/// `POST /api/v1/webhooks` `{url, kinds?}`: the signing secret is in the answer, once.
pub(crate) async fn create(
    SecurityAdmin(me): SecurityAdmin,
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(body): ApiJson<WebhookBody>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let added = add(&state, &actor(&me, &client), me.id, &body.url, body.kinds).await?;
    let view = WebhookView {
        id: added.id,
        url: added.url,
        kinds: added.kinds,
        active: true,
        created_at: rfc3339(added.at),
        secret: Some(added.secret.reveal().to_owned()),
    };
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /api/v1/webhooks`.
pub(crate) async fn list(_: SecurityAdmin, State(state): State<AppState>) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let hooks = state.store.webhooks().await?;
    Ok(Json(
        hooks
            .into_iter()
            .map(|w| WebhookView {
                id: w.id,
                url: w.url,
                kinds: w.kinds,
                active: w.active,
                created_at: rfc3339(w.created_at),
                secret: None,
            })
            .collect(),
    ))
}

/// `DELETE /api/v1/webhooks/{id}`.
pub(crate) async fn delete(
    SecurityAdmin(me): SecurityAdmin,
    State(state): State<AppState>,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if !state.store.delete_webhook(&id).await? {
        return Err(ApiError::NotFound);
    }
    let event = AuditEvent::new(&actor(&me, &client), "webhook.deleted", &id, Outcome::Ok);
    state.store.audit(&[event], state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub(crate) struct DeliveryView {
    id: String,
    event_seq: i64,
    status: String,
    attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    next_attempt_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivered_at: Option<String>,
}

/// `GET /api/v1/webhooks/{id}/deliveries`: the delivery log, newest first.
pub(crate) async fn deliveries(
    _: SecurityAdmin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    if !state.store.webhooks().await?.iter().any(|w| w.id == id) {
        return Err(ApiError::NotFound);
    }
    let found = state.store.deliveries(&id, 200).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|d| DeliveryView {
                id: d.id,
                event_seq: d.event_seq,
                status: d.status,
                attempts: d.attempts,
                last_status: d.last_status,
                last_error: d.last_error,
                next_attempt_at: rfc3339(d.next_attempt_at),
                delivered_at: d.delivered_at.map(rfc3339),
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_targets_are_allowed_by_default() {
        let strict = WebhookPolicy::default();
        assert!(check_url("https://siem.example.com/hook", &strict).is_ok());
        for bad in [
            "http://siem.example.com/hook",
            "https://127.0.0.1/hook",
            "https://10.0.0.5/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://user:pw@siem.example.com/",
            "ftp://siem.example.com/",
            "not a url",
        ] {
            assert!(check_url(bad, &strict).is_err(), "{bad}");
        }
        let listed =
            WebhookPolicy { allowed_hosts: vec!["*.example.com".into(), "siem.corp".into()], ..strict.clone() };
        assert!(check_url("https://a.example.com/", &listed).is_ok());
        assert!(check_url("https://siem.corp/", &listed).is_ok());
        assert!(check_url("https://example.com.evil.net/", &listed).is_err());
        let internal = WebhookPolicy { allow_private: true, ..strict };
        assert!(check_url("http://127.0.0.1:9000/hook", &internal).is_ok());
    }

    #[test]
    fn the_tls_client_configuration_builds_with_the_compiled_in_roots() {
        let config = tls().unwrap();
        assert!(config.alpn_protocols.is_empty(), "plain HTTP/1.1 over TLS");
    }

    #[test]
    fn backoff_grows_and_stops() {
        assert!(backoff(0) < backoff(1) && backoff(1) < backoff(2));
        assert_eq!(backoff(100), time::Duration::hours(2));
        assert!(is_public("8.8.8.8".parse().unwrap()));
        assert!(!is_public("100.64.0.1".parse().unwrap()));
        assert!(!is_public("::ffff:10.0.0.1".parse().unwrap()));
    }
}
