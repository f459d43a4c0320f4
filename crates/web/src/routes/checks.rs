//! Contact verification: `POST /api/v1/checks` (the employee enters what the caller claims),
//! `GET /api/v1/checks/{id}` and `POST /api/v1/checks/{id}/challenge` (the code the caller read out).
//! Only the employee who opened a check sees or answers it; anyone else gets 404.

use crate::AppState;
use crate::error::{ApiError, FieldError};
use crate::extract::{ApiJson, ApiPath, ClientAddr, Employee, actor};
use crate::routes::rate_limit;
use crate::routes::views::{StaffRef, photo_url};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use bonafide_domain::verification::{self, CallerNumber, ChallengeState, RequestFacts, StaffFacts};
use bonafide_domain::{
    Ask, Assessment, Authority, ChallengeSubject, Channel, CheckId, Claim, Facts, MAX_CHALLENGE_ATTEMPTS, PersonId,
    PhoneNumber, Reason, RequestKey, StaffId, Verdict,
};
use bonafide_store::{Actor, CheckFacts, CheckRecord, FactsQuery, NewCheck, Principal};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    pub(crate) channel: Channel,
    pub(crate) claimed_staff_id: Option<String>,
    pub(crate) claimed_name: Option<String>,
    pub(crate) caller_number: Option<String>,
    pub(crate) caller_address: Option<String>,
    pub(crate) request_key: Option<String>,
    pub(crate) asked_for: Option<BTreeSet<Ask>>,
}

#[derive(Serialize)]
struct StaffView {
    #[serde(flatten)]
    who: StaffRef,
    team: String,
    photo_url: String,
}

#[derive(Serialize)]
struct RequestRef {
    key: String,
    summary: String,
}

#[derive(Serialize)]
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
}

#[derive(Serialize)]
pub(crate) struct ChallengeView {
    verdict: Verdict,
    reasons: Vec<Reason>,
    attempts_left: u32,
    advice: &'static str,
}

pub(crate) fn advice(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Verified => {
            "The caller proved they are the staffer working on your request. Still never share a password or code."
        }
        Verdict::ChallengeRequired => {
            "Ask the caller to read out the code shown on their Bonafide console, and type it in."
        }
        Verdict::Unverified => {
            "Not verified: hang up, call IT back on the number in the directory, and report this contact."
        }
    }
}

fn trimmed(field: &'static str, value: Option<String>, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())?;
    if v.chars().count() > max || v.chars().any(char::is_control) {
        errors.push(FieldError { field: field.into(), message: format!("at most {max} printable characters") });
        return None;
    }
    Some(v)
}

pub(crate) fn parse_body(me: &Principal, body: CreateBody) -> Result<NewCheck, ApiError> {
    let mut errors = Vec::new();
    // Name the body's field, not the domain's (`staff_id`), so the client knows which input to fix.
    let claimed_staff_id = trimmed("claimed_staff_id", body.claimed_staff_id, 32, &mut errors).and_then(|s| {
        s.parse::<StaffId>()
            .map_err(|e| errors.push(FieldError { field: "claimed_staff_id".into(), message: e.message }))
            .ok()
    });
    let request_key = trimmed("request_key", body.request_key, 32, &mut errors).and_then(|s| {
        s.parse::<RequestKey>().map_err(|e| errors.push(FieldError { field: e.field.into(), message: e.message })).ok()
    });
    let check = NewCheck {
        employee: me.id,
        channel: body.channel,
        claimed_staff_id,
        claimed_name: trimmed("claimed_name", body.claimed_name, 120, &mut errors),
        caller_number: trimmed("caller_number", body.caller_number, 64, &mut errors),
        caller_address: trimmed("caller_address", body.caller_address, 254, &mut errors).map(|a| a.to_lowercase()),
        request_key,
        asked_for: body.asked_for.unwrap_or_default(),
    };
    if errors.is_empty() { Ok(check) } else { Err(ApiError::Invalid(errors)) }
}

