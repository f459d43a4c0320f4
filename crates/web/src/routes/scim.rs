//! SCIM 2.0 (RFC 7643/7644) at `/scim/v2`: users, groups and the discovery endpoints, for an identity
//! provider's service token with the `scim` scope. Every answer is `application/scim+json`, errors in
//! SCIM's own error schema (status as text, `scimType`), never RFC 9457. `users.rs` and `groups.rs`
//! render and read the resources, `patch.rs` applies PATCH operations to a resource's JSON,
//! `discovery.rs` describes the service. The use cases are `bonafide_app::scim`.

mod discovery;
mod groups;
mod patch;
mod users;

use crate::AppState;
use crate::error::{BodyFailure, RETRY_AFTER_UNAVAILABLE};
use crate::extract::client_addr;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bonafide_app::AppError;
use bonafide_app::decisions::{self, Service};
use bonafide_app::scim::{self as usecases, ScimError};
use bonafide_app::{Caller, Via};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// SCIM's media type.
pub(crate) const MEDIA_TYPE: &str = "application/scim+json";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/Users", get(users::list).post(users::create).fallback(method_not_allowed))
        .route(
            "/Users/{id}",
            get(users::get).put(users::put).patch(users::patch).delete(users::delete).fallback(method_not_allowed),
        )
        .route("/Groups", get(groups::list).post(groups::create).fallback(method_not_allowed))
        .route(
            "/Groups/{id}",
            get(groups::get).put(groups::put).patch(groups::patch).delete(groups::delete).fallback(method_not_allowed),
        )
        .route("/ServiceProviderConfig", get(discovery::service_provider_config).fallback(method_not_allowed))
        .route("/ResourceTypes", get(discovery::resource_types).fallback(method_not_allowed))
        .route("/ResourceTypes/{id}", get(discovery::resource_type).fallback(method_not_allowed))
        .route("/Schemas", get(discovery::schemas).fallback(method_not_allowed))
        .route("/Schemas/{id}", get(discovery::schema_by_id).fallback(method_not_allowed))
        .route("/.search", post(search_everything))
        .fallback(not_found)
}

/// A SCIM error answer.
#[derive(Debug)]
pub(crate) struct Fail {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
    retry_after: Option<u64>,
}

impl Fail {
    pub(crate) fn new(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into(), retry_after: None }
    }

    /// 400 with `scimType`.
    pub(crate) fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let mut body =
            json!({ "schemas": [ERROR_SCHEMA], "status": self.status.as_u16().to_string(), "detail": self.detail });
        if let (Some(t), Some(map)) = (self.scim_type, body.as_object_mut()) {
            map.insert("scimType".into(), Value::from(t));
        }
        let mut response = scim_json(self.status, &body);
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<AppError> for Fail {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Fail::new(StatusCode::NOT_FOUND, None, "no such resource"),
            AppError::Forbidden(why) => Fail::new(StatusCode::FORBIDDEN, None, why),
            AppError::Invalid(fields) => Fail::bad("invalidValue", AppError::fields_text(&fields)),
            AppError::Conflict(why) => Fail::new(StatusCode::CONFLICT, Some("uniqueness"), why),
            AppError::RateLimited { retry_after } => Fail {
                retry_after: Some(retry_after),
                ..Fail::new(StatusCode::TOO_MANY_REQUESTS, None, "too many requests")
            },
            AppError::Unavailable(e) => {
                tracing::error!(error = ?e, "storage unavailable");
                Fail {
                    retry_after: Some(RETRY_AFTER_UNAVAILABLE),
                    ..Fail::new(StatusCode::SERVICE_UNAVAILABLE, None, "temporarily unavailable")
                }
            }
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                Fail::new(StatusCode::INTERNAL_SERVER_ERROR, None, "internal error")
            }
        }
    }
}

impl From<ScimError> for Fail {
    fn from(e: ScimError) -> Self {
        match e {
            ScimError::InvalidFilter(m) => Fail::bad("invalidFilter", m),
            ScimError::InvalidValue(m) => Fail::bad("invalidValue", m),
            ScimError::Uniqueness(m) => Fail::new(StatusCode::CONFLICT, Some("uniqueness"), m),
            e @ ScimError::Precondition => Fail::new(StatusCode::PRECONDITION_FAILED, None, e.to_string()),
            ScimError::App(e) => e.into(),
        }
    }
}

