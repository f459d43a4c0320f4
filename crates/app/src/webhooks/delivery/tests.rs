//! The delivery client against raw local listeners: what it sends, that it follows no redirect, and that
//! a name resolving to a refused address is never connected to.

use super::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn strict() -> WebhookPolicy {
    WebhookPolicy::default()
}

fn internal() -> WebhookPolicy {
    WebhookPolicy { allow_private: true, ..WebhookPolicy::default() }
}

fn system() -> Arc<dyn HostLookup> {
    Arc::new(crate::webhooks::SystemLookup)
}

/// Reads one request (head and a `content-length` body) from a connection and answers `answer`.
async fn serve_one(listener: &TcpListener, answer: &str) -> String {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.unwrap();
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                .map_or(0, |v| v.parse::<usize>().unwrap());
            if seen.len() >= end + 4 + length || n == 0 {
                break;
            }
        }
        assert!(n > 0, "the connection closed mid-request");
    }
    socket.write_all(answer.as_bytes()).await.unwrap();
    socket.shutdown().await.unwrap();
    String::from_utf8(seen).unwrap()
}

/// Whether anything connects to `listener` within half a second.
async fn connected(listener: &TcpListener) -> bool {
    tokio::time::timeout(Duration::from_millis(500), listener.accept()).await.is_ok()
}

#[test]
fn the_tls_client_configuration_builds_with_the_compiled_in_roots() {
    let config = tls().unwrap();
    assert!(config.alpn_protocols.is_empty(), "plain HTTP/1.1 over TLS");
    assert!(WebhookClient::new(&strict(), system()).is_ok());
}

#[test]
fn backoff_grows_and_stops() {
    assert!(backoff(0) < backoff(1) && backoff(1) < backoff(2));
    assert_eq!(backoff(100), time::Duration::hours(2));
}

#[tokio::test]
async fn a_name_resolving_to_a_refused_address_is_not_connected_to() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = WebhookClient::new(&strict(), system()).unwrap();
    let url = format!("https://localhost:{port}/hook");
    let err = client.post(&url, &[], b"{}".to_vec()).await.unwrap_err();
    assert!(err.contains("localhost is this machine"), "refused by name first: {err}");
    // Past the URL check, the client's own resolver refuses what the name resolves to.
    let err = client.http.post(&url).body("{}").send().await.map(|_| ()).map_err(|e| describe(&e)).unwrap_err();
    assert!(err.contains("localhost resolves only to refused addresses"), "{err}");
    assert!(err.contains("127.0.0.1 (loopback)") || err.contains("::1 (loopback)"), "{err}");
    assert!(!connected(&listener).await, "nothing reached the listener");

    // The same name with private targets allowed does reach it, so the refusal above was the filter's.
    let client = WebhookClient::new(&internal(), system()).unwrap();
    let url = format!("http://localhost:{port}/hook");
    let (sent, received) =
        tokio::join!(client.post(&url, &[], b"{}".to_vec()), serve_one(&listener, "HTTP/1.1 204 No Content\r\n\r\n"));
    assert_eq!(sent, Ok(204));
    assert!(received.starts_with("POST /hook HTTP/1.1\r\n"), "{received}");
}

/// Issue 14, point 11: delivery resolves through the application's lookup, and refuses a name with the
/// message of the function webhook creation checks with.
#[tokio::test]
async fn regression_14_11_delivery_resolves_through_the_shared_lookup_with_creations_message() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let table: Arc<dyn HostLookup> = Arc::new(crate::webhooks::StaticLookup::new([
        ("intranet.example.com", vec!["10.0.0.5".parse().unwrap()]),
        ("receiver.test", vec!["127.0.0.1".parse().unwrap()]),
    ]));
    let client = WebhookClient::new(&strict(), table.clone()).unwrap();
    let err = client.post(&format!("https://intranet.example.com:{port}/hook"), &[], Vec::new()).await.unwrap_err();
    let shared = allowed_addresses(&*table, &strict(), "intranet.example.com").await.unwrap_err().to_string();
    assert_eq!(shared, "intranet.example.com resolves only to refused addresses: 10.0.0.5 (private)");
    assert!(err.ends_with(&shared), "{err}");

    // A name only the table knows reaches the listener: the connector got the table's address.
    let client = WebhookClient::new(&internal(), table).unwrap();
    let url = format!("http://receiver.test:{port}/hook");
    let (sent, received) =
        tokio::join!(client.post(&url, &[], b"{}".to_vec()), serve_one(&listener, "HTTP/1.1 204 No Content\r\n\r\n"));
    assert_eq!(sent, Ok(204));
    assert!(received.contains("\r\nhost: receiver.test:"), "{received}");
}

#[tokio::test]
async fn a_refused_literal_address_is_not_connected_to() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = WebhookClient::new(&strict(), system()).unwrap();
    let err = client.post(&format!("https://127.0.0.1:{port}/hook"), &[], Vec::new()).await.unwrap_err();
    assert!(err.contains("127.0.0.1 is refused (loopback)"), "{err}");
    assert!(!connected(&listener).await);
}

#[tokio::test]
async fn an_attempt_posts_the_signed_event_with_the_webhook_headers() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seal = SealKey::derive(b"a test server secret of enough length");
    let secret = WebhookSecret::generate();
    let now = time::macros::datetime!(2026-11-02 09:30 UTC);
    let (id, webhook) = (bonafide_domain::DeliveryId::new(), bonafide_domain::WebhookId::new());
    let delivery = DueDelivery {
        id,
        attempts: 0,
        url: format!("http://127.0.0.1:{port}/hook?siem=1"),
        webhook,
        secret_sealed: seal.seal(secret.reveal().as_bytes(), &format!("webhook:{webhook}")),
        event: Event {
            seq: 7,
            kind: "campaign.detected".to_owned(),
            payload: serde_json::json!({ "report_count": 2 }).to_string(),
            created_at: now,
        },
    };
    let client = WebhookClient::new(&internal(), system()).unwrap();
    let (status, request) = tokio::join!(
        attempt(&client, &seal, now, &delivery),
        serve_one(&listener, "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
    );
    assert_eq!(status, Ok(202));
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    let header = |name: &str| {
        let found = head.lines().filter_map(|l| l.split_once(": ")).find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, value)| value.to_owned()).unwrap_or_default()
    };
    assert!(head.starts_with("POST /hook?siem=1 HTTP/1.1\r\n"), "{head}");
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("user-agent"), "Bonafide-Webhook/1");
    assert_eq!(header("x-bonafide-event"), "campaign.detected");
    assert_eq!(header("x-bonafide-delivery"), id.to_string());
    let timestamp = now.unix_timestamp();
    assert_eq!(header("x-bonafide-timestamp"), timestamp.to_string());
    assert_eq!(header("x-bonafide-signature"), secret.sign(timestamp, body.as_bytes()));
    let event: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        event,
        serde_json::json!({
            "seq": 7, "kind": "campaign.detected", "created_at": "2026-11-02T09:30:00Z", "data": { "report_count": 2 }
        })
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{}/x\r\ncontent-length: 0\r\n\r\n",
        elsewhere.local_addr().unwrap()
    );
    let client = WebhookClient::new(&internal(), system()).unwrap();
    let url = format!("http://127.0.0.1:{port}/hook");
    let (status, _) = tokio::join!(client.post(&url, &[], Vec::new()), serve_one(&listener, &answer));
    assert_eq!(status, Ok(307), "the redirect is the answer, recorded as a failure");
    assert!(!connected(&elsewhere).await, "the redirect's target was not contacted");
}
