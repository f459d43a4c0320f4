//! Directory management for security admins: the people list, adding, editing, suspending and
//! reactivating people, their roles, and CSV import (pasted or uploaded) with every bad row named.

use crate::AppState;
use crate::error::ApiError;
use crate::portal::html::{csrf_field, notice, page, respond};
use crate::portal::pages::{Fields, failed, field, repeated};
use crate::portal::session::{CsrfForm, Page, SecurityOnly, audit};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use bonafide_domain::{PersonId, Role};
use bonafide_store::{AuditEvent, NewPerson, Outcome};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Largest directory import accepted from the portal (about 50,000 people).
const IMPORT_LIMIT: usize = 16 * 1024 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/security/people", get(people_page).post(person_add))
        .route("/security/people/{id}/status", post(person_status))
        .route("/security/people/{id}/roles", post(person_roles))
        .route("/security/people/{id}", get(person_page).post(person_edit))
        // A directory export can be large: imports get more room than other forms.
        .route("/security/import", post(directory_import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)))
}

const ROLES: [(Role, &str); 3] =
    [(Role::ItStaff, "IT staff"), (Role::SecurityAdmin, "Security admin"), (Role::Auditor, "Auditor")];

fn people_markup(
    p: &Page<SecurityOnly>,
    people: &[bonafide_store::Person],
    notice_text: Option<(&str, bool)>,
) -> Markup {
    let csrf = &p.viewer.csrf;
    html! {
        h1 { "People and roles" }
        @if let Some((text, error)) = notice_text { (notice(text, error)) }
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
        div.table-wrap { table {
            thead { tr { th { "Person" } th { "Roles" } th { "Status" } } }
            tbody {
                @for person in people {
                    tr {
                        td { a href=(format!("/security/people/{}", person.id)) { (person.display_name) } br; span.muted { (person.email) } @if let Some(id) = &person.staff_id { br; (id) } }
                        td {
                            form method="post" action=(format!("/security/people/{}/roles", person.id)) {
                                (csrf_field(csrf))
                                @for (r, label) in ROLES {
                                    label.inline { input type="checkbox" name="roles" value=(r.as_str()) checked[person.roles.has(r)]; " " (label) } " "
                                }
                                button.secondary type="submit" { "Save roles" }
                            }
                        }
                        td {
                            (person.status.as_str())
                            form method="post" action=(format!("/security/people/{}/status", person.id)) {
                                (csrf_field(csrf))
                                @if person.status == bonafide_domain::PersonStatus::Active {
                                    input type="hidden" name="status" value="suspended";
                                    button.danger type="submit" { "Suspend" }
                                } @else {
                                    input type="hidden" name="status" value="active";
                                    button.secondary type="submit" { "Reactivate" }
                                }
                            }
                        }
                    }
                }
            }
        } }
    }
}

async fn people_page(p: Page<SecurityOnly>, State(state): State<AppState>) -> Response {
    match state.store.list_people().await {
        Ok(people) => respond(StatusCode::OK, page("People", Some(&p.viewer), people_markup(&p, &people, None))),
        Err(e) => failed(e.into(), &p),
    }
}

/// The people page again, with a notice (or an error).
async fn people_again(
    p: &Page<SecurityOnly>,
    state: &AppState,
    status: StatusCode,
    text: &str,
    error: bool,
) -> Response {
    match state.store.list_people().await {
        Ok(people) => respond(status, page("People", Some(&p.viewer), people_markup(p, &people, Some((text, error))))),
        Err(e) => failed(e.into(), p),
    }
}

/// Reads a form's repeated `roles` fields.
fn roles_of(fields: &Fields) -> Result<bonafide_domain::Roles, String> {
    Ok(bonafide_domain::Roles::new(repeated::<Role>(fields, "roles", "Pick roles from the list.")?))
}

async fn person_roles(
    p: Page<SecurityOnly>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let Ok(person) = id.parse::<bonafide_domain::PersonId>() else { return failed(ApiError::NotFound, &p) };
    let roles = match roles_of(&fields) {
        Ok(r) => r,
        Err(why) => return people_again(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, &why, true).await,
    };
    if person == p.viewer.me.id && !roles.has(Role::SecurityAdmin) {
        let why = "You cannot remove your own security admin role; ask another admin.";
        return people_again(&p, &state, StatusCode::CONFLICT, why, true).await;
    }
    let target = match state.store.person_by_id(person).await {
        Ok(Some(t)) => t,
        Ok(None) => return failed(ApiError::NotFound, &p),
        Err(e) => return failed(e.into(), &p),
    };
    if let Err(e) = state.store.set_person_roles(person, &roles, state.clock.now()).await {
        return failed(e.into(), &p);
    }
    let names: Vec<&str> = roles.iter().map(Role::as_str).collect();
    let before: Vec<&str> = target.roles.iter().map(Role::as_str).collect();
    let event = AuditEvent::new(&p.viewer.actor(), "directory.roles_changed", target.email.as_str(), Outcome::Ok)
        .with(serde_json::json!({ "before": before, "after": names }));
    audit(&state, event).await;
    people_again(&p, &state, StatusCode::OK, &format!("Roles of {} saved.", target.email), false).await
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
}

