//! QPQ drills for the security team, `/security/drills` ([`bonafide_app::drills`]): the drills, newest
//! first, with the switch that makes results anonymous; the new-drill form (`drills/form.rs`); a drill's
//! page with its Launch and Stop buttons and its results (`drills/results.rs`: the charts, drawn on the
//! server, with their numbers beside them as text), downloadable as CSV; and a person's history across
//! drills with repeated mistakes flagged. Security admins write, launch and stop drills and see people;
//! auditors read the drills and the counts of departments of at least the minimum size.

mod form;
mod results;

use crate::AppState;
use crate::portal::forms::{EmptyForm, Fields, failed};
use crate::portal::html::{csrf_field, page, respond, when};
use crate::portal::input::PagePath;
use crate::portal::session::{CsrfForm, Page, Viewer};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bonafide_app::access::{SECURITY_ADMINS, SecurityAdmins, SecurityReaders};
use bonafide_app::drills::{self, DrillView};
use bonafide_app::{AppError, FieldError, risk};
use bonafide_domain::DrillStatus;
use maud::{Markup, html};
use serde::Deserialize;

/// The largest new-drill form accepted (its CSV of emails: about 100,000 addresses).
const FORM_LIMIT: usize = 4 * 1024 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/security/drills", get(list_page).post(create).layer(DefaultBodyLimit::max(FORM_LIMIT)))
        .route("/security/drills/new", get(new_page))
        .route("/security/drills/settings", post(settings))
        .route("/security/drills/people/{email}", get(person_page))
        .route("/security/drills/{id}", get(drill_page))
        .route("/security/drills/{id}/launch", post(launch))
        .route("/security/drills/{id}/stop", post(stop))
        .route("/security/drills/{id}/results.csv", get(results_csv))
}

/// A drill's status as a badge, "finished" when its window is over.
fn status(d: &DrillView) -> Markup {
    html! {
        span.badge data-status=(d.status.as_str()) { (d.status.as_str()) }
        @if d.finished && d.status == DrillStatus::Running { " " span.badge { "window over" } }
    }
}

/// The launch time, or a dash.
fn launched(d: &DrillView) -> String {
    d.launched_at.map_or_else(|| "—".to_owned(), when)
}

async fn list_page(p: Page<SecurityReaders>, State(state): State<AppState>) -> Response {
    let (app, who) = (&state.app, p.viewer.caller());
    let (list, anonymous) = match tokio::join!(drills::list(app, who), drills::results_anonymous(app, who)) {
        (Ok(l), Ok(a)) => (l, a),
        (Err(e), _) | (_, Err(e)) => return failed(e, &p.viewer),
    };
    let admin = SECURITY_ADMINS.allows(&p.viewer.me);
    let body = html! {
        h1 { "Drills" }
        p.lead { "Practice “IT support” contacts sent to employees, graded on the procedure: checking the contact and reporting it, or making the mistake the script fishes for." }
        @if admin { p { a.button href="/security/drills/new" { "New drill" } } }
        section #anonymity aria-label="Anonymous results" {
            p {
                strong { "Anonymous results: " (if anonymous { "on" } else { "off" }) ". " }
                @if anonymous { "Nobody is named in any drill's results; departments are shown from the minimum size." }
                @else { "Security admins see who did what; auditors see departments' counts only." }
            }
            @if admin {
                form.inline method="post" action="/security/drills/settings" {
                    (csrf_field(&p.viewer.csrf))
                    input type="hidden" name="anonymous" value=(if anonymous { "false" } else { "true" });
                    button.secondary.small type="submit" { (if anonymous { "Name people again" } else { "Make results anonymous" }) }
                }
            }
        }
        @if list.is_empty() {
            p { "No drills yet." }
        } @else {
            div.table-wrap { table.stack.drills {
                thead { tr {
                    th scope="col" { "Drill" } th scope="col" { "Channel" } th scope="col" { "Status" }
                    th scope="col" { "Targets" } th scope="col" { "Sent" } th scope="col" { "Failed" } th scope="col" { "Launched" }
                } }
                tbody { @for d in &list {
                    tr {
                        td data-label="Drill" { a href=(format!("/security/drills/{}", d.id)) { (d.name) } }
                        td data-label="Channel" { (d.channel.as_str()) }
                        td data-label="Status" { (status(d)) " " (if d.finished { "finished" } else { "not finished" }) }
                        td data-label="Targets" { (d.target_count) }
                        td data-label="Sent" { (d.sent) }
                        td data-label="Failed" { (d.failed) }
                        td data-label="Launched" { (launched(d)) }
                    }
                } }
            } }
        }
    };
    respond(StatusCode::OK, page("Drills", Some(&p.viewer), body))
}

