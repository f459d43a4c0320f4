//! Every API error, answered as RFC 9457 problem details with a stable `type` per kind.
//!
//! Clients get a short, generic message; the detail of an internal failure goes to the log only.

use axum::extract::multipart::MultipartError;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bonafide_app::AppError;
pub use bonafide_app::FieldError;
use bonafide_domain::InvalidInput;
use serde::Serialize;

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid credentials.
    #[error("sign-in required")]
    Unauthorized,
    /// Signed in, but this role may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Absent, or not visible to the caller (we do not say which).
    #[error("not found")]
    NotFound,
    /// The body was not JSON.
    #[error("{0}")]
    MalformedBody(String),
    /// The body was JSON but some fields were wrong.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The body was not sent as `application/json`.
    #[error("expected application/json")]
    UnsupportedMediaType,
    /// The body is over the size limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body did not arrive within the body read timeout; the connection is closed.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// The server holds as many connections as it may ([`crate::WebConfig::max_connections`]).
    #[error("too many connections")]
    TooManyConnections,
    /// The resource is not in a state that allows this.
    #[error("{0}")]
    Conflict(String),
    /// Too many calls in this window.
    #[error("too many requests")]
    RateLimited {
        /// Seconds until the window resets.
        retry_after: u64,
    },
    /// The route exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The database is unreachable, or the audit log could not take a change's entry.
    #[error("storage unavailable")]
    Unavailable(#[source] AppError),
    /// A bug or corrupt data.
    #[error("internal error")]
    Internal(#[source] AppError),
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => ApiError::NotFound,
            AppError::Forbidden(why) => ApiError::Forbidden(why),
            AppError::Invalid(fields) => ApiError::Invalid(fields),
            AppError::Conflict(why) => ApiError::Conflict(why),
            AppError::RateLimited { retry_after } => ApiError::RateLimited { retry_after },
            e @ AppError::Unavailable(_) => ApiError::Unavailable(e),
            e @ AppError::Internal(_) => ApiError::Internal(e),
        }
    }
}

impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> Self {
        ApiError::Invalid(vec![FieldError::new(e.field, e.message)])
    }
}

impl ApiError {
    /// A 422 for one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid(vec![FieldError::new(field, message)])
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug, title) = match &self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "Sign-in required"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Not allowed for your role"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::MalformedBody(_) => (StatusCode::BAD_REQUEST, "malformed-body", "Malformed request body"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", "Invalid input"),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type")
            }
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "Request body too large"),
            ApiError::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, "request-timeout", "Request timeout"),
            ApiError::TooManyConnections => (StatusCode::SERVICE_UNAVAILABLE, "busy", "Too many connections"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflicts with the current state"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed"),
            ApiError::Unavailable(e) => {
                tracing::error!(error = ?e, "storage unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Temporarily unavailable")
            }
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error")
            }
        };
        let errors = match &self {
            ApiError::Invalid(fields) => Some(fields.as_slice()),
            _ => None,
        };
        let problem = Problem {
            kind: format!("urn:bonafide:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail: self.to_string(),
            errors,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            mark_unavailable(&mut response);
        }
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let ApiError::RateLimited { retry_after } = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::REQUEST_TIMEOUT {
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// Why a request body could not be read, for the API's problem and the portal's page alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFailure {
    /// Over the body limit: 413.
    TooLarge,
    /// Not all there by the body read timeout: 408, and the connection is closed.
    TimedOut,
    /// Cut off or otherwise broken: 400.
    Unreadable,
}

impl BodyFailure {
    /// Why reading the body as bytes failed.
    pub fn of_bytes(rejection: &BytesRejection) -> Self {
        match rejection {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => BodyFailure::TooLarge,
            other => Self::of_error(other),
        }
    }

    /// Why reading a multipart form failed.
    pub fn of_multipart(e: &MultipartError) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE { BodyFailure::TooLarge } else { Self::of_error(e) }
    }

    /// A timeout is found among `e`'s causes (the body deadline's error, wrapped by axum and hyper).
    fn of_error(e: &(dyn std::error::Error + 'static)) -> Self {
        let mut cause = Some(e);
        while let Some(e) = cause {
            if e.is::<tower_http::timeout::TimeoutError>() {
                return BodyFailure::TimedOut;
            }
            cause = e.source();
        }
        BodyFailure::Unreadable
    }
}

impl From<BodyFailure> for ApiError {
    fn from(failure: BodyFailure) -> Self {
        match failure {
            BodyFailure::TooLarge => ApiError::PayloadTooLarge,
            BodyFailure::TimedOut => ApiError::RequestTimeout,
            BodyFailure::Unreadable => ApiError::MalformedBody("the request body could not be read".to_owned()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        BodyFailure::of_bytes(&rejection).into()
    }
}

/// Seconds a client is asked to wait (`Retry-After`) when storage is unavailable: a lost connection is
/// replaced at once, so the next try usually succeeds.
pub const RETRY_AFTER_UNAVAILABLE: u64 = 1;

/// Marks a response given because storage was unavailable: a `Retry-After` for the client, and a marker
/// that lets [`retry_reads`] try an idempotent read once more before answering.
#[derive(Debug, Clone, Copy)]
pub struct StorageUnavailable;

/// Adds `Retry-After` and the [`StorageUnavailable`] marker to `response`.
pub fn mark_unavailable(response: &mut Response) {
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_UNAVAILABLE));
    response.extensions_mut().insert(StorageUnavailable);
}

/// Middleware: a `GET` or `HEAD` answered "unavailable" (typically a pooled connection the server had
/// ended) is run once more on a fresh connection; what the second try answers is the answer. Writes are
/// never replayed: their client sees the 503 and its `Retry-After`.
pub async fn retry_reads(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if !matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let again = axum::extract::Request::from_parts(parts.clone(), axum::body::Body::empty());
    let first = next.clone().run(axum::extract::Request::from_parts(parts, body)).await;
    if first.extensions().get::<StorageUnavailable>().is_none() {
        return first;
    }
    // The route's template, not the path: a path may hold an email.
    let route = again.extensions().get::<axum::extract::MatchedPath>().map_or("unmatched", |m| m.as_str());
    tracing::warn!(route, "storage unavailable; trying the read once more");
    next.run(again).await
}
