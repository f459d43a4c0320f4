//! The security desk: alerts, company settings, and the audit log (also for auditors), filterable.

use crate::AppState;
use crate::portal::forms::failed;
use crate::portal::html::{csrf_field, page, respond, when, with_link};
use crate::portal::input::PageQuery;
use crate::portal::session::{CsrfForm, Page};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bonafide_app::access::{SecurityAdmins, SecurityReaders};
use bonafide_app::{audit, security};
use maud::html;
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/security", get(security_home))
        .route("/security/settings", post(security_settings))
        .route("/security/audit", get(audit_log))
}

async fn security_home(p: Page<SecurityAdmins>, State(state): State<AppState>) -> Response {
    let who = p.viewer.caller();
    let (alerts, settings) =
        match (security::alerts(&state.app, who, 50).await, security::company(&state.app, who).await) {
            (Ok(a), Ok(s)) => (a, s),
            (Err(e), _) | (_, Err(e)) => return failed(e, &p.viewer),
        };
    let employee_totp = settings.employee_totp_required;
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
            button.secondary type="submit" { "Save" }
        }
        p {
            "How IT contacts employees, and the service desk number people are told to call when a contact is not verified, are the "
            a href="/security/policy" { "contact policy" } "."
        }
        h2 { "Alerts" }
        @if alerts.is_empty() { p { "No alerts." } }
        ul.plain {
            @for a in &alerts {
                li {
                    span.badge { (a.severity) } " " strong { (alert_kind(&a.kind)) } " · " (when(a.created_at)) br;
                    @match a.campaign {
                        Some(c) => {
                            (with_link(&a.message, &c.to_string(), &format!("/security/campaigns/{c}")))
                            " " a href=(format!("/security/campaigns/{c}")) { "Open the campaign" }
                        }
                        None => (a.message),
                    }
                }
            }
        }
        p { a href="/security/campaigns" { "Campaigns" } " · " a href="/security/webhooks" { "Webhooks" } " · "
            a href="/security/access" { "Access policies" } " · " a href="/security/risk" { "QPQ risk" } " · "
            a href="/security/people" { "People and roles" } " · " a href="/security/audit" { "Audit log" } }
    };
    respond(StatusCode::OK, page("Security", Some(&p.viewer), body))
}

/// An alert's kind in words.
fn alert_kind(kind: &str) -> &str {
    match kind {
        "challenge_locked" => "A check locked after wrong codes",
        "verification_locked" => "Verification locked after wrong codes",
        "campaign_detected" => "New campaign",
        "campaign_resumed" => "A closed campaign is back",
        "campaign_escalated" => "Campaign escalated",
        "staff_impersonated" => "A real staffer's identity is claimed",
        "report_complied" => "Someone did what a caller asked",
        other => other,
    }
}

#[derive(Deserialize)]
struct SettingsForm {
    employee_totp_required: Option<String>,
}

async fn security_settings(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Response {
    let required = form.employee_totp_required.as_deref() == Some("true");
    match security::set_company(&state.app, p.viewer.caller(), required).await {
        Ok(_) => Redirect::to("/security").into_response(),
        Err(e) => failed(e, &p.viewer),
    }
}

#[derive(Deserialize)]
struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    outcome: Option<String>,
    before: Option<i64>,
}

async fn audit_log(
    p: Page<SecurityReaders>,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<AuditQuery>,
) -> Response {
    let asked = audit::Filter { action: q.action, actor: q.actor, outcome: q.outcome, before: q.before };
    let audit::Page { entries, filter, older } = match audit::entries(&state.app, p.viewer.caller(), asked).await {
        Ok(page) => page,
        Err(e) => return failed(e, &p.viewer),
    };
    let body = html! {
        h1 { "Audit log" }
        form.row method="get" action="/security/audit" {
            div { label for="action" { "Action starts with" } input #action type="text" name="action" value=(filter.action); }
            div { label for="actor" { "Actor (email)" } input #actor type="text" name="actor" value=(filter.actor); }
            div {
                label for="outcome" { "Outcome" }
                select #outcome name="outcome" {
                    option value="" { "Any" }
                    option value="ok" selected[filter.outcome == "ok"] { "ok" }
                    option value="denied" selected[filter.outcome == "denied"] { "denied" }
                }
            }
            button type="submit" { "Filter" }
        }
        div.table-wrap { table.stack {
            thead { tr { th { "#" } th { "When" } th { "Who" } th { "Action" } th { "Target" } th { "Outcome" } } }
            tbody {
                @for e in &entries {
                    tr {
                        td data-label="#" { (e.seq) } td data-label="When" { (when(e.at)) }
                        td data-label="Who" { span.email { (e.actor) } br; span.muted { (e.client) } }
                        td data-label="Action" { (e.action) } td data-label="Target" { (e.target) }
                        td data-label="Outcome" { (e.outcome) }
                    }
                }
            }
        } }
        @if let Some(seq) = older {
            p { a href=(format!("/security/audit?before={seq}&action={}&actor={}&outcome={}",
                filter.action, filter.actor, filter.outcome)) { "Older entries" } }
        }
    };
    respond(StatusCode::OK, page("Audit log", Some(&p.viewer), body))
}
