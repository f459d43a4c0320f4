//! Campaigns for security admins and auditors: the list, each campaign with its indicators and reports,
//! and (security admins) its status, merging another into it and splitting reports off. The warnings of
//! active campaigns are on everyone's home page.

use crate::AppState;
use crate::portal::forms::failed;
use crate::portal::html::{csrf_field, evidence, message, page, respond, when};
use crate::portal::input::{PagePath, PageQuery};
use crate::portal::session::{CsrfForm, Page};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bonafide_app::access::{SecurityAdmins, SecurityReaders};
use bonafide_app::records::CampaignStatus;
use bonafide_app::{AppError, Caller, campaigns};
use maud::{Markup, html};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/security/campaigns", get(campaigns_page))
        .route("/security/campaigns/{id}", get(campaign_page))
        .route("/security/campaigns/{id}/status", post(campaign_status))
        .route("/security/campaigns/{id}/merge", post(campaign_merge))
        .route("/security/campaigns/{id}/official-contacts", post(campaign_official))
        .route("/security/campaigns/{id}/split", post(campaign_split))
        .route("/security/campaigns/{id}/stix", get(campaign_stix))
}

/// The warnings of active campaigns, for the top of the home page.
pub(super) async fn warnings(state: &AppState, who: &Caller) -> Markup {
    let active = campaigns::warnings(&state.app, who, 5).await.unwrap_or_default();
    html! {
        @for c in &active {
            div.notice.warning role="alert" { strong { "Warning: " } (c.warning) }
        }
    }
}

#[derive(Deserialize)]
struct CampaignsQuery {
    status: Option<String>,
}

/// `GET /security/campaigns`.
async fn campaigns_page(
    p: Page<SecurityReaders>,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<CampaignsQuery>,
) -> Response {
    let all = q.status.as_deref() == Some("all");
    let found = match campaigns::list(&state.app, p.viewer.caller(), all).await {
        Ok(c) => c,
        Err(e) => return failed(e, &p.viewer),
    };
    let body = html! {
        h1 { "Campaigns" }
        p { @if all { a href="/security/campaigns" { "Active only" } } @else { a href="/security/campaigns?status=all" { "Include closed ones" } } }
        @if found.is_empty() { p { "No campaigns." } }
        div.table-wrap { table.stack {
            thead { tr { th { "Campaign" } th { "Severity" } th { "Reports" } th { "Last seen" } } }
            tbody {
                @for c in &found {
                    tr {
                        td data-label="Campaign" { a href=(format!("/security/campaigns/{}", c.id)) { (c.warning) } br; span.muted { (c.status.as_str()) " · " (c.departments.join(", ")) } }
                        td data-label="Severity" { span.badge { (c.severity.as_str()) } }
                        td data-label="Reports" { (c.report_count) " from " (c.people_count) }
                        td data-label="Last seen" { (when(c.last_seen)) }
                    }
                }
            }
        } }
        p { a href="/security/webhooks" { "Webhooks" } " · " a href="/security" { "Security" } }
    };
    respond(StatusCode::OK, page("Campaigns", Some(&p.viewer), body))
}