/// Gathers the facts for `input` (one statement) and runs the verification engine.
pub(crate) async fn assess(
    state: &AppState,
    input: &NewCheck,
    challenge: ChallengeState,
) -> Result<(Assessment, CheckFacts), ApiError> {
    let now = state.clock.now();
    let caller_number = input.caller_number.as_deref().map(|raw| {
        PhoneNumber::normalize(raw, state.config.default_region)
            .map_or_else(|_| CallerNumber::Unparsed(raw.to_owned()), CallerNumber::Parsed)
    });
    let number = match &caller_number {
        Some(CallerNumber::Parsed(n)) => Some(n),
        _ => None,
    };
    // Campaigns index numbers as E.164, or as digits when a number cannot be read.
    let campaign_number = match &caller_number {
        Some(CallerNumber::Parsed(n)) => Some(n.as_str().to_owned()),
        Some(CallerNumber::Unparsed(raw)) => {
            Some(bonafide_correlate::indicator::phone(raw, state.config.default_region).value)
        }
        None => None,
    };
    let campaign_domain = input
        .caller_address
        .as_deref()
        .and_then(|a| bonafide_correlate::indicator::sender_domain(a, &state.config.company_domains));
    let query = FactsQuery {
        employee: input.employee,
        staff_id: input.claimed_staff_id.as_ref(),
        claimed_name: input.claimed_name.as_deref(),
        number,
        address: input.caller_address.as_deref(),
        request_key: input.request_key,
        now,
        checks_since: now - time::Duration::minutes(1),
        count_up_to: state.config.checks_per_minute,
        campaign_number: campaign_number.as_deref(),
        campaign_domain: campaign_domain.as_deref(),
    };
    let found = state.store.check_facts(&query).await?;
    let candidates: Vec<StaffFacts> = found.candidates.iter().map(|c| c.facts.clone()).collect();
    let requests: Vec<RequestFacts> = found.requests.iter().map(|(r, _)| r.clone()).collect();
    let claim = Claim {
        channel: input.channel,
        claimed_staff_id: input.claimed_staff_id.clone(),
        claimed_name: input.claimed_name.clone(),
        caller_number,
        caller_address: input.caller_address.clone(),
        request_key: input.request_key,
        asked_for: input.asked_for.clone(),
    };
    let facts = Facts {
        candidates: &candidates,
        requests: &requests,
        outreach: &found.outreach,
        policy: &state.config.policy,
        campaign_match: found.campaign_match,
        challenge,
    };
    Ok((verification::assess(&claim, &facts, now), found))
}

pub(crate) fn attempts_left(c: ChallengeState) -> u32 {
    if c.locked { 0 } else { MAX_CHALLENGE_ATTEMPTS.saturating_sub(c.failures) }
}

/// The answer for a check; staff and request details come from the facts already read.
fn view(id: CheckId, a: &Assessment, found: &CheckFacts, challenge: ChallengeState) -> CheckView {
    let staff =
        a.staffer.and_then(|person| found.candidates.iter().find(|c| c.facts.person == person)).map(|c| StaffView {
            photo_url: photo_url(c.photo_url.as_deref(), c.facts.staff_id.as_str()),
            who: StaffRef { staff_id: c.facts.staff_id.to_string(), display_name: c.facts.display_name.to_string() },
            team: c.team.clone(),
        });
    let request = match a.authority {
        Some(Authority::Request { key }) => found
            .requests
            .iter()
            .find(|(r, _)| r.key == key)
            .map(|(_, summary)| RequestRef { key: key.to_string(), summary: summary.clone() }),
        _ => None,
    };
    CheckView {
        id: id.to_string(),
        verdict: a.verdict,
        reasons: a.reasons.clone(),
        staff,
        request,
        attempts_left: attempts_left(challenge),
        advice: advice(a.verdict),
    }
}

/// `POST /api/v1/checks`: every signed-in person.
pub(crate) async fn create(
    Employee(me): Employee,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<CheckView>), ApiError> {
    let input = parse_body(&me, body)?;
    let (id, a, found) = open_check(&state, &actor(&me, &client), &input).await?;
    Ok((StatusCode::CREATED, Json(view(id, &a, &found, ChallengeState::default()))))
}

/// Assesses and records a new check (API and portal alike).
pub(crate) async fn open_check(
    state: &AppState,
    who: &Actor,
    input: &NewCheck,
) -> Result<(CheckId, Assessment, CheckFacts), ApiError> {
    let (a, found) = assess(state, input, ChallengeState::default()).await?;
    // The rate limit is the employee's own checks in the last minute, counted in the database (so it
    // holds across instances) by the same statement that read the facts.
    if found.recent_checks >= state.config.checks_per_minute {
        return Err(ApiError::RateLimited { retry_after: 60 });
    }
    let id = state.store.create_check(input, &a, who, state.clock.now()).await?;
    tracing::info!(check = %id, verdict = a.verdict.as_str(), "contact check");
    Ok((id, a, found))
}