/// `value` as `application/scim+json` with `status`.
pub(crate) fn scim_json(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    response
}

/// A resource with its ETag (and its location, when created).
pub(crate) fn resource(status: StatusCode, value: &Value, version: &str) -> Response {
    let mut response = scim_json(status, value);
    if let Ok(v) = HeaderValue::from_str(version) {
        response.headers_mut().insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED
        && let Some(Ok(location)) = value.pointer("/meta/location").and_then(Value::as_str).map(HeaderValue::from_str)
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// A list response of `items`.
pub(crate) fn list_response(total: usize, start_index: usize, items: Vec<Value>) -> Response {
    let body = json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": items.len(),
        "Resources": items,
    });
    scim_json(StatusCode::OK, &body)
}

async fn not_found() -> Fail {
    Fail::new(StatusCode::NOT_FOUND, None, "no such endpoint")
}

async fn method_not_allowed() -> Fail {
    Fail::new(StatusCode::METHOD_NOT_ALLOWED, None, "this endpoint does not take this method")
}

/// `POST /scim/v2/.search`: searching every resource type at once is not offered (501, as RFC 7644
/// §3.12 says for an operation not supported).
async fn search_everything(_: ScimCaller) -> Fail {
    Fail::new(StatusCode::NOT_IMPLEMENTED, None, "search each resource type at its own endpoint")
}

/// The caller of a SCIM endpoint: a service token (the use cases check its `scim` scope). No token or
/// an unknown one answers 401; a person's token 403, audited.
pub(crate) struct ScimCaller(pub Service);

impl FromRequestParts<AppState> for ScimCaller {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let unauthorized =
            || Fail::new(StatusCode::UNAUTHORIZED, None, "a service token with the scim scope is required");
        let token = crate::extract::bearer(&parts.headers).ok_or_else(unauthorized)?.to_owned();
        let client = client_addr(&parts.extensions, &parts.headers, state).0;
        if let Some(record) = decisions::authenticate_service(&state.app, &token).await? {
            return Ok(ScimCaller(Service { record, client }));
        }
        if let Some(person) = state.app.authenticate_token(&token).await? {
            let caller = Caller::new(person, client, Via::Api);
            // Nested under /scim/v2, the router sees the path without it; the audit log names it whole.
            let path = parts.extensions.get::<axum::extract::OriginalUri>().map_or(parts.uri.path(), |u| u.path());
            return Err(usecases::refuse_person(&state.app, &caller, path).await.into());
        }
        Err(unauthorized())
    }
}

/// A resource's id from the path; one that cannot be read names nothing (404).
pub(crate) struct ScimPath(pub String);

impl FromRequestParts<AppState> for ScimPath {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(id)| ScimPath(id))
            .map_err(|_| Fail::new(StatusCode::NOT_FOUND, None, "no such resource"))
    }
}

/// A SCIM request body: a JSON object, sent as `application/scim+json` or `application/json`.
pub(crate) struct ScimBody(pub Value);

impl FromRequest<AppState> for ScimBody {
    type Rejection = Fail;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let media = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        if media.as_deref().is_some_and(|m| m != MEDIA_TYPE && m != "application/json") {
            return Err(Fail::bad("invalidSyntax", "send the body as application/scim+json"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match BodyFailure::of_bytes(&e) {
            BodyFailure::TooLarge => {
                Fail::new(StatusCode::PAYLOAD_TOO_LARGE, Some("tooLarge"), "the body is too large")
            }
            BodyFailure::TimedOut => Fail::new(StatusCode::REQUEST_TIMEOUT, None, "the body did not arrive in time"),
            BodyFailure::Unreadable => Fail::bad("invalidSyntax", "the body could not be read"),
        })?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Fail::bad("invalidSyntax", format!("the body is not JSON: {e}")))?;
        if !value.is_object() {
            return Err(Fail::bad("invalidSyntax", "the body must be a JSON object"));
        }
        Ok(ScimBody(value))
    }
}

/// A list's query: `filter`, `startIndex`, `count`, `attributes`, `excludedAttributes`.
#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    pub filter: Option<String>,
    pub start_index: usize,
    pub count: Option<usize>,
    pub shape: Shape,
}