async fn person_status(
    p: Page<SecurityOnly>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Response {
    let Ok(person) = id.parse::<bonafide_domain::PersonId>() else { return failed(ApiError::NotFound, &p) };
    let Ok(status) = form.status.parse::<bonafide_domain::PersonStatus>() else {
        return people_again(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, "Unknown status.", true).await;
    };
    if person == p.viewer.me.id {
        return people_again(&p, &state, StatusCode::CONFLICT, "You cannot suspend yourself.", true).await;
    }
    let target = match state.store.person_by_id(person).await {
        Ok(Some(t)) => t,
        Ok(None) => return failed(ApiError::NotFound, &p),
        Err(e) => return failed(e.into(), &p),
    };
    if let Err(e) = state.store.set_person_status(person, status, state.clock.now()).await {
        return failed(e.into(), &p);
    }
    let event = AuditEvent::new(&p.viewer.actor(), "directory.status_changed", target.email.as_str(), Outcome::Ok)
        .with(serde_json::json!({ "status": status.as_str() }));
    audit(&state, event).await;
    let text = format!("{} is now {}.", target.email, status.as_str());
    people_again(&p, &state, StatusCode::OK, &text, false).await
}

async fn person_add(
    p: Page<SecurityOnly>,
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
    let row: std::collections::BTreeMap<&str, &str> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let person = match bonafide_directory::person_from_row(&row, state.config.default_region) {
        Ok(person) => person,
        Err(e) => {
            let text = format!("{}: {}", e.field, e.message);
            return people_again(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, &text, true).await;
        }
    };
    match state.store.person_by_email(&person.email).await {
        Ok(None) => save_people(&p, &state, vec![person]).await,
        Ok(Some(_)) => {
            let text = format!("{} is already in the directory.", person.email);
            people_again(&p, &state, StatusCode::CONFLICT, &text, true).await
        }
        Err(e) => failed(e.into(), &p),
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
    p: Page<SecurityOnly>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<ImportForm>,
) -> Response {
    let csv = if form.file.trim().is_empty() { &form.csv } else { &form.file };
    if csv.trim().is_empty() {
        return people_again(&p, &state, StatusCode::UNPROCESSABLE_ENTITY, "Choose a CSV file or paste rows.", true)
            .await;
    }
    import_text(&p, &state, csv).await
}

/// Imports CSV text: nothing when any row is bad (the errors are listed).
async fn import_text(p: &Page<SecurityOnly>, state: &AppState, csv: &str) -> Response {
    let (people, errors) = match bonafide_directory::parse(csv.as_bytes(), state.config.default_region) {
        Ok(parsed) => parsed,
        Err(e) => {
            let text = format!("Line {}: {}: {}", e.line, e.field, e.message);
            return people_again(p, state, StatusCode::UNPROCESSABLE_ENTITY, &text, true).await;
        }
    };
    if !errors.is_empty() {
        let lines: Vec<String> =
            errors.iter().map(|e| format!("line {}: {}: {}", e.line, e.field, e.message)).collect();
        let text = format!("Nothing imported. {}", lines.join("; "));
        return people_again(p, state, StatusCode::UNPROCESSABLE_ENTITY, &text, true).await;
    }
    save_people(p, state, people.into_iter().map(|(_, person)| person).collect()).await
}

/// Writes `rows` (added or updated by email) in one transaction, audited.
async fn save_people(p: &Page<SecurityOnly>, state: &AppState, rows: Vec<bonafide_store::NewPerson>) -> Response {
    let now = state.clock.now();
    match state.store.import_people(&rows, now, |_| {}).await {
        Ok((created, updated)) => {
            let event = AuditEvent::new(&p.viewer.actor(), "directory.imported", "portal", Outcome::Ok)
                .with(serde_json::json!({ "created": created, "updated": updated, "via": "portal" }));
            audit(state, event).await;
            let text = format!("Imported: {created} added, {updated} updated.");
            people_again(p, state, StatusCode::OK, &text, false).await
        }
        Err(bonafide_store::StoreError::Conflict(why)) => {
            people_again(p, state, StatusCode::CONFLICT, &format!("Nothing imported: {why}."), true).await
        }
        Err(e) => failed(e.into(), p),
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

/// A record as the edit form's field values.
fn form_values(r: &NewPerson) -> BTreeMap<&'static str, String> {
    let join = |items: Vec<String>| items.join("; ");
    let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
    BTreeMap::from([
        ("email", r.email.to_string()),
        ("display_name", r.display_name.to_string()),
        ("department", r.department.clone()),
        ("title", r.title.clone()),
        ("location", r.location.clone()),
        ("manager_email", r.manager_email.as_ref().map(ToString::to_string).unwrap_or_default()),
        ("photo_url", r.photo_url.clone().unwrap_or_default()),
        ("staff_id", r.staff_id.as_ref().map(ToString::to_string).unwrap_or_default()),
        ("team", r.team.clone().unwrap_or_default()),
        ("phones", join(r.phones.iter().map(ToString::to_string).collect())),
        ("emails", join(r.other_emails.iter().map(ToString::to_string).collect())),
        ("official_phones", join(r.official_phones.iter().map(ToString::to_string).collect())),
        ("official_addresses", join(r.official_addresses.iter().map(ToString::to_string).collect())),
        ("remote", yes(r.remote)),
        ("privileged", yes(r.privileged)),
        ("on_duty", yes(r.on_duty)),
        ("roles", r.roles.iter().map(Role::as_str).collect::<Vec<_>>().join(";")),
        ("status", r.status.as_str().to_owned()),
    ])
}

fn edit_markup(
    p: &Page<SecurityOnly>,
    id: PersonId,
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

async fn person_page(p: Page<SecurityOnly>, State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<PersonId>() else { return failed(ApiError::NotFound, &p) };
    match state.store.person_record(id).await {
        Ok(Some(record)) => {
            let body = edit_markup(&p, id, &form_values(&record), None);
            respond(StatusCode::OK, page("Edit person", Some(&p.viewer), body))
        }
        Ok(None) => failed(ApiError::NotFound, &p),
        Err(e) => failed(e.into(), &p),
    }
}

/// Saves an edit through the same row reader as an import, so the same rules and messages apply. The
/// email (the directory's key), roles and status are kept as they are.
async fn person_edit(
    p: Page<SecurityOnly>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let Ok(id) = id.parse::<PersonId>() else { return failed(ApiError::NotFound, &p) };
    let before = match state.store.person_record(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return failed(ApiError::NotFound, &p),
        Err(e) => return failed(e.into(), &p),
    };
    let mut values = form_values(&before);
    for (name, _, _) in EDITABLE {
        values.insert(name, field(&fields, name));
    }
    for (name, _) in FLAGS {
        values.insert(name, if field(&fields, name) == "yes" { "yes" } else { "no" }.to_owned());
    }
    let again = |status: StatusCode, text: &str, values: &BTreeMap<&'static str, String>| {
        respond(status, page("Edit person", Some(&p.viewer), edit_markup(&p, id, values, Some(text))))
    };
    let row: BTreeMap<&str, &str> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let after = match bonafide_directory::person_from_row(&row, state.config.default_region) {
        Ok(person) => person,
        Err(e) => return again(StatusCode::UNPROCESSABLE_ENTITY, &format!("{}: {}", e.field, e.message), &values),
    };
    let old = form_values(&before);
    let new = form_values(&after);
    let changed: Vec<&str> = new.iter().filter(|(k, v)| old.get(*k) != Some(v)).map(|(k, _)| *k).collect();
    if changed.is_empty() {
        return people_again(&p, &state, StatusCode::OK, &format!("{}: nothing changed.", after.email), false).await;
    }
    match state.store.import_people(std::slice::from_ref(&after), state.clock.now(), |_| {}).await {
        Ok(_) => {}
        Err(bonafide_store::StoreError::Conflict(why)) => return again(StatusCode::CONFLICT, &why, &values),
        Err(e) => return failed(e.into(), &p),
    }
    let event = AuditEvent::new(&p.viewer.actor(), "directory.person_edited", after.email.as_str(), Outcome::Ok)
        .with(serde_json::json!({ "changed": changed }));
    audit(&state, event).await;
    people_again(&p, &state, StatusCode::OK, &format!("{} saved ({}).", after.email, changed.join(", ")), false).await
}
