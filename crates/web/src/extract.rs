//! Request extractors: the JSON body with field-level errors, and the signed-in caller with the role set
//! the route serves.
//!
//! Permission is a type: a handler that takes `Api<ItStaff>` cannot run for anyone without the it_staff
//! role, and its signature says so. The role sets and the refusal (audited) are the application layer's,
//! shared with the portal's pages.

use crate::AppState;
use crate::error::{ApiError, FieldError};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use bonafide_app::access::{Everyone, Serves};
use bonafide_app::{Caller, Via};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

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
        let bytes = Bytes::from_request(req, state).await?;
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
        ApiError::Invalid(vec![FieldError::new(&field, message)])
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
            ApiError::Invalid(vec![FieldError::new(&field, message)])
        })
    }
}

/// The client's address: the TCP peer, or the client a trusted proxy names ([`crate::proxy`]); empty
/// when unknown (tests that call the router directly). Never fails.
#[derive(Debug, Clone, Default)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(client_addr(&parts.extensions, &parts.headers, state))
    }
}

/// The client's address, from the peer the server recorded in the request's extensions and, when that
/// peer is a trusted proxy, the forwarding headers.
pub(crate) fn client_addr(
    extensions: &axum::http::Extensions,
    headers: &axum::http::HeaderMap,
    state: &AppState,
) -> ClientAddr {
    let peer = extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let client = peer.map(|p| crate::proxy::client_of(p, headers, &state.config.trusted_proxies));
    ClientAddr(client.map(|a| a.to_string()).unwrap_or_default())
}

/// The token of an `Authorization: Bearer …` header (at most 256 characters), if there is one.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let (scheme, token) = headers.get(header::AUTHORIZATION)?.to_str().ok()?.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 256).then_some(token)
}

/// The caller of an API route: the bearer token's person, allowed by the role set `R`
/// ([`bonafide_app::access`]). No or a bad token answers 401; a person outside `R` 403, audited.
pub struct Api<R: Serves = Everyone>(pub Caller, pub PhantomData<R>);

impl<R: Serves> FromRequestParts<AppState> for Api<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let person = state.app.authenticate_token(token).await?.ok_or(ApiError::Unauthorized)?;
        let caller = Caller::new(person, client_addr(&parts.extensions, &parts.headers, state).0, Via::Api);
        state.app.authorize(&caller, R::ROLES, parts.uri.path()).await?;
        Ok(Api(caller, PhantomData))
    }
}
