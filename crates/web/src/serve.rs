//! The accept loop: HTTP/1.1 connections served by hyper, with the limits a server facing slow or hostile
//! clients needs (`axum::serve` has none of them).
//!
//! - A connection may hold at most [`WebConfig::max_connections`] at once; one more is answered a minimal
//!   503 with `Retry-After` and `Connection: close` (a problem document for `/api/…`, a page otherwise)
//!   and closed, without reaching the router.
//! - Each connection has a watchdog. From the first byte of a request's head (or from the accept, for a
//!   connection that sends nothing) the whole head must arrive within [`WebConfig::header_read_timeout`];
//!   between requests, a connection on which nothing is read or written for
//!   [`WebConfig::idle_timeout`] is closed. While a request is being handled the watchdog waits; the
//!   body has its own deadline ([`WebConfig::body_read_timeout`], in [`crate::Application::build`]).
//!   hyper's own header timeout is off: it starts when a connection falls idle, so it cannot tell an idle
//!   keep-alive connection from a slow head.
//! - On shutdown no connection is accepted any more; idle ones close at once and requests in flight are
//!   answered first (hyper's graceful shutdown, through `hyper_util`).

use crate::WebConfig;
use crate::error::ApiError;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, timeout};
use tower::{Service, ServiceExt};

/// Connections over the cap answered at once; beyond this many, more are closed without an answer, so
/// a flood cannot make the refusals themselves hold unbounded sockets.
const REFUSALS_AT_ONCE: usize = 64;
/// How long a refused connection is given to send its request line (to tell the API from the portal),
/// and then to take the answer.
const REFUSAL_GRACE: Duration = Duration::from_millis(500);

