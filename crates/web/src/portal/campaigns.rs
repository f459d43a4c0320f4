//! Reports and campaigns in the portal: "Report a contact" for everyone (one click from the red page, the
//! form filled from the check), the warnings of active campaigns on the home page, and for security the
//! campaigns (status, merge, split, STIX) and webhooks (add, remove, delivery log).

use crate::AppState;
use crate::error::ApiError;
use crate::portal::html::{csrf_field, message, notice, page, respond, when};
use crate::portal::pages::{ASKS, CHANNELS, EmptyForm, Fields, failed, field, repeated};
use crate::portal::session::{AnyPerson, AuditReaders, CsrfForm, Page, SecurityOnly, audit};
use crate::routes::reports::{self, ReportBody};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bonafide_domain::{Ask, Channel};
use bonafide_store::{AuditEvent, CampaignStatus, Outcome};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeSet;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/report", get(report_form).post(report_submit))
        .route("/security/campaigns", get(campaigns_page))
        .route("/security/campaigns/{id}", get(campaign_page))
        .route("/security/campaigns/{id}/status", post(campaign_status))
        .route("/security/campaigns/{id}/merge", post(campaign_merge))
        .route("/security/campaigns/{id}/split", post(campaign_split))
        .route("/security/webhooks", get(webhooks_page).post(webhook_add))
        .route("/security/webhooks/{id}/delete", post(webhook_delete))
}

