//! The directory: the staff directory every signed-in person consults during a call (rate-limited, so it
//! is no enumeration tool), and the people, roles and CSV imports security admins manage.

use crate::access::{EVERYONE, SECURITY_ADMINS, SECURITY_READERS};
use crate::{Acting, App, AppError, Caller};
use bonafide_directory::RowError;
use bonafide_domain::{Email, PersonId, PersonStatus, Role, Roles, StaffId};
use bonafide_store::{AuditEvent, NewPerson, PeopleQuery, Person, Principal, StaffCard, StaffLookups};
use std::collections::{BTreeMap, BTreeSet};

/// The most staff cards one search answers with, for the API and the portal alike.
pub const SEARCH_LIMIT: i64 = 50;
/// The longest search, in characters.
pub const MAX_QUERY: usize = 100;

/// Logs a look-up (per person and minute: how many, and the last one) and refuses it past the per-minute
/// limit; the logged count is the limit's count.
async fn limited(app: &App, who: &Caller, query: &str) -> Result<(), AppError> {
    let now = app.now().unix_timestamp();
    let lookups = app.store().count_staff_lookup(who.person.id, now.div_euclid(60), query).await?;
    if lookups > app.settings().staff_lookups_per_minute {
        if lookups == app.settings().staff_lookups_per_minute + 1 {
            tracing::warn!(person = %who.person.email, "staff directory look-ups over the per-minute limit");
        }
        return Err(AppError::RateLimited { retry_after: u64::try_from(60 - now.rem_euclid(60)).unwrap_or(60) });
    }
    Ok(())
}

/// The most minutes of look-ups [`lookups`] shows.
pub const LOOKUPS_LIMIT: i64 = 200;

/// Person `id`'s staff directory look-ups, per minute, newest first: security admins and auditors.
pub async fn lookups(app: &App, who: &Caller, id: &str) -> Result<Vec<StaffLookups>, AppError> {
    app.authorize(who, SECURITY_READERS, "directory.lookups").await?;
    let id: PersonId = id.parse().map_err(|_| AppError::NotFound)?;
    app.store().person_by_id(id).await?.ok_or(AppError::NotFound)?;
    Ok(app.store().staff_lookups(id, LOOKUPS_LIMIT).await?)
}

/// IT staff whose name or staff id matches `query` (every signed-in person; counted against their
/// per-minute directory look-ups).
pub async fn search_staff(app: &App, who: &Caller, query: &str) -> Result<Vec<StaffCard>, AppError> {
    app.authorize(who, EVERYONE, "staff.search").await?;
    let query = query.trim();
    if query.chars().count() > MAX_QUERY {
        return Err(AppError::field("query", format!("a search is at most {MAX_QUERY} characters")));
    }
    limited(app, who, query).await?;
    Ok(app.store().search_staff(query, SEARCH_LIMIT).await?)
}

/// The directory card of staffer `staff_id` (every signed-in person; counted like a search).
pub async fn staff_card(app: &App, who: &Caller, staff_id: &str) -> Result<StaffCard, AppError> {
    app.authorize(who, EVERYONE, "staff.get").await?;
    limited(app, who, staff_id).await?;
    let id: StaffId = staff_id.parse().map_err(|_| AppError::NotFound)?;
    app.store().staff_card(&id).await?.ok_or(AppError::NotFound)
}

/// The staffer's generated avatar, as SVG: initials on a colour derived from the staff id.
pub async fn avatar(app: &App, who: &Caller, staff_id: &str) -> Result<String, AppError> {
    app.authorize(who, EVERYONE, "staff.photo").await?;
    let id: StaffId = staff_id.parse().map_err(|_| AppError::NotFound)?;
    let card = app.store().staff_card(&id).await?.ok_or(AppError::NotFound)?;
    let initials: String =
        card.display_name.as_str().split_whitespace().filter_map(|w| w.chars().next()).take(2).collect();
    let hue = id.as_str().bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 360;
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"160\" height=\"160\" viewBox=\"0 0 160 160\" role=\"img\">\
         <rect width=\"160\" height=\"160\" fill=\"hsl({hue},45%,35%)\"/>\
         <text x=\"80\" y=\"98\" font-family=\"sans-serif\" font-size=\"56\" fill=\"#fff\" text-anchor=\"middle\">{}</text></svg>",
        escape_xml(&initials)
    ))
}

