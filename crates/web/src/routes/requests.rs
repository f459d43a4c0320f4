//! Support requests: employees open them; IT works them. An assigned request is what authorises its
//! assignee to contact the requester.
//!
//! Visibility: the requester, the assignee and security admins see a request; IT staff also see the open,
//! unassigned queue. Anyone else gets 404, never 403, so keys cannot be probed.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientAddr, Dispatcher, Employee, actor};
use crate::routes::views::RequestView;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use bonafide_domain::request::parse_category;
use bonafide_domain::{Channel, RequestKey, RequestStatus, Role, StaffId, Summary};
use bonafide_store::{Actor, AuditEvent, NewRequest, Outcome, Principal, RequestScope, SupportRequest};
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    summary: String,
    category: Option<String>,
    channels: Option<BTreeSet<Channel>>,
}

/// `POST /api/v1/requests`: every signed-in person.
pub(crate) async fn create(
    Employee(me): Employee,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let summary: Summary = body.summary.parse()?;
    let category = body.category.as_deref().map(parse_category).transpose()?;
    let new = NewRequest { requester: me.id, summary, category, channels: body.channels.unwrap_or_default() };
    let created = state.store.create_request(&new, state.clock.now()).await?;
    tracing::info!(key = %created.key, "support request opened");
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    scope: Option<String>,
}

