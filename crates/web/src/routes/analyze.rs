//! `POST /api/v1/analyze`: the QPQ analyzer for signed-in people, with `bonafide scan`'s shapes.
//!
//! `application/json`: one object, `{"id"?, "text"}` or `{"id"?, "messages": [{"from", "text"}]}`, answered
//! with `{"id", "score", "verdict", "stages": [...]}`. `application/x-ndjson`: one object per line, one
//! answer per line in order, an error object for a line that cannot be read.

use crate::AppState;
use crate::error::{ApiError, FieldError};
use crate::extract::Employee;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bonafide_analyzer::{Analysis, Analyzer, Message};
use serde::Deserialize;

/// The largest body analysed (a long transcript, or a batch of lines).
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Deserialize)]
struct InMessage {
    #[serde(default)]
    from: String,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    id: Option<serde_json::Value>,
    text: Option<String>,
    messages: Option<Vec<InMessage>>,
}

fn analyze(item: &Item) -> Result<Analysis, String> {
    let analyzer = Analyzer::english();
    match (&item.text, &item.messages) {
        (Some(text), None) => Ok(analyzer.analyze_text(text)),
        (None, Some(messages)) => {
            let messages: Vec<Message<'_>> =
                messages.iter().map(|m| Message { from: &m.from, text: &m.text }).collect();
            Ok(analyzer.analyze_conversation(&messages))
        }
        (Some(_), Some(_)) => Err("give either `text` or `messages`, not both".into()),
        (None, None) => Err("give `text` or `messages`".into()),
    }
}

fn answer(id: Option<serde_json::Value>, a: &Analysis) -> serde_json::Value {
    serde_json::json!({ "id": id, "score": a.score, "verdict": a.verdict, "stages": a.stages })
}

/// `POST /api/v1/analyze`.
pub(crate) async fn analyze_route(
    _: Employee,
    State(_state): State<AppState>,
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
            let result = serde_json::from_slice::<Item>(line)
                .map_err(|e| format!("not a JSON object of the expected shape: {e}"))
                .and_then(|item| analyze(&item).map(|a| answer(item.id, &a)));
            let value = result.unwrap_or_else(|e| serde_json::json!({ "line": i + 1, "error": e }));
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
    let item: Item = crate::extract::parse_json(&body)?;
    let a = analyze(&item).map_err(|e| ApiError::Invalid(vec![FieldError { field: "body".into(), message: e }]))?;
    Ok(Json(answer(item.id, &a)).into_response())
}
