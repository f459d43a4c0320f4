//! Directory management for security admins: the people list, adding, editing, suspending and
//! reactivating people, their roles, and CSV import (pasted or uploaded) with every bad row named.

use crate::AppState;
use crate::portal::forms::{Fields, failed, field, repeated, sentence};
use crate::portal::html::{csrf_field, notice, page, respond};
use crate::portal::input::PagePath;
use crate::portal::input::PageQuery;
use crate::portal::session::{CsrfForm, Page};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use bonafide_app::access::SecurityAdmins;
use bonafide_app::directory::{PeopleListing, PeopleSearch};
use bonafide_app::{Acting, AppError, directory};
use bonafide_domain::{PersonStatus, Role, Roles};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Largest directory import accepted from the portal (about 50,000 people).
const IMPORT_LIMIT: usize = 16 * 1024 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/security/people", get(people_page).post(person_add))
        .route("/security/people/{id}/status", post(person_status))
        .route("/security/people/{id}/suspend", get(suspend_page))
        .route("/security/people/{id}/roles", post(person_roles))
        .route("/security/people/{id}", get(person_page).post(person_edit))
        // A directory export can be large: imports get more room than other forms.
        .route("/security/import", post(directory_import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)))
}

const ROLES: [(Role, &str); 3] =
    [(Role::ItStaff, "IT staff"), (Role::SecurityAdmin, "Security admin"), (Role::Auditor, "Auditor")];

const STATUSES: [(PersonStatus, &str); 2] = [(PersonStatus::Active, "Active"), (PersonStatus::Suspended, "Suspended")];

/// The people page's address for `search` at page `page`.
fn people_href(search: &PeopleSearch, page: u64) -> String {
    let page = page.to_string();
    let pairs: Vec<(&str, &str)> =
        [("q", search.text.as_str()), ("role", &search.role), ("status", &search.status), ("page", &page)]
            .into_iter()
            .filter(|(name, value)| !(value.is_empty() || (*name == "page" && *value == "1")))
            .collect();
    match serde_urlencoded::to_string(pairs) {
        Ok(query) if !query.is_empty() => format!("/security/people?{query}"),
        _ => "/security/people".to_owned(),
    }
}

