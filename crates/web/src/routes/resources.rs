//! Access policies ([`bonafide_app::resources`]): `/api/v1/resources` (security admins register what the
//! policies protect), `/api/v1/access-policies` (the Cedar policies, versioned, and the schema they are
//! validated against) and `POST /api/v1/authorize` (a decision).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiJson, ApiPath, ApiQuery, client_addr};
use crate::routes::views::rfc3339;
use axum::Json;
use axum::extract::FromRequestParts;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bonafide_app::Acting;
use bonafide_app::access::{SecurityAdmins, SecurityReaders};
use bonafide_app::decisions::{self, Ask, Asker, Circumstances, Service};
use bonafide_app::records::{AccessPolicyRecord, ResourceRecord};
use bonafide_app::resources::{self, ResourceInput};
use bonafide_app::{Caller, access::Everyone};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceBody {
    /// Given in the path for `PUT`.
    #[serde(default)]
    #[schema(pattern = "^([a-z0-9._-]{1,64})?$")]
    id: String,
    /// `portal`, `database` or `app`.
    #[schema(pattern = "^(portal|database|app)$")]
    kind: String,
    name: String,
    owner_department: Option<String>,
    /// `low`, `medium` or `high`.
    #[schema(pattern = "^(low|medium|high)$")]
    sensitivity: String,
    tags: Option<Vec<String>>,
}

