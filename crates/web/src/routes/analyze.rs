//! `POST /api/v1/analyze`: the QPQ analyzer for signed-in people, with `bonafide scan`'s shapes.
//!
//! `application/json`: one object, `{"id"?, "text"}` or `{"id"?, "messages": [{"from", "text"}]}`, answered
//! with `{"id", "score", "verdict", "stages": [...]}`. `application/x-ndjson`: one object per line, one
//! answer per line in order, an error object for a line that cannot be read.

use crate::error::{ApiError, FieldError};
use crate::extract::Employee;
use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bonafide_analyzer::Analyzer;
use bonafide_analyzer::input::{Input, error_line};

/// The largest body analysed (a long transcript, or a batch of lines).
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;

/// `POST /api/v1/analyze`.
pub(crate) async fn analyze_route(
    _: Employee,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|_| ApiError::PayloadTooLarge)?;
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if content_type.starts_with("application/x-ndjson") {
        let mut out = String::new();
        for (i, line) in body.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let value = match Input::parse(line) {
                Ok(input) => input.answer(&input.analyze(Analyzer::english())),
                Err(e) => error_line(line, i + 1, &e),
            };
            out.push_str(&value.to_string());
            out.push('\n');
        }
        let mut r = (StatusCode::OK, out).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
        return Ok(r);
    }
    if !content_type.starts_with("application/json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    // Malformed JSON is a 400, a JSON value of the wrong shape a 422, as everywhere in the API; the body is
    // parsed a second time only to tell the two apart.
    let input = Input::parse(&body).map_err(|e| match serde_json::from_slice::<serde_json::Value>(&body) {
        Err(_) => ApiError::MalformedBody(e),
        Ok(_) => ApiError::Invalid(vec![FieldError { field: "body".into(), message: e }]),
    })?;
    Ok(Json(input.answer(&input.analyze(Analyzer::english()))).into_response())
}