fn people_markup(
    p: &Page<SecurityAdmins>,
    listing: &PeopleListing,
    search: &PeopleSearch,
    shown: Option<Markup>,
) -> Markup {
    let csrf = &p.viewer.csrf;
    let first = (listing.page - 1) * directory::PEOPLE_PER_PAGE + 1;
    let last = first + listing.people.len() as u64 - 1;
    html! {
        h1 { "People and roles" }
        @if let Some(shown) = shown { (shown) }
        details {
            summary { "Add a person" }
            form.stack method="post" action="/security/people" {
                (csrf_field(csrf))
                div { label for="email" { "Email" } input #email type="email" name="email" required; }
                div { label for="name" { "Name" } input #name type="text" name="display_name" required maxlength="120"; }
                div { label for="department" { "Department" } input #department type="text" name="department" maxlength="120"; }
                fieldset.choices {
                    legend { "Roles besides employee" }
                    @for (r, label) in ROLES { label { input type="checkbox" name="roles" value=(r.as_str()); (label) } }
                }
                div { label for="staff_id" { "Staff id" span.hint { "IT staff only, such as IT-0042." } } input #staff_id type="text" name="staff_id" maxlength="32"; }
                div { label for="official_phones" { "Official phone" span.hint { "IT staff only." } } input #official_phones type="tel" name="official_phones" maxlength="64"; }
                button type="submit" { "Add" }
            }
        }
        details {
            summary { "Import a CSV file" }
            form.stack method="post" action="/security/import" enctype="multipart/form-data" {
                (csrf_field(csrf))
                p.hint { "A header line with columns such as email, display_name, department, roles, staff_id, official_phones (the same format as " code { "bonafide import" } "). Nothing is imported while any row has an error." }
                div {
                    label for="file" { "CSV file" }
                    input #file type="file" name="file" accept=".csv,text/csv";
                }
                div {
                    label for="csv" { "…or paste the rows" }
                    textarea #csv name="csv" rows="6" {}
                }
                button type="submit" { "Import" }
            }
        }
        form.search method="get" action="/security/people" role="search" {
            div {
                label for="q" { "Find people" span.hint { "Part of a name, email, staff id or department." } }
                input #q type="search" name="q" value=(search.text) maxlength=(directory::MAX_QUERY);
            }
            div.row {
                div {
                    label for="role" { "Role" }
                    select #role name="role" {
                        option value="" { "Any role" }
                        @for (r, label) in ROLES { option value=(r.as_str()) selected[search.role == r.as_str()] { (label) } }
                        option value="employee" selected[search.role == "employee"] { "Employee" }
                    }
                }
                div {
                    label for="status" { "Status" }
                    select #status name="status" {
                        option value="" { "Any status" }
                        @for (st, label) in STATUSES { option value=(st.as_str()) selected[search.status == st.as_str()] { (label) } }
                    }
                }
                button type="submit" { "Search" }
            }
        }
        p.muted role="status" {
            @if listing.total == 0 { "Nobody matches." } @else {
                (first) "–" (last) " of " (listing.total) " " (if listing.total == 1 { "person" } else { "people" })
            }
        }
        div.table-wrap { table.stack {
            thead { tr { th { "Person" } th { "Roles" } th { "Status" } } }
            tbody {
                @for person in &listing.people {
                    tr {
                        td data-label="Person" {
                            a href=(format!("/security/people/{}", person.id)) { (person.display_name) }
                            br; span.muted.email { (person.email) }
                            @if let Some(id) = &person.staff_id { br; (id) }
                        }
                        td data-label="Roles" {
                            form.roles method="post" action=(format!("/security/people/{}/roles", person.id)) {
                                (csrf_field(csrf))
                                @for (r, label) in ROLES {
                                    label.check { input type="checkbox" name="roles" value=(r.as_str()) checked[person.roles.has(r)]; (label) }
                                }
                                button.secondary type="submit" { "Save roles" }
                            }
                        }
                        td data-label="Status" {
                            @if person.status == PersonStatus::Active {
                                "Active" br;
                                a.button.secondary.small href=(format!("/security/people/{}/suspend", person.id)) { "Suspend…" }
                            } @else {
                                strong { "Suspended" }
                                form method="post" action=(format!("/security/people/{}/status", person.id)) {
                                    (csrf_field(csrf))
                                    input type="hidden" name="status" value="active";
                                    button.secondary.small type="submit" { "Reactivate" }
                                }
                            }
                        }
                    }
                }
            }
        } }
        @if listing.pages > 1 {
            nav.pages aria-label="Pages" {
                @if listing.page > 1 { a href=(people_href(search, listing.page - 1)) rel="prev" { "← Previous" } }
                span { "Page " (listing.page) " of " (listing.pages) }
                @if listing.page < listing.pages { a href=(people_href(search, listing.page + 1)) rel="next" { "Next →" } }
            }
        }
    }
}

#[derive(Deserialize, Default)]
struct PeopleParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: String,
}

async fn people_page(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    params: PageQuery<PeopleParams>,
) -> Response {
    let PageQuery(params) = params;
    let search = PeopleSearch {
        text: params.q,
        role: params.role,
        status: params.status,
        page: params.page.trim().parse().unwrap_or(1),
    };
    match directory::find_people(&state.app, p.viewer.caller(), &search).await {
        Ok(listing) => {
            respond(StatusCode::OK, page("People", Some(&p.viewer), people_markup(&p, &listing, &search, None)))
        }
        Err(AppError::Invalid(errors)) => {
            let everyone = PeopleSearch::default();
            match directory::find_people(&state.app, p.viewer.caller(), &everyone).await {
                Ok(listing) => {
                    let text = AppError::fields_text(&errors);
                    let markup = people_markup(&p, &listing, &everyone, Some(notice(&text, true)));
                    respond(StatusCode::UNPROCESSABLE_ENTITY, page("People", Some(&p.viewer), markup))
                }
                Err(e) => failed(e, &p.viewer),
            }
        }
        Err(e) => failed(e, &p.viewer),
    }
}

/// The people page again (its first page, unfiltered), with a notice (or an error).
async fn people_again(
    p: &Page<SecurityAdmins>,
    state: &AppState,
    status: StatusCode,
    text: &str,
    error: bool,
) -> Response {
    people_with(p, state, status, notice(text, error)).await
}

/// The people page again (its first page, unfiltered), with `shown` (a notice) above the list.
async fn people_with(p: &Page<SecurityAdmins>, state: &AppState, status: StatusCode, shown: Markup) -> Response {
    let everyone = PeopleSearch::default();
    match directory::find_people(&state.app, p.viewer.caller(), &everyone).await {
        Ok(listing) => {
            respond(status, page("People", Some(&p.viewer), people_markup(p, &listing, &everyone, Some(shown))))
        }
        Err(e) => failed(e, &p.viewer),
    }
}

/// Suspending someone asks first, on a page of its own (it works without script): what it does, and
/// the one button that does it.
async fn suspend_page(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
) -> Response {
    let record = match directory::record(&state.app, p.viewer.caller(), &id).await {
        Ok(r) => r,
        Err(e) => return failed(e, &p.viewer),
    };
    let name = record.display_name.as_str();
    let body = html! {
        div.panel.warn {
            h1 { "Suspend " (name) "?" }
            p.lead { (name) " (" span.email { (record.email) } ") will not be able to sign in, and their sessions and API tokens stop working at once." }
            p { "Calls and messages claiming to be them are never verified while they are suspended. You can reactivate them later from the people page." }
        }
        form method="post" action=(format!("/security/people/{id}/status")) {
            (csrf_field(&p.viewer.csrf))
            input type="hidden" name="status" value="suspended";
            div.row {
                button.danger type="submit" { "Suspend " (name) }
                a.button.secondary href="/security/people" { "Cancel" }
            }
        }
    };
    respond(StatusCode::OK, page("Suspend", Some(&p.viewer), body))
}

/// The most errors an import's page lists; the command line lists them all.
const ERRORS_SHOWN: usize = 200;

/// An import's errors, one per line with its line number, as `bonafide import` prints them.
fn import_errors<'a>(errors: impl ExactSizeIterator<Item = (String, &'a str)>) -> Markup {
    let count = errors.len();
    html! {
        div.notice.error role="alert" {
            p { "Nothing imported: " (count) @if count == 1 { " error" } @else { " errors" } "." }
            ul.errors {
                @for (place, message) in errors.take(ERRORS_SHOWN) { li { (place) ": " (message) } }
                @if count > ERRORS_SHOWN { li.muted { "…and " (count - ERRORS_SHOWN) " more." } }
            }
        }
    }
}

