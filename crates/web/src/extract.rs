//! Request extractors: the JSON body with field-level errors, and the signed-in person with their role.
//!
//! Permission is a type: a handler that takes [`ItStaff`] cannot run for anyone without the it_staff
//! role, and its signature says so.

use crate::AppState;
use crate::error::{ApiError, FieldError};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use bonafide_auth::TokenHash;
use bonafide_domain::Role;
use bonafide_store::{Actor, AuditEvent, Outcome, Principal};
use serde::de::DeserializeOwned;

/// A JSON body. Syntax errors answer 400; wrong or missing fields answer 422 naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| ApiError::PayloadTooLarge)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses `bytes` as `T`, mapping errors to 400 (not JSON) or 422 (wrong fields).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return ApiError::MalformedBody(format!("not valid JSON: {inner}"));
        }
        let path = e.path().to_string();
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        let field = if path == "." { missing_field(&message).unwrap_or_else(|| "body".to_owned()) } else { path };
        ApiError::Invalid(vec![FieldError { field, message }])
    })?;
    de.end().map_err(|e| ApiError::MalformedBody(format!("not valid JSON: {e}")))?;
    Ok(value)
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// Path parameters. One that cannot be read (not UTF-8) names nothing that exists: 404, like a
/// malformed id, instead of axum's plain-text 400.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state).await.map(|Path(v)| ApiPath(v)).map_err(|_| ApiError::NotFound)
    }
}

/// A query string. One that cannot be read (a parameter given twice) answers 422 naming the parameter,
/// instead of axum's plain-text 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri).map(|Query(v)| ApiQuery(v)).map_err(|e| {
            let message = e.body_text();
            // serde names the parameter in backticks: "duplicate field `scope`".
            let field = message.split('`').nth(1).unwrap_or("query").to_owned();
            ApiError::Invalid(vec![FieldError { field, message }])
        })
    }
}

/// The client's address as the server saw it (empty when unknown, e.g. in tests that call the router
/// directly). Never fails.
#[derive(Debug, Clone, Default)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(client_addr(&parts.extensions))
    }
}

/// The client's address recorded by the server in the request's extensions.
pub(crate) fn client_addr(extensions: &axum::http::Extensions) -> ClientAddr {
    let addr = extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    ClientAddr(addr.map(|a| a.to_string()).unwrap_or_default())
}

/// The audit log's view of `who`, acting from `client`.
pub fn actor(who: &Principal, client: &ClientAddr) -> Actor {
    Actor { id: Some(who.id), label: who.email.to_string(), client: client.0.clone() }
}

/// Any signed-in person (everyone is an employee).
#[derive(Debug, Clone)]
pub struct Employee(pub Principal);

/// A person with the it_staff role.
#[derive(Debug, Clone)]
pub struct ItStaff(pub Principal);

/// A person with the security_admin role.
#[derive(Debug, Clone)]
pub struct SecurityAdmin(pub Principal);

/// A person who may read security data (campaigns, everyone's reports): security_admin or auditor.
#[derive(Debug, Clone)]
pub struct SecurityReader(pub Principal);

impl FromRequestParts<AppState> for SecurityReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let p = authenticate(parts, state).await?;
        if p.roles.has(Role::SecurityAdmin) || p.roles.has(Role::Auditor) {
            Ok(SecurityReader(p))
        } else {
            Err(refuse(parts, state, &p, "only security admins and auditors may read this").await)
        }
    }
}

/// A person who may assign requests and approve outreach: it_staff or security_admin.
#[derive(Debug, Clone)]
pub struct Dispatcher(pub Principal);

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let header =
        parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(ApiError::Unauthorized)?;
    let (scheme, token) = header.split_once(' ').ok_or(ApiError::Unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.len() > 256 {
        return Err(ApiError::Unauthorized);
    }
    let hash = TokenHash::of(token.trim());
    state.store.principal_by_token(hash.as_str()).await?.ok_or(ApiError::Unauthorized)
}

impl FromRequestParts<AppState> for Employee {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await.map(Employee)
    }
}

/// Refuses `p` with 403, recording the refusal in the audit log.
async fn refuse(parts: &Parts, state: &AppState, p: &Principal, why: &'static str) -> ApiError {
    let client = client_addr(&parts.extensions);
    let event = AuditEvent::new(&actor(p, &client), "access.denied", parts.uri.path(), Outcome::Denied)
        .with(serde_json::json!({ "why": why }));
    if let Err(e) = state.store.audit(&[event], state.clock.now()).await {
        tracing::error!(error = %e, "could not append to the audit log");
    }
    ApiError::Forbidden(why)
}

impl FromRequestParts<AppState> for ItStaff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let p = authenticate(parts, state).await?;
        if p.roles.has(Role::ItStaff) {
            Ok(ItStaff(p))
        } else {
            Err(refuse(parts, state, &p, "only IT staff may do this").await)
        }
    }
}

impl FromRequestParts<AppState> for SecurityAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let p = authenticate(parts, state).await?;
        if p.roles.has(Role::SecurityAdmin) {
            Ok(SecurityAdmin(p))
        } else {
            Err(refuse(parts, state, &p, "only security admins may do this").await)
        }
    }
}

impl FromRequestParts<AppState> for Dispatcher {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let p = authenticate(parts, state).await?;
        if p.roles.has(Role::ItStaff) || p.roles.has(Role::SecurityAdmin) {
            Ok(Dispatcher(p))
        } else {
            Err(refuse(parts, state, &p, "only IT staff or security admins may do this").await)
        }
    }
}
