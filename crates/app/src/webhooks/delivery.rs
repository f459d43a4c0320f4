//! Sending webhook deliveries: the address policy (HTTPS only; never loopback, private, link-local or
//! metadata addresses unless the settings allow private targets; `allowed_hosts`, when set, is the only
//! hosts allowed), checked on the addresses the name resolves to at delivery time, which are then the ones
//! connected to, so a name cannot be re-pointed between the check and the connection.

use crate::App;
use bonafide_auth::webhook::WebhookSecret;
use bonafide_store::DueDelivery;
use http::header;
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
    let uri: http::Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
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
    let mut request = http::Request::post(target.path.as_str())
        .header(header::HOST, format!("{}:{}", target.host, target.port))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "Bonafide-Webhook/1")
        .header(header::CONTENT_LENGTH, body.len());
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let request = request.body(http_body_util::Full::new(bytes::Bytes::from(body))).map_err(|e| e.to_string())?;
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

async fn send_on<T>(io: T, request: http::Request<http_body_util::Full<bytes::Bytes>>) -> Result<u16, String>
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
async fn send(app: &App, d: &DueDelivery) -> Result<u16, String> {
    let policy = &app.settings().webhooks;
    let target = check_url(&d.url, policy)?;
    let addr = resolve(&target, policy).await?;
    let secret = app
        .secret()
        .seal_key()
        .open(&d.secret_sealed, &format!("webhook:{}", d.webhook))
        .and_then(WebhookSecret::from_bytes)
        .map_err(|e| format!("the signing secret cannot be read: {e}"))?;
    let body = serde_json::to_vec(&super::event_value(&d.event)).map_err(|e| e.to_string())?;
    let timestamp = app.now().unix_timestamp();
    let headers = [
        ("x-bonafide-event", d.event.kind.clone()),
        ("x-bonafide-delivery", d.id.clone()),
        ("x-bonafide-timestamp", timestamp.to_string()),
        ("x-bonafide-signature", secret.sign(timestamp, &body)),
    ];
    post(&target, addr, &headers, body).await
}

/// Sends every due delivery once; returns how many were attempted.
pub async fn deliver_due(app: &App) -> Result<usize, bonafide_store::StoreError> {
    let now = app.now();
    let due = app.store().claim_due_deliveries(now, now + time::Duration::minutes(2), 20).await?;
    for d in &due {
        let outcome = send(app, d).await;
        let now = app.now();
        let (delivered, status, error) = match &outcome {
            Ok(s) if (200..300).contains(s) => (true, Some(*s), None),
            Ok(s) => (false, Some(*s), Some(format!("answered {s}"))),
            Err(e) => (false, None, Some(e.clone())),
        };
        let retry_at = (!delivered && d.attempts + 1 < MAX_ATTEMPTS).then(|| now + backoff(d.attempts));
        if !delivered {
            tracing::warn!(delivery = %d.id, attempt = d.attempts + 1, error = ?error, "webhook delivery failed");
        }
        app.store().record_delivery(&d.id, delivered, status, error.as_deref(), retry_at, now).await?;
    }
    Ok(due.len())
}

/// Runs deliveries until the process ends: every due delivery, then a short sleep when there was none.
pub async fn delivery_loop(app: App) {
    loop {
        match deliver_due(&app).await {
            Ok(0) => tokio::time::sleep(Duration::from_millis(500)).await,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "webhook deliveries could not be read");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
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