pub(crate) async fn own_check(state: &AppState, me: &Principal, id: &str) -> Result<CheckRecord, ApiError> {
    let id: CheckId = id.parse().map_err(|_| ApiError::NotFound)?;
    match state.store.check(id).await? {
        Some(c) if c.input.employee == me.id => Ok(c),
        _ => Err(ApiError::NotFound),
    }
}

/// `GET /api/v1/checks/{id}`: the employee who opened it.
pub(crate) async fn get(
    Employee(me): Employee,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CheckView>, ApiError> {
    let check = own_check(&state, &me, &id).await?;
    let (mut a, found) = assess(&state, &check.input, check.challenge).await?;
    // Show what was decided, with today's staff and request details.
    a.verdict = check.verdict;
    a.reasons = check.reasons.clone();
    Ok(Json(view(check.id, &a, &found, check.challenge)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChallengeBody {
    code: String,
}

/// `POST /api/v1/checks/{id}/challenge` `{code}`: only the employee who opened the check.
pub(crate) async fn challenge(
    Employee(me): Employee,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ChallengeBody>,
) -> Result<Json<ChallengeView>, ApiError> {
    let check = own_check(&state, &me, &id).await?;
    let (after, challenge) = answer(&state, &me, &actor(&me, &client), &check, &body.code).await?;
    Ok(Json(ChallengeView {
        verdict: after.verdict,
        reasons: after.reasons,
        attempts_left: attempts_left(challenge),
        advice: advice(after.verdict),
    }))
}

/// Checks the code the caller read out for `check` (API and portal alike): counts a wrong one (locking
/// at the limit), records a right one, and stores and returns the new assessment.
pub(crate) async fn answer(
    state: &AppState,
    me: &Principal,
    who: &Actor,
    check: &CheckRecord,
    code: &str,
) -> Result<(Assessment, ChallengeState), ApiError> {
    if code.chars().count() > 32 {
        return Err(ApiError::field("code", "a code is six digits"));
    }
    rate_limit(state, &format!("checks:{}", me.id), state.config.checks_per_minute).await?;
    let now = state.clock.now();
    // Re-assess with today's facts: a request resolved or reassigned since the check no longer authorises.
    let (before, _) = assess(state, &check.input, check.challenge).await?;
    let mut challenge = check.challenge;
    if before.awaits_code() {
        let (Some(authority), Some(staffer)) = (before.authority, before.staffer) else {
            return Err(ApiError::Conflict("nothing to challenge".into()));
        };
        let subject = ChallengeSubject { authority, staffer, employee: me.id };
        if state.secret.accepts(&subject, code, now) {
            // Read back what the database holds, pass or lock: wrong codes counted meanwhile by other
            // answers are part of it, and the assessment stored below must be made from exactly that.
            state.store.record_challenge_pass(check.id, who, now).await?;
            challenge = reload(state, check.id).await?;
        } else {
            let message = lock_message(me, check, staffer);
            let counted =
                state.store.record_challenge_failure(check.id, MAX_CHALLENGE_ATTEMPTS, &message, who, now).await?;
            challenge = match counted {
                Some(c) => c,
                None => reload(state, check.id).await?,
            };
            if challenge.locked {
                tracing::warn!(check = %check.id, "challenge locked after repeated wrong codes");
            }
        }
    }
    let (after, _) = assess(state, &check.input, challenge).await?;
    // Stored only if `challenge` is still what the database holds: a concurrent answer that moved it
    // on stores its own assessment, and a stale one must not overwrite a lock or a pass.
    state.store.update_check_assessment(check.id, &after, challenge, now).await?;
    Ok((after, challenge))
}

async fn reload(state: &AppState, id: CheckId) -> Result<ChallengeState, ApiError> {
    Ok(state.store.check(id).await?.ok_or(ApiError::NotFound)?.challenge)
}

fn lock_message(me: &Principal, check: &CheckRecord, staffer: PersonId) -> String {
    let claimed = check
        .input
        .claimed_staff_id
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| check.input.claimed_name.clone())
        .unwrap_or_else(|| "an unnamed caller".into());
    format!(
        "{MAX_CHALLENGE_ATTEMPTS} wrong challenge codes on check {} by {} (caller claimed {claimed}, staffer {staffer}, channel {}); the check is locked",
        check.id, me.email, check.input.channel
    )
}