/// Which attributes to return.
#[derive(Debug, Default, Clone)]
pub(crate) struct Shape {
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

fn names(v: Option<&String>) -> Vec<String> {
    v.map(|s| s.split(',').map(|a| a.trim().to_ascii_lowercase()).filter(|a| !a.is_empty()).collect())
        .unwrap_or_default()
}

fn query_map(parts: &Parts) -> Result<BTreeMap<String, String>, Fail> {
    let query = parts.uri.query().unwrap_or("");
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| Fail::bad("invalidValue", "the query string cannot be read"))?;
    Ok(pairs.into_iter().collect())
}

/// A number parameter: a whole number, or a SCIM 400.
fn number(q: &BTreeMap<String, String>, name: &str) -> Result<Option<usize>, Fail> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) => Ok(Some(usize::try_from(n.max(0)).unwrap_or(0))),
            Err(_) => Err(Fail::bad("invalidValue", format!("{name} must be a whole number"))),
        },
    }
}

impl FromRequestParts<AppState> for ListQuery {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        let q = query_map(parts)?;
        Ok(ListQuery {
            filter: q.get("filter").cloned(),
            start_index: number(&q, "startIndex")?.unwrap_or(1).max(1),
            count: number(&q, "count")?,
            shape: Shape { attributes: names(q.get("attributes")), excluded: names(q.get("excludedAttributes")) },
        })
    }
}

impl FromRequestParts<AppState> for Shape {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        let q = query_map(parts)?;
        Ok(Shape { attributes: names(q.get("attributes")), excluded: names(q.get("excludedAttributes")) })
    }
}

impl Shape {
    /// `doc` with only the attributes asked for (`id`, `schemas` and `meta` always), without those
    /// excluded. Names are top-level attributes or an extension's (`urn:…:User:department`).
    pub(crate) fn apply(&self, mut doc: Value) -> Value {
        let Some(map) = doc.as_object_mut() else { return doc };
        let always = ["id", "schemas", "meta"];
        let keys: Vec<String> = map.keys().cloned().collect();
        for key in keys {
            let lower = key.to_ascii_lowercase();
            if always.contains(&key.as_str()) {
                continue;
            }
            if lower.starts_with("urn:") {
                let Some(ext) = map.get_mut(&key).and_then(Value::as_object_mut) else { continue };
                let whole_asked = self.attributes.contains(&lower);
                let subs: Vec<String> = ext.keys().cloned().collect();
                for sub in subs {
                    let full = format!("{lower}:{}", sub.to_ascii_lowercase());
                    let asked = whole_asked || self.attributes.contains(&full);
                    let excluded = self.excluded.iter().any(|a| *a == full || *a == lower);
                    if (!self.attributes.is_empty() && !asked) || excluded {
                        ext.remove(&sub);
                    }
                }
                if ext.is_empty() {
                    map.remove(&key);
                }
                continue;
            }
            let matches = |a: &String| {
                *a == lower
                    || a.split_once('.').is_some_and(|(top, _)| top == lower)
                    || a.rsplit_once(':')
                        .is_some_and(|(_, last)| last == lower || last.split('.').next() == Some(lower.as_str()))
            };
            let asked = self.attributes.iter().any(matches);
            let excluded =
                self.excluded.iter().any(|a| *a == lower || a.rsplit_once(':').is_some_and(|(_, l)| l == lower));
            if (!self.attributes.is_empty() && !asked) || excluded {
                map.remove(&key);
            }
        }
        doc
    }
}

/// The base address resources are located at: the public URL when set, else the request's host.
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.app.settings().public_url {
        return format!("{url}/scim/v2");
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}/scim/v2")
}

/// The `If-Match` header, when sent.
pub(crate) fn if_match(headers: &HeaderMap) -> Option<String> {
    headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Text at `key` of an object, case-insensitively: none when absent or null, a SCIM 400 when it is
/// not text.
pub(crate) fn text_at(obj: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, Fail> {
    match get_ci(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Fail::bad("invalidValue", format!("{key} must be a string"))),
    }
}

/// The value at `key`, matched case-insensitively as SCIM attribute names are.
pub(crate) fn get_ci<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}
