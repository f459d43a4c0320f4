//! What every request leaves behind: a request id (a sane incoming `X-Request-Id`, else 128 random bits
//! from `bonafide_auth`) on the response and on every log line written while it is served, one log line
//! when it is answered, and its count and latency in the metrics, under its route template (axum's
//! `MatchedPath`).
//!
//! The log line and the metrics name the route template, the method and the status only: never the
//! path the client sent (it may hold an email or a key), the query, or any header (tokens, cookies).

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument as _;

/// The request id header, read from the client and always answered.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route of a request that matched none.
const UNMATCHED: &str = "unmatched";

/// This request's id, in its extensions for handlers that want it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Whether a client's request id is worth keeping: 1 to 64 letters, digits, `-`, `_`, `.` or `:` (a
/// UUID, a proxy's hex id), so that it can be logged and echoed as it is.
fn sane(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Middleware (applied with `Router::layer`, so after routing, where the route template is known).
pub(crate) async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map_or_else(bonafide_auth::request_id, str::to_owned);
    let route = request.extensions().get::<MatchedPath>().map_or(UNMATCHED, MatchedPath::as_str).to_owned();
    let method = request.method().clone();
    request.extensions_mut().insert(RequestId(id.clone()));
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state.app.metrics().http_request(method.as_str(), &route, status, elapsed.as_secs_f64());
    span.in_scope(|| {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        tracing::info!(status, micros, "answered");
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::sane;

    #[test]
    fn a_uuid_or_a_short_token_is_kept_and_anything_else_replaced() {
        assert!(sane("0b6e3d1c-6f0e-4c57-9d7a-2b1f7f0e9a11"));
        assert!(sane("req:42.a_b"));
        for bad in ["", "a b", "x\"y", "<script>", "é", &"a".repeat(65), "a\nb"] {
            assert!(!sane(bad), "{bad:?}");
        }
    }
}
