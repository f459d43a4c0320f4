//! Announced outreach: `POST /api/v1/outreach` (it_staff proposes), `POST /api/v1/outreach/{id}/approve`
//! (another it_staff or a security_admin, never the proposer), `GET /api/v1/outreach` (own, either side;
//! `?scope=pending` for approvers).

use crate::AppState;
use crate::error::{ApiError, FieldError};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientAddr, Dispatcher, Employee, ItStaff, actor};
use crate::routes::views::OutreachView;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use bonafide_domain::outreach::{ApprovalError, check_approval};
use bonafide_domain::{Channel, Email, OutreachId, OutreachWindow, Role};
use bonafide_store::{Actor, AuditEvent, NewOutreach, Outcome, Outreach, Principal};
use serde::Deserialize;
use std::collections::BTreeSet;
use time::OffsetDateTime;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    pub(crate) employee_email: String,
    pub(crate) reason: String,
    pub(crate) channels: BTreeSet<Channel>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) starts_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) ends_at: OffsetDateTime,
}

pub(crate) async fn create(
    ItStaff(me): ItStaff,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<OutreachView>), ApiError> {
    let created = propose(&state, &me, &actor(&me, &client), body).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Validates and stores an outreach proposal by `me` (API and portal alike), audited.
pub(crate) async fn propose(
    state: &AppState,
    me: &Principal,
    who: &Actor,
    body: CreateBody,
) -> Result<Outreach, ApiError> {
    let now = state.clock.now();
    let mut errors = Vec::new();
    let mut reject = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });
    let email: Option<Email> = body
        .employee_email
        .parse()
        .map_err(|e: bonafide_domain::InvalidInput| reject("employee_email", e.message))
        .ok();
    let reason = body.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        reject("reason", "a reason is 1 to 500 characters".into());
    }
    if body.channels.is_empty() {
        reject("channels", "name at least one channel".into());
    }
    let window = OutreachWindow::new(body.starts_at, body.ends_at, now).map_err(|e| reject(e.field, e.message)).ok();
    let employee = match &email {
        Some(e) => state.store.person_by_email(e).await?,
        None => None,
    };
    if email.is_some() && employee.is_none() {
        reject("employee_email", "nobody in the directory has this email".into());
    }
    if employee.as_ref().is_some_and(|e| e.id == me.id) {
        reject("employee_email", "outreach is for contacting someone else".into());
    }
    let (Some(employee), Some(window), true) = (employee, window, errors.is_empty()) else {
        return Err(ApiError::Invalid(errors));
    };
    let new = NewOutreach { staffer: me.id, employee: employee.id, reason, channels: body.channels, window };
    let created = state.store.create_outreach(&new, now).await?;
    tracing::info!(id = %created.id, "outreach proposed");
    let event = AuditEvent::new(who, "outreach.proposed", created.id.to_string(), Outcome::Ok)
        .with(serde_json::json!({ "employee": employee.email.as_str() }));
    state.store.audit(&[event], now).await?;
    Ok(created)
}

pub(crate) async fn approve(
    Dispatcher(me): Dispatcher,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OutreachView>, ApiError> {
    Ok(Json(approve_as(&state, &me, &actor(&me, &client), &id).await?.into()))
}

/// Approves outreach `id` as `me` under the four-eyes rule (API and portal alike), audited.
pub(crate) async fn approve_as(state: &AppState, me: &Principal, who: &Actor, id: &str) -> Result<Outreach, ApiError> {
    let id: OutreachId = id.parse().map_err(|_| ApiError::NotFound)?;
    let o = state.store.outreach(id).await?.ok_or(ApiError::NotFound)?;
    let now = state.clock.now();
    match check_approval(o.staffer, me.id, &me.roles, o.status, &o.window, now) {
        Ok(()) => {}
        Err(ApprovalError::SelfApproval) => {
            return Err(ApiError::Forbidden("the proposer cannot approve their own outreach"));
        }
        Err(ApprovalError::NotAnApprover) => {
            return Err(ApiError::Forbidden("only IT staff or security admins approve outreach"));
        }
        Err(e @ (ApprovalError::AlreadyApproved | ApprovalError::Expired)) => {
            return Err(ApiError::Conflict(e.to_string()));
        }
    }
    if !state.store.approve_outreach(id, me.id, now).await? {
        return Err(ApiError::Conflict("this outreach is already approved".into()));
    }
    tracing::info!(%id, "outreach approved");
    state.store.audit(&[AuditEvent::new(who, "outreach.approved", id.to_string(), Outcome::Ok)], now).await?;
    state.store.outreach(id).await?.ok_or(ApiError::NotFound)
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    scope: Option<String>,
}

pub(crate) async fn list(
    Employee(me): Employee,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<OutreachView>>, ApiError> {
    let found = match q.scope.as_deref() {
        None | Some("mine") => state.store.outreach_for(me.id, 200).await?,
        Some("pending") if me.roles.has(Role::ItStaff) || me.roles.has(Role::SecurityAdmin) => {
            state.store.pending_outreach(state.clock.now(), 200).await?
        }
        Some("pending") => return Err(ApiError::Forbidden("only approvers see pending outreach")),
        Some(_) => return Err(ApiError::field("scope", "one of mine, pending")),
    };
    Ok(Json(found.into_iter().map(OutreachView::from).collect()))
}
