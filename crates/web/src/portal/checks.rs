//! "Someone is contacting me": the contact form, the verdict page (a plausible caller's card with a box
//! for their code, or a red "not verified" with the reasons in everyday words) and the code's answer.

use crate::AppState;
use crate::portal::forms::{ASKS, CHANNELS, CodeForm, Fields, failed, field, messages, repeated};
use crate::portal::html::{csrf_field, notice, page, phone_link, respond};
use crate::portal::input::{PagePath, PageQuery};
use crate::portal::session::{CsrfForm, Page};
use crate::portal::staff::staff_card;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bonafide_app::access::Everyone;
use bonafide_app::checks::{self, Claimed};
use bonafide_app::security;
use bonafide_domain::{Ask, Channel, Reason, StaffId, Verdict};
use maud::{Markup, html};
use std::collections::BTreeSet;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/contact", get(contact_form).post(contact_submit))
        .route("/checks/{id}", get(check_page))
        .route("/checks/{id}/code", post(check_code))
}

/// What the contact form starts with: a drill's lesson links here with its persona filled in.
#[derive(Debug, Default, serde::Deserialize)]
struct ContactPrefill {
    claimed: Option<String>,
    from: Option<String>,
}

fn contact_markup(csrf: &str, problem: Option<&str>) -> Markup {
    contact_markup_with(csrf, problem, &ContactPrefill::default())
}

fn contact_markup_with(csrf: &str, problem: Option<&str>, prefill: &ContactPrefill) -> Markup {
    let short = |v: &Option<String>, max: usize| v.as_deref().unwrap_or("").chars().take(max).collect::<String>();
    html! {
        h1 { "Someone is contacting me" }
        @if let Some(p) = problem { (notice(p, true)) }
        p { "Keep them waiting a moment. Tell us what they say; we check it against the directory and your requests." }
        form.stack method="post" action="/contact" {
            (csrf_field(csrf))
            div {
                label for="claimed" { "Who do they say they are?" span.hint { "A name, or a staff id such as IT-0042." } }
                input #claimed type="text" name="claimed" autocomplete="off" maxlength="120" value=(short(&prefill.claimed, 120));
            }
            fieldset.choices {
                legend { "How are they contacting you?" }
                @for (i, (c, label)) in CHANNELS.iter().enumerate() {
                    label { input type="radio" name="channel" value=(c.as_str()) required checked[i == 0]; (label) }
                }
            }
            div {
                label for="from" { "Their number or address" span.hint { "The number on your screen, or the sender's address. Optional." } }
                input #from type="text" name="from" autocomplete="off" maxlength="254" value=(short(&prefill.from, 254));
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

async fn contact_form(p: Page<Everyone>, PageQuery(prefill): PageQuery<ContactPrefill>) -> Response {
    let body = contact_markup_with(&p.viewer.csrf, None, &prefill);
    respond(StatusCode::OK, page("Someone is contacting me", Some(&p.viewer), body))
}

/// Reads the contact form (repeated `asked_for` fields; one box for a name or staff id, one for a number
/// or address) into what the employee claims.
fn contact_claim(fields: &Fields) -> Result<Claimed, String> {
    let one = |name: &str| Some(field(fields, name)).filter(|v| !v.is_empty());
    let channel: Channel =
        field(fields, "channel").parse().map_err(|_| "Choose how they are contacting you.".to_owned())?;
    let asked_for: BTreeSet<Ask> =
        repeated(fields, "asked_for", "Pick what they asked for from the list.")?.into_iter().collect();
    let claimed = one("claimed");
    let looks_like_id = claimed.as_deref().is_some_and(|c| c.parse::<StaffId>().is_ok());
    let from = one("from");
    let is_address = from.as_deref().is_some_and(|f| f.contains('@'));
    Ok(Claimed {
        channel,
        claimed_staff_id: claimed.clone().filter(|_| looks_like_id),
        claimed_name: claimed.filter(|_| !looks_like_id),
        caller_number: from.clone().filter(|_| !is_address),
        caller_address: from.filter(|_| is_address),
        request_key: one("request_key"),
        asked_for,
    })
}

async fn contact_submit(
    p: Page<Everyone>,
    State(state): State<AppState>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let again = |problem: &str| {
        respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            page("Someone is contacting me", Some(&p.viewer), contact_markup(&p.viewer.csrf, Some(problem))),
        )
    };
    let claimed = match contact_claim(&fields) {
        Ok(c) => c,
        Err(problem) => return again(&problem),
    };
    match checks::open(&state.app, p.viewer.caller(), claimed).await {
        Ok(check) => Redirect::to(&format!("/checks/{}", check.id)).into_response(),
        Err(e) => match messages(&e) {
            Some(problem) => again(&problem),
            None => failed(e, &p.viewer),
        },
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
        Reason::OutsideContactHours => "IT does not make contact at this time.",
        Reason::OutsideWindow => "This is outside the time IT announced for contacting you.",
        Reason::StaffInactive => "This staff member is not active.",
        Reason::ChallengeFailed => "The code they read out was wrong.",
        Reason::ChallengeLocked => "Too many wrong codes: this check is locked and security has been told.",
        Reason::MatchesActiveCampaign => "This matches an attack currently targeting the company.",
    }
}

/// Whether the policy's broken rules say why better than the generic reason: hours always, a channel
/// refused when a channel rule was broken (the employee's own channel choice is said generically).
fn explained_by_policy(r: Reason, broken: &[checks::BrokenRule]) -> bool {
    match r {
        Reason::OutsideContactHours => broken.iter().any(|b| b.rule == "contact_hours"),
        Reason::ChannelNotAllowed => broken.iter().any(|b| b.rule != "contact_hours"),
        _ => false,
    }
}

async fn check_page(p: Page<Everyone>, State(state): State<AppState>, PagePath(id): PagePath<String>) -> Response {
    let who = p.viewer.caller();
    let check = match checks::get(&state.app, who, &id).await {
        Ok(c) => c,
        Err(e) => return failed(e, &p.viewer),
    };
    let (verdict, reasons) = (check.verdict, &check.reasons);
    let staff = check.staff.as_ref();
    let request = &check.request;
    let attempts_left = check.attempts_left;
    let it_number = security::desk_number(&state.app, who).await.ok().flatten();
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
                    @if let Some(n) = &it_number { strong { (phone_link(n)) } } @else { "the number in the staff directory" }
                    " and report it."
                }
                ul.reasons {
                    // The contact policy's own words for the rules broken, instead of the generic reason.
                    @for r in reasons {
                        @if !explained_by_policy(*r, &check.broken_rules) { li { (explain(*r)) } }
                    }
                    @for b in &check.broken_rules { li.rule data-rule=(b.rule) { (b.sentence) } }
                }
                p { a.button href=(format!("/report?check={}", check.id)) { "Report this contact" } }
            },
        }
        @if let Some(s) = staff.filter(|_| verdict != Verdict::Unverified) {
            (staff_card(s.photo_url.as_deref(), &s.display_name, s.staff_id.as_str(), &s.team, html! {
                @if let Some((key, summary)) = request { dt { "Your request" } dd { (key) " · " (summary) } }
            }))
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

async fn check_code(
    p: Page<Everyone>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    match checks::answer(&state.app, p.viewer.caller(), &id, &form.code).await {
        Ok(_) => Redirect::to(&format!("/checks/{id}")).into_response(),
        Err(e) => failed(e, &p.viewer),
    }
}
