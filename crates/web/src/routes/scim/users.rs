//! `/scim/v2/Users`: people as SCIM users (core schema, with the enterprise extension's department,
//! manager and employeeNumber), read from and written to the use cases.

use super::{
    Fail, ListQuery, ScimBody, ScimCaller, ScimPath, Shape, base_url, get_ci, if_match, list_response, resource,
    text_at,
};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bonafide_app::records::ScimRecord;
use bonafide_app::scim::{self, UserInput};
use serde_json::{Map, Value, json};

pub(crate) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(crate) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn time(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// `r` as a SCIM user located under `base`.
pub(crate) fn render(r: &ScimRecord, base: &str) -> Value {
    let mut emails = vec![json!({ "value": r.email.as_str(), "primary": !r.no_primary })];
    emails.extend(r.other_emails.iter().map(|e| json!({ "value": e.as_str(), "primary": false })));
    let mut doc = json!({
        "schemas": [USER_SCHEMA],
        "id": r.id.to_string(),
        "userName": scim::user_name(r),
        "displayName": r.display_name.as_str(),
        "active": r.status == bonafide_domain::PersonStatus::Active,
        "emails": emails,
        "meta": {
            "resourceType": "User",
            "created": time(r.created_at),
            "lastModified": time(r.updated_at),
            "location": format!("{base}/Users/{}", r.id),
            "version": scim::version(r),
        },
    });
    let Some(map) = doc.as_object_mut() else { return doc };
    if let Some(x) = &r.external_id {
        map.insert("externalId".into(), Value::from(x.as_str()));
    }
    if !r.title.is_empty() {
        map.insert("title".into(), Value::from(r.title.as_str()));
    }
    let mut ext = Map::new();
    if !r.department.is_empty() {
        ext.insert("department".into(), Value::from(r.department.as_str()));
    }
    if let Some(n) = &r.employee_number {
        ext.insert("employeeNumber".into(), Value::from(n.as_str()));
    }
    if let Some(m) = r.manager {
        ext.insert("manager".into(), json!({ "value": m.to_string(), "$ref": format!("{base}/Users/{m}") }));
    }
    if !ext.is_empty() {
        map.insert(ENTERPRISE.into(), Value::Object(ext));
        if let Some(schemas) = map.get_mut("schemas").and_then(Value::as_array_mut) {
            schemas.push(Value::from(ENTERPRISE));
        }
    }
    doc
}

fn optional_bool(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, Fail> {
    match get_ci(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        // Some providers send booleans as text.
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(Fail::bad("invalidValue", format!("{key} must be true or false"))),
    }
}

/// Reads a user from a SCIM document (a POST or PUT body, or a patched resource).
pub(crate) fn input(doc: &Value) -> Result<UserInput, Fail> {
    let obj = doc.as_object().ok_or_else(|| Fail::bad("invalidSyntax", "a user is a JSON object"))?;
    let user_name = text_at(obj, "userName")?.ok_or_else(|| Fail::bad("invalidValue", "userName is required"))?;
    let mut display_name = text_at(obj, "displayName")?;
    if display_name.is_none()
        && let Some(Value::Object(name)) = get_ci(obj, "name")
    {
        let formatted = text_at(name, "formatted")?;
        let parts = [text_at(name, "givenName")?, text_at(name, "familyName")?];
        let joined = parts.into_iter().flatten().collect::<Vec<_>>().join(" ");
        display_name = formatted.or(Some(joined).filter(|j| !j.trim().is_empty()));
    }
    let mut emails = Vec::new();
    match get_ci(obj, "emails") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let item = item.as_object().ok_or_else(|| Fail::bad("invalidValue", "each email is an object"))?;
                let value =
                    text_at(item, "value")?.ok_or_else(|| Fail::bad("invalidValue", "an email needs a value"))?;
                emails.push((value, optional_bool(item, "primary")?.unwrap_or(false)));
            }
        }
        Some(_) => return Err(Fail::bad("invalidValue", "emails must be a list")),
    }
    let mut user = UserInput {
        user_name,
        display_name,
        emails,
        active: optional_bool(obj, "active")?,
        external_id: text_at(obj, "externalId")?,
        title: text_at(obj, "title")?,
        ..UserInput::default()
    };
    match get_ci(obj, ENTERPRISE) {
        None | Some(Value::Null) => {}
        Some(Value::Object(ext)) => {
            user.department = text_at(ext, "department")?;
            user.employee_number = text_at(ext, "employeeNumber")?;
            user.manager = match get_ci(ext, "manager") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Object(m)) => text_at(m, "value")?,
                Some(_) => return Err(Fail::bad("invalidValue", "manager must be an object with a value")),
            };
        }
        Some(_) => return Err(Fail::bad("invalidValue", "the enterprise extension must be an object")),
    }
    Ok(user)
}

