//! The IT console: the live code for each assigned request and announced outreach with a countdown, the
//! queue (take a request), resolve; propose outreach and approve others' (never one's own).

use crate::AppState;
use crate::portal::forms::{CHANNELS, EmptyForm, Fields, failed, field, repeated};
use crate::portal::html::{csrf_field, live_code, message, page, respond, when};
use crate::portal::input::PagePath;
use crate::portal::session::{CsrfForm, Page};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bonafide_app::AppError;
use bonafide_app::access::ItStaff;
use bonafide_app::console::{self, CodeFor, Console, LiveCode};
use bonafide_app::outreach::{self, Proposal};
use bonafide_app::requests;
use bonafide_domain::{Channel, RequestKey, TimeStep};
use maud::html;
use std::collections::BTreeSet;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(console))
        .route("/console/requests/{key}/take", post(console_take))
        .route("/console/requests/{key}/resolve", post(console_resolve))
        .route("/console/outreach", post(outreach_propose))
        .route("/console/outreach/{id}/approve", post(outreach_approve))
}

async fn console(p: Page<ItStaff>, State(state): State<AppState>) -> Response {
    let me = &p.viewer.me;
    let Console { codes, queue, pending, now } = match console::console(&state.app, p.viewer.caller()).await {
        Ok(c) => c,
        Err(e) => return failed(e, &p.viewer),
    };
    // A new code every step; the one shown stays accepted for one more step (`TimeStep::accepted`). The
    // countdown runs to the next code, when the page reloads.
    let step = TimeStep::at(now);
    let rotates_at = step.rotates_at().unix_timestamp();
    let left = (step.rotates_at() - now).whole_seconds();
    let assigned: Vec<(&LiveCode, RequestKey, &str)> = codes
        .iter()
        .filter_map(|c| match &c.subject {
            CodeFor::Request { key, summary } => Some((c, *key, summary.as_str())),
            CodeFor::Outreach { .. } => None,
        })
        .collect();
    let outreach: Vec<(&LiveCode, &str)> = codes
        .iter()
        .filter_map(|c| match &c.subject {
            CodeFor::Outreach { reason, .. } => Some((c, reason.as_str())),
            CodeFor::Request { .. } => None,
        })
        .collect();
    let live = |c: &LiveCode| {
        html! {
            div.code-box {
                (live_code(&c.code))
                button.secondary.copy type="button" data-copy=(c.code) hidden { "Copy" }
            }
            p.muted { "New code in " span.countdown { (left) " s" } }
        }
    };
    let body = html! {
        h1 { "IT console" }
        p {
            "Before you ask anything, read the employee the code for their request. A new code appears every "
            "minute; the one you just read out is still accepted for one more minute."
        }
        h2 { "My assigned requests" }
        @if assigned.is_empty() { p { "Nothing assigned to you." } }
        ul.cards {
            @for (c, key, summary) in &assigned {
                li.card data-rotates-at=(rotates_at) {
                    p { strong { (key) } " · " (summary) }
                    p { (c.employee_name) br; span.muted.email { (c.employee_email) } }
                    (live(c))
                    form method="post" action=(format!("/console/requests/{key}/resolve")) {
                        (csrf_field(&p.viewer.csrf)) button.secondary type="submit" { "Resolve" }
                    }
                }
            }
        }
        @if !outreach.is_empty() {
            h2 { "Announced outreach" }
            ul.cards {
                @for (c, reason) in &outreach {
                    li.card data-rotates-at=(rotates_at) {
                        p { strong { (c.employee_name) } " · " (reason) }
                        (live(c))
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

/// After a console action: back to the console, or the error as a page.
fn to_console<T>(done: Result<T, AppError>, p: &Page<ItStaff>) -> Response {
    match done {
        Ok(_) => Redirect::to("/console").into_response(),
        Err(e) => failed(e, &p.viewer),
    }
}

async fn console_take(
    p: Page<ItStaff>,
    State(state): State<AppState>,
    PagePath(key): PagePath<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    let Some(staff_id) = p.viewer.me.staff_id.clone() else {
        return message(StatusCode::CONFLICT, "No staff id", "You need a staff id to take requests.", Some(&p.viewer));
    };
    to_console(requests::assign(&state.app, p.viewer.caller(), &key, staff_id.as_str()).await, &p)
}

async fn console_resolve(
    p: Page<ItStaff>,
    State(state): State<AppState>,
    PagePath(key): PagePath<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    to_console(requests::resolve(&state.app, p.viewer.caller(), &key).await, &p)
}

/// Reads the outreach form (repeated `channels`, a UTC `datetime-local` start and a length in hours).
fn outreach_body(fields: &Fields) -> Result<Proposal, String> {
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
    Ok(Proposal {
        employee_email: one("employee_email"),
        reason: one("reason"),
        channels,
        starts_at: start,
        // Checked: a start near the calendar's end would overflow (the use case then refuses the date).
        ends_at: start.checked_add(time::Duration::hours(hours)).ok_or("Give a start within the next 90 days.")?,
    })
}

async fn outreach_propose(
    p: Page<ItStaff>,
    State(state): State<AppState>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let body = match outreach_body(&fields) {
        Ok(b) => b,
        Err(why) => return message(StatusCode::UNPROCESSABLE_ENTITY, "Not proposed", &why, Some(&p.viewer)),
    };
    to_console(outreach::propose(&state.app, p.viewer.caller(), body).await, &p)
}

async fn outreach_approve(
    p: Page<ItStaff>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    to_console(outreach::approve(&state.app, p.viewer.caller(), &id).await, &p)
}
