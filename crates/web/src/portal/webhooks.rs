//! Webhooks for security admins: add (the signing secret shown once), remove, and each one's delivery log.

use crate::AppState;
use crate::portal::forms::{EmptyForm, failed, messages};
use crate::portal::html::{csrf_field, notice, page, respond, when};
use crate::portal::input::PagePath;
use crate::portal::session::{CsrfForm, Page};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bonafide_app::access::SecurityAdmins;
use bonafide_app::records::{Delivery, Webhook};
use bonafide_app::webhooks;
use maud::{Markup, html};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/security/webhooks", get(webhooks_page).post(webhook_add))
        .route("/security/webhooks/{id}/delete", post(webhook_delete))
}

fn webhooks_markup(
    csrf: &str,
    hooks: &[(Webhook, Vec<Delivery>)],
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
    p: &Page<SecurityAdmins>,
    state: &AppState,
    status: StatusCode,
    shown: Option<(&str, &str)>,
    problem: Option<&str>,
) -> Response {
    let with_log = match webhooks::with_logs(&state.app, p.viewer.caller(), 20).await {
        Ok(h) => h,
        Err(e) => return failed(e, &p.viewer),
    };
    respond(status, page("Webhooks", Some(&p.viewer), webhooks_markup(&p.viewer.csrf, &with_log, shown, problem)))
}

async fn webhooks_page(p: Page<SecurityAdmins>, State(state): State<AppState>) -> Response {
    webhooks_view(&p, &state, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
struct WebhookForm {
    url: String,
}

async fn webhook_add(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<WebhookForm>,
) -> Response {
    match webhooks::add(&state.app, p.viewer.caller(), &form.url, None).await {
        Ok(added) => {
            let shown = Some((added.url.as_str(), added.secret.reveal()));
            webhooks_view(&p, &state, StatusCode::CREATED, shown, None).await
        }
        Err(e) => match messages(&e) {
            Some(why) => webhooks_view(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&why)).await,
            None => failed(e, &p.viewer),
        },
    }
}

async fn webhook_delete(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    match webhooks::delete(&state.app, p.viewer.caller(), &id).await {
        Ok(()) => Redirect::to("/security/webhooks").into_response(),
        Err(e) => failed(e, &p.viewer),
    }
}