/// The warnings of active campaigns, for the top of the home page.
pub(crate) async fn warnings(state: &AppState) -> Markup {
    let active = state.store.list_campaigns(true, 5).await.unwrap_or_default();
    html! {
        @for c in active.iter().filter(|c| c.status == CampaignStatus::Active) {
            div.notice.warning role="alert" { strong { "Warning: " } (c.warning) }
        }
    }
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
async fn report_form(p: Page<AnyPerson>, State(state): State<AppState>, Query(q): Query<ReportQuery>) -> Response {
    let mut f = Prefill::default();
    if let Some(id) = q.check.as_deref()
        && let Ok(check) = crate::routes::checks::own_check(&state, &p.viewer.me, id).await
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

fn report_body(fields: &Fields) -> Result<ReportBody, String> {
    let one = |name: &str| Some(field(fields, name)).filter(|v| !v.is_empty());
    let channel: Channel = field(fields, "channel").parse().map_err(|_| "Choose how they contacted you.".to_owned())?;
    let asked_for: BTreeSet<Ask> =
        repeated(fields, "asked_for", "Pick what they asked for from the list.")?.into_iter().collect();
    Ok(ReportBody {
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
        ..ReportBody::default()
    })
}

/// `POST /report`.
async fn report_submit(
    p: Page<AnyPerson>,
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
    match reports::file(&state, &p.viewer.me, &p.viewer.client, body, None).await {
        Ok(received) => {
            let body = html! {
                @if let Some(steps) = &received.act_now {
                    div.panel.bad role="alert" {
                        h1 { "Act now" }
                        p.lead { "Your report is received. Because you did what they asked, do this right away:" }
                        ol { @for s in steps { li { (s) } } }
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
        Err(ApiError::Invalid(errors)) => {
            again(&errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))
        }
        Err(e) => failed(e, &p),
    }
}

#[derive(Deserialize)]
struct CampaignsQuery {
    status: Option<String>,
}

/// `GET /security/campaigns`.
async fn campaigns_page(
    p: Page<AuditReaders>,
    State(state): State<AppState>,
    Query(q): Query<CampaignsQuery>,
) -> Response {
    let all = q.status.as_deref() == Some("all");
    let found = match state.store.list_campaigns(!all, 200).await {
        Ok(c) => c,
        Err(e) => return failed(e.into(), &p),
    };
    let body = html! {
        h1 { "Campaigns" }
        p { @if all { a href="/security/campaigns" { "Active only" } } @else { a href="/security/campaigns?status=all" { "Include closed ones" } } }
        @if found.is_empty() { p { "No campaigns." } }
        div.table-wrap { table {
            thead { tr { th { "Campaign" } th { "Severity" } th { "Reports" } th { "Last seen" } } }
            tbody {
                @for c in &found {
                    tr {
                        td { a href=(format!("/security/campaigns/{}", c.id)) { (c.warning) } br; span.muted { (c.status.as_str()) " · " (c.departments.join(", ")) } }
                        td { span.badge { (c.severity.as_str()) } }
                        td { (c.report_count) " from " (c.people_count) }
                        td { (when(c.last_seen)) }
                    }
                }
            }
        } }
        p { a href="/security/webhooks" { "Webhooks" } " · " a href="/security" { "Security" } }
    };
    respond(StatusCode::OK, page("Campaigns", Some(&p.viewer), body))
}

/// `GET /security/campaigns/{id}`.
async fn campaign_page(p: Page<AuditReaders>, State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let c = match state.store.campaign(&id).await {
        Ok(Some(c)) => c,
        Ok(None) => return failed(ApiError::NotFound, &p),
        Err(e) => return failed(e.into(), &p),
    };
    let found = match state.store.reports_of(&c.id).await {
        Ok(r) => r,
        Err(e) => return failed(e.into(), &p),
    };
    let admin = p.viewer.me.roles.has(bonafide_domain::Role::SecurityAdmin);
    let csrf = &p.viewer.csrf;
    let body = html! {
        h1 { "Campaign " span.muted { (c.id.get(..8).unwrap_or(&c.id)) } }
        div.notice.warning { (c.warning) }
        dl.facts {
            dt { "Status" } dd { (c.status.as_str()) }
            dt { "Severity" } dd { (c.severity.as_str()) }
            dt { "Reports" } dd { (c.report_count) " from " (c.people_count) " people" }
            dt { "Departments" } dd { (c.departments.join(", ")) }
            dt { "Seen" } dd { (when(c.first_seen)) " to " (when(c.last_seen)) }
        }
        h2 { "Indicators" }
        ul.plain { @for i in &c.indicators {
            li { span.badge { (i.kind.as_str()) } " " code { (i.value) }
                 @if let Some(n) = &i.note { " " span.muted { (n.to_text().replace('_', " ")) } } }
        } }
        p { a href=(format!("/api/v1/campaigns/{}/stix", c.id)) { "STIX 2.1 bundle (API, with a token)" } }
        @if admin {
            h2 { "Status" }
            form.inline method="post" action=(format!("/security/campaigns/{}/status", c.id)) {
                (csrf_field(csrf))
                @for s in [CampaignStatus::Active, CampaignStatus::Contained, CampaignStatus::Closed] {
                    button.secondary type="submit" name="status" value=(s.as_str()) disabled[s == c.status] { (s.as_str()) } " "
                }
            }
            h2 { "Merge another campaign into this one" }
            form.stack method="post" action=(format!("/security/campaigns/{}/merge", c.id)) {
                (csrf_field(csrf))
                div { label for="other" { "Campaign id" } input #other type="text" name="campaign_id" required maxlength="64"; }
                button.secondary type="submit" { "Merge" }
            }
        }
        h2 { "Reports" }
        form method="post" action=(format!("/security/campaigns/{}/split", c.id)) {
            @if admin { (csrf_field(csrf)) }
            div.table-wrap { table {
                thead { tr { @if admin { th { "Split" } } th { "When" } th { "How" } th { "From" } th { "Claimed" } th { "Asked" } } }
                tbody { @for r in &found {
                    tr {
                        @if admin { td { input type="checkbox" name="report_ids" value=(r.id) aria-label="Split this report off"; } }
                        td { (when(r.occurred_at)) }
                        td { (r.channel.as_str()) }
                        td { (r.caller_number.clone().or(r.caller_address.clone()).or(r.caller_handle.clone()).unwrap_or_default()) }
                        td { (r.claimed_name.clone().unwrap_or_default()) " " (r.claimed_staff_id.clone().unwrap_or_default()) }
                        td { (r.asked_for.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")) @if r.complied { " " strong { "(complied)" } } }
                    }
                } }
            } }
            @if admin { button.secondary type="submit" { "Split the checked reports off" } }
        }
    };
    respond(StatusCode::OK, page("Campaign", Some(&p.viewer), body))
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
}

async fn campaign_status(
    p: Page<SecurityOnly>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Response {
    let Some(status) = CampaignStatus::parse(&form.status) else {
        return message(StatusCode::UNPROCESSABLE_ENTITY, "Not changed", "Unknown status.", Some(&p.viewer));
    };
    let event = AuditEvent::new(&p.viewer.actor(), "campaign.status", &id, Outcome::Ok)
        .with(serde_json::json!({ "to": status.as_str(), "via": "portal" }));
    match state.store.set_campaign_status(&id, status, &event, state.clock.now()).await {
        Ok(true) => Redirect::to(&format!("/security/campaigns/{id}")).into_response(),
        Ok(false) => failed(ApiError::NotFound, &p),
        Err(e) => failed(e.into(), &p),
    }
}

#[derive(Deserialize)]
struct MergeForm {
    campaign_id: String,
}

async fn campaign_merge(
    p: Page<SecurityOnly>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MergeForm>,
) -> Response {
    let other = form.campaign_id.trim().to_owned();
    let event = AuditEvent::new(&p.viewer.actor(), "campaign.merged", &id, Outcome::Ok)
        .with(serde_json::json!({ "merged": other, "via": "portal" }));
    match state.store.merge_campaigns(&id, &other, &state.config.correlation, &event, state.clock.now()).await {
        Ok(true) => Redirect::to(&format!("/security/campaigns/{id}")).into_response(),
        Ok(false) => message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not merged",
            "Give the id of another campaign (active, contained or closed).",
            Some(&p.viewer),
        ),
        Err(e) => failed(e.into(), &p),
    }
}

async fn campaign_split(
    p: Page<SecurityOnly>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let ids: Vec<String> = fields.iter().filter(|(k, _)| k == "report_ids").map(|(_, v)| v.clone()).collect();
    let event = AuditEvent::new(&p.viewer.actor(), "campaign.split", &id, Outcome::Ok);
    match state.store.split_campaign(&id, &ids, &state.config.correlation, &event, state.clock.now()).await {
        Ok(Some(_)) => Redirect::to(&format!("/security/campaigns/{id}")).into_response(),
        Ok(None) => message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not split",
            "Check some, but not all, of the campaign's reports.",
            Some(&p.viewer),
        ),
        Err(e) => failed(e.into(), &p),
    }
}

fn webhooks_markup(
    csrf: &str,
    hooks: &[(bonafide_store::Webhook, Vec<bonafide_store::Delivery>)],
    shown: Option<(&str, &str)>,
    problem: Option<&str>,
) -> Markup {
    html! {
        h1 { "Webhooks" }
        @if let Some(p) = problem { (notice(p, true)) }
        @if let Some((url, secret)) = shown {
            div.notice role="status" {
                "Added " code { (url) } ". Its signing secret, shown only now: " code { (secret) }
            }
        }
        p { "Bonafide posts events (reports, campaigns) as JSON, signed: " code { "X-Bonafide-Signature: v1=HMAC-SHA256(secret, timestamp + \".\" + body)" } ", with the timestamp in " code { "X-Bonafide-Timestamp" } ". Failed deliveries are retried with growing delays for about four hours." }
        form.stack method="post" action="/security/webhooks" {
            (csrf_field(csrf))
            div { label for="url" { "Address" span.hint { "https://… of your SIEM or automation." } } input #url type="url" name="url" required maxlength="2000"; }
            button.secondary type="submit" { "Add webhook" }
        }
        @for (w, log) in hooks {
            h2 { code { (w.url) } }
            p.muted { "Events: " (w.kinds.join(", ")) " · added " (when(w.created_at)) }
            form.inline method="post" action=(format!("/security/webhooks/{}/delete", w.id)) {
                (csrf_field(csrf)) button.danger type="submit" { "Remove" }
            }
            @if log.is_empty() { p { "No deliveries yet." } }
            ul.plain { @for d in log.iter().take(20) {
                li { "Event " (d.event_seq) " · " span.badge { (d.status) } " · " (d.attempts) " attempt(s)"
                     @if let Some(s) = d.last_status { " · HTTP " (s) }
                     @if let Some(e) = &d.last_error { " · " (e) } }
            } }
        }
    }
}

async fn webhooks_view(
    p: &Page<SecurityOnly>,
    state: &AppState,
    status: StatusCode,
    shown: Option<(&str, &str)>,
    problem: Option<&str>,
) -> Response {
    let hooks = match state.store.webhooks().await {
        Ok(h) => h,
        Err(e) => return failed(e.into(), p),
    };
    let mut with_log = Vec::with_capacity(hooks.len());
    for w in hooks {
        let log = state.store.deliveries(&w.id, 20).await.unwrap_or_default();
        with_log.push((w, log));
    }
    respond(status, page("Webhooks", Some(&p.viewer), webhooks_markup(&p.viewer.csrf, &with_log, shown, problem)))
}

async fn webhooks_page(p: Page<SecurityOnly>, State(state): State<AppState>) -> Response {
    webhooks_view(&p, &state, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
struct WebhookForm {
    url: String,
}

async fn webhook_add(
    p: Page<SecurityOnly>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<WebhookForm>,
) -> Response {
    match crate::routes::webhooks::add(&state, &p.viewer.actor(), p.viewer.me.id, &form.url, None).await {
        Ok(added) => {
            let shown = Some((added.url.as_str(), added.secret.reveal()));
            webhooks_view(&p, &state, StatusCode::CREATED, shown, None).await
        }
        Err(ApiError::Invalid(errors)) => {
            let why = errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ");
            webhooks_view(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&why)).await
        }
        Err(e) => failed(e, &p),
    }
}

async fn webhook_delete(
    p: Page<SecurityOnly>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    match state.store.delete_webhook(&id).await {
        Ok(true) => {
            audit(&state, AuditEvent::new(&p.viewer.actor(), "webhook.deleted", &id, Outcome::Ok)).await;
            Redirect::to("/security/webhooks").into_response()
        }
        Ok(false) => failed(ApiError::NotFound, &p),
        Err(e) => failed(e.into(), &p),
    }
}
