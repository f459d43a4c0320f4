//! Sessions for the portal: the cookie, the page extractor that states the role a page needs, and CSRF
//! checking for forms.
//!
//! The cookie carries a random token; the database keeps only its SHA-256 with the person, the stage of
//! sign-in, the CSRF token and the expiry (idle and absolute). Cookies are `HttpOnly`, `SameSite=Strict`,
//! `Path=/`, and `Secure` (with the `__Host-` prefix) when served over TLS.

use crate::AppState;
pub(crate) use crate::portal::viewer::Viewer;
use crate::portal::{html, input};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bonafide_app::access::{Refusal, Serves};
use bonafide_app::records::SessionStage;
use bonafide_app::signin;
use bonafide_app::{AppError, Caller};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// The session cookie's name (with `__Host-` when cookies are `Secure`).
pub(crate) fn session_cookie(secure: bool) -> &'static str {
    if secure { "__Host-bf_session" } else { "bf_session" }
}

/// The pre-session cookie that carries the sign-in form's CSRF token.
pub(crate) fn pre_cookie(secure: bool) -> &'static str {
    if secure { "__Host-bf_pre" } else { "bf_pre" }
}

/// The value of cookie `name`, if the request has it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value; `max_age` 0 removes the cookie.
pub(crate) fn set_cookie(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("bf_invalid=; Max-Age=0"))
}

/// The session of the request, if any, at whatever stage.
pub(crate) async fn current(parts: &Parts, state: &AppState) -> Result<Option<Viewer>, Response> {
    let secure = state.config.secure_cookies;
    let Some(token) = cookie(&parts.headers, session_cookie(secure)) else { return Ok(None) };
    let client = crate::extract::client_addr(&parts.extensions, &parts.headers, state).0;
    let current = signin::current(&state.app, token, &client).await.map_err(|e| server_error(&e))?;
    Ok(current.map(Viewer::of))
}

pub(crate) fn server_error(e: &AppError) -> Response {
    tracing::error!(error = %e, "portal request failed");
    let mut page = html::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Something went wrong",
        "Bonafide could not complete this just now. Try again in a moment.",
        None,
    );
    if matches!(e, AppError::Unavailable(_)) {
        crate::error::mark_unavailable(&mut page);
    }
    page
}

/// A signed-in (fully: both factors where due) person in the role set `R` (the application layer's,
/// shared with the API). Without a session the browser is sent to sign in; a person outside `R` gets 403
/// and the refusal is audited by the same function that refuses API calls.
pub(crate) struct Page<R: Serves> {
    pub viewer: Viewer,
    _serves: PhantomData<R>,
}

/// The CSRF token a form on this request must carry, and who sent it; set by [`Page`] for [`CsrfForm`].
#[derive(Clone)]
struct ExpectedCsrf(String, Caller);

impl<R: Serves> FromRequestParts<AppState> for Page<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_owned();
        let Some(mut viewer) = current(parts, state).await? else {
            if cookie(&parts.headers, session_cookie(state.config.secure_cookies)).is_some() {
                let client = crate::extract::client_addr(&parts.extensions, &parts.headers, state).0;
                state.app.record_refusal(None, &client, None, Refusal::ExpiredSession { path: &path }).await;
            }
            return Err(Redirect::to("/signin").into_response());
        };
        match viewer.stage {
            SessionStage::Full | SessionStage::ProviderMfa => {}
            SessionStage::SecondFactor => return Err(Redirect::to("/signin/second-factor").into_response()),
            SessionStage::Enrol if path.starts_with("/account/totp") => {}
            SessionStage::Enrol => return Err(Redirect::to("/account/totp").into_response()),
        }
        match state.app.authorize(viewer.caller(), R::ROLES, &path).await {
            Ok(()) => {}
            Err(AppError::Forbidden(_)) => {
                let text = format!("This page is for {}.", R::ROLES.who);
                return Err(html::message(StatusCode::FORBIDDEN, "Not allowed", &text, Some(&viewer)));
            }
            Err(e) => return Err(server_error(&e)),
        }
        // The banner on every page until the person acknowledges the contact policy in force.
        if let Ok(p) = bonafide_app::policy::current(&state.app, viewer.caller()).await
            && p.needs_acknowledgement()
        {
            viewer.policy_due = Some(p.policy.version);
        }
        expect_csrf(parts, &viewer);
        Ok(Page { viewer, _serves: PhantomData })
    }
}

/// Lets a [`CsrfForm`] later in the handler's arguments check `viewer`'s token.
fn expect_csrf(parts: &mut Parts, viewer: &Viewer) {
    parts.extensions.insert(ExpectedCsrf(viewer.csrf.clone(), viewer.caller().clone()));
}

/// A session at any stage of sign-in (for signing out); without one the browser is sent to sign in.
pub(crate) struct AnySession(pub Viewer);

impl FromRequestParts<AppState> for AnySession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let viewer = current(parts, state).await?.ok_or_else(|| Redirect::to("/signin").into_response())?;
        expect_csrf(parts, &viewer);
        Ok(AnySession(viewer))
    }
}

/// A session whose password was right and whose second factor is due; anyone else is sent on.
pub(crate) struct PendingSecondFactor(pub Viewer);

impl FromRequestParts<AppState> for PendingSecondFactor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match current(parts, state).await? {
            Some(v) if v.stage == SessionStage::SecondFactor => {
                expect_csrf(parts, &v);
                Ok(PendingSecondFactor(v))
            }
            Some(_) => Err(Redirect::to("/").into_response()),
            None => Err(Redirect::to("/signin").into_response()),
        }
    }
}

/// A url-encoded form that carried the session's CSRF token in its `csrf` field. Must follow a
/// [`Page`], [`AnySession`] or [`PendingSecondFactor`] in the handler's arguments; otherwise, or with a missing or wrong token, the request is
/// refused with 403 and the refusal audited.
pub(crate) struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let expected = req.extensions().get::<ExpectedCsrf>().cloned();
        let client = crate::extract::client_addr(req.extensions(), req.headers(), state);
        let path = req.uri().path().to_owned();
        let fields = input::form_fields(req, state).await?;
        let presented = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        let ok =
            expected.as_ref().is_some_and(|e| bonafide_auth::constant_time_eq(e.0.as_bytes(), presented.as_bytes()));
        if !ok {
            let by = expected.as_ref().map(|e| &e.1);
            state.app.record_refusal(by, &client.0, None, Refusal::Csrf { path: &path }).await;
            return Err(html::message(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form is no longer valid. Go back, reload the page and try again.",
                None,
            ));
        }
        input::decode(&fields).map(CsrfForm)
    }
}
