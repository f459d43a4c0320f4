//! Issue 15, point 12: slow and hostile clients. Connections are driven byte by byte over raw TCP; the
//! timeouts are shortened to a second and every test waits ten times longer before it calls a
//! connection still open, so they assert what the server does, never how fast.

use crate::helpers::spawn_app_with;
use bonafide_store::Backend;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

on_sqlite!(
    regression_15_12_a_slowloris_connection_is_closed,
    regression_15_12_a_connection_that_sends_nothing_is_closed,
    regression_15_12_a_short_body_is_answered_408_and_closed,
    regression_15_12_an_idle_keep_alive_connection_is_closed,
    regression_15_12_connections_beyond_the_cap_get_503,
    regression_15_12_shutdown_lets_requests_in_flight_finish,
);

/// What the shortened settings are multiplied by before a connection counts as left open.
const PATIENCE: u32 = 10;

async fn connect(base: &str) -> TcpStream {
    TcpStream::connect(base.trim_start_matches("http://")).await.unwrap()
}

/// Reads until the server closes the connection (end of stream or a reset) and returns what came; panics
/// if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> String {
    let mut got = Vec::new();
    let read_all = async {
        let mut buf = [0_u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    let closed = tokio::time::timeout(within, read_all).await;
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(closed.is_ok(), "the connection is still open after {within:?}; it sent {text:?}");
    text
}

/// Reads one response whose length `Content-Length` gives, leaving the connection open.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0_u8; 4096];
    let read = async {
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            assert_ne!(n, 0, "closed before a whole response: {:?}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .map_or(0, |v| v.parse::<usize>().unwrap());
                if got.len() >= end + 4 + length {
                    return text;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read).await.expect("a response within 10 s")
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: bonafide.test\r\n\r\n";

async fn regression_15_12_a_slowloris_connection_is_closed(backend: Backend) {
    let timeout = Duration::from_secs(1);
    let app = spawn_app_with(backend, |c| c.web.header_read_timeout = timeout).await;
    let mut slow = connect(app.base()).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: bonafide.test\r\nX-Still: ").await.unwrap();
    let answer = closed_within(&mut slow, timeout * PATIENCE).await;
    assert!(!answer.contains("200 OK"), "half a head is never answered as a request: {answer}");
    // Trickling the head a byte at a time does not reset the clock.
    let mut trickle = connect(app.base()).await;
    let trickled = async {
        for byte in b"GET /healthz HTTP/1.1\r\nHost: bonafide.test\r\nX-Slow: abcdefghijklmnopqrstuvwxyz" {
            if trickle.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    tokio::time::timeout(timeout * PATIENCE, trickled).await.expect("the writes end: the server closed the connection");
    closed_within(&mut trickle, timeout * PATIENCE).await;
    // A head sent whole in time is served.
    let mut fine = connect(app.base()).await;
    fine.write_all(HEALTHZ).await.unwrap();
    assert!(read_response(&mut fine).await.starts_with("HTTP/1.1 200"));
    app.drop_db().await;
}

async fn regression_15_12_a_connection_that_sends_nothing_is_closed(backend: Backend) {
    let timeout = Duration::from_secs(1);
    let app = spawn_app_with(backend, |c| c.web.header_read_timeout = timeout).await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(connect(app.base()).await);
    }
    for stream in &mut silent {
        let answer = closed_within(stream, timeout * PATIENCE).await;
        assert_eq!(answer, "", "nothing is answered to a connection that asked nothing");
    }
    app.drop_db().await;
}

async fn regression_15_12_a_short_body_is_answered_408_and_closed(backend: Backend) {
    let timeout = Duration::from_secs(1);
    let app = spawn_app_with(backend, |c| c.web.body_read_timeout = timeout).await;
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: bonafide.test\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n",
        app.tokens.erin
    );
    let mut short = connect(app.base()).await;
    short.write_all(head.as_bytes()).await.unwrap();
    short.write_all(br#"{"summary""#).await.unwrap();
    let answer = closed_within(&mut short, timeout * PATIENCE).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("content-type: application/problem+json"), "{answer}");
    assert!(lower.contains("connection: close"), "{answer}");
    assert!(answer.contains("urn:bonafide:problem:request-timeout"), "{answer}");
    // The portal answers a page for the same thing.
    let mut form = connect(app.base()).await;
    let head = "POST /signin HTTP/1.1\r\nHost: bonafide.test\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Content-Length: 100\r\n\r\nemail=erin";
    form.write_all(head.as_bytes()).await.unwrap();
    let answer = closed_within(&mut form, timeout * PATIENCE).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: text/html"), "{answer}");
    app.drop_db().await;
}

async fn regression_15_12_an_idle_keep_alive_connection_is_closed(backend: Backend) {
    // The idle timeout is its own setting: a head timeout of a second does not end a connection that
    // waits between requests, an idle timeout of a second does.
    let second = Duration::from_secs(1);
    let app = spawn_app_with(backend, |c| {
        c.web.header_read_timeout = second;
        c.web.idle_timeout = second * 4;
    })
    .await;
    let mut kept = connect(app.base()).await;
    kept.write_all(HEALTHZ).await.unwrap();
    assert!(read_response(&mut kept).await.starts_with("HTTP/1.1 200"));
    tokio::time::sleep(second * 2).await;
    kept.write_all(HEALTHZ).await.unwrap();
    assert!(read_response(&mut kept).await.starts_with("HTTP/1.1 200"), "still open after twice the head timeout");
    let answer = closed_within(&mut kept, second * 4 * PATIENCE).await;
    assert_eq!(answer, "");
    app.drop_db().await;
}

async fn regression_15_12_connections_beyond_the_cap_get_503(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.web.max_connections = 4).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = connect(app.base()).await;
        stream.write_all(HEALTHZ).await.unwrap();
        assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
        held.push(stream);
    }
    let mut fifth = connect(app.base()).await;
    fifth.write_all(b"GET /api/v1/me HTTP/1.1\r\nHost: bonafide.test\r\n\r\n").await.unwrap();
    let answer = closed_within(&mut fifth, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    let lower = answer.to_ascii_lowercase();
    for header in ["retry-after: ", "connection: close", "content-type: application/problem+json"] {
        assert!(lower.contains(header), "{header}: {answer}");
    }
    assert!(answer.contains("\"status\":503"), "{answer}");
    let mut page = connect(app.base()).await;
    page.write_all(HEALTHZ).await.unwrap();
    let answer = closed_within(&mut page, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: text/html"), "outside the API, a page: {answer}");
    // A connection that ends frees its place.
    drop(held.pop());
    let mut served = false;
    for _ in 0..100 {
        let mut next = connect(app.base()).await;
        next.write_all(HEALTHZ).await.unwrap();
        if closed_or_response(&mut next).await.starts_with("HTTP/1.1 200") {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "a place freed by a closed connection is taken again");
    app.drop_db().await;
}

/// The first response on `stream`, whether the server keeps the connection open or not.
async fn closed_or_response(stream: &mut TcpStream) -> String {
    let mut buf = vec![0_u8; 8192];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await.unwrap().unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

async fn regression_15_12_shutdown_lets_requests_in_flight_finish(backend: Backend) {
    // A server whose shutdown the test triggers, with the production accept loop.
    let db = bonafide_store::testing::TestDb::new(backend).await.unwrap();
    let clock = std::sync::Arc::new(bonafide_domain::ManualClock::new(crate::helpers::start_time()));
    let secret = std::sync::Arc::new(bonafide_auth::ChallengeSecret::from_hex(&"ab".repeat(32)).unwrap());
    let app = bonafide_app::App::new(db.store.clone(), clock, secret, bonafide_app::Settings::default());
    let config = bonafide_web::WebConfig::default();
    let router = bonafide_web::Application::build(bonafide_web::AppState::new(app, config.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(bonafide_web::Application::serve(listener, router, &config, async {
        let _ = stopped.await;
    }));

    let mut idle = connect(&base).await;
    idle.write_all(HEALTHZ).await.unwrap();
    assert!(read_response(&mut idle).await.starts_with("HTTP/1.1 200"));
    // A request in flight: its head is in, half its body is not.
    let mut busy = connect(&base).await;
    let body = "csrf=x&email=erin%40example.com&password=p";
    let head = format!(
        "POST /signin HTTP/1.1\r\nHost: bonafide.test\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    busy.write_all(head.as_bytes()).await.unwrap();
    busy.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).unwrap();
    // The idle connection is closed at once (well before the idle timeout); the busy one is answered.
    assert_eq!(closed_within(&mut idle, Duration::from_secs(10)).await, "");
    tokio::time::sleep(Duration::from_millis(200)).await;
    busy.write_all(&body.as_bytes()[10..]).await.unwrap();
    let answer = closed_within(&mut busy, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 403"), "the sign-in form is judged (no pre-session cookie): {answer}");
    tokio::time::timeout(Duration::from_secs(10), server).await.expect("the server stops").unwrap().unwrap();
    assert!(TcpStream::connect(&base).await.is_err(), "nothing is accepted after shutdown");
    db.drop_db().await;
}
