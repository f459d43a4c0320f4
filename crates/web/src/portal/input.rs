//! What a page reads from the request besides the session: path parameters, the query string and form
//! bodies. Each refusal is a page in the portal's layout; axum's own extractors would answer plain text.

use crate::AppState;
use crate::error::BodyFailure;
use crate::portal::html;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::de::DeserializeOwned;

/// A form's fields, url-encoded or `multipart/form-data` (a file field's value is its content, which must
/// be UTF-8 text).
pub(crate) async fn form_fields(req: Request, state: &AppState) -> Result<Vec<(String, String)>, Response> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        let bytes =
            axum::body::Bytes::from_request(req, state).await.map_err(|e| body_failed(BodyFailure::of_bytes(&e)))?;
        return Ok(serde_urlencoded::from_bytes(&bytes).unwrap_or_default());
    }
    let mut parts = Multipart::from_request(req, state).await.map_err(|_| unreadable("The form could not be read."))?;
    let mut fields = Vec::new();
    loop {
        let field = match parts.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(body_failed(BodyFailure::of_multipart(&e))),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|e| body_failed(BodyFailure::of_multipart(&e)))?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
            let text = format!("The {name} field is not UTF-8 text; save the file as UTF-8 CSV.");
            html::message(StatusCode::UNPROCESSABLE_ENTITY, "Check the form", &text, None)
        })?;
        fields.push((name, text));
    }
    Ok(fields)
}

/// `fields` read into `T`; a missing or malformed field is a 422 page.
pub(crate) fn decode<T: DeserializeOwned>(fields: &[(String, String)]) -> Result<T, Response> {
    let incomplete = |e: &dyn std::fmt::Display| {
        html::message(StatusCode::UNPROCESSABLE_ENTITY, "Check the form", &format!("The form is incomplete: {e}"), None)
    };
    // Both encodings end as the same name/value pairs, read into `T` by one deserialiser.
    let encoded = serde_urlencoded::to_string(fields).map_err(|e| incomplete(&e))?;
    serde_urlencoded::from_str::<T>(&encoded).map_err(|e| incomplete(&e))
}

/// The page for a body that could not be read: 413, 408 (closing the connection) or 400.
pub(crate) fn body_failed(failure: BodyFailure) -> Response {
    match failure {
        BodyFailure::TooLarge => {
            html::message(StatusCode::PAYLOAD_TOO_LARGE, "Too much data", "That form was too large.", None)
        }
        BodyFailure::TimedOut => {
            let mut page = html::message(
                StatusCode::REQUEST_TIMEOUT,
                "Too slow",
                "The form did not arrive in time. Try again.",
                None,
            );
            page.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            page
        }
        BodyFailure::Unreadable => unreadable("The form could not be read."),
    }
}

fn unreadable(text: &str) -> Response {
    html::message(StatusCode::BAD_REQUEST, "Check the form", text, None)
}

/// A form read without a session (the sign-in forms, which check their CSRF token against the
/// pre-session cookie themselves). Every other form is a [`crate::portal::session::CsrfForm`].
pub(crate) struct PlainForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for PlainForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        decode(&form_fields(req, state).await?).map(PlainForm)
    }
}

/// Path parameters. One that cannot be read (not UTF-8) names nothing there is: a 404 page.
pub(crate) struct PagePath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for PagePath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state).await.map(|Path(v)| PagePath(v)).map_err(|_| {
            html::message(StatusCode::NOT_FOUND, "Not found", "There is nothing here, or it is not yours to see.", None)
        })
    }
}

/// A query string. One that cannot be read (a parameter given twice) is a 400 page.
pub(crate) struct PageQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for PageQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri).map(|Query(v)| PageQuery(v)).map_err(|e| {
            let text = format!("This address cannot be read: {}.", e.body_text());
            html::message(StatusCode::BAD_REQUEST, "Check the address", &text, None)
        })
    }
}
