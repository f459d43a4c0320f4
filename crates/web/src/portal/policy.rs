//! The contact policy in the portal: the page every employee reads and confirms (a banner on every page
//! sends them there until they do), and for security the editor with a preview, the diff between two
//! versions and the acknowledgement dashboard (a bar per department, drawn as SVG on the server).

use crate::AppState;
use crate::portal::charts::{Caption, ShareBar, Tone, share_bars};
use crate::portal::forms::{CHANNELS, Fields, failed, field};
use crate::portal::html::{csrf_field, notice, page, respond, when};
use crate::portal::input::PageQuery;
use crate::portal::markdown;
use crate::portal::session::{CsrfForm, Page};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bonafide_app::access::{Everyone, SecurityAdmins, SecurityReaders};
use bonafide_app::policy::{self, Acknowledgements, Draft, PolicyVersion};
use bonafide_app::{Acting, AppError, FieldError};
use bonafide_domain::{Ask, Day};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/policy", get(policy_page))
        .route("/policy/acknowledge", post(acknowledge))
        .route("/security/policy", get(editor).post(editor_submit))
        .route("/security/policy/diff", get(diff_page))
        .route("/security/policy/acknowledgements", get(dashboard))
}

/// The rules and the text of a version, as everyone reads them.
fn version_markup(v: &PolicyVersion) -> Markup {
    html! {
        @if !v.text.trim().is_empty() { div.policy-text { (markdown::render(&v.text)) } }
        h2 { "The rules, in short" }
        ul.rules { @for rule in v.rules.in_words() { li { (rule) } } }
    }
}

async fn policy_page(p: Page<Everyone>, State(state): State<AppState>) -> Response {
    let current = match policy::current(&state.app, p.viewer.caller()).await {
        Ok(c) => c,
        Err(e) => return failed(e, &p.viewer),
    };
    let v = &current.policy;
    let body = html! {
        h1 { "How IT will contact you" }
        @if v.version == 0 {
            p.lead { "Security has not written the company's contact policy yet. These rules hold in any case:" }
        } @else {
            p.meta { "Version " (v.version) ", in force since " (when(v.effective_at)) "." }
        }
        (version_markup(v))
        @if current.needs_acknowledgement() {
            form.stack method="post" action="/policy/acknowledge" {
                (csrf_field(&p.viewer.csrf))
                input type="hidden" name="version" value=(v.version);
                @if current.overdue { (notice("Please confirm now: the time to read this version has passed.", true)) }
                button.big type="submit" { "I have read this" }
            }
        } @else if let Some(at) = current.acknowledged_at {
            (notice(&format!("You confirmed you read this version on {}.", when(at)), false))
        }
    };
    respond(StatusCode::OK, page("Contact policy", Some(&p.viewer), body))
}

#[derive(Deserialize)]
struct AcknowledgeForm {
    version: String,
}

async fn acknowledge(
    p: Page<Everyone>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<AcknowledgeForm>,
) -> Response {
    match policy::acknowledge(&state.app, p.viewer.caller(), &form.version).await {
        Ok(_) => Redirect::to("/policy").into_response(),
        Err(e) => failed(e, &p.viewer),
    }
}

/// The asks a version may limit to face to face (the never-allowed ones are never allowed anywhere).
const FACE_TO_FACE_ASKS: [(Ask, &str); 4] = [
    (Ask::LoginWalkthrough, "A login walkthrough"),
    (Ask::SoftwareInstall, "A software install"),
    (Ask::PersonalInfo, "Personal or company information"),
    (Ask::Payment, "A payment"),
];

