//! The contact policy ([`bonafide_app::policy`]): `GET /api/v1/policy` (the version in force, for
//! everyone), its history, `POST /api/v1/policy` (security admins write a version),
//! `POST /api/v1/policy/versions/{n}/acknowledge` (everyone) and `GET /api/v1/policy/acknowledgements`
//! (security admins and auditors).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiJson, ApiPath, ApiQuery};
use crate::routes::views::rfc3339;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use bonafide_app::Acting;
use bonafide_app::access::{SecurityAdmins, SecurityReaders};
use bonafide_app::policy::{self, Acknowledgements, Draft, PolicyVersion};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub(crate) struct VersionView {
    version: u32,
    effective_at: String,
    /// The contact policy's rules as JSON (see the README's contact policy section).
    #[schema(value_type = Object)]
    rules: serde_json::Value,
    text: String,
    /// The rules in everyday words, the built-in ones first.
    rules_in_words: Vec<String>,
    ack_due_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    acknowledged_at: Option<String>,
}

fn view(v: &PolicyVersion, acknowledged_at: Option<OffsetDateTime>) -> VersionView {
    VersionView {
        version: v.version,
        effective_at: rfc3339(v.effective_at),
        rules: v.rules.to_json(),
        text: v.text.clone(),
        rules_in_words: v.rules.in_words(),
        ack_due_at: rfc3339(v.due_at()),
        acknowledged_at: acknowledged_at.map(rfc3339),
    }
}

/// `GET /api/v1/policy`: the version in force, with when the caller acknowledged it.
#[utoipa::path(get, path = "/api/v1/policy", tag = "policy", responses((status = 200, body = VersionView)))]
pub(crate) async fn current(Api(who, ..): Api, State(state): State<AppState>) -> Result<Json<VersionView>, ApiError> {
    let p = policy::current(&state.app, &who).await?;
    Ok(Json(view(&p.policy, p.acknowledged_at)))
}

/// `GET /api/v1/policy/versions`: every version, newest first.
#[utoipa::path(get, path = "/api/v1/policy/versions", tag = "policy", responses((status = 200, body = Vec<VersionView>)))]
pub(crate) async fn versions(
    Api(who, ..): Api,
    State(state): State<AppState>,
) -> Result<Json<Vec<VersionView>>, ApiError> {
    Ok(Json(policy::versions(&state.app, &who).await?.iter().map(|v| view(v, None)).collect()))
}

/// `GET /api/v1/policy/versions/{n}`.
#[utoipa::path(get, path = "/api/v1/policy/versions/{n}", tag = "policy", params(("n" = String, Path)), responses((status = 200, body = VersionView)))]
pub(crate) async fn version(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiPath(n): ApiPath<String>,
) -> Result<Json<VersionView>, ApiError> {
    let v = policy::version(&state.app, &who, &n).await?;
    Ok(Json(view(&v, None)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PublishBody {
    /// The contact policy's rules as JSON (see the README's contact policy section).
    #[schema(value_type = Object)]
    rules: serde_json::Value,
    text: String,
    /// When it takes effect (RFC 3339); now by default.
    #[schema(format = DateTime)]
    effective_at: Option<String>,
}

/// `POST /api/v1/policy` `{rules, text, effective_at?}`: security admins; 201 with the new version.
#[utoipa::path(post, path = "/api/v1/policy", tag = "policy", request_body = PublishBody, responses((status = 201, body = VersionView)))]
pub(crate) async fn publish(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PublishBody>,
) -> Result<(StatusCode, Json<VersionView>), ApiError> {
    let effective_at = match body.effective_at.as_deref() {
        None => None,
        Some(t) => Some(
            OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|_| ApiError::field("effective_at", "a time as RFC 3339, such as 2026-12-07T09:00:00Z"))?,
        ),
    };
    let draft = Draft { rules: body.rules, text: body.text, effective_at };
    let v = policy::publish(&state.app, Acting::Person(&who), draft).await?;
    Ok((StatusCode::CREATED, Json(view(&v, None))))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Acknowledged {
    version: u32,
    acknowledged_at: String,
}

/// `POST /api/v1/policy/versions/{n}/acknowledge`: the caller read version n (idempotent; 409 when it was
/// replaced).
#[utoipa::path(post, path = "/api/v1/policy/versions/{n}/acknowledge", tag = "policy", params(("n" = String, Path)), responses((status = 200, body = Acknowledged), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn acknowledge(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiPath(n): ApiPath<String>,
) -> Result<Json<Acknowledged>, ApiError> {
    let (version, at) = policy::acknowledge(&state.app, &who, &n).await?;
    Ok(Json(Acknowledged { version, acknowledged_at: rfc3339(at) }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AcknowledgementsQuery {
    /// The version; the one in force by default.
    #[param(pattern = "^[1-9][0-9]{0,8}$")]
    version: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct DepartmentView {
    department: String,
    people: i64,
    acknowledged: i64,
    rate: f64,
}

#[derive(Serialize, ToSchema)]
struct MissingView {
    email: String,
    department: String,
    overdue: bool,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AcknowledgementsView {
    version: u32,
    ack_due_at: String,
    people: i64,
    acknowledged: i64,
    rate: f64,
    departments: Vec<DepartmentView>,
    missing: Vec<MissingView>,
    /// Whether more people are missing than are listed.
    missing_truncated: bool,
}

impl From<Acknowledgements> for AcknowledgementsView {
    fn from(a: Acknowledgements) -> Self {
        let missing_truncated = a.people - a.acknowledged > a.missing.len() as i64;
        Self {
            version: a.policy.version,
            ack_due_at: rfc3339(a.policy.due_at()),
            people: a.people,
            acknowledged: a.acknowledged,
            rate: a.rate,
            departments: a
                .departments
                .into_iter()
                .map(|d| DepartmentView {
                    department: d.department,
                    people: d.people,
                    acknowledged: d.acknowledged,
                    rate: d.rate,
                })
                .collect(),
            missing: a
                .missing
                .into_iter()
                .map(|m| MissingView {
                    email: m.person.email.to_string(),
                    department: m.person.department,
                    overdue: m.overdue,
                })
                .collect(),
            missing_truncated,
        }
    }
}

/// `GET /api/v1/policy/acknowledgements[?version=n]`: security admins and auditors.
#[utoipa::path(get, path = "/api/v1/policy/acknowledgements", tag = "policy", params(AcknowledgementsQuery), responses((status = 200, body = AcknowledgementsView)))]
pub(crate) async fn acknowledgements(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AcknowledgementsQuery>,
) -> Result<Json<AcknowledgementsView>, ApiError> {
    let found = policy::acknowledgements(&state.app, &who, q.version.as_deref()).await?;
    Ok(Json(found.into()))
}