fn escape_xml(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// How many people a page of the directory lists.
pub const PEOPLE_PER_PAGE: u64 = 50;

/// Which people security looks for: text typed in a search box, a role and a status (any, when empty
/// or unknown), and a page number counted from 1.
#[derive(Debug, Clone, Default)]
pub struct PeopleSearch {
    /// Part of a name, email, staff id or department.
    pub text: String,
    /// A role's name (`it_staff`), or empty.
    pub role: String,
    /// A status's name (`active`, `suspended`), or empty.
    pub status: String,
    /// The page, from 1.
    pub page: u64,
}

/// A page of the directory and where it sits among all matches.
#[derive(Debug, Clone)]
pub struct PeopleListing {
    /// The people on this page.
    pub people: Vec<Person>,
    /// How many people match in all.
    pub total: u64,
    /// This page, from 1 (at most `pages`).
    pub page: u64,
    /// How many pages the matches fill (at least 1).
    pub pages: u64,
}

/// One page of the people matching `search`, [`PEOPLE_PER_PAGE`] at a time: security admins.
pub async fn find_people(app: &App, who: &Caller, search: &PeopleSearch) -> Result<PeopleListing, AppError> {
    app.authorize(who, SECURITY_ADMINS, "directory.people").await?;
    let text = search.text.trim();
    if text.chars().count() > MAX_QUERY {
        return Err(AppError::field("q", format!("a search is at most {MAX_QUERY} characters")));
    }
    let role = match search.role.trim() {
        "" => None,
        r => Some(r.parse::<Role>().map_err(|e| AppError::field("role", e.message))?),
    };
    let status = match search.status.trim() {
        "" => None,
        s => Some(s.parse::<PersonStatus>().map_err(|_| AppError::field("status", format!("unknown status `{s}`")))?),
    };
    let mut query = PeopleQuery {
        text: Some(text.to_owned()).filter(|t| !t.is_empty()),
        role,
        status,
        offset: 0,
        limit: PEOPLE_PER_PAGE,
    };
    let wanted = search.page.max(1);
    query.offset = (wanted - 1).saturating_mul(PEOPLE_PER_PAGE);
    let mut found = app.store().find_people(&query).await?;
    let pages = found.total.div_ceil(PEOPLE_PER_PAGE).max(1);
    // A page past the end (a bookmark after people left) shows the last one.
    let page = wanted.min(pages);
    if page != wanted {
        query.offset = (page - 1) * PEOPLE_PER_PAGE;
        found = app.store().find_people(&query).await?;
    }
    Ok(PeopleListing { people: found.people, total: found.total, page, pages })
}

/// Everyone in the directory: security admins, or the operator (the demo lists its people).
pub async fn list(app: &App, by: Acting<'_>) -> Result<Vec<Person>, AppError> {
    if let Acting::Person(who) = by {
        app.authorize(who, SECURITY_ADMINS, "directory.people").await?;
    }
    Ok(app.store().list_people().await?)
}

/// Everything the directory holds about person `id`, in the form an import or an edit writes:
/// security admins.
pub async fn record(app: &App, who: &Caller, id: &str) -> Result<NewPerson, AppError> {
    app.authorize(who, SECURITY_ADMINS, "directory.person").await?;
    let id: PersonId = id.parse().map_err(|_| AppError::NotFound)?;
    app.store().person_record(id).await?.ok_or(AppError::NotFound)
}

/// The active person with `email`, as they would be signed in: for the operator at the command line,
/// who acts on a person's behalf. A suspended person is refused, saying so: they get no tokens and act
/// for no one.
pub async fn principal_by_email(app: &App, email: &str) -> Result<Principal, AppError> {
    let email: Email = email.parse()?;
    match app.store().person_by_email(&email).await? {
        Some(p) if p.status == PersonStatus::Active => Ok(Principal::from(p)),
        Some(_) => Err(AppError::field("email", format!("{email} is suspended; reactivate them first"))),
        None => Err(AppError::field("email", format!("nobody in the directory has the email {email}"))),
    }
}

/// Reads one person from named fields (the CSV import's columns), with the import's rules and messages.
fn person_from(app: &App, row: &BTreeMap<&str, &str>) -> Result<NewPerson, AppError> {
    bonafide_directory::person_from_row(row, app.settings().default_region).map_err(AppError::from)
}

/// Adds one person from named fields (the CSV import's columns): security admins. An email already in
/// the directory is a conflict.
pub async fn add(app: &App, who: &Caller, row: &BTreeMap<&str, &str>) -> Result<NewPerson, AppError> {
    app.authorize(who, SECURITY_ADMINS, "directory.add").await?;
    let person = person_from(app, row)?;
    if app.store().person_by_email(&person.email).await?.is_some() {
        return Err(AppError::Conflict(format!("{} is already in the directory", person.email)));
    }
    write(app, Acting::Person(who), "directory.imported", person.email.as_str(), std::slice::from_ref(&person), |_| {})
        .await?;
    Ok(person)
}

/// What editing a person changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    /// The person as saved.
    pub email: Email,
    /// The fields that changed, by column name; empty when nothing did (and nothing was written).
    pub changed: Vec<&'static str>,
}