#[derive(Deserialize)]
struct SettingsForm {
    anonymous: String,
}

async fn settings(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    CsrfForm(f): CsrfForm<SettingsForm>,
) -> Response {
    match drills::set_results_anonymous(&state.app, p.viewer.caller(), f.anonymous.trim() == "true").await {
        Ok(_) => Redirect::to("/security/drills").into_response(),
        Err(e) => failed(e, &p.viewer),
    }
}

/// The new-drill page with `typed` and `errors`, answering `status`.
async fn form_page(
    viewer: &Viewer,
    state: &AppState,
    status: StatusCode,
    typed: &Fields,
    errors: &[FieldError],
) -> Response {
    let groups = match risk::departments(&state.app, viewer.caller()).await {
        Ok(g) => g,
        Err(e) => return failed(e, viewer),
    };
    let departments: Vec<String> = groups.into_iter().filter_map(|g| g.department).filter(|d| !d.is_empty()).collect();
    let scenarios: Vec<(&str, &str)> = drills::scenarios().into_iter().map(|(id, title, _)| (id, title)).collect();
    let choices = form::Choices { scenarios: &scenarios, departments: &departments };
    let body = html! {
        p { a href="/security/drills" { "← Drills" } }
        h1 { "New drill" }
        p { "Saved as a draft: nothing is sent until you launch it from its page." }
        (form::form(&viewer.csrf, &choices, typed, errors))
    };
    respond(status, page("New drill", Some(viewer), body))
}

async fn new_page(p: Page<SecurityAdmins>, State(state): State<AppState>) -> Response {
    form_page(&p.viewer, &state, StatusCode::OK, &[], &[]).await
}

async fn create(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    // The file is not shown again (a browser cannot be given one back): the rest of what was typed is.
    let typed: Vec<(String, String)> =
        fields.iter().filter(|(k, _)| k != "emails_file" && k != "csrf").cloned().collect();
    let input = match form::read(&fields) {
        Ok(input) => input,
        Err(errors) => return form_page(&p.viewer, &state, StatusCode::UNPROCESSABLE_ENTITY, &typed, &errors).await,
    };
    match drills::create(&state.app, p.viewer.caller(), input).await {
        Ok(d) => Redirect::to(&format!("/security/drills/{}", d.id)).into_response(),
        Err(AppError::Invalid(errors)) => {
            form_page(&p.viewer, &state, StatusCode::UNPROCESSABLE_ENTITY, &typed, &errors).await
        }
        Err(e) => failed(e, &p.viewer),
    }
}

/// The drill's facts and, for security admins, the button its status allows.
fn facts(csrf: &str, d: &DrillView, admin: bool) -> Markup {
    let window =
        if d.window_hours == 0 { "everything at launch".to_owned() } else { format!("{} hours", d.window_hours) };
    html! {
        dl.facts {
            dt { "Status" } dd { (status(d)) }
            dt { "Channel" } dd { (d.channel.as_str()) }
            dt { "Scenario" } dd {
                (d.scenario.sender_name) " · "
                @match &d.scenario_id { Some(id) => code { (id) }, None => "written for this drill" }
            }
            dt { "Window" } dd { (window) }
            dt { "Created" } dd { (when(d.created_at)) }
            dt { "Launched" } dd { (launched(d)) }
            @if let Some(end) = d.ends_at { dt { "Window ends" } dd { (when(end)) } }
            @if let Some(stopped) = d.stopped_at { dt { "Stopped" } dd { (when(stopped)) } }
            dt { "Messages" } dd { (d.target_count) @if d.target_count == 1 { " target" } @else { " targets" } " · " (d.sent) " sent · " (d.failed) " failed" }
        }
        @if admin && d.status == DrillStatus::Draft {
            form.inline method="post" action=(format!("/security/drills/{}/launch", d.id)) {
                (csrf_field(csrf)) button type="submit" { "Launch" }
            }
            p.hint { "The targets are chosen at launch and the messages spread across the window." }
        }
        @if admin && d.status == DrillStatus::Running {
            form.inline method="post" action=(format!("/security/drills/{}/stop", d.id)) {
                (csrf_field(csrf)) button.danger type="submit" { "Stop" }
            }
            p.hint { "Messages not yet sent are cancelled; what people do with those sent is still recorded." }
        }
    }
}

