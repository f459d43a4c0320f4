//! The portal's pages. Each handler names the role it needs in its `Page<…>` argument; every form that
//! changes something is a `CsrfForm`.

use crate::AppState;
use crate::error::ApiError;
use crate::portal::html::{csrf_field, message, notice, page, respond, trusted, when};
use crate::portal::session::{AnyPerson, AuditReaders, CsrfForm, ItStaffOnly, Page, SecurityOnly, audit};
use crate::portal::signin;
use crate::routes::checks::{self, CreateBody};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bonafide_auth::{qr, recovery, totp};
use bonafide_domain::{
    Ask, Authority, ChallengeSubject, Channel, Reason, RequestStatus, Role, StaffId, Summary, TimeStep, Verdict,
};
use bonafide_store::{AuditEvent, AuditFilter, NewRequest, Outcome, RequestScope, SessionStage};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeSet;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/contact", get(contact_form).post(contact_submit))
        .route("/checks/{id}", get(check_page))
        .route("/checks/{id}/code", post(check_code))
        .route("/requests/new", get(request_form).post(request_submit))
        .route("/staff", get(staff_search))
        .route("/staff/{staff_id}/photo", get(staff_photo))
        .route("/console", get(console))
        .route("/console/requests/{key}/take", post(console_take))
        .route("/console/requests/{key}/resolve", post(console_resolve))
        .route("/console/outreach", post(outreach_propose))
        .route("/console/outreach/{id}/approve", post(outreach_approve))
        .route("/security", get(security_home))
        .route("/security/audit", get(audit_log))
        .merge(super::directory::router())
        .route("/security/settings", post(security_settings))
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/account/tokens", post(token_create))
        .route("/account/tokens/{id}/revoke", post(token_revoke))
        .route("/account/totp", get(totp_page))
        .route("/account/totp/start", post(totp_start))
        .route("/account/totp/confirm", post(totp_confirm))
}

/// An API error shown as a page.
pub(super) fn failed(e: ApiError, page: &Page<impl crate::portal::session::Access>) -> Response {
    let (status, text) = match &e {
        ApiError::NotFound => (StatusCode::NOT_FOUND, "There is nothing here, or it is not yours to see.".to_owned()),
        ApiError::RateLimited { .. } => {
            (StatusCode::TOO_MANY_REQUESTS, "Too many tries in a minute. Wait a moment.".into())
        }
        ApiError::Invalid(fields) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
        ),
        ApiError::Forbidden(why) => (StatusCode::FORBIDDEN, (*why).to_owned()),
        ApiError::Conflict(why) => (StatusCode::CONFLICT, why.clone()),
        _ => {
            tracing::error!(error = ?e, "portal request failed");
            (StatusCode::SERVICE_UNAVAILABLE, "Bonafide could not complete this just now. Try again.".into())
        }
    };
    message(status, "That did not work", &text, Some(&page.viewer))
}

async fn home(p: Page<AnyPerson>, State(state): State<AppState>) -> Response {
    let me = &p.viewer.me;
    let requests = match state.store.list_requests(RequestScope::RequestedBy(me.id), 20).await {
        Ok(r) => r,
        Err(e) => return failed(e.into(), &p),
    };
    let outreach = state.store.outreach_for(me.id, 10).await.unwrap_or_default();
    let warnings = super::campaigns::warnings(&state).await;
    let body = html! {
        (warnings)
        h1 { "Hello, " (me.display_name) }
        a.button.big href="/contact" { "Someone is contacting me" }
        p.muted { "Got a call, message or visit from someone who says they are IT? Check them here before you do anything they ask." }
        p { a.button.secondary href="/report" { "Report a suspicious contact" } }
        h2 { "My support requests" }
        @if requests.is_empty() {
            p { "You have no requests. IT only contacts you about a request you opened." }
        } @else {
            ul.plain {
                @for r in &requests {
                    li {
                        strong { (r.key) } " · " (r.summary) " · " span.badge { (r.status.as_str()) }
                        @if let (Some(name), Some(id)) = (&r.assignee_name, &r.assignee_staff_id) {
                            br; span.muted { "Assigned to " (name) " (" (id) ")" }
                        }
                    }
                }
            }
        }
        p { a.button.secondary href="/requests/new" { "Open a request" } }
        h2 { "Announced contacts from IT" }
        @if outreach.is_empty() {
            p { "None. If someone says IT planned to contact you, check them anyway." }
        } @else {
            ul.plain {
                @for o in &outreach {
                    li { (o.reason) " · " (when(o.window.starts_at)) " to " (when(o.window.ends_at)) }
                }
            }
        }
    };
    respond(StatusCode::OK, page("Home", Some(&p.viewer), body))
}

pub(super) const CHANNELS: [(Channel, &str); 6] = [
    (Channel::Phone, "Phone call"),
    (Channel::Sms, "Text message"),
    (Channel::Chat, "Chat (Teams, Slack…)"),
    (Channel::Email, "Email"),
    (Channel::Video, "Video call"),
    (Channel::InPerson, "In person"),
];

