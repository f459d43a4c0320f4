//! "Report a contact", for everyone: one click from the red page, the form filled from the check; an
//! employee who did what was asked is told what to do now.

use crate::AppState;
use crate::portal::forms::{ASKS, CHANNELS, Fields, failed, field, repeated};
use crate::portal::html::{csrf_field, notice, page, respond, with_phone_link};
use crate::portal::input::PageQuery;
use crate::portal::session::{CsrfForm, Page};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use bonafide_app::AppError;
use bonafide_app::access::Everyone;
use bonafide_app::checks;
use bonafide_app::reports::{self, Report};
use bonafide_domain::{Ask, Channel};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeSet;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/report", get(report_form).post(report_submit))
}

#[derive(Default)]
struct Prefill {
    channel: Option<Channel>,
    number: String,
    address: String,
    name: String,
    staff_id: String,
    asked: BTreeSet<Ask>,
    check: String,
}

fn report_markup(csrf: &str, f: &Prefill, problem: Option<&str>) -> Markup {
    html! {
        h1 { "Report a contact" }
        @if let Some(p) = problem { (notice(p, true)) }
        p { "Tell security about a call, message, email or visit that did not seem right. Every report helps: fraudsters call around until someone believes them." }
        form.stack method="post" action="/report" {
            (csrf_field(csrf))
            input type="hidden" name="check_id" value=(f.check);
            fieldset.choices {
                legend { "How did they contact you?" }
                @for (i, (c, label)) in CHANNELS.iter().enumerate() {
                    label { input type="radio" name="channel" value=(c.as_str()) required checked[f.channel.map_or(i == 0, |x| x == *c)]; (label) }
                }
            }
            div { label for="caller_number" { "Their phone number" span.hint { "As shown on your screen. Optional." } }
                  input #caller_number type="tel" name="caller_number" value=(f.number) maxlength="64"; }
            div { label for="caller_address" { "Their email address" span.hint { "Optional." } }
                  input #caller_address type="text" name="caller_address" value=(f.address) maxlength="254"; }
            div { label for="caller_handle" { "Their chat name" span.hint { "Optional." } }
                  input #caller_handle type="text" name="caller_handle" maxlength="120"; }
            div { label for="claimed_name" { "Who did they say they were?" }
                  input #claimed_name type="text" name="claimed_name" value=(f.name) maxlength="120"; }
            div { label for="claimed_staff_id" { "Staff id they gave" span.hint { "Optional." } }
                  input #claimed_staff_id type="text" name="claimed_staff_id" value=(f.staff_id) maxlength="32"; }
            fieldset.choices {
                legend { "What did they ask for?" }
                @for (a, label) in ASKS {
                    label { input type="checkbox" name="asked_for" value=(a.as_str()) checked[f.asked.contains(&a)]; (label) }
                }
            }
            div.choices {
                label { input type="checkbox" name="complied" value="yes"; "I did what they asked (gave a password or code, installed something, let them connect)" }
            }
            div { label for="transcript" { "What did they say or write?" span.hint { "In your own words, or paste the message. Optional." } }
                  textarea #transcript name="transcript" rows="5" maxlength="100000" {} }
            button.big type="submit" { "Send the report" }
        }
    }
}

#[derive(Deserialize)]
struct ReportQuery {
    check: Option<String>,
}

/// `GET /report` (`?check=ID` fills it from that check).
async fn report_form(
    p: Page<Everyone>,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<ReportQuery>,
) -> Response {
    let mut f = Prefill::default();
    if let Some(id) = q.check.as_deref()
        && let Ok(check) = checks::own(&state.app, p.viewer.caller(), id).await
    {
        let input = &check.input;
        f = Prefill {
            channel: Some(input.channel),
            number: input.caller_number.clone().unwrap_or_default(),
            address: input.caller_address.clone().unwrap_or_default(),
            name: input.claimed_name.clone().unwrap_or_default(),
            staff_id: input.claimed_staff_id.as_ref().map(ToString::to_string).unwrap_or_default(),
            asked: input.asked_for.clone(),
            check: check.id.to_string(),
        };
    }
    respond(StatusCode::OK, page("Report a contact", Some(&p.viewer), report_markup(&p.viewer.csrf, &f, None)))
}

fn report_body(fields: &Fields) -> Result<Report, String> {
    let one = |name: &str| Some(field(fields, name)).filter(|v| !v.is_empty());
    let channel: Channel = field(fields, "channel").parse().map_err(|_| "Choose how they contacted you.".to_owned())?;
    let asked_for: BTreeSet<Ask> =
        repeated(fields, "asked_for", "Pick what they asked for from the list.")?.into_iter().collect();
    Ok(Report {
        channel: Some(channel),
        caller_number: one("caller_number"),
        caller_address: one("caller_address"),
        caller_handle: one("caller_handle"),
        claimed_name: one("claimed_name"),
        claimed_staff_id: one("claimed_staff_id"),
        asked_for: Some(asked_for),
        complied: Some(field(fields, "complied") == "yes"),
        transcript: one("transcript"),
        check_id: one("check_id"),
        ..Report::default()
    })
}

/// `POST /report`.
async fn report_submit(
    p: Page<Everyone>,
    State(state): State<AppState>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let again = |problem: &str| {
        let f = Prefill { check: field(&fields, "check_id"), ..Prefill::default() };
        respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            page("Report a contact", Some(&p.viewer), report_markup(&p.viewer.csrf, &f, Some(problem))),
        )
    };
    let body = match report_body(&fields) {
        Ok(b) => b,
        Err(problem) => return again(&problem),
    };
    match reports::file(&state.app, p.viewer.caller(), body, None).await {
        Ok(received) => {
            let body = html! {
                @if let Some(practice) = &received.practice {
                    div.panel.ok role="status" {
                        h1 { "A practice run" }
                        p.lead { (practice) }
                    }
                } @else if let Some(steps) = &received.act_now {
                    div.panel.bad role="alert" {
                        h1 { "Act now" }
                        p.lead { "Your report is received. Because you did what they asked, do this right away:" }
                        ol { @for s in steps { li { (with_phone_link(s, received.desk_number.as_ref())) } } }
                    }
                } @else {
                    div.panel.ok role="status" {
                        h1 { "Thank you — report received" }
                        p.lead { "Security will look at it. If they contact you again, do not do what they ask." }
                    }
                }
                p { a href="/" { "Home" } }
            };
            respond(StatusCode::CREATED, page("Report received", Some(&p.viewer), body))
        }
        Err(AppError::Invalid(errors)) => again(&AppError::fields_text(&errors)),
        Err(e) => failed(e, &p.viewer),
    }
}
