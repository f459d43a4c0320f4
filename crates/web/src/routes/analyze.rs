//! `POST /api/v1/analyze`: the QPQ analyzer ([`bonafide_app::analyze`]) for signed-in people, with
//! `bonafide scan`'s shapes.
//!
//! `application/json`: one object, `{"id"?, "text"}` or `{"id"?, "messages": [{"from", "text"}]}`, answered
//! with `{"id", "score", "verdict", "stages": [...]}`. `application/x-ndjson`: one object per line, one
//! answer per line in order, an error object for a line that cannot be read.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Api;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bonafide_app::{AppError, analyze};

/// The largest body analysed (a long transcript, or a batch of lines).
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;

/// `POST /api/v1/analyze`.
#[utoipa::path(post, path = "/api/v1/analyze", tag = "analyze",
    request_body(description = "One message (`{id?, text}` or `{id?, messages: [{from, text}]}`) as JSON, or one per line as NDJSON",
        content((crate::openapi::AnalyzeInput = "application/json"), (String = "application/x-ndjson"))),
    responses((status = 200, description = "The analysis, or one per line for NDJSON",
        content((crate::openapi::Analysis = "application/json"), (String = "application/x-ndjson")))))]
pub(crate) async fn analyze_route(
    Api(who, ..): Api,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let (text, kind) = if content_type.starts_with("application/x-ndjson") {
        (analyze::lines(&state.app, &who, &body).await?, "application/x-ndjson")
    } else if content_type.starts_with("application/json") {
        // Malformed JSON is a 400, a JSON value of the wrong shape a 422, as everywhere in the API; the body
        // is parsed a second time only to tell the two apart.
        let answer = analyze::one(&state.app, &who, &body).await.map_err(|e| match e {
            AppError::Invalid(fields) if serde_json::from_slice::<serde_json::Value>(&body).is_err() => {
                ApiError::MalformedBody(fields.into_iter().map(|f| f.message).collect::<Vec<_>>().join("; "))
            }
            other => ApiError::from(other),
        })?;
        (answer, "application/json")
    } else {
        return Err(ApiError::UnsupportedMediaType);
    };
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    Ok(r)
}