pub(super) const ASKS: [(Ask, &str); 7] = [
    (Ask::Password, "My password"),
    (Ask::MfaCode, "A code sent to my phone or app"),
    (Ask::RemoteAccess, "To connect to my computer remotely"),
    (Ask::SoftwareInstall, "To install or run something"),
    (Ask::LoginWalkthrough, "To walk through my sign-in with them"),
    (Ask::PersonalInfo, "Personal or company information"),
    (Ask::Payment, "A payment, gift card or bank details"),
];

fn contact_markup(csrf: &str, problem: Option<&str>) -> Markup {
    html! {
        h1 { "Someone is contacting me" }
        @if let Some(p) = problem { (notice(p, true)) }
        p { "Keep them waiting a moment. Tell us what they say; we check it against the directory and your requests." }
        form.stack method="post" action="/contact" {
            (csrf_field(csrf))
            div {
                label for="claimed" { "Who do they say they are?" span.hint { "A name, or a staff id such as IT-0042." } }
                input #claimed type="text" name="claimed" autocomplete="off" maxlength="120";
            }
            fieldset.choices {
                legend { "How are they contacting you?" }
                @for (i, (c, label)) in CHANNELS.iter().enumerate() {
                    label { input type="radio" name="channel" value=(c.as_str()) required checked[i == 0]; (label) }
                }
            }
            div {
                label for="from" { "Their number or address" span.hint { "The number on your screen, or the sender's address. Optional." } }
                input #from type="text" name="from" autocomplete="off" maxlength="254";
            }
            fieldset.choices {
                legend { "What are they asking for?" }
                @for (a, label) in ASKS {
                    label { input type="checkbox" name="asked_for" value=(a.as_str()); (label) }
                }
            }
            div {
                label for="request_key" { "Request number they mention" span.hint { "Such as R-1042. Optional." } }
                input #request_key type="text" name="request_key" autocomplete="off" maxlength="32";
            }
            button.big type="submit" { "Check this person" }
        }
    }
}

async fn contact_form(p: Page<AnyPerson>) -> Response {
    respond(StatusCode::OK, page("Someone is contacting me", Some(&p.viewer), contact_markup(&p.viewer.csrf, None)))
}

/// A form as its fields, repeated names kept (checkboxes).
pub(super) type Fields = [(String, String)];

/// The trimmed value of field `name`, or "" when the form lacks it.
pub(super) fn field(fields: &Fields, name: &str) -> String {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

/// Every value of a repeated field (checkboxes), parsed; `problem` names a value that does not parse.
pub(super) fn repeated<T: std::str::FromStr>(fields: &Fields, name: &str, problem: &str) -> Result<Vec<T>, String> {
    fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.parse().map_err(|_| problem.to_owned())).collect()
}

/// After a console action: back to the console, or the error as a page.
fn to_console<T>(done: Result<T, ApiError>, p: &Page<ItStaffOnly>) -> Response {
    match done {
        Ok(_) => Redirect::to("/console").into_response(),
        Err(e) => failed(e, p),
    }
}

/// Reads the contact form (repeated `asked_for` fields) into the API's check body.
fn contact_body(fields: &Fields) -> Result<CreateBody, String> {
    let one = |name: &str| Some(field(fields, name)).filter(|v| !v.is_empty());
    let channel: Channel =
        field(fields, "channel").parse().map_err(|_| "Choose how they are contacting you.".to_owned())?;
    let asked_for: BTreeSet<Ask> =
        repeated(fields, "asked_for", "Pick what they asked for from the list.")?.into_iter().collect();
    let claimed = one("claimed");
    let looks_like_id = claimed.as_deref().is_some_and(|c| c.parse::<StaffId>().is_ok());
    let from = one("from");
    let is_address = from.as_deref().is_some_and(|f| f.contains('@'));
    Ok(CreateBody {
        channel,
        claimed_staff_id: claimed.clone().filter(|_| looks_like_id),
        claimed_name: claimed.filter(|_| !looks_like_id),
        caller_number: from.clone().filter(|_| !is_address),
        caller_address: from.filter(|_| is_address),
        request_key: one("request_key"),
        asked_for: Some(asked_for),
    })
}

async fn contact_submit(
    p: Page<AnyPerson>,
    State(state): State<AppState>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let again = |problem: &str| {
        respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            page("Someone is contacting me", Some(&p.viewer), contact_markup(&p.viewer.csrf, Some(problem))),
        )
    };
    let body = match contact_body(&fields) {
        Ok(b) => b,
        Err(problem) => return again(&problem),
    };
    let input = match checks::parse_body(&p.viewer.me, body) {
        Ok(i) => i,
        Err(ApiError::Invalid(fields)) => {
            return again(&fields.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join("; "));
        }
        Err(e) => return failed(e, &p),
    };
    match checks::open_check(&state, &p.viewer.actor(), &input).await {
        Ok((id, _, _)) => Redirect::to(&format!("/checks/{id}")).into_response(),
        Err(e) => failed(e, &p),
    }
}

