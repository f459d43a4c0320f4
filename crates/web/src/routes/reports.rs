//! Reports of suspicious contacts: `POST /api/v1/reports` (JSON, or a reported email as
//! `message/rfc822`), `GET /api/v1/reports` (own; security admins and auditors: everyone's with
//! `?scope=all`), `GET /api/v1/reports/{id}`.
//!
//! A report is committed, correlated and audited before the answer says "received": an acknowledged
//! report survives a crash. An employee who did what was asked is told what to do now, and security gets
//! an urgent alert.

use crate::AppState;
use crate::error::{ApiError, FieldError};
use crate::extract::{ApiPath, ApiQuery, ClientAddr, Employee, actor};
use crate::routes::views::rfc3339;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use bonafide_correlate::{Company, Sighting, indicators};
use bonafide_domain::{Ask, Channel, CheckId, Role, StaffId};
use bonafide_store::{AuditEvent, NewReport, Outcome, Principal, ReportRecord};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// The longest transcript kept, in characters.
pub(crate) const MAX_TRANSCRIPT: usize = 100_000;
/// The largest reported email kept, in bytes.
pub(crate) const MAX_EMAIL: usize = 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportBody {
    pub(crate) channel: Option<Channel>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub(crate) occurred_at: Option<OffsetDateTime>,
    pub(crate) caller_number: Option<String>,
    pub(crate) caller_address: Option<String>,
    pub(crate) caller_handle: Option<String>,
    pub(crate) claimed_name: Option<String>,
    pub(crate) claimed_staff_id: Option<String>,
    pub(crate) claimed_team: Option<String>,
    pub(crate) asked_for: Option<BTreeSet<Ask>>,
    pub(crate) complied: Option<bool>,
    pub(crate) transcript: Option<String>,
    pub(crate) check_id: Option<String>,
}

/// What the reporter is told.
#[derive(Debug, Serialize)]
pub(crate) struct Received {
    pub(crate) id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) campaign_id: Option<String>,
    pub(crate) received: bool,
    /// What to do now, when they complied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) act_now: Option<Vec<String>>,
}

/// A report as the API shows it.
#[derive(Debug, Serialize)]
pub(crate) struct ReportView {
    id: String,
    reporter_id: String,
    department: String,
    channel: Channel,
    occurred_at: String,
    received_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller_handle: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    claimed_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    claimed_staff_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    claimed_team: Option<String>,
    asked_for: BTreeSet<Ask>,
    complied: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    transcript: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign_id: Option<String>,
    /// The analyzer's reading of the transcript.
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<serde_json::Value>,
}

impl From<ReportRecord> for ReportView {
    fn from(r: ReportRecord) -> Self {
        // Analysed once, when filed; a report filed before the analysis was stored shows none.
        let analysis = r.analysis.as_deref().and_then(|a| serde_json::from_str(a).ok());
        Self {
            analysis,
            id: r.id,
            reporter_id: r.reporter.to_string(),
            department: r.department,
            channel: r.channel,
            occurred_at: rfc3339(r.occurred_at),
            received_at: rfc3339(r.received_at),
            caller_number: r.caller_number,
            caller_address: r.caller_address,
            caller_handle: r.caller_handle,
            claimed_name: r.claimed_name,
            claimed_staff_id: r.claimed_staff_id,
            claimed_team: r.claimed_team,
            asked_for: r.asked_for,
            complied: r.complied,
            transcript: r.transcript,
            email_subject: r.email_subject,
            check_id: r.check.map(|c| c.to_string()),
            campaign_id: r.campaign,
        }
    }
}

/// A reported email, read.
#[derive(Debug, Default)]
pub(crate) struct Email {
    pub(crate) from: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) subject: Option<String>,
    pub(crate) date: Option<OffsetDateTime>,
    pub(crate) body: Option<String>,
    pub(crate) original: String,
}

/// Reads a reported email (`.eml`): sender, display name, subject, date and text body. The original is
/// kept as received (lossily as UTF-8 where it is not).
pub(crate) fn read_email(raw: &[u8]) -> Result<Email, ApiError> {
    let bad = |message: &str| ApiError::Invalid(vec![FieldError { field: "email".into(), message: message.into() }]);
    if raw.len() > MAX_EMAIL {
        return Err(bad("a reported email is at most 1 MiB"));
    }
    let parsed = bonafide_analyzer::email::parse(raw)
        .ok_or_else(|| bad("this is not an email: it has neither a sender nor a subject"))?;
    Ok(Email {
        from: parsed.from,
        name: parsed.name,
        subject: parsed.subject.map(|s| s.chars().take(500).collect()),
        date: parsed.date.and_then(|d| OffsetDateTime::from_unix_timestamp(d).ok()),
        body: parsed.body.map(|b| b.chars().take(MAX_TRANSCRIPT).collect()),
        original: String::from_utf8_lossy(raw).into_owned(),
    })
}

