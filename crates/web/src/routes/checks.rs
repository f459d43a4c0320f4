//! Contact verification ([`bonafide_app::checks`]): `POST /api/v1/checks` (the employee enters what the
//! caller claims), `GET /api/v1/checks/{id}` and `POST /api/v1/checks/{id}/challenge` (the code the caller
//! read out). Only the employee who opened a check sees or answers it; anyone else gets 404.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiJson, ApiPath};
use crate::routes::views::{StaffRef, photo_url};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use bonafide_app::checks::{self, Answered, CheckView as Check, Claimed, advice};
use bonafide_domain::{Ask, Channel, Reason, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[schema(as = CheckInput)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    channel: Channel,
    #[schema(max_length = 32)]
    claimed_staff_id: Option<String>,
    claimed_name: Option<String>,
    caller_number: Option<String>,
    caller_address: Option<String>,
    request_key: Option<String>,
    /// A value given twice counts once.
    #[schema(value_type = Option<Vec<Ask>>)]
    asked_for: Option<BTreeSet<Ask>>,
}

#[derive(Serialize, ToSchema)]
struct StaffView {
    #[serde(flatten)]
    who: StaffRef,
    team: String,
    photo_url: String,
}

#[derive(Serialize, ToSchema)]
struct RequestRef {
    key: String,
    summary: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CheckView {
    id: String,
    verdict: Verdict,
    reasons: Vec<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    staff: Option<StaffView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<RequestRef>,
    attempts_left: u32,
    advice: &'static str,
    /// The contact policy version the check was judged by (0: the built-in default).
    policy_version: u32,
    /// The policy's rules the contact broke, in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    policy_rules_broken: Vec<RuleBroken>,
}

#[derive(Serialize, ToSchema)]
struct RuleBroken {
    rule: &'static str,
    explanation: String,
}

impl From<Check> for CheckView {
    fn from(c: Check) -> Self {
        Self {
            id: c.id.to_string(),
            verdict: c.verdict,
            reasons: c.reasons,
            staff: c.staff.map(|s| StaffView {
                photo_url: photo_url(s.photo_url.as_deref(), s.staff_id.as_str()),
                who: StaffRef { staff_id: s.staff_id.to_string(), display_name: s.display_name },
                team: s.team,
            }),
            request: c.request.map(|(key, summary)| RequestRef { key: key.to_string(), summary }),
            attempts_left: c.attempts_left,
            advice: advice(c.verdict),
            policy_version: c.policy_version,
            policy_rules_broken: c
                .broken_rules
                .into_iter()
                .map(|b| RuleBroken { rule: b.rule, explanation: b.sentence })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ChallengeView {
    verdict: Verdict,
    reasons: Vec<Reason>,
    attempts_left: u32,
    advice: &'static str,
    policy_version: u32,
}

impl From<Answered> for ChallengeView {
    fn from(a: Answered) -> Self {
        Self {
            advice: advice(a.verdict),
            verdict: a.verdict,
            reasons: a.reasons,
            attempts_left: a.attempts_left,
            policy_version: a.policy_version,
        }
    }
}

/// `POST /api/v1/checks`: every signed-in person.
#[utoipa::path(post, path = "/api/v1/checks", tag = "checks", request_body = CreateBody, responses((status = 201, body = CheckView)))]
pub(crate) async fn create(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<CheckView>), ApiError> {
    let claimed = Claimed {
        channel: body.channel,
        claimed_staff_id: body.claimed_staff_id,
        claimed_name: body.claimed_name,
        caller_number: body.caller_number,
        caller_address: body.caller_address,
        request_key: body.request_key,
        asked_for: body.asked_for.unwrap_or_default(),
    };
    let check = checks::open(&state.app, &who, claimed).await?;
    Ok((StatusCode::CREATED, Json(check.into())))
}

/// `GET /api/v1/checks/{id}`: the employee who opened it.
#[utoipa::path(get, path = "/api/v1/checks/{id}", tag = "checks", params(("id" = String, Path)), responses((status = 200, body = CheckView)))]
pub(crate) async fn get(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CheckView>, ApiError> {
    Ok(Json(checks::get(&state.app, &who, &id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChallengeBody {
    /// The six digits the caller read out (anything else of up to 32 characters counts as a wrong code).
    #[schema(max_length = 32, example = "042917")]
    code: String,
}

/// `POST /api/v1/checks/{id}/challenge` `{code}`: only the employee who opened the check.
#[utoipa::path(post, path = "/api/v1/checks/{id}/challenge", tag = "checks", params(("id" = String, Path)), request_body = ChallengeBody, responses((status = 200, body = ChallengeView), (status = 409, response = crate::openapi::Conflict)))]
pub(crate) async fn challenge(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ChallengeBody>,
) -> Result<Json<ChallengeView>, ApiError> {
    Ok(Json(checks::answer(&state.app, &who, &id, &body.code).await?.into()))
}