/// Saves an edit of person `id`: `fields` (by column name) replace theirs; their email (the directory's
/// key), roles and status stay as they are. Security admins.
pub async fn edit(app: &App, who: &Caller, id: &str, fields: &BTreeMap<&str, String>) -> Result<Edited, AppError> {
    let before = record(app, who, id).await?;
    let old = form_values(&before);
    let mut values = old.clone();
    for (name, value) in fields {
        if let Some(slot) = values.get_mut(*name).filter(|_| !matches!(*name, "email" | "roles" | "status")) {
            slot.clone_from(value);
        }
    }
    let row: BTreeMap<&str, &str> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let after = person_from(app, &row)?;
    let new = form_values(&after);
    let changed: Vec<&'static str> = new.iter().filter(|(k, v)| old.get(*k) != Some(v)).map(|(k, _)| *k).collect();
    if !changed.is_empty() {
        // Each changed field's value before and after (the directory holds no secrets).
        let from: BTreeMap<&str, &str> = changed.iter().map(|k| (*k, old.get(k).map_or("", String::as_str))).collect();
        let to: BTreeMap<&str, &str> = changed.iter().map(|k| (*k, new.get(k).map_or("", String::as_str))).collect();
        let detail = serde_json::json!({ "changed": changed, "from": from, "to": to, "via": who.via.as_str() });
        let event = who.event("directory.person_edited", after.email.as_str()).with(detail);
        app.store().import_people(std::slice::from_ref(&after), app.now(), |_| {}, |_, _| event).await?;
    }
    Ok(Edited { email: after.email, changed })
}

/// A directory record as named field values (the CSV import's columns), as an edit form shows them.
pub fn form_values(r: &NewPerson) -> BTreeMap<&'static str, String> {
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

/// Replaces person `id`'s roles: security admins, who cannot remove their own admin role.
pub async fn set_roles(app: &App, who: &Caller, id: &str, roles: Roles) -> Result<Person, AppError> {
    app.authorize(who, SECURITY_ADMINS, "directory.set_roles").await?;
    let id: PersonId = id.parse().map_err(|_| AppError::NotFound)?;
    if id == who.person.id && !roles.has(Role::SecurityAdmin) {
        return Err(AppError::Conflict("you cannot remove your own security admin role; ask another admin".into()));
    }
    let target = app.store().person_by_id(id).await?.ok_or(AppError::NotFound)?;
    let before: Vec<&str> = target.roles.iter().map(Role::as_str).collect();
    let after: Vec<&str> = roles.iter().map(Role::as_str).collect();
    let event = who
        .event("directory.roles_changed", target.email.as_str())
        .with(serde_json::json!({ "before": before, "after": after, "via": who.via.as_str() }));
    if !app.store().set_person_roles(id, &roles, app.now(), &event).await? {
        return Err(AppError::NotFound);
    }
    app.store().person_by_id(id).await?.ok_or(AppError::NotFound)
}