/// The editor's form, filled with `rules` (the JSON form) and `text`.
fn editor_form(csrf: &str, rules: &Value, text: &str, effective_at: &str) -> Markup {
    let listed = |key: &str, name: &str| rules[key].as_array().is_some_and(|a| a.iter().any(|v| v == name));
    let categories: String = rules["categories"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let channels: Vec<&str> = v.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                    format!("{k}: {}\n", channels.join(", "))
                })
                .collect()
        })
        .unwrap_or_default();
    let hours = &rules["contact_hours"];
    let has_hours = hours.is_object();
    let hour_day = |d: &str| !has_hours || hours["days"].as_array().is_some_and(|a| a.iter().any(|v| v == d));
    let text_of = |v: &Value, default: &str| v.as_str().unwrap_or(default).to_owned();
    html! {
        form.stack method="post" action="/security/policy" {
            (csrf_field(csrf))
            fieldset.choices {
                legend { "Channels IT may use to contact employees" }
                @for (c, label) in CHANNELS {
                    label { input type="checkbox" name="channels" value=(c.as_str()) checked[listed("channels", c.as_str())]; (label) }
                }
            }
            fieldset.choices {
                legend { "Only on video or in person" }
                @for (a, label) in FACE_TO_FACE_ASKS {
                    label { input type="checkbox" name="face_to_face_only" value=(a.as_str()) checked[listed("face_to_face_only", a.as_str())]; (label) }
                }
            }
            div {
                label for="categories" { "Channels per request category" span.hint { "One per line: category: channel, channel (for example password_reset: video, in_person)." } }
                textarea #categories name="categories" rows="3" { (categories) }
            }
            fieldset.choices {
                legend { "Contact hours" }
                label { input type="checkbox" name="hours_on" value="true" checked[has_hours]; "IT contacts people only at these hours (approved outreach excepted)" }
                @for d in Day::ALL {
                    label { input type="checkbox" name="days" value=(d.as_str()) checked[hour_day(d.as_str())]; (d.name()) }
                }
            }
            div.row {
                div { label for="from" { "From" } input #from type="text" name="from" value=(text_of(&hours["from"], "08:00")) maxlength="5"; }
                div { label for="to" { "To" } input #to type="text" name="to" value=(text_of(&hours["to"], "18:00")) maxlength="5"; }
                div { label for="zone" { "Time zone" } input #zone type="text" name="zone" value=(text_of(&hours["zone"], "UTC")) maxlength="64"; }
            }
            div {
                label for="service_desk_number" { "Service desk number" span.hint { "What people are told to call when a contact is not verified." } }
                input #service_desk_number type="tel" name="service_desk_number" value=(readable_number(&rules["service_desk_number"])) maxlength="40";
            }
            div {
                label for="ack_due_days" { "Days to acknowledge a new version" }
                input #ack_due_days type="number" name="ack_due_days" min="1" max="365" value=(rules["ack_due_days"].as_u64().unwrap_or(14));
            }
            div {
                label for="effective_at" { "Takes effect (UTC)" span.hint { "Empty for now; or YYYY-MM-DDTHH:MM." } }
                input #effective_at type="text" name="effective_at" value=(effective_at) maxlength="32";
            }
            div {
                label for="text" { "The company's text" span.hint { "Paragraphs, lists (- item), **bold** and [links](https://…)." } }
                textarea #text name="text" rows="12" { (text) }
            }
            div.actions {
                button.secondary type="submit" name="action" value="preview" { "Preview" }
                button type="submit" name="action" value="publish" { "Publish" }
            }
        }
    }
}

/// A number of the rules' JSON form as people write it (`+1 201-555-0100`); what was typed when it is not
/// one (a form shown again with its problems).
fn readable_number(value: &Value) -> String {
    match value.as_str() {
        Some(n) if n.starts_with('+') && n.len() > 1 && n[1..].bytes().all(|b| b.is_ascii_digit()) => {
            bonafide_domain::PhoneNumber::from_e164_unchecked(n.to_owned()).readable()
        }
        Some(other) => other.to_owned(),
        None => String::new(),
    }
}

/// The draft a submitted editor form describes.
fn draft_of(fields: &Fields) -> Result<(Draft, Value), Vec<FieldError>> {
    let mut errors = Vec::new();
    let all = |name: &str| -> Vec<Value> {
        fields.iter().filter(|(k, _)| k == name).map(|(_, v)| Value::from(v.trim())).collect()
    };
    let mut categories = Map::new();
    for (i, line) in field(fields, "categories").lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match line.split_once(':') {
            Some((name, channels)) => {
                let channels: Vec<Value> =
                    channels.split(',').map(str::trim).filter(|c| !c.is_empty()).map(Value::from).collect();
                categories.insert(name.trim().to_owned(), Value::Array(channels));
            }
            None => errors.push(FieldError::new(
                "categories",
                format!("line {}: write the category, a colon, then its channels", i + 1),
            )),
        }
    }
    let hours = if field(fields, "hours_on") == "true" {
        json!({ "zone": field(fields, "zone"), "days": all("days"), "from": field(fields, "from"), "to": field(fields, "to") })
    } else {
        Value::Null
    };
    let due = field(fields, "ack_due_days");
    let rules = json!({
        "channels": all("channels"),
        "face_to_face_only": all("face_to_face_only"),
        "categories": categories,
        "contact_hours": hours,
        "service_desk_number": field(fields, "service_desk_number"),
        "ack_due_days": due.parse::<u64>().map_or(Value::from(due), Value::from),
    });
    let effective = field(fields, "effective_at");
    let effective_at = if effective.is_empty() {
        None
    } else {
        let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
        match time::PrimitiveDateTime::parse(&effective, &format) {
            Ok(t) => Some(t.assume_utc()),
            Err(_) => {
                errors.push(FieldError::new("effective_at", "a time as YYYY-MM-DDTHH:MM (UTC)"));
                None
            }
        }
    };
    let text = fields.iter().find(|(k, _)| k == "text").map(|(_, v)| v.clone()).unwrap_or_default();
    if errors.is_empty() { Ok((Draft { rules: rules.clone(), text, effective_at }, rules)) } else { Err(errors) }
}

/// The editor page: the form (with what was typed, and its problems or its preview) and the versions.
async fn editor_page(
    p: &Page<SecurityAdmins>,
    state: &AppState,
    status: StatusCode,
    form: Markup,
    shown: Markup,
) -> Response {
    let versions = policy::versions(&state.app, p.viewer.caller()).await.unwrap_or_default();
    let body = html! {
        h1 { "Contact policy" }
        p { a href="/security/policy/acknowledgements" { "Who has acknowledged it" } " · " a href="/policy" { "The page employees see" } }
        (shown)
        h2 { "Write a new version" }
        (form)
        h2 { "Versions" }
        @if versions.is_empty() { p { "None yet: the built-in default is in force." } }
        @else {
            ul.plain {
                @for v in &versions {
                    li { "Version " (v.version) " · takes effect " (when(v.effective_at)) " · " (v.rules.in_words().len()) " rules" }
                }
            }
            @if let (Some(newest), Some(before)) = (versions.first(), versions.get(1)) {
                form.row method="get" action="/security/policy/diff" {
                    label { "Compare version " input type="number" name="from" min="1" value=(before.version); }
                    label { " with " input type="number" name="to" min="1" value=(newest.version); }
                    button.secondary type="submit" { "Show the changes" }
                }
            }
        }
    };
    respond(status, page("Contact policy", Some(&p.viewer), body))
}

async fn editor(p: Page<SecurityAdmins>, State(state): State<AppState>) -> Response {
    let latest = match policy::latest(&state.app, p.viewer.caller()).await {
        Ok(l) => l,
        Err(e) => return failed(e, &p.viewer),
    };
    let (rules, text) = match &latest {
        Some(v) => (v.rules.to_json(), v.text.clone()),
        None => (PolicyVersion::builtin().rules.to_json(), String::new()),
    };
    let form = editor_form(&p.viewer.csrf, &rules, &text, "");
    editor_page(&p, &state, StatusCode::OK, form, html! {}).await
}

async fn editor_submit(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let who = p.viewer.caller();
    let text = fields.iter().find(|(k, _)| k == "text").map(|(_, v)| v.clone()).unwrap_or_default();
    let effective = field(&fields, "effective_at");
    let problems = |errors: &[FieldError]| {
        html! {
            div.notice.error role="alert" {
                p { "This version was not saved:" }
                ul.errors { @for e in errors { li { code { (e.field) } ": " (e.message) } } }
            }
        }
    };
    let (draft, rules) = match draft_of(&fields) {
        Ok(d) => d,
        Err(errors) => {
            let form = editor_form(&p.viewer.csrf, &Value::Null, &text, &effective);
            return editor_page(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, form, problems(&errors)).await;
        }
    };
    let form = editor_form(&p.viewer.csrf, &rules, &text, &effective);
    let outcome = if field(&fields, "action") == "publish" {
        policy::publish(&state.app, Acting::Person(who), draft).await.map(|v| (v, true))
    } else {
        match policy::latest(&state.app, who).await {
            Ok(latest) => {
                policy::preview(&state.app, &draft, latest.as_deref()).map(|v| (std::sync::Arc::new(v), false))
            }
            Err(e) => Err(e),
        }
    };
    match outcome {
        Ok((v, true)) => {
            let shown = html! { (notice(&format!("Version {} is published. It takes effect {}.", v.version, when(v.effective_at)), false)) };
            let form = editor_form(&p.viewer.csrf, &v.rules.to_json(), &v.text, "");
            editor_page(&p, &state, StatusCode::CREATED, form, shown).await
        }
        Ok((v, false)) => {
            let shown = html! {
                section.preview aria-label="Preview" {
                    h2 { "Preview of version " (v.version) }
                    (version_markup(&v))
                }
            };
            editor_page(&p, &state, StatusCode::OK, form, shown).await
        }
        Err(AppError::Invalid(errors)) => {
            editor_page(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, form, problems(&errors)).await
        }
        Err(e) => failed(e, &p.viewer),
    }
}

#[derive(Deserialize)]
struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

/// A line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

/// The lines of `to` against those of `from`, by their longest common subsequence (texts of at most a few
/// hundred lines; beyond [`MAX_DIFF_LINES`] each the whole is shown removed and added).
fn diff<'a>(from: &[&'a str], to: &[&'a str]) -> Vec<Line<'a>> {
    if from.len() > MAX_DIFF_LINES || to.len() > MAX_DIFF_LINES {
        return from.iter().map(|l| Line::Removed(l)).chain(to.iter().map(|l| Line::Added(l))).collect();
    }
    let (n, m) = (from.len(), to.len());
    // The length of the longest common subsequence of from[i..] and to[j..], row by row.
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let cell = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let get = |i, j| lcs.get(cell(i, j)).copied().unwrap_or(0);
            let v = if from.get(i) == to.get(j) { get(i + 1, j + 1) + 1 } else { get(i + 1, j).max(get(i, j + 1)) };
            if let Some(c) = lcs.get_mut(cell(i, j)) {
                *c = v;
            }
        }
    }
    let get = |i, j| lcs.get(cell(i, j)).copied().unwrap_or(0);
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        match (from.get(i), to.get(j)) {
            (Some(a), Some(b)) if a == b => {
                out.push(Line::Same(a));
                (i, j) = (i + 1, j + 1);
            }
            (Some(a), Some(_)) if get(i + 1, j) >= get(i, j + 1) => {
                out.push(Line::Removed(a));
                i += 1;
            }
            (_, Some(b)) => {
                out.push(Line::Added(b));
                j += 1;
            }
            (Some(a), None) => {
                out.push(Line::Removed(a));
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// The most lines of each side [`diff`] compares line by line.
const MAX_DIFF_LINES: usize = 2_000;

fn diff_markup(from: &[&str], to: &[&str]) -> Markup {
    html! {
        ul.diff {
            @for line in diff(from, to) {
                @match line {
                    Line::Same(l) => li.same { (l) },
                    Line::Removed(l) => li.removed { span.visually-hidden { "Removed: " } (l) },
                    Line::Added(l) => li.added { span.visually-hidden { "Added: " } (l) },
                }
            }
        }
    }
}

async fn diff_page(
    p: Page<SecurityReaders>,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<DiffQuery>,
) -> Response {
    let who = p.viewer.caller();
    let (from, to) = match (q.from.as_deref(), q.to.as_deref()) {
        (Some(f), Some(t)) => {
            match (policy::version(&state.app, who, f).await, policy::version(&state.app, who, t).await) {
                (Ok(f), Ok(t)) => (f, t),
                (Err(e), _) | (_, Err(e)) => return failed(e, &p.viewer),
            }
        }
        _ => return failed(AppError::field("from", "name two versions to compare"), &p.viewer),
    };
    let (rules_from, rules_to) = (from.rules.in_words(), to.rules.in_words());
    let as_lines = |v: &[String]| -> Vec<String> { v.to_vec() };
    let (rf, rt) = (as_lines(&rules_from), as_lines(&rules_to));
    let rf: Vec<&str> = rf.iter().map(String::as_str).collect();
    let rt: Vec<&str> = rt.iter().map(String::as_str).collect();
    let tf: Vec<&str> = from.text.lines().collect();
    let tt: Vec<&str> = to.text.lines().collect();
    let body = html! {
        h1 { "Version " (from.version) " → version " (to.version) }
        p { a href="/security/policy" { "Back to the policy" } }
        h2 { "The rules" }
        (diff_markup(&rf, &rt))
        h2 { "The text" }
        (diff_markup(&tf, &tt))
    };
    respond(StatusCode::OK, page("Policy changes", Some(&p.viewer), body))
}

#[derive(Deserialize)]
struct DashboardQuery {
    version: Option<String>,
}

/// The rate per department as horizontal bars (SVG, no script).
fn bars(a: &Acknowledgements) -> Markup {
    let rows: Vec<ShareBar> = a
        .departments
        .iter()
        .map(|d| ShareBar {
            label: if d.department.is_empty() { "(no department)" } else { d.department.as_str() },
            share: d.rate,
            note: format!("{:.0} % ({}/{})", d.rate * 100.0, d.acknowledged, d.people),
            marker: None,
            tone: if d.rate >= 0.9 {
                Tone::Good
            } else if d.rate >= 0.5 {
                Tone::Fair
            } else {
                Tone::Poor
            },
        })
        .collect();
    let each: Vec<String> = rows.iter().map(|r| format!("{} {}", r.label, r.note)).collect();
    let desc = format!(
        "The share of each department's people who acknowledged version {}: {}.",
        a.policy.version,
        each.join(", ")
    );
    let caption = Caption { id: "acknowledged", title: "Acknowledgement rate per department", desc };
    share_bars(&caption, "Acknowledged (%)", "Department", "", &rows)
}

async fn dashboard(
    p: Page<SecurityReaders>,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<DashboardQuery>,
) -> Response {
    let a = match policy::acknowledgements(&state.app, p.viewer.caller(), q.version.as_deref()).await {
        Ok(a) => a,
        Err(AppError::Conflict(_)) => {
            let body = html! { h1 { "Acknowledgements" } p { "No contact policy version has been published yet." } };
            return respond(StatusCode::OK, page("Acknowledgements", Some(&p.viewer), body));
        }
        Err(e) => return failed(e, &p.viewer),
    };
    let overdue: Vec<_> = a.missing.iter().filter(|m| m.overdue).collect();
    let body = html! {
        h1 { "Acknowledgements of version " (a.policy.version) }
        p.lead { (format!("{:.0} %", a.rate * 100.0)) " of " (a.people) " people (" (a.acknowledged) " acknowledged) · due " (when(a.policy.due_at())) }
        (bars(&a))
        h2 { "Overdue" }
        @if overdue.is_empty() {
            p { @if a.missing.is_empty() { "Everyone has acknowledged this version." } @else { "Nobody yet: the version is not due." } }
        } @else {
            table.stack {
                thead { tr { th { "Email" } th { "Department" } } }
                tbody { @for m in &overdue { tr { td data-label="Email" { (m.person.email) } td data-label="Department" { (m.person.department) } } } }
            }
        }
        @if !a.missing.is_empty() && overdue.is_empty() {
            h2 { "Not yet acknowledged" }
            ul.plain { @for m in &a.missing { li { (m.person.email) " · " (m.person.department) } } }
        }
    };
    respond(StatusCode::OK, page("Acknowledgements", Some(&p.viewer), body))
}

#[cfg(test)]
mod tests {
    use super::{Line, diff};

    #[test]
    fn the_diff_keeps_common_lines_and_marks_the_rest() {
        let from = ["a", "b", "c", "d"];
        let to = ["a", "c", "e", "d"];
        assert_eq!(
            diff(&from, &to),
            [Line::Same("a"), Line::Removed("b"), Line::Same("c"), Line::Added("e"), Line::Same("d")]
        );
        assert_eq!(diff(&[], &["x"]), [Line::Added("x")]);
        assert_eq!(diff(&["x"], &[]), [Line::Removed("x")]);
    }
}