impl From<ResourceBody> for ResourceInput {
    fn from(b: ResourceBody) -> Self {
        ResourceInput {
            id: b.id,
            kind: b.kind,
            name: b.name,
            owner_department: b.owner_department,
            sensitivity: b.sensitivity,
            tags: b.tags.unwrap_or_default(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ResourceView {
    id: String,
    kind: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_department: Option<String>,
    sensitivity: String,
    tags: Vec<String>,
    created_at: String,
    updated_at: String,
}

impl From<ResourceRecord> for ResourceView {
    fn from(r: ResourceRecord) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            name: r.name,
            owner_department: r.owner_department,
            sensitivity: r.sensitivity,
            tags: r.tags,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// `POST /api/v1/resources`: security admins; 201.
#[utoipa::path(post, path = "/api/v1/resources", tag = "access", request_body = ResourceBody, responses((status = 201, body = ResourceView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn create(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ResourceBody>,
) -> Result<(StatusCode, Json<ResourceView>), ApiError> {
    let r = resources::register(&state.app, &who, body.into()).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// `GET /api/v1/resources`: security admins and auditors.
#[utoipa::path(get, path = "/api/v1/resources", tag = "access", responses((status = 200, body = Vec<ResourceView>)))]
pub(crate) async fn list(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
) -> Result<Json<Vec<ResourceView>>, ApiError> {
    Ok(Json(resources::list(&state.app, &who).await?.into_iter().map(Into::into).collect()))
}

/// `GET /api/v1/resources/{id}`.
#[utoipa::path(get, path = "/api/v1/resources/{id}", tag = "access", params(("id" = String, Path)), responses((status = 200, body = ResourceView)))]
pub(crate) async fn get(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ResourceView>, ApiError> {
    Ok(Json(resources::get(&state.app, &who, &id).await?.into()))
}

/// `PUT /api/v1/resources/{id}`: security admins.
#[utoipa::path(put, path = "/api/v1/resources/{id}", tag = "access", params(("id" = String, Path)), request_body = ResourceBody, responses((status = 200, body = ResourceView)))]
pub(crate) async fn put(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ResourceBody>,
) -> Result<Json<ResourceView>, ApiError> {
    Ok(Json(resources::update(&state.app, &who, &id, body.into()).await?.into()))
}

/// `DELETE /api/v1/resources/{id}`: security admins; 204.
#[utoipa::path(delete, path = "/api/v1/resources/{id}", tag = "access", params(("id" = String, Path)), responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    resources::delete(&state.app, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PoliciesView {
    version: u32,
    policies: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
}

fn policies_view(r: Option<AccessPolicyRecord>) -> PoliciesView {
    match r {
        Some(r) => PoliciesView { version: r.version, policies: r.policies, created_at: Some(rfc3339(r.created_at)) },
        None => PoliciesView { version: 0, policies: String::new(), created_at: None },
    }
}

/// `GET /api/v1/access-policies`: the version in force (version 0, empty, before any: everything denied).
#[utoipa::path(get, path = "/api/v1/access-policies", tag = "access", responses((status = 200, body = PoliciesView)))]
pub(crate) async fn policies(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
) -> Result<Json<PoliciesView>, ApiError> {
    Ok(Json(policies_view(resources::policies(&state.app, &who).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PoliciesBody {
    policies: String,
}

/// `POST /api/v1/access-policies` `{policies}`: security admins; 201, or 422 with each error's line and
/// column (the version in force is unchanged).
#[utoipa::path(post, path = "/api/v1/access-policies", tag = "access", request_body = PoliciesBody, responses((status = 201, body = PoliciesView)))]
pub(crate) async fn publish(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PoliciesBody>,
) -> Result<(StatusCode, Json<PoliciesView>), ApiError> {
    let r = resources::publish(&state.app, Acting::Person(&who), &body.policies).await?;
    Ok((StatusCode::CREATED, Json(policies_view(Some(r)))))
}

/// `GET /api/v1/access-policies/schema`: the Cedar schema, in Cedar's schema syntax.
#[utoipa::path(get, path = "/api/v1/access-policies/schema", tag = "access", responses((status = 200, description = "The Cedar schema", content_type = "text/plain", body = String)))]
pub(crate) async fn schema(_: Api<SecurityReaders>) -> Response {
    let mut r = (StatusCode::OK, resources::SCHEMA).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContextBody {
    #[serde(default)]
    mfa: bool,
    #[serde(default)]
    device_managed: bool,
    /// `office`, `vpn` or `internet` (the default).
    #[schema(pattern = "^(office|vpn|internet)$")]
    network: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthorizeBody {
    /// A person's email.
    principal: String,
    /// `access`, `admin` or `export`.
    #[schema(pattern = "^(access|admin|export)$")]
    action: String,
    resource: String,
    #[serde(default)]
    context: ContextBody,
}

/// Who asks for a decision: a service token with the `authorize` scope, or a person's token (the use
/// case lets security admins through).
pub(crate) enum Asking {
    Person(Caller),
    Service(Service),
}

impl Asking {
    fn asker(&self) -> Asker<'_> {
        match self {
            Asking::Person(c) => Asker::Person(c),
            Asking::Service(s) => Asker::Service(s),
        }
    }
}

impl FromRequestParts<AppState> for Asking {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = crate::extract::bearer(&parts.headers).ok_or(ApiError::Unauthorized)?.to_owned();
        if let Some(record) = decisions::authenticate_service(&state.app, &token).await? {
            let client = client_addr(&parts.extensions, &parts.headers, state).0;
            return Ok(Asking::Service(Service { record, client }));
        }
        let Api(caller, _) = Api::<Everyone>::from_request_parts(parts, state).await?;
        Ok(Asking::Person(caller))
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DecisionView {
    /// `allow` or `deny`.
    decision: &'static str,
    policies: Vec<String>,
    errors: Vec<String>,
}

/// `POST /api/v1/authorize` `{principal, action, resource, context}` → `{decision, policies, errors}`.
#[utoipa::path(post, path = "/api/v1/authorize", tag = "access", request_body = AuthorizeBody, responses((status = 200, body = DecisionView)))]
pub(crate) async fn authorize(
    asking: Asking,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AuthorizeBody>,
) -> Result<Json<DecisionView>, ApiError> {
    let ask = Ask {
        principal: body.principal,
        action: body.action,
        resource: body.resource,
        mfa: body.context.mfa,
        device_managed: body.context.device_managed,
        network: body.context.network.unwrap_or_else(|| "internet".to_owned()),
    };
    let d = decisions::authorize(&state.app, asking.asker(), ask).await?;
    let mut errors = d.errors;
    if d.suspended {
        errors.push("the person is suspended: denied before any policy".to_owned());
    }
    Ok(Json(DecisionView { decision: if d.allow { "allow" } else { "deny" }, policies: d.policies, errors }))
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthzQuery {
    /// `access` (the default), `admin` or `export`.
    #[param(pattern = "^(access|admin|export)$")]
    action: Option<String>,
}

/// A header's value, trimmed and lower-cased ("" when absent).
fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_ascii_lowercase()
}

/// `GET /authz/{resource}[?action=…]`, for nginx's `auth_request`: the person and the context come from
/// the headers the proxy sets (`X-Bonafide-User`, `X-Bonafide-MFA`, `X-Bonafide-Device`,
/// `X-Bonafide-Network`) after it presents a service token. 204 allows, 403 denies (an unknown person or
/// resource too, with `X-Bonafide-Decision-Error`); `X-Bonafide-Decision-Policies` names the deciding
/// policies.
#[utoipa::path(get, path = "/authz/{resource}", tag = "access", params(("resource" = String, Path), AuthzQuery,
    ("X-Bonafide-User" = Option<String>, Header, description = "The person's email"),
    ("X-Bonafide-MFA" = Option<String>, Header), ("X-Bonafide-Device" = Option<String>, Header),
    ("X-Bonafide-Network" = Option<String>, Header)),
    responses((status = 204, description = "Allowed")))]
pub(crate) async fn authz(
    asking: Asking,
    State(state): State<AppState>,
    ApiPath(resource): ApiPath<String>,
    ApiQuery(q): ApiQuery<AuthzQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let yes = |v: &str| matches!(v, "true" | "1" | "yes" | "on" | "managed");
    let network = match header_text(&headers, "x-bonafide-network") {
        n if n.is_empty() => "internet".to_owned(),
        n => n,
    };
    let ask = Ask {
        principal: header_text(&headers, "x-bonafide-user"),
        action: q.action.unwrap_or_else(|| "access".to_owned()),
        resource,
        mfa: yes(&header_text(&headers, "x-bonafide-mfa")),
        device_managed: yes(&header_text(&headers, "x-bonafide-device")),
        network,
    };
    let (status, policies, error) = match decisions::authorize(&state.app, asking.asker(), ask).await {
        Ok(d) if d.allow => (StatusCode::NO_CONTENT, d.policies, None),
        Ok(d) => (StatusCode::FORBIDDEN, d.policies, d.suspended.then(|| "suspended".to_owned())),
        // A request nginx cannot be told about in any other way is a deny, with its reason.
        Err(bonafide_app::AppError::Invalid(fields)) => {
            let why = fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
            (StatusCode::FORBIDDEN, vec![], Some(why))
        }
        Err(e) => return Err(e.into()),
    };
    // A deny is a problem like every refusal (nginx reads only the status of its subrequest).
    let mut r = if status == StatusCode::FORBIDDEN {
        ApiError::Forbidden("denied by the access policies").into_response()
    } else {
        status.into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&policies.join(",")) {
        r.headers_mut().insert("x-bonafide-decision-policies", v);
    }
    if let Some(v) =
        error.and_then(|e| HeaderValue::from_str(&e.replace(|c: char| !c.is_ascii() || c.is_ascii_control(), " ")).ok())
    {
        r.headers_mut().insert("x-bonafide-decision-error", v);
    }
    Ok(r)
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccessQuery {
    mfa: Option<bool>,
    device_managed: Option<bool>,
    #[param(pattern = "^(office|vpn|internet)$")]
    network: Option<String>,
}

impl AccessQuery {
    fn circumstances(self) -> Circumstances {
        Circumstances {
            mfa: self.mfa.unwrap_or(true),
            device_managed: self.device_managed.unwrap_or(true),
            network: self.network.unwrap_or_else(|| "office".to_owned()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct WhoView {
    resource: String,
    people: Vec<String>,
}

/// `GET /api/v1/resources/{id}/access[?mfa=&device_managed=&network=]`: every active person the policies
/// let access it (by default with MFA, on a managed device, at the office).
#[utoipa::path(get, path = "/api/v1/resources/{id}/access", tag = "access", params(("id" = String, Path), AccessQuery), responses((status = 200, body = WhoView)))]
pub(crate) async fn who_can_access(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AccessQuery>,
) -> Result<Json<WhoView>, ApiError> {
    let people = decisions::who_can_access(&state.app, &who, &id, &q.circumstances()).await?;
    Ok(Json(WhoView { resource: id, people }))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ReachView {
    email: String,
    resources: Vec<String>,
}

/// `GET /api/v1/people/{email}/access[?…]`: the resources a person can reach.
#[utoipa::path(get, path = "/api/v1/people/{email}/access", tag = "access", params(("email" = String, Path), AccessQuery), responses((status = 200, body = ReachView)))]
pub(crate) async fn what_can_reach(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiPath(email): ApiPath<String>,
    ApiQuery(q): ApiQuery<AccessQuery>,
) -> Result<Json<ReachView>, ApiError> {
    let resources = decisions::what_can_reach(&state.app, &who, &email, &q.circumstances()).await?;
    Ok(Json(ReachView { email: email.trim().to_lowercase(), resources }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountsQuery {
    /// 30 by default.
    #[param(minimum = 1, maximum = 366)]
    days: Option<u16>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CountView {
    day: String,
    resource: String,
    action: String,
    allows: i64,
}

/// `GET /api/v1/access/counts[?days=30]`: the allows counted (not audited one by one) per day, resource
/// and action, over the last `days` days.
#[utoipa::path(get, path = "/api/v1/access/counts", tag = "access", params(CountsQuery), responses((status = 200, body = Vec<CountView>)))]
pub(crate) async fn allow_counts(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CountsQuery>,
) -> Result<Json<Vec<CountView>>, ApiError> {
    let counts = decisions::allow_counts(&state.app, &who, q.days.unwrap_or(30)).await?;
    Ok(Json(
        counts
            .into_iter()
            .map(|c| CountView { day: c.day, resource: c.resource, action: c.action, allows: c.allows })
            .collect(),
    ))
}