fn text(field: &'static str, v: Option<String>, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())?;
    if v.chars().count() > max {
        errors.push(FieldError { field: field.into(), message: format!("at most {max} characters") });
        return None;
    }
    if v.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        errors.push(FieldError { field: field.into(), message: "contains control characters".into() });
        return None;
    }
    Some(v)
}

/// Checks, normalises, files and correlates a report from `me`; what to tell them.
pub(crate) async fn file(
    state: &AppState,
    me: &Principal,
    client: &ClientAddr,
    body: ReportBody,
    email: Option<Email>,
) -> Result<Received, ApiError> {
    let mut errors = Vec::new();
    let now = state.clock.now();
    let channel = match (body.channel, &email) {
        (Some(c), _) => c,
        (None, Some(_)) => Channel::Email,
        (None, None) => {
            errors.push(FieldError { field: "channel".into(), message: "required".into() });
            Channel::Phone
        }
    };
    let occurred_at = body.occurred_at.or(email.as_ref().and_then(|e| e.date)).unwrap_or(now);
    if occurred_at > now + time::Duration::minutes(5) || occurred_at < now - time::Duration::days(366) {
        errors.push(FieldError {
            field: "occurred_at".into(),
            message: "within the last year, not in the future".into(),
        });
    }
    let caller_number = text("caller_number", body.caller_number, 64, &mut errors);
    let caller_address =
        text("caller_address", body.caller_address.or(email.as_ref().and_then(|e| e.from.clone())), 254, &mut errors);
    let caller_handle = text("caller_handle", body.caller_handle, 120, &mut errors);
    let claimed_name =
        text("claimed_name", body.claimed_name.or(email.as_ref().and_then(|e| e.name.clone())), 120, &mut errors);
    let claimed_staff_id = text("claimed_staff_id", body.claimed_staff_id, 32, &mut errors);
    let claimed_team = text("claimed_team", body.claimed_team, 120, &mut errors);
    let transcript = text(
        "transcript",
        body.transcript.or(email.as_ref().and_then(|e| e.body.clone())),
        MAX_TRANSCRIPT,
        &mut errors,
    );
    let check = match body.check_id.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(id) => match id.parse::<CheckId>() {
            Ok(id) => match state.store.check(id).await? {
                Some(c) if c.input.employee == me.id => Some(id),
                _ => {
                    errors.push(FieldError { field: "check_id".into(), message: "no such check of yours".into() });
                    None
                }
            },
            Err(_) => {
                errors.push(FieldError { field: "check_id".into(), message: "not a check id".into() });
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let mut asked_for = body.asked_for.unwrap_or_default();
    // The analyzer reads the transcript once: what it finds asked counts when the reporter ticked nothing,
    // so the ask feeds correlation either way, and its reading is stored with the report.
    let analysis = transcript.as_deref().map(|t| bonafide_analyzer::Analyzer::english().analyze_text(t));
    if asked_for.is_empty()
        && let Some(found) = &analysis
    {
        asked_for.extend(found.stages.iter().filter_map(|f| f.kind).map(ask_of));
    }
    let analysis =
        analysis.map(|a| serde_json::json!({ "score": a.score, "verdict": a.verdict, "stages": a.stages }).to_string());
    let complied = body.complied.unwrap_or(false);
    // A claimed staff id is checked against the directory: ids nobody has are flagged.
    let known = match claimed_staff_id.as_deref().map(str::parse::<StaffId>) {
        Some(Ok(id)) => state.store.staff_card(&id).await?.is_some(),
        _ => false,
    };
    let asks: Vec<Ask> = asked_for.iter().copied().collect();
    let sighting = Sighting {
        channel: Some(channel),
        caller_number: caller_number.as_deref(),
        caller_address: caller_address.as_deref(),
        caller_handle: caller_handle.as_deref(),
        claimed_name: claimed_name.as_deref(),
        claimed_staff_id: claimed_staff_id.as_deref(),
        asked_for: &asks,
        transcript: transcript.as_deref(),
    };
    let staff_id_known = move |_: &str| known;
    let company = Company {
        region: state.config.default_region,
        domains: &state.config.company_domains,
        staff_id_known: &staff_id_known,
    };
    let found = indicators(&sighting, &company);
    let person = state.store.person_record(me.id).await?.ok_or(ApiError::Unauthorized)?;
    let report = NewReport {
        reporter: me.id,
        department: person.department,
        privileged: person.privileged,
        channel,
        occurred_at,
        caller_number,
        caller_address,
        caller_handle,
        claimed_name,
        claimed_staff_id,
        claimed_team,
        asked_for: asked_for.clone(),
        complied,
        transcript,
        email_subject: email.as_ref().and_then(|e| e.subject.clone()),
        original_email: email.map(|e| e.original),
        check,
        indicators: found,
        analysis,
    };
    let event = AuditEvent::new(&actor(me, client), "report.filed", me.email.as_str(), Outcome::Ok);
    let filed = state.store.file_report(&report, &state.config.correlation, &event, now).await?;
    tracing::info!(report = %filed.id, campaign = ?filed.campaign, started = filed.campaign_started, "report filed");
    let act_now = if complied { Some(act_now(state, &asked_for).await) } else { None };
    Ok(Received { id: filed.id, campaign_id: filed.campaign, received: true, act_now })
}

fn ask_of(kind: bonafide_analyzer::RequestKind) -> Ask {
    use bonafide_analyzer::RequestKind as K;
    match kind {
        K::Credential => Ask::Password,
        K::MfaCode => Ask::MfaCode,
        K::LoginWalkthrough => Ask::LoginWalkthrough,
        K::RemoteAccess => Ask::RemoteAccess,
        K::SoftwareInstall => Ask::SoftwareInstall,
        K::Payment => Ask::Payment,
        K::PersonalInfo => Ask::PersonalInfo,
    }
}

/// What someone who did what a fraudster asked must do now, most urgent first.
pub(crate) async fn act_now(state: &AppState, asked: &BTreeSet<Ask>) -> Vec<String> {
    let desk = crate::service_desk_number(state).await;
    let call = match desk {
        Some(n) => format!("Call IT now on {n} (the official number) and say you reported this."),
        None => "Call IT now on the number in the staff directory and say you reported this.".to_owned(),
    };
    let mut steps = vec![call];
    if asked.contains(&Ask::RemoteAccess) || asked.contains(&Ask::SoftwareInstall) {
        steps.push(
            "Disconnect your computer from the network (unplug the cable, turn off Wi-Fi) and do not use it until \
             IT has checked it."
                .into(),
        );
    }
    if asked.contains(&Ask::Password) || asked.contains(&Ask::LoginWalkthrough) || asked.is_empty() {
        steps.push("Change your password from a device you trust, now.".into());
    }
    if asked.contains(&Ask::MfaCode) {
        steps.push(
            "Tell IT you gave away a sign-in code: they will end your sessions and reset your second factor.".into(),
        );
    }
    if asked.contains(&Ask::Payment) {
        steps.push("Call your bank or finance team to stop the payment.".into());
    }
    steps
}

/// `POST /api/v1/reports`: any signed-in person. JSON, or a reported email (`Content-Type:
/// message/rfc822`).
pub(crate) async fn create(
    Employee(me): Employee,
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Received>), ApiError> {
    let body = body.map_err(|_| ApiError::PayloadTooLarge)?;
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let received = if content_type.starts_with("message/rfc822") {
        let email = read_email(&body)?;
        file(&state, &me, &client, ReportBody::default(), Some(email)).await?
    } else if content_type.starts_with("application/json") {
        let parsed: ReportBody = crate::extract::parse_json(&body)?;
        file(&state, &me, &client, parsed, None).await?
    } else {
        return Err(ApiError::UnsupportedMediaType);
    };
    Ok((StatusCode::CREATED, Json(received)))
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    scope: Option<String>,
}

fn reads_all(me: &Principal) -> bool {
    me.roles.has(Role::SecurityAdmin) || me.roles.has(Role::Auditor)
}

/// `GET /api/v1/reports`: own reports; `?scope=all` for security admins and auditors.
pub(crate) async fn list(
    Employee(me): Employee,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<ReportView>>, ApiError> {
    let whose = match q.scope.as_deref().unwrap_or(if reads_all(&me) { "all" } else { "mine" }) {
        "mine" => Some(me.id),
        "all" if reads_all(&me) => None,
        "all" => return Err(ApiError::Forbidden("only security admins and auditors see everyone's reports")),
        _ => return Err(ApiError::field("scope", "one of mine, all")),
    };
    let found = state.store.list_reports(whose, 500).await?;
    Ok(Json(found.into_iter().map(ReportView::from).collect()))
}

/// `GET /api/v1/reports/{id}`: the reporter's own, or any for security admins and auditors.
pub(crate) async fn get(
    Employee(me): Employee,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ReportView>, ApiError> {
    match state.store.report(&id).await? {
        Some(r) if r.reporter == me.id || reads_all(&me) => Ok(Json(r.into())),
        _ => Err(ApiError::NotFound),
    }
}