/// A use case's refusal shown on the people page (conflicts and bad input), or as an error page.
async fn refused(p: &Page<SecurityAdmins>, state: &AppState, e: AppError) -> Response {
    match e {
        AppError::Conflict(why) => people_again(p, state, StatusCode::CONFLICT, &sentence(&why), true).await,
        AppError::Invalid(errors) => {
            people_again(p, state, StatusCode::UNPROCESSABLE_ENTITY, &AppError::fields_text(&errors), true).await
        }
        e => failed(e, &p.viewer),
    }
}

/// Reads a form's repeated `roles` fields.
fn roles_of(fields: &Fields) -> Result<Roles, String> {
    Ok(Roles::new(repeated::<Role>(fields, "roles", "Pick roles from the list.")?))
}

async fn person_roles(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let roles = match roles_of(&fields) {
        Ok(r) => r,
        Err(why) => return people_again(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, &why, true).await,
    };
    match directory::set_roles(&state.app, p.viewer.caller(), &id, roles).await {
        Ok(person) => {
            people_again(&p, &state, StatusCode::OK, &format!("Roles of {} saved.", person.email), false).await
        }
        Err(e) => refused(&p, &state, e).await,
    }
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
}

async fn person_status(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Response {
    match directory::set_status(&state.app, p.viewer.caller(), &id, &form.status).await {
        Ok(person) => {
            let text = format!("{} is now {}.", person.email, person.status.as_str());
            people_again(&p, &state, StatusCode::OK, &text, false).await
        }
        Err(AppError::Invalid(_)) => {
            people_again(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, "Unknown status.", true).await
        }
        Err(e) => refused(&p, &state, e).await,
    }
}

async fn person_add(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    // The same row reader as a CSV import, so the same rules and messages apply.
    let values: Vec<(&str, String)> = ["email", "display_name", "department", "staff_id", "official_phones"]
        .into_iter()
        .map(|name| (name, field(&fields, name)))
        .chain([(
            "roles",
            fields.iter().filter(|(k, _)| k == "roles").map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(";"),
        )])
        .collect();
    let row: BTreeMap<&str, &str> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match directory::add(&state.app, p.viewer.caller(), &row).await {
        Ok(person) => {
            people_again(
                &p,
                &state,
                StatusCode::OK,
                &format!("Imported: 1 added, 0 updated ({}).", person.email),
                false,
            )
            .await
        }
        Err(e) => refused(&p, &state, e).await,
    }
}

#[derive(Deserialize)]
struct ImportForm {
    #[serde(default)]
    csv: String,
    #[serde(default)]
    file: String,
}

async fn directory_import(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<ImportForm>,
) -> Response {
    let csv = if form.file.trim().is_empty() { &form.csv } else { &form.file };
    if csv.trim().is_empty() {
        return people_again(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, "Choose a CSV file or paste rows.", true)
            .await;
    }
    let done =
        directory::import(&state.app, Acting::Person(p.viewer.caller()), "portal", csv.as_bytes(), false, |_| {});
    match done.await {
        Ok(done) if done.imported => {
            let text = format!("Imported: {} added, {} updated.", done.created, done.updated);
            people_again(&p, &state, StatusCode::OK, &text, false).await
        }
        Ok(done) => {
            let errors = done.errors.iter().map(|e| (format!("line {}: {}", e.line, e.field), e.message.as_str()));
            people_with(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, import_errors(errors)).await
        }
        Err(AppError::Conflict(why)) => {
            people_again(&p, &state, StatusCode::CONFLICT, &format!("Nothing imported: {why}."), true).await
        }
        Err(AppError::Invalid(errors)) => {
            // The header's error: its field is already "line N: header".
            let errors = errors.iter().map(|e| (e.field.clone(), e.message.as_str()));
            people_with(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, import_errors(errors)).await
        }
        Err(e) => failed(e, &p.viewer),
    }
}

/// The editable fields, by import column name, with their labels and hints.
const EDITABLE: [(&str, &str, &str); 12] = [
    ("display_name", "Name", ""),
    ("department", "Department", ""),
    ("title", "Title", ""),
    ("location", "Location", "Office or city."),
    ("manager_email", "Manager's email", ""),
    ("photo_url", "Photo address", "https://… or /…; shown on the verdict page."),
    ("staff_id", "Staff id", "IT staff only, such as IT-0042."),
    ("team", "Team", "IT staff only."),
    ("phones", "Work phones", "Separate several with ;"),
    ("emails", "Other work emails", "Separate several with ;"),
    ("official_phones", "Official phones IT calls from", "IT staff only. Separate several with ;"),
    ("official_addresses", "Official addresses IT writes from", "IT staff only. Separate several with ;"),
];
const FLAGS: [(&str, &str); 3] =
    [("remote", "Works remotely"), ("privileged", "Holds privileged access"), ("on_duty", "On duty (IT staff)")];

fn edit_markup(
    p: &Page<SecurityAdmins>,
    id: &str,
    values: &BTreeMap<&'static str, String>,
    problem: Option<&str>,
) -> Markup {
    let value = |k: &str| values.get(k).cloned().unwrap_or_default();
    html! {
        h1 { "Edit " (value("display_name")) }
        p.muted { (value("email")) " · roles and status are changed on " a href="/security/people" { "People and roles" } "." }
        @if let Some(text) = problem { (notice(text, true)) }
        form.stack method="post" action=(format!("/security/people/{id}")) {
            (csrf_field(&p.viewer.csrf))
            @for (name, label, hint) in EDITABLE {
                div {
                    label for=(name) { (label) @if !hint.is_empty() { span.hint { (hint) } } }
                    input id=(name) type="text" name=(name) value=(value(name)) maxlength="500" required[name == "display_name"];
                }
            }
            fieldset.choices {
                legend { "Flags" }
                @for (name, label) in FLAGS {
                    label { input type="checkbox" name=(name) value="yes" checked[value(name) == "yes"]; " " (label) }
                }
            }
            button type="submit" { "Save" }
        }
    }
}

async fn person_page(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
) -> Response {
    let found = match directory::record(&state.app, p.viewer.caller(), &id).await {
        Ok(record) => directory::lookups(&state.app, p.viewer.caller(), &id).await.map(|l| (record, l)),
        Err(e) => Err(e),
    };
    match found {
        Ok((record, lookups)) => {
            let body = html! {
                (edit_markup(&p, &id, &directory::form_values(&record), None))
                h2 { "Staff directory look-ups" }
                @if lookups.is_empty() { p.muted { "None." } } @else {
                    div.table-wrap { table {
                        thead { tr { th { "Minute" } th { "Look-ups" } th { "Last one" } } }
                        tbody { @for l in &lookups {
                            tr { td { (crate::portal::html::when(l.minute)) } td { (l.lookups) } td { code { (crate::portal::html::evidence(&l.last_query)) } } }
                        } }
                    } }
                }
            };
            respond(StatusCode::OK, page("Edit person", Some(&p.viewer), body))
        }
        Err(e) => failed(e, &p.viewer),
    }
}

/// Saves an edit through the same row reader as an import, so the same rules and messages apply. The
/// email (the directory's key), roles and status are kept as they are.
async fn person_edit(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let mut values: BTreeMap<&str, String> = BTreeMap::new();
    for (name, _, _) in EDITABLE {
        values.insert(name, field(&fields, name));
    }
    for (name, _) in FLAGS {
        values.insert(name, if field(&fields, name) == "yes" { "yes" } else { "no" }.to_owned());
    }
    let again = |status: StatusCode, text: &str| {
        // The form as it was typed, on top of the stored record's email (shown above the fields).
        let shown: BTreeMap<&'static str, String> = EDITABLE
            .iter()
            .map(|(k, _, _)| *k)
            .chain(FLAGS.iter().map(|(k, _)| *k))
            .map(|k| (k, values.get(k).cloned().unwrap_or_default()))
            .collect();
        respond(status, page("Edit person", Some(&p.viewer), edit_markup(&p, &id, &shown, Some(text))))
    };
    match directory::edit(&state.app, p.viewer.caller(), &id, &values).await {
        Ok(edited) if edited.changed.is_empty() => {
            people_again(&p, &state, StatusCode::OK, &format!("{}: nothing changed.", edited.email), false).await
        }
        Ok(edited) => {
            let text = format!("{} saved ({}).", edited.email, edited.changed.join(", "));
            people_again(&p, &state, StatusCode::OK, &text, false).await
        }
        Err(AppError::Invalid(errors)) => again(StatusCode::UNPROCESSABLE_ENTITY, &AppError::fields_text(&errors)),
        Err(AppError::Conflict(why)) => again(StatusCode::CONFLICT, &why),
        Err(e) => failed(e, &p.viewer),
    }
}