async fn drill_page(
    p: Page<SecurityReaders>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
) -> Response {
    let found = match drills::results::results(&state.app, p.viewer.caller(), &id).await {
        Ok(r) => r,
        Err(e) => return failed(e, &p.viewer),
    };
    let admin = SECURITY_ADMINS.allows(&p.viewer.me);
    let d = &found.drill;
    let body = html! {
        p { a href="/security/drills" { "← Drills" } }
        h1 { (d.name) }
        (facts(&p.viewer.csrf, d, admin))
        p { a.button.secondary href=(format!("/security/drills/{}/results.csv", d.id)) download { "Download CSV" } }
        (results::sections(&found))
    };
    respond(StatusCode::OK, page(&d.name, Some(&p.viewer), body))
}

async fn launch(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    back_to_drill(drills::launch(&state.app, p.viewer.caller(), &id).await, &p.viewer)
}

async fn stop(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    back_to_drill(drills::stop(&state.app, p.viewer.caller(), &id).await, &p.viewer)
}

/// After a Launch or Stop button: back to the drill's page, or the use case's refusal as a page.
fn back_to_drill(done: Result<DrillView, AppError>, viewer: &Viewer) -> Response {
    match done {
        Ok(d) => Redirect::to(&format!("/security/drills/{}", d.id)).into_response(),
        Err(e) => failed(e, viewer),
    }
}

async fn results_csv(
    p: Page<SecurityReaders>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
) -> Response {
    let found = match drills::results::results(&state.app, p.viewer.caller(), &id).await {
        Ok(r) => r,
        Err(e) => return failed(e, &p.viewer),
    };
    let mut r = (StatusCode::OK, found.to_csv()).into_response();
    let headers = r.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let name = format!("attachment; filename=\"drill-{}-results.csv\"", found.drill.id);
    if let Ok(v) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn person_page(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(email): PagePath<String>,
) -> Response {
    let history = match drills::results::person(&state.app, p.viewer.caller(), &email).await {
        Ok(h) => h,
        Err(e) => return failed(e, &p.viewer),
    };
    let repeats = history.iter().filter(|h| h.repeat_mistake).count();
    let body = html! {
        p { a href="/security/drills" { "← Drills" } }
        h1 { "Drills of " span.email { (email) } }
        @if repeats > 0 {
            div.notice.warning role="status" {
                strong { "Repeated mistake" } ": " (repeats) @if repeats == 1 { " drill repeats" } @else { " drills repeat" }
                " a mistake made in an earlier drill. A conversation may help more than another drill."
            }
        }
        @if history.is_empty() {
            p { "No drill has targeted this person." }
        } @else {
            div.table-wrap { table.stack.history {
                thead { tr { th scope="col" { "Drill" } th scope="col" { "Launched" } th scope="col" { "Outcome" } th scope="col" { "Mistake" } } }
                tbody { @for h in &history {
                    tr class=[h.repeat_mistake.then_some("repeat")] {
                        td data-label="Drill" { a href=(format!("/security/drills/{}", h.drill)) { (h.name) } }
                        td data-label="Launched" { (h.launched_at.map_or_else(|| "—".to_owned(), when)) }
                        td data-label="Outcome" { (results::outcome_badge(h.outcome)) " " (results::outcome_words(h.outcome)) }
                        td data-label="Mistake" {
                            @match h.mistake_at { Some(at) => (when(at)), None => "—" }
                            @if h.repeat_mistake { " " strong.badge.repeat-mistake { "Repeated mistake" } }
                        }
                    }
                } }
            } }
        }
    };
    respond(StatusCode::OK, page("A person's drills", Some(&p.viewer), body))
}