/// `GET /security/campaigns/{id}`.
async fn campaign_page(
    p: Page<SecurityReaders>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
) -> Response {
    let (c, found) = match campaigns::with_reports(&state.app, p.viewer.caller(), &id).await {
        Ok(x) => x,
        Err(e) => return failed(e, &p.viewer),
    };
    let admin = p.viewer.me.roles.has(bonafide_domain::Role::SecurityAdmin);
    let csrf = &p.viewer.csrf;
    let body = html! {
        h1 { "Campaign " span.muted { (c.id.to_string().get(..8).unwrap_or_default()) } }
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
        @if !c.official.is_empty() {
            h2 { "Real staff's contacts" }
            p { "These indicators are the directory's own: the reports claim a real staffer's identity, and the \
                 caller id or sender may be spoofed. " @if c.covers_official { strong { "Checks on them are blocked." } }
                 @else { "Checks on them are not blocked, so the real staffer can still be verified." } }
            ul.plain { @for i in &c.official { li { span.badge { (i.kind.as_str()) } " " code { (i.value) } } } }
            @if admin {
                form.inline method="post" action=(format!("/security/campaigns/{}/official-contacts", c.id)) {
                    (csrf_field(csrf))
                    @if c.covers_official {
                        button.secondary type="submit" name="blocked" value="false" { "Stop blocking checks on them" }
                    } @else {
                        button.danger type="submit" name="blocked" value="true" { "The campaign uses them too: block checks on them" }
                    }
                }
            }
        }
        p {
            a.button.secondary href=(format!("/security/campaigns/{}/stix", c.id)) download { "Download the STIX 2.1 bundle" }
            br; span.hint { "For a threat-intelligence platform; tools fetch it from " code { (format!("/api/v1/campaigns/{}/stix", c.id)) } " with an API token." }
        }
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
            div.table-wrap { table.stack {
                thead { tr { @if admin { th { "Split" } } th { "When" } th { "How" } th { "From" } th { "Claimed" } th { "Asked" } } }
                tbody { @for r in &found {
                    tr {
                        @if admin { td data-label="Split" { input type="checkbox" name="report_ids" value=(r.id) aria-label="Split this report off"; } }
                        td data-label="When" { (when(r.occurred_at)) }
                        td data-label="How" { (r.channel.as_str()) }
                        td data-label="From" { (evidence(r.caller_number.as_deref().or(r.caller_address.as_deref()).or(r.caller_handle.as_deref()).unwrap_or_default())) }
                        td data-label="Claimed" { (evidence(r.claimed_name.as_deref().unwrap_or_default())) " " (evidence(r.claimed_staff_id.as_deref().unwrap_or_default())) }
                        td data-label="Asked" { (r.asked_for.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")) @if r.complied { " " strong { "(complied)" } } }
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
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Response {
    match campaigns::set_status(&state.app, p.viewer.caller(), &id, &form.status).await {
        Ok(c) => Redirect::to(&format!("/security/campaigns/{}", c.id)).into_response(),
        Err(AppError::Invalid(_)) => {
            message(StatusCode::UNPROCESSABLE_ENTITY, "Not changed", "Unknown status.", Some(&p.viewer))
        }
        Err(e) => failed(e, &p.viewer),
    }
}

#[derive(Deserialize)]
struct OfficialForm {
    blocked: bool,
}

async fn campaign_official(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(form): CsrfForm<OfficialForm>,
) -> Response {
    match campaigns::block_official_contacts(&state.app, p.viewer.caller(), &id, form.blocked).await {
        Ok(c) => Redirect::to(&format!("/security/campaigns/{}", c.id)).into_response(),
        Err(e) => failed(e, &p.viewer),
    }
}

#[derive(Deserialize)]
struct MergeForm {
    campaign_id: String,
}

async fn campaign_merge(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(form): CsrfForm<MergeForm>,
) -> Response {
    match campaigns::merge(&state.app, p.viewer.caller(), &id, &form.campaign_id).await {
        Ok(c) => Redirect::to(&format!("/security/campaigns/{}", c.id)).into_response(),
        Err(AppError::Invalid(errors)) => {
            let why = errors.iter().map(|e| super::forms::sentence(&e.message)).collect::<Vec<_>>().join(" ");
            message(StatusCode::UNPROCESSABLE_ENTITY, "Not merged", &why, Some(&p.viewer))
        }
        Err(e) => failed(e, &p.viewer),
    }
}

async fn campaign_split(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let ids: Vec<String> = fields.iter().filter(|(k, _)| k == "report_ids").map(|(_, v)| v.clone()).collect();
    match campaigns::split(&state.app, p.viewer.caller(), &id, &ids).await {
        Ok((c, _)) => Redirect::to(&format!("/security/campaigns/{}", c.id)).into_response(),
        Err(AppError::Invalid(_)) => message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not split",
            "Check some, but not all, of the campaign's reports.",
            Some(&p.viewer),
        ),
        Err(e) => failed(e, &p.viewer),
    }
}

/// The campaign's STIX 2.1 bundle as a file, for the signed-in security reader (the same bundle as
/// `GET /api/v1/campaigns/{id}/stix`).
async fn campaign_stix(
    p: Page<SecurityReaders>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
) -> Response {
    let (campaign, sightings) = match campaigns::with_sightings(&state.app, p.viewer.caller(), &id).await {
        Ok(found) => found,
        Err(e) => return failed(e, &p.viewer),
    };
    let bundle =
        crate::routes::stix::bundle(&campaign, &sightings, &state.app.settings().company_name, state.app.now());
    let file = format!("attachment; filename=\"bonafide-campaign-{}.stix.json\"", campaign.id);
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/stix+json;version=2.1".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, file),
        ],
        bundle.to_string(),
    )
        .into_response()
}