/// Suspends or reactivates person `id`: security admins, never themselves.
pub async fn set_status(app: &App, who: &Caller, id: &str, status: &str) -> Result<Person, AppError> {
    app.authorize(who, SECURITY_ADMINS, "directory.set_status").await?;
    let id: PersonId = id.parse().map_err(|_| AppError::NotFound)?;
    let status: PersonStatus = status.parse().map_err(|_| AppError::field("status", "active or suspended"))?;
    if id == who.person.id {
        return Err(AppError::Conflict("you cannot suspend yourself".into()));
    }
    let target = app.store().person_by_id(id).await?.ok_or(AppError::NotFound)?;
    let event = who.event("directory.status_changed", target.email.as_str()).with(
        serde_json::json!({ "from": target.status.as_str(), "status": status.as_str(), "via": who.via.as_str() }),
    );
    if !app.store().set_person_status(id, status, app.now(), &event).await? {
        return Err(AppError::NotFound);
    }
    app.store().person_by_id(id).await?.ok_or(AppError::NotFound)
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Rows that could be read.
    pub valid_rows: usize,
    /// Rows that could not, each with its line.
    pub errors: Vec<RowError>,
    /// Whether anything was written (never while a row is bad, unless bad rows are skipped).
    pub imported: bool,
    /// People added.
    pub created: usize,
    /// People updated (by email).
    pub updated: usize,
}

/// Imports a CSV directory export (`source` names it in the audit log): all rows in one transaction, or
/// none while any row is bad (unless `skip_invalid`). A row is bad too when its manager is neither on a
/// row that is imported nor in the directory. Security admins, or the operator.
pub async fn import(
    app: &App,
    by: Acting<'_>,
    source: &str,
    csv: &[u8],
    skip_invalid: bool,
    progress: impl FnMut(usize),
) -> Result<Imported, AppError> {
    if let Acting::Person(who) = by {
        app.authorize(who, SECURITY_ADMINS, "directory.import").await?;
    }
    let (mut people, mut errors) = bonafide_directory::parse(csv, app.settings().default_region)
        .map_err(|e| AppError::field(&format!("line {}: {}", e.line, e.field), e.message))?;
    if people.iter().any(|(_, p)| p.manager_email.is_some()) {
        // Managers outside the file must be in the directory (the store finds them by primary email).
        let directory: BTreeSet<Email> = app.store().list_people().await?.into_iter().map(|p| p.email).collect();
        errors.extend(bonafide_directory::refuse_unknown_managers(&mut people, |m| directory.contains(m)));
        errors.sort_by_key(|e| e.line);
    }
    let mut done = Imported { valid_rows: people.len(), errors, imported: false, created: 0, updated: 0 };
    if !done.errors.is_empty() && !skip_invalid {
        return Ok(done);
    }
    let rows: Vec<NewPerson> = people.into_iter().map(|(_, p)| p).collect();
    let (created, updated) = write(app, by, "directory.imported", source, &rows, progress).await?;
    done.imported = true;
    done.created = created;
    done.updated = updated;
    Ok(done)
}

/// Writes directory records (added or updated by email) in one transaction with their audit entry:
/// security admins, or the operator (seeding an example company). Returns (created, updated).
pub async fn import_records(
    app: &App,
    by: Acting<'_>,
    source: &str,
    rows: &[NewPerson],
    progress: impl FnMut(usize),
) -> Result<(usize, usize), AppError> {
    if let Acting::Person(who) = by {
        app.authorize(who, SECURITY_ADMINS, "directory.import").await?;
    }
    write(app, by, "directory.imported", source, rows, progress).await
}

/// Writes `rows` (added or updated by email) in one transaction with their audit entry.
async fn write(
    app: &App,
    by: Acting<'_>,
    action: &'static str,
    target: &str,
    rows: &[NewPerson],
    progress: impl FnMut(usize),
) -> Result<(usize, usize), AppError> {
    let event = |created: usize, updated: usize| -> AuditEvent {
        AuditEvent::new(&by.actor(), action, target, bonafide_store::Outcome::Ok)
            .with(serde_json::json!({ "created": created, "updated": updated, "via": by.via().as_str() }))
    };
    Ok(app.store().import_people(rows, app.now(), progress, event).await?)
}