/// `GET /api/v1/requests`: own requests; it_staff: assigned to them; security_admin: all.
/// `?scope=mine|assigned|queue|all` picks another view the role allows.
pub(crate) async fn list(
    Employee(me): Employee,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<RequestView>>, ApiError> {
    let is_it = me.roles.has(Role::ItStaff);
    let is_admin = me.roles.has(Role::SecurityAdmin);
    let default = if is_admin {
        "all"
    } else if is_it {
        "assigned"
    } else {
        "mine"
    };
    let scope = match q.scope.as_deref().unwrap_or(default) {
        "mine" => RequestScope::RequestedBy(me.id),
        "assigned" if is_it || is_admin => RequestScope::AssignedTo(me.id),
        "queue" if is_it || is_admin => RequestScope::Queue,
        "all" if is_admin => RequestScope::All,
        "assigned" | "queue" | "all" => return Err(ApiError::Forbidden("this view is not available to your role")),
        _ => return Err(ApiError::field("scope", "one of mine, assigned, queue, all")),
    };
    let found = state.store.list_requests(scope, 500).await?;
    Ok(Json(found.into_iter().map(RequestView::from).collect()))
}

fn may_see(me: &Principal, r: &SupportRequest) -> bool {
    r.requester == me.id
        || r.assignee == Some(me.id)
        || me.roles.has(Role::SecurityAdmin)
        || (me.roles.has(Role::ItStaff) && r.status == RequestStatus::Open)
}

async fn visible(state: &AppState, me: &Principal, key: &str) -> Result<SupportRequest, ApiError> {
    let key: RequestKey = key.parse().map_err(|_| ApiError::NotFound)?;
    match state.store.request(key).await? {
        Some(r) if may_see(me, &r) => Ok(r),
        _ => Err(ApiError::NotFound),
    }
}

/// `GET /api/v1/requests/{key}`.
pub(crate) async fn get(
    Employee(me): Employee,
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(visible(&state, &me, &key).await?.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignBody {
    staff_id: String,
}

/// `POST /api/v1/requests/{key}/assign` `{staff_id}`: it_staff (open requests and their own) and
/// security_admin (any active request).
pub(crate) async fn assign(
    Dispatcher(me): Dispatcher,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> Result<Json<RequestView>, ApiError> {
    let staff_id: StaffId = body.staff_id.parse()?;
    assign_to(&state, &me, &actor(&me, &client), &key, &staff_id).await.map(Json)
}

/// Assigns request `key` to the staffer `staff_id` (API and portal alike), audited.
pub(crate) async fn assign_to(
    state: &AppState,
    me: &Principal,
    who: &Actor,
    key: &str,
    staff_id: &StaffId,
) -> Result<RequestView, ApiError> {
    let r = visible(state, me, key).await?;
    let card = state.store.staff_card(staff_id).await?;
    let Some(card) = card.filter(|c| c.status == bonafide_domain::PersonStatus::Active) else {
        return Err(ApiError::field("staff_id", "no active IT staffer has this staff id"));
    };
    if card.person == r.requester {
        return Err(ApiError::field("staff_id", "a request cannot be assigned to its own requester"));
    }
    let to = r.status.assign().map_err(|e| ApiError::Conflict(e.to_string()))?;
    let view = transition(state, &r, to, Some(card.person)).await?;
    let event = AuditEvent::new(who, "request.assigned", r.key.to_string(), Outcome::Ok)
        .with(serde_json::json!({ "staff_id": staff_id.as_str() }));
    state.store.audit(&[event], state.clock.now()).await?;
    Ok(view.0)
}

type Step = fn(RequestStatus) -> Result<RequestStatus, bonafide_domain::request::TransitionError>;

/// Applies a lifecycle `step` to a request the caller can see, if `may` allows them; else `refusal`.
async fn change(
    state: &AppState,
    me: &Principal,
    key: &str,
    may: fn(&Principal, &SupportRequest) -> bool,
    refusal: &'static str,
    step: Step,
) -> Result<Json<RequestView>, ApiError> {
    let r = visible(state, me, key).await?;
    if !may(me, &r) {
        return Err(ApiError::Forbidden(refusal));
    }
    let to = step(r.status).map_err(|e| ApiError::Conflict(e.to_string()))?;
    transition(state, &r, to, None).await
}

/// `POST /api/v1/requests/{key}/resolve`: the assignee or a security admin.
pub(crate) async fn resolve(
    Employee(me): Employee,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<RequestView>, ApiError> {
    resolve_as(&state, &me, &actor(&me, &client), &key).await
}

/// Resolves request `key` (API and portal alike), audited.
pub(crate) async fn resolve_as(
    state: &AppState,
    me: &Principal,
    who: &Actor,
    key: &str,
) -> Result<Json<RequestView>, ApiError> {
    let may = |me: &Principal, r: &SupportRequest| r.assignee == Some(me.id) || me.roles.has(Role::SecurityAdmin);
    let refusal = "only the assignee or a security admin may resolve a request";
    let view = change(state, me, key, may, refusal, RequestStatus::resolve).await?;
    let event = AuditEvent::new(who, "request.resolved", view.0.key.clone(), Outcome::Ok);
    state.store.audit(&[event], state.clock.now()).await?;
    Ok(view)
}

/// `POST /api/v1/requests/{key}/cancel`: the requester only.
pub(crate) async fn cancel(
    Employee(me): Employee,
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<RequestView>, ApiError> {
    let may = |me: &Principal, r: &SupportRequest| r.requester == me.id;
    change(&state, &me, &key, may, "only the requester may cancel a request", RequestStatus::cancel).await
}

/// `POST /api/v1/requests/{key}/close`: the requester or a security admin.
pub(crate) async fn close(
    Employee(me): Employee,
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<RequestView>, ApiError> {
    let may = |me: &Principal, r: &SupportRequest| r.requester == me.id || me.roles.has(Role::SecurityAdmin);
    let refusal = "only the requester or a security admin may close a request";
    change(&state, &me, &key, may, refusal, RequestStatus::close).await
}

async fn transition(
    state: &AppState,
    r: &SupportRequest,
    to: RequestStatus,
    assignee: Option<bonafide_domain::PersonId>,
) -> Result<Json<RequestView>, ApiError> {
    let now = state.clock.now();
    if !state.store.transition_request(r.key, r.status, to, assignee, now).await? {
        return Err(ApiError::Conflict("the request changed meanwhile; reload and retry".into()));
    }
    tracing::info!(key = %r.key, from = %r.status, to = %to, "support request changed");
    let updated = state.store.request(r.key).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(updated.into()))
}