/// Reasons in everyday words.
fn explain(r: Reason) -> &'static str {
    match r {
        Reason::NoOpenRequest => {
            "You have no open request that this person is working on. IT only contacts you about your own requests."
        }
        Reason::UnknownStaff => "Nobody in the IT directory matches who they say they are.",
        Reason::NotAssignee => "They are not the person assigned to your request.",
        Reason::NumberNotOfficial => "They are not calling from their official number.",
        Reason::AddressNotOfficial => "Their message does not come from their official address.",
        Reason::NameMismatch => "The name they gave does not match the staff id.",
        Reason::SensitiveRequest => "They asked for a password, a code or remote access. IT never asks for these.",
        Reason::ChannelNotAllowed => "IT does not do this kind of request over this channel.",
        Reason::OutsideWindow => "This is outside the time IT announced for contacting you.",
        Reason::StaffInactive => "This staff member is not active.",
        Reason::ChallengeFailed => "The code they read out was wrong.",
        Reason::ChallengeLocked => "Too many wrong codes: this check is locked and security has been told.",
        Reason::MatchesActiveCampaign => "This matches an attack currently targeting the company.",
    }
}

async fn check_page(p: Page<AnyPerson>, State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let check = match checks::own_check(&state, &p.viewer.me, &id).await {
        Ok(c) => c,
        Err(e) => return failed(e, &p),
    };
    let (a, found) = match checks::assess(&state, &check.input, check.challenge).await {
        Ok(x) => x,
        Err(e) => return failed(e, &p),
    };
    let (verdict, reasons) = (check.verdict, check.reasons.clone());
    let staff = a.staffer.and_then(|s| found.candidates.iter().find(|c| c.facts.person == s));
    let request = match a.authority {
        Some(Authority::Request { key }) => {
            found.requests.iter().find(|(r, _)| r.key == key).map(|(r, s)| (r.key, s.clone()))
        }
        _ => None,
    };
    let attempts_left = checks::attempts_left(check.challenge);
    let it_number = crate::service_desk_number(&state).await;
    let body = html! {
        @match verdict {
            Verdict::Verified => div.panel.ok role="status" {
                h1 { "Verified" }
                p.lead { "This is the staffer working on your request. They proved it with the code on their console." }
                p { "Still: never tell anyone your password or a code sent to you." }
            },
            Verdict::ChallengeRequired => div.panel.warn {
                h1 { "Ask them for their code" }
                p.lead { "This could be the person working on your request. Ask them to read out the 6-digit code on their Bonafide console." }
            },
            Verdict::Unverified => div.panel.bad role="alert" {
                h1 { "Not verified — hang up" }
                p.lead {
                    "Do not do what they ask. Hang up or stop replying, then call IT on "
                    @if let Some(n) = &it_number { strong { (n) } } @else { "the number in the staff directory" }
                    " and report it."
                }
                ul.reasons { @for r in &reasons { li { (explain(*r)) } } }
                p { a.button href=(format!("/report?check={}", check.id)) { "Report this contact" } }
            },
        }
        @if let Some(s) = staff.filter(|_| verdict != Verdict::Unverified) {
            div.staffcard {
                img src=(photo_url(s.photo_url.as_deref(), s.facts.staff_id.as_str())) alt=(format!("Photo of {}", s.facts.display_name));
                dl.facts {
                    dt { "Name" } dd { (s.facts.display_name) }
                    dt { "Staff id" } dd { (s.facts.staff_id) }
                    dt { "Team" } dd { (s.team) }
                    @if let Some((key, summary)) = &request { dt { "Your request" } dd { (key) " · " (summary) } }
                }
            }
        }
        @if verdict == Verdict::ChallengeRequired {
            form.stack method="post" action=(format!("/checks/{}/code", check.id)) {
                (csrf_field(&p.viewer.csrf))
                div {
                    label for="code" { "The code they read out" span.hint { (attempts_left) " tries left." } }
                    input.code #code type="text" name="code" inputmode="numeric" autocomplete="off" pattern="[0-9 ]*" maxlength="8" required;
                }
                button.big type="submit" { "Check the code" }
            }
        }
        p { a href="/contact" { "Check someone else" } " · " a href="/" { "Home" } }
    };
    respond(StatusCode::OK, page("Check", Some(&p.viewer), body))
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

async fn check_code(
    p: Page<AnyPerson>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    let check = match checks::own_check(&state, &p.viewer.me, &id).await {
        Ok(c) => c,
        Err(e) => return failed(e, &p),
    };
    match checks::answer(&state, &p.viewer.me, &p.viewer.actor(), &check, &form.code).await {
        Ok(_) => Redirect::to(&format!("/checks/{}", check.id)).into_response(),
        Err(e) => failed(e, &p),
    }
}

fn request_markup(csrf: &str, problem: Option<&str>) -> Markup {
    html! {
        h1 { "Open a support request" }
        @if let Some(p) = problem { (notice(p, true)) }
        form.stack method="post" action="/requests/new" {
            (csrf_field(csrf))
            div {
                label for="summary" { "What do you need help with?" }
                textarea #summary name="summary" rows="3" maxlength="500" required {}
            }
            button.big type="submit" { "Open request" }
        }
    }
}

async fn request_form(p: Page<AnyPerson>) -> Response {
    respond(StatusCode::OK, page("Open a request", Some(&p.viewer), request_markup(&p.viewer.csrf, None)))
}

#[derive(Deserialize)]
struct RequestForm {
    summary: String,
}

async fn request_submit(
    p: Page<AnyPerson>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> Response {
    let summary: Summary = match form.summary.parse() {
        Ok(s) => s,
        Err(e) => {
            let e: bonafide_domain::InvalidInput = e;
            let markup = page("Open a request", Some(&p.viewer), request_markup(&p.viewer.csrf, Some(&e.message)));
            return respond(StatusCode::UNPROCESSABLE_ENTITY, markup);
        }
    };
    let new = NewRequest { requester: p.viewer.me.id, summary, category: None, channels: BTreeSet::new() };
    match state.store.create_request(&new, state.clock.now()).await {
        Ok(r) => {
            let event = AuditEvent::new(&p.viewer.actor(), "request.opened", r.key.to_string(), Outcome::Ok);
            audit(&state, event).await;
            Redirect::to("/").into_response()
        }
        Err(e) => failed(e.into(), &p),
    }
}

/// Where the portal shows a staffer's photo: the stored address, or the generated avatar (served to
/// signed-in people by the portal, since an `img` cannot send a bearer token).
fn photo_url(stored: Option<&str>, staff_id: &str) -> String {
    stored.map_or_else(|| format!("/staff/{staff_id}/photo"), str::to_owned)
}

async fn staff_photo(p: Page<AnyPerson>, State(state): State<AppState>, Path(staff_id): Path<String>) -> Response {
    match crate::routes::staff::avatar(&state, &staff_id).await {
        Ok(svg) => svg.into_response(),
        Err(e) => failed(e, &p),
    }
}

#[derive(Deserialize)]
struct StaffQuery {
    query: Option<String>,
}

async fn staff_search(p: Page<AnyPerson>, State(state): State<AppState>, Query(q): Query<StaffQuery>) -> Response {
    let query = q.query.unwrap_or_default().trim().chars().take(64).collect::<String>();
    let results = if query.chars().count() >= 2 {
        if let Err(e) = crate::routes::rate_limit(
            &state,
            &format!("staff:{}", p.viewer.me.id),
            state.config.staff_lookups_per_minute,
        )
        .await
        {
            return failed(e, &p);
        }
        match state.store.search_staff(&query, 20).await {
            Ok(r) => Some(r),
            Err(e) => return failed(e.into(), &p),
        }
    } else {
        None
    };
    let body = html! {
        h1 { "Staff directory" }
        form method="get" action="/staff" role="search" {
            label for="query" { "Name or staff id" }
            div.row { input #query type="search" name="query" value=(query) minlength="2"; button type="submit" { "Search" } }
        }
        @if let Some(results) = &results {
            @if results.is_empty() { p { "No IT staff match." } }
            @for c in results {
                div.panel {
                    div.staffcard {
                        img src=(photo_url(c.photo_url.as_deref(), c.staff_id.as_str())) alt=(format!("Photo of {}", c.display_name));
                        dl.facts {
                            dt { "Name" } dd { (c.display_name) }
                            dt { "Staff id" } dd { (c.staff_id) }
                            dt { "Team" } dd { (c.team) }
                            dt { "Official numbers" } dd { @for n in &c.official_numbers { (n) " " } }
                            dt { "Official addresses" } dd { @for a in &c.official_addresses { (a) " " } }
                        }
                    }
                }
            }
        }
    };
    respond(StatusCode::OK, page("Staff directory", Some(&p.viewer), body))
}

async fn console(p: Page<ItStaffOnly>, State(state): State<AppState>) -> Response {
    let me = &p.viewer.me;
    let now = state.clock.now();
    let step = TimeStep::at(now);
    let (assigned, queue) = match (
        state.store.list_requests(RequestScope::AssignedTo(me.id), 200).await,
        state.store.list_requests(RequestScope::Queue, 50).await,
    ) {
        (Ok(a), Ok(q)) => (a, q),
        (Err(e), _) | (_, Err(e)) => return failed(e.into(), &p),
    };
    let outreach = state.store.live_outreach_by(me.id, now).await.unwrap_or_default();
    let pending = state.store.pending_outreach(now, 50).await.unwrap_or_default();
    let code = |authority, employee| state.secret.code(&ChallengeSubject { authority, staffer: me.id, employee }, step);
    let valid_until = step.valid_until().unix_timestamp();
    let left = (step.valid_until() - now).whole_seconds();
    let body = html! {
        h1 { "IT console" }
        p { "Before you ask anything, read the employee the code for their request. It changes every minute." }
        h2 { "My assigned requests" }
        @if assigned.iter().all(|r| r.status != RequestStatus::Assigned) { p { "Nothing assigned to you." } }
        div.table-wrap { table {
            thead { tr { th { "Request" } th { "Employee" } th { "Code" } th { "Action" } } }
            tbody {
                @for r in assigned.iter().filter(|r| r.status == RequestStatus::Assigned) {
                    tr data-valid-until=(valid_until) {
                        td { strong { (r.key) } br; (r.summary) }
                        td { (r.requester_name) br; span.muted { (r.requester_email) } }
                        td { span.code-live { (code(Authority::Request { key: r.key }, r.requester).as_str()) } br; span.muted.countdown { (left) " s" } }
                        td {
                            form method="post" action=(format!("/console/requests/{}/resolve", r.key)) {
                                (csrf_field(&p.viewer.csrf)) button.secondary type="submit" { "Resolve" }
                            }
                        }
                    }
                }
            }
        } }
        @if !outreach.is_empty() {
            h2 { "Announced outreach" }
            ul.plain {
                @for o in outreach.iter().filter(|o| o.window.contains(now)) {
                    li data-valid-until=(valid_until) {
                        (o.employee_name) " · " (o.reason) " · code "
                        span.code-live { (code(Authority::Outreach { id: o.id }, o.employee).as_str()) }
                        " " span.muted.countdown { (left) " s" }
                    }
                }
            }
        }
        h2 { "Outreach waiting for a second person" }
        @if pending.is_empty() { p { "Nothing to approve." } }
        ul.plain {
            @for o in &pending {
                li {
                    (o.employee_name) " · " (o.reason) " · " (when(o.window.starts_at)) " to " (when(o.window.ends_at))
                    @if o.staffer == me.id { " · " span.muted { "your proposal: someone else approves it" } } @else {
                        form.inline method="post" action=(format!("/console/outreach/{}/approve", o.id)) {
                            (csrf_field(&p.viewer.csrf)) " " button.secondary type="submit" { "Approve" }
                        }
                    }
                }
            }
        }
        details {
            summary { "Propose contacting an employee" }
            form.stack method="post" action="/console/outreach" {
                (csrf_field(&p.viewer.csrf))
                div { label for="employee_email" { "Employee's email" } input #employee_email type="email" name="employee_email" required; }
                div { label for="reason" { "Why" } input #reason type="text" name="reason" maxlength="500" required; }
                fieldset.choices {
                    legend { "Channels" }
                    @for (c, label) in CHANNELS { label { input type="checkbox" name="channels" value=(c.as_str()); (label) } }
                }
                div { label for="starts_at" { "From (UTC)" } input #starts_at type="datetime-local" name="starts_at" required; }
                div { label for="hours" { "For how many hours" span.hint { "At most 14 days." } }
                      input #hours type="number" name="hours" min="1" max="336" value="4" required; }
                button type="submit" { "Propose" }
            }
        }
        h2 { "Queue" }
        @if queue.is_empty() { p { "The queue is empty." } }
        ul.plain {
            @for r in &queue {
                li {
                    strong { (r.key) } " · " (r.summary) " · " (r.requester_name)
                    form.inline method="post" action=(format!("/console/requests/{}/take", r.key)) {
                        (csrf_field(&p.viewer.csrf)) " " button.secondary type="submit" { "Take it" }
                    }
                }
            }
        }
    };
    respond(StatusCode::OK, page("IT console", Some(&p.viewer), body))
}

/// A form with nothing but its CSRF token (a button).
#[derive(Deserialize)]
pub(super) struct EmptyForm {}

async fn console_take(
    p: Page<ItStaffOnly>,
    State(state): State<AppState>,
    Path(key): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    let Some(staff_id) = p.viewer.me.staff_id.clone() else {
        return message(StatusCode::CONFLICT, "No staff id", "You need a staff id to take requests.", Some(&p.viewer));
    };
    to_console(crate::routes::requests::assign_to(&state, &p.viewer.me, &p.viewer.actor(), &key, &staff_id).await, &p)
}

async fn console_resolve(
    p: Page<ItStaffOnly>,
    State(state): State<AppState>,
    Path(key): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    to_console(crate::routes::requests::resolve_as(&state, &p.viewer.me, &p.viewer.actor(), &key).await, &p)
}

/// Reads the outreach form (repeated `channels`, a UTC `datetime-local` start and a length in hours).
fn outreach_body(fields: &Fields) -> Result<crate::routes::outreach::CreateBody, String> {
    let one = |name: &str| field(fields, name);
    let channels: BTreeSet<Channel> =
        repeated(fields, "channels", "Pick channels from the list.")?.into_iter().collect();
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let start = time::PrimitiveDateTime::parse(&one("starts_at"), &format)
        .map_err(|_| "Give the start as a date and time.".to_owned())?
        .assume_utc();
    let hours: i64 = one("hours").parse().map_err(|_| "Give the length in whole hours.".to_owned())?;
    if !(1..=336).contains(&hours) {
        return Err("The window is 1 hour to 14 days.".into());
    }
    Ok(crate::routes::outreach::CreateBody {
        employee_email: one("employee_email"),
        reason: one("reason"),
        channels,
        starts_at: start,
        ends_at: start + time::Duration::hours(hours),
    })
}

async fn outreach_propose(
    p: Page<ItStaffOnly>,
    State(state): State<AppState>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let body = match outreach_body(&fields) {
        Ok(b) => b,
        Err(why) => return message(StatusCode::UNPROCESSABLE_ENTITY, "Not proposed", &why, Some(&p.viewer)),
    };
    to_console(crate::routes::outreach::propose(&state, &p.viewer.me, &p.viewer.actor(), body).await, &p)
}

async fn outreach_approve(
    p: Page<ItStaffOnly>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    to_console(crate::routes::outreach::approve_as(&state, &p.viewer.me, &p.viewer.actor(), &id).await, &p)
}

async fn security_home(p: Page<SecurityOnly>, State(state): State<AppState>) -> Response {
    let alerts = match state.store.list_alerts(50).await {
        Ok(a) => a,
        Err(e) => return failed(e.into(), &p),
    };
    let employee_totp = matches!(state.store.setting(signin::EMPLOYEE_TOTP_SETTING).await, Ok(Some(v)) if v == "true");
    let desk = state.store.setting(crate::SERVICE_DESK_SETTING).await.ok().flatten().unwrap_or_default();
    let body = html! {
        h1 { "Security" }
        h2 { "Company settings" }
        form.stack method="post" action="/security/settings" {
            (csrf_field(&p.viewer.csrf))
            div.choices {
                label {
                    input type="checkbox" name="employee_totp_required" value="true" checked[employee_totp];
                    "Every employee must use an authenticator app (IT staff and security admins always must)"
                }
            }
            div {
                label for="service_desk_phone" { "IT service desk's official number" span.hint { "What people are told to call when a contact is not verified." } }
                input #service_desk_phone type="tel" name="service_desk_phone" value=(desk) maxlength="40";
            }
            button.secondary type="submit" { "Save" }
        }
        h2 { "Alerts" }
        @if alerts.is_empty() { p { "No alerts." } }
        ul.plain {
            @for a in &alerts {
                li { span.badge { (a.severity) } " " strong { (a.kind) } " · " (when(a.created_at)) br; (a.message) }
            }
        }
        p { a href="/security/campaigns" { "Campaigns" } " · " a href="/security/webhooks" { "Webhooks" } " · "
            a href="/security/people" { "People and roles" } " · " a href="/security/audit" { "Audit log" } }
    };
    respond(StatusCode::OK, page("Security", Some(&p.viewer), body))
}

#[derive(Deserialize)]
struct SettingsForm {
    employee_totp_required: Option<String>,
    #[serde(default)]
    service_desk_phone: String,
}

async fn security_settings(
    p: Page<SecurityOnly>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Response {
    let required = form.employee_totp_required.as_deref() == Some("true");
    let raw = form.service_desk_phone.trim();
    let desk = if raw.is_empty() {
        String::new()
    } else {
        match bonafide_domain::PhoneNumber::normalize(raw, state.config.default_region) {
            Ok(n) => n.to_string(),
            Err(e) => {
                let text = format!("Service desk number: {}", e.message);
                return message(StatusCode::UNPROCESSABLE_ENTITY, "Settings not saved", &text, Some(&p.viewer));
            }
        }
    };
    let value = if required { "true" } else { "false" };
    for (key, value) in [(signin::EMPLOYEE_TOTP_SETTING, value), (crate::SERVICE_DESK_SETTING, desk.as_str())] {
        if let Err(e) = state.store.set_setting(key, value).await {
            return failed(e.into(), &p);
        }
    }
    let event = AuditEvent::new(&p.viewer.actor(), "settings.changed", "company", Outcome::Ok)
        .with(serde_json::json!({ "employee_totp_required": required, "service_desk_phone": desk }));
    audit(&state, event).await;
    Redirect::to("/security").into_response()
}

#[derive(Deserialize)]
struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    outcome: Option<String>,
    before: Option<i64>,
}

async fn audit_log(p: Page<AuditReaders>, State(state): State<AppState>, Query(q): Query<AuditQuery>) -> Response {
    let clean = |v: Option<String>| v.map(|s| s.trim().chars().take(120).collect::<String>()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        action_prefix: clean(q.action.clone()),
        actor: clean(q.actor.clone()),
        before_seq: q.before,
        outcome: match q.outcome.as_deref() {
            Some("ok") => Some(Outcome::Ok),
            Some("denied") => Some(Outcome::Denied),
            _ => None,
        },
    };
    let entries = match state.store.audit_entries(&filter, 100).await {
        Ok(e) => e,
        Err(e) => return failed(e.into(), &p),
    };
    let older = entries.last().map(|e| e.seq).filter(|_| entries.len() == 100);
    let body = html! {
        h1 { "Audit log" }
        form.row method="get" action="/security/audit" {
            div { label for="action" { "Action starts with" } input #action type="text" name="action" value=(filter.action_prefix.clone().unwrap_or_default()); }
            div { label for="actor" { "Actor (email)" } input #actor type="text" name="actor" value=(filter.actor.clone().unwrap_or_default()); }
            div {
                label for="outcome" { "Outcome" }
                select #outcome name="outcome" {
                    option value="" { "Any" }
                    option value="ok" selected[q.outcome.as_deref() == Some("ok")] { "ok" }
                    option value="denied" selected[q.outcome.as_deref() == Some("denied")] { "denied" }
                }
            }
            button type="submit" { "Filter" }
        }
        div.table-wrap { table {
            thead { tr { th { "#" } th { "When" } th { "Who" } th { "Action" } th { "Target" } th { "Outcome" } } }
            tbody {
                @for e in &entries {
                    tr {
                        td { (e.seq) } td { (when(e.at)) } td { (e.actor) br; span.muted { (e.client) } }
                        td { (e.action) } td { (e.target) } td { (e.outcome) }
                    }
                }
            }
        } }
        @if let Some(seq) = older {
            p { a href=(format!("/security/audit?before={seq}&action={}&actor={}&outcome={}",
                filter.action_prefix.clone().unwrap_or_default(), filter.actor.clone().unwrap_or_default(),
                q.outcome.clone().unwrap_or_default())) { "Older entries" } }
        }
    };
    respond(StatusCode::OK, page("Audit log", Some(&p.viewer), body))
}

async fn account(p: Page<AnyPerson>, State(state): State<AppState>) -> Response {
    let me = p.viewer.me.id;
    let (creds, tokens, keys) =
        match (state.store.credentials(me).await, state.store.tokens_of(me).await, state.store.passkeys_of(me).await) {
            (Ok(c), Ok(t), Ok(k)) => (c, t, k),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return failed(e.into(), &p),
        };
    let body = html! {
        h1 { "My account" }
        dl.facts {
            dt { "Email" } dd { (p.viewer.me.email) }
            dt { "Roles" } dd { (p.viewer.me.roles.iter().map(Role::as_str).collect::<Vec<_>>().join(", ")) }
            dt { "Authenticator app" } dd { @if creds.totp_sealed.is_some() { "Set up" } @else { "Not set up" } }
            dt { "Recovery codes left" } dd { (creds.recovery_codes_left) }
        }
        p { a.button.secondary href="/account/totp" { "Set up an authenticator app" } }
        h2 { "Change password" }
        form.stack method="post" action="/account/password" {
            (csrf_field(&p.viewer.csrf))
            div { label for="current" { "Current password" } input #current type="password" name="current" autocomplete="current-password" required; }
            div { label for="new" { "New password" span.hint { "At least 12 characters. A few unrelated words work well." } }
                  input #new type="password" name="new" autocomplete="new-password" required minlength="12"; }
            button type="submit" { "Change password" }
        }
        (super::passkeys::account_section(&state, &p.viewer.csrf, &keys))
        h2 { "API tokens" }
        p.muted { "For scripts and integrations. A token is shown once; Bonafide keeps only its hash." }
        @if tokens.is_empty() { p { "You have no API tokens." } }
        ul.plain {
            @for t in &tokens {
                li {
                    strong { (t.label) } " · created " (when(t.created_at))
                    @if let Some(r) = t.revoked_at { " · revoked " (when(r)) } @else {
                        form.inline method="post" action=(format!("/account/tokens/{}/revoke", t.id)) {
                            (csrf_field(&p.viewer.csrf)) " " button.secondary type="submit" { "Revoke" }
                        }
                    }
                }
            }
        }
        form.stack method="post" action="/account/tokens" {
            (csrf_field(&p.viewer.csrf))
            div { label for="label" { "New token's label" } input #label type="text" name="label" maxlength="60" required; }
            button.secondary type="submit" { "Create token" }
        }
        h2 { "Sessions" }
        form method="post" action="/signout" {
            (csrf_field(&p.viewer.csrf))
            input type="hidden" name="everywhere" value="1";
            button.danger type="submit" { "Sign out everywhere" }
        }
    };
    respond(StatusCode::OK, page("My account", Some(&p.viewer), body))
}

#[derive(Deserialize)]
struct TokenForm {
    label: String,
}

async fn token_create(
    p: Page<AnyPerson>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Response {
    let label: String = form.label.trim().chars().filter(|c| !c.is_control()).take(60).collect();
    if label.is_empty() {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Token not created",
            "Give the token a label.",
            Some(&p.viewer),
        );
    }
    let token = bonafide_auth::ApiToken::generate();
    let now = state.clock.now();
    if let Err(e) = state.store.create_token(p.viewer.me.id, token.hash().as_str(), &label, now).await {
        return failed(e.into(), &p);
    }
    let event = AuditEvent::new(&p.viewer.actor(), "token.created", p.viewer.me.email.as_str(), Outcome::Ok)
        .with(serde_json::json!({ "label": label, "via": "portal" }));
    audit(&state, event).await;
    let body = html! {
        h1 { "Token created" }
        p { "Copy it now: it is shown only this once. Treat it like a password." }
        pre.codes { (token.reveal()) }
        p { a href="/account" { "Back to my account" } }
    };
    respond(StatusCode::OK, page("Token created", Some(&p.viewer), body))
}

async fn token_revoke(
    p: Page<AnyPerson>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    match state.store.revoke_token(p.viewer.me.id, &id, state.clock.now()).await {
        Ok(true) => {
            let event = AuditEvent::new(&p.viewer.actor(), "token.revoked", p.viewer.me.email.as_str(), Outcome::Ok)
                .with(serde_json::json!({ "token": id, "via": "portal" }));
            audit(&state, event).await;
            Redirect::to("/account").into_response()
        }
        Ok(false) => failed(ApiError::NotFound, &p),
        Err(e) => failed(e.into(), &p),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
}

async fn change_password(
    p: Page<AnyPerson>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Response {
    let me = p.viewer.me.clone();
    let creds = match state.store.credentials(me.id).await {
        Ok(c) => c,
        Err(e) => return failed(e.into(), &p),
    };
    let current = secrecy::SecretString::from(form.current);
    let stored = creds.password_hash.clone();
    let right = tokio::task::spawn_blocking(move || match stored {
        Some(h) => {
            bonafide_auth::password::verify_password(&bonafide_auth::password::PasswordHash::from_stored(h), &current)
        }
        None => false,
    })
    .await
    .unwrap_or(false);
    if !right {
        audit(
            &state,
            AuditEvent::new(&p.viewer.actor(), "factor.password_changed", me.email.as_str(), Outcome::Denied),
        )
        .await;
        return message(
            StatusCode::UNAUTHORIZED,
            "Password not changed",
            "The current password is wrong.",
            Some(&p.viewer),
        );
    }
    let hash = match signin::new_password_hash(form.new, &me.email).await {
        Ok(h) => h,
        Err(why) => return message(StatusCode::UNPROCESSABLE_ENTITY, "Password not changed", &why, Some(&p.viewer)),
    };
    if let Err(e) = state.store.set_password_hash(me.id, &hash, state.clock.now()).await {
        return failed(e.into(), &p);
    }
    audit(&state, AuditEvent::new(&p.viewer.actor(), "factor.password_changed", me.email.as_str(), Outcome::Ok)).await;
    message(StatusCode::OK, "Password changed", "Your new password works from now on.", Some(&p.viewer))
}

async fn totp_page(p: Page<AnyPerson>) -> Response {
    let mandatory = p.viewer.stage == SessionStage::Enrol;
    let body = html! {
        h1 { "Set up an authenticator app" }
        @if mandatory { (notice("Your role needs a second factor. Set it up to continue.", false)) }
        p { "You need an authenticator app on your phone (any app that supports TOTP codes)." }
        form method="post" action="/account/totp/start" {
            (csrf_field(&p.viewer.csrf))
            button.big type="submit" { "Show my QR code" }
        }
    };
    respond(StatusCode::OK, page("Authenticator app", Some(&p.viewer), body))
}

async fn totp_start(p: Page<AnyPerson>, State(state): State<AppState>, CsrfForm(_): CsrfForm<EmptyForm>) -> Response {
    let me = &p.viewer.me;
    let seed = totp::TotpSeed::generate();
    let sealed = state.secret.seal_key().seal(seed.expose_bytes(), &signin::seal_context(me.id));
    if let Err(e) = state.store.set_totp_pending(me.id, &sealed, state.clock.now()).await {
        return failed(e.into(), &p);
    }
    let uri = totp::otpauth_uri(&seed, "Bonafide", me.email.as_str());
    let Ok(svg) = qr::qr_svg(&uri) else {
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again",
            "The QR code could not be drawn.",
            Some(&p.viewer),
        );
    };
    let body = html! {
        h1 { "Scan this code" }
        div.qr { (trusted(svg)) }
        p { "Or type this key into the app: " code { (seed.base32()) } }
        form.stack method="post" action="/account/totp/confirm" {
            (csrf_field(&p.viewer.csrf))
            div {
                label for="code" { "The 6-digit code the app shows" }
                input.code #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required;
            }
            button.big type="submit" { "Confirm" }
        }
    };
    respond(StatusCode::OK, page("Scan the code", Some(&p.viewer), body))
}

async fn totp_confirm(
    p: Page<AnyPerson>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    let me = p.viewer.me.clone();
    let now = state.clock.now();
    let creds = match state.store.credentials(me.id).await {
        Ok(c) => c,
        Err(e) => return failed(e.into(), &p),
    };
    let seed = creds
        .totp_pending
        .and_then(|sealed| state.secret.seal_key().open(&sealed, &signin::seal_context(me.id)).ok())
        .and_then(|bytes| totp::TotpSeed::from_bytes(bytes).ok());
    let step = seed.and_then(|s| totp::verify(&s, &form.code, now.unix_timestamp(), None));
    let confirmed = match step {
        Some(step) => state.store.confirm_totp(me.id, step, now).await.unwrap_or(false),
        None => false,
    };
    if !confirmed {
        audit(&state, AuditEvent::new(&p.viewer.actor(), "factor.totp_enrolled", me.email.as_str(), Outcome::Denied))
            .await;
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Code not accepted",
            "That code did not match. Start again and type the code the app shows now.",
            Some(&p.viewer),
        );
    }
    let codes = recovery::generate_recovery_codes(10);
    let hashes: Vec<String> = codes.iter().map(|c| c.hash()).collect();
    if let Err(e) = state.store.replace_recovery_codes(me.id, &hashes).await {
        return failed(e.into(), &p);
    }
    audit(&state, AuditEvent::new(&p.viewer.actor(), "factor.totp_enrolled", me.email.as_str(), Outcome::Ok)).await;
    let body = html! {
        h1 { "Authenticator app set up" }
        p { "Keep these recovery codes somewhere safe. Each works once if you lose your phone. They are shown only now." }
        pre.codes { @for c in &codes { (c.reveal()) "\n" } }
        p { a.button href="/" { "Continue" } }
    };
    let mut response = respond(StatusCode::OK, page("Recovery codes", Some(&p.viewer), body));
    if p.viewer.stage == SessionStage::Enrol {
        // Enrolment completes sign-in: a fresh session at the full stage.
        let _ = state.store.delete_session(&p.viewer.token_hash).await;
        match signin::start_session(&state, &me, SessionStage::Full, &p.viewer.client).await {
            Ok(r) => {
                if let Some(cookie) = r.headers().get(axum::http::header::SET_COOKIE) {
                    response.headers_mut().append(axum::http::header::SET_COOKIE, cookie.clone());
                }
            }
            Err(r) => return r,
        }
    }
    response
}