/// `GET /scim/v2/Users?filter=&startIndex=&count=`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ScimCaller(service): ScimCaller,
    headers: HeaderMap,
    q: ListQuery,
) -> Result<Response, Fail> {
    let page = scim::list(&state.app, &service, q.filter.as_deref(), q.start_index, q.count).await?;
    let base = base_url(&state, &headers);
    let items = page.users.iter().map(|u| q.shape.apply(render(u, &base))).collect();
    Ok(list_response(page.total, page.start_index, items))
}

/// `GET /scim/v2/Users/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    ScimCaller(service): ScimCaller,
    ScimPath(id): ScimPath,
    headers: HeaderMap,
    shape: Shape,
) -> Result<Response, Fail> {
    let user = scim::get(&state.app, &service, &id).await?;
    Ok(resource(StatusCode::OK, &shape.apply(render(&user, &base_url(&state, &headers))), &scim::version(&user)))
}

/// `POST /scim/v2/Users`: 201 with the user.
pub(crate) async fn create(
    State(state): State<AppState>,
    ScimCaller(service): ScimCaller,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> Result<Response, Fail> {
    let user = scim::create(&state.app, &service, &input(&body)?).await?;
    Ok(resource(StatusCode::CREATED, &render(&user, &base_url(&state, &headers)), &scim::version(&user)))
}

/// `PUT /scim/v2/Users/{id}` (with `If-Match`, 412 when the user changed).
pub(crate) async fn put(
    State(state): State<AppState>,
    ScimCaller(service): ScimCaller,
    ScimPath(id): ScimPath,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> Result<Response, Fail> {
    let user = scim::replace(&state.app, &service, &id, &input(&body)?, if_match(&headers).as_deref()).await?;
    Ok(resource(StatusCode::OK, &render(&user, &base_url(&state, &headers)), &scim::version(&user)))
}

/// `PATCH /scim/v2/Users/{id}`: the operations applied to the user as GET shows it, then saved as a
/// replacement (so a PATCH checks exactly what a PUT does).
pub(crate) async fn patch(
    State(state): State<AppState>,
    ScimCaller(service): ScimCaller,
    ScimPath(id): ScimPath,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> Result<Response, Fail> {
    let current = scim::get(&state.app, &service, &id).await?;
    let base = base_url(&state, &headers);
    let tag = if_match(&headers);
    if tag.as_deref().is_some_and(|t| !scim::matches(t, &scim::version(&current))) {
        return Err(bonafide_app::scim::ScimError::Precondition.into());
    }
    let patched = super::patch::apply(render(&current, &base), &body)?;
    // The version read above is the one the operations were applied to.
    let version = scim::version(&current);
    let user = scim::replace(&state.app, &service, &id, &input(&patched)?, Some(&version)).await?;
    Ok(resource(StatusCode::OK, &render(&user, &base), &scim::version(&user)))
}

/// `DELETE /scim/v2/Users/{id}`: 204; the person is suspended and no longer listed.
pub(crate) async fn delete(
    State(state): State<AppState>,
    ScimCaller(service): ScimCaller,
    ScimPath(id): ScimPath,
    headers: HeaderMap,
) -> Result<StatusCode, Fail> {
    scim::delete(&state.app, &service, &id, if_match(&headers).as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