/// Serves `router` on `listener` with `config`'s limits until `shutdown` resolves, then waits for the
/// requests in flight.
pub(crate) async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    let busy = Arc::new(Busy::new().await);
    let graceful = GracefulShutdown::new();
    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let mut last_warned = None;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted: wait a
                    // moment instead of spinning, as `axum::serve` does.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            // Once a second at most, so a flood does not flood the log too.
            if last_warned.is_none_or(|at: Instant| at.elapsed() >= Duration::from_secs(1)) {
                tracing::warn!(%peer, max_connections = limits.connections, "too many connections; refusing new ones");
                last_warned = Some(Instant::now());
            }
            if let Ok(slot) = refusals.clone().try_acquire_owned() {
                tokio::spawn(refuse(stream, busy.clone(), slot));
            }
            continue;
        };
        let Ok(service) = make_service.call(peer).await;
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched { stream, activity: activity.clone() });
        let on_request = activity.clone();
        let hyper_service = hyper::service::service_fn(move |request: axum::http::Request<Incoming>| {
            let handling = on_request.handling();
            let answer = service.clone().oneshot(request);
            async move {
                let response = answer.await;
                drop(handling);
                response
            }
        });
        let connection =
            hyper::server::conn::http1::Builder::new().header_read_timeout(None).serve_connection(io, hyper_service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            tokio::select! {
                done = connection => {
                    if let Err(e) = done {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                () = watchdog(&activity, limits) => tracing::debug!(%peer, "closed a slow or idle connection"),
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The connection cap and the timeouts the watchdog applies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    connections: usize,
    head: Duration,
    idle: Duration,
}

impl Limits {
    pub(crate) fn of(config: &WebConfig) -> Self {
        Self {
            connections: config.max_connections.clamp(1, Semaphore::MAX_PERMITS),
            head: config.header_read_timeout,
            idle: config.idle_timeout,
        }
    }
}

/// Where a connection is in its exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the next request; nothing read or written since the instant.
    Idle,
    /// A request's head began to arrive at the instant (or the connection was accepted then).
    Head,
    /// This many requests are being handled (more than one only if a client pipelines).
    Handling(usize),
}

/// A connection's phase and since when, shared by its socket, its requests and its watchdog.
struct Activity {
    state: Mutex<(Phase, Instant)>,
    changed: Notify,
}

impl Activity {
    fn new() -> Self {
        Self { state: Mutex::new((Phase::Head, Instant::now())), changed: Notify::new() }
    }

    fn update(&self, f: impl FnOnce(Phase) -> Option<Phase>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(next) = f(state.0) {
            *state = (next, Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    /// Bytes arrived: on an idle connection, a new head begins.
    fn read(&self) {
        self.update(|p| (p == Phase::Idle).then_some(Phase::Head));
    }

    /// Bytes left: an idle connection is busy writing (a response body), not idle.
    fn wrote(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.0 == Phase::Idle {
            state.1 = Instant::now();
        }
    }

    /// A request is being handled until the guard is dropped.
    fn handling(self: &Arc<Self>) -> Handling {
        self.update(|p| match p {
            Phase::Handling(n) => Some(Phase::Handling(n + 1)),
            Phase::Idle | Phase::Head => Some(Phase::Handling(1)),
        });
        Handling(self.clone())
    }

    /// When the connection is to be closed, if nothing changes; `None` while a request is handled.
    fn deadline(&self, limits: Limits) -> Option<Instant> {
        let (phase, since) = *self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match phase {
            Phase::Idle => Some(since + limits.idle),
            Phase::Head => Some(since + limits.head),
            Phase::Handling(_) => None,
        }
    }
}

/// Marks one request as handled while it lives.
struct Handling(Arc<Activity>);

impl Drop for Handling {
    fn drop(&mut self) {
        // INVARIANT: only `Activity::handling` makes a guard, after counting it.
        self.0.update(|p| match p {
            Phase::Handling(1) => Some(Phase::Idle),
            Phase::Handling(n) => Some(Phase::Handling(n.saturating_sub(1))),
            Phase::Idle | Phase::Head => None,
        });
    }
}

/// Resolves when the connection has been slow or idle for too long.
async fn watchdog(activity: &Activity, limits: Limits) {
    loop {
        // Created before the deadline is read, so a change in between still wakes this loop.
        let changed = activity.changed.notified();
        match activity.deadline(limits) {
            Some(deadline) if deadline <= Instant::now() => return,
            Some(deadline) => {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => {}
                    () = changed => {}
                }
            }
            None => changed.await,
        }
    }
}

/// The socket, telling its connection's [`Activity`] when bytes come and go.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The two answers to a connection over the cap, as bytes on the wire.
struct Busy {
    api: Vec<u8>,
    page: Vec<u8>,
}

impl Busy {
    async fn new() -> Self {
        let page = crate::portal::html::message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Busy",
            "Bonafide has too many connections just now. Try again in a moment.",
            None,
        );
        Self { api: wire(ApiError::TooManyConnections.into_response()).await, page: wire(page).await }
    }
}

/// `response` as HTTP/1.1 bytes, closing the connection.
async fn wire(response: Response) -> Vec<u8> {
    let (mut parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let headers = &mut parts.headers;
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let status = parts.status;
    let mut out = format!("HTTP/1.1 {} {}\r\n", status.as_str(), status.canonical_reason().unwrap_or("")).into_bytes();
    for (name, value) in headers.iter() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    out
}

/// Answers a connection over the cap and closes it.
async fn refuse(mut stream: TcpStream, busy: Arc<Busy>, _slot: OwnedSemaphorePermit) {
    let mut head = [0_u8; 512];
    let read = timeout(REFUSAL_GRACE, stream.read(&mut head)).await;
    let head = match read {
        Ok(Ok(n)) => head.get(..n).unwrap_or_default(),
        _ => &[],
    };
    let answer = if is_api(head) { &busy.api } else { &busy.page };
    let _ = timeout(REFUSAL_GRACE, async {
        stream.write_all(answer).await?;
        stream.shutdown().await?;
        // Read what the client still sends, so closing is a FIN and not a reset that could discard the
        // answer before the client reads it.
        let mut sink = [0_u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        std::io::Result::Ok(())
    })
    .await;
}

/// Whether a request's first bytes name a path under `/api/`.
fn is_api(head: &[u8]) -> bool {
    let mut words = head.split(|b| *b == b' ');
    words.next();
    words.next().is_some_and(|path| path.starts_with(b"/api/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_line_under_api_is_told_from_a_page() {
        assert!(is_api(b"GET /api/v1/me HTTP/1.1\r\n"));
        assert!(is_api(b"POST /api/"));
        assert!(!is_api(b"GET / HTTP/1.1\r\n"));
        assert!(!is_api(b"GET /apiary HTTP/1.1\r\n"));
        assert!(!is_api(b""));
    }
}
