//! `/scim/v2/Groups`: the groups the `scim_groups` setting maps to departments and roles; their
//! members are written through `bonafide_app::scim::groups`.

use super::{
    Fail, ListQuery, ScimBody, ScimCaller, ScimPath, Shape, base_url, get_ci, if_match, list_response, resource,
};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bonafide_app::scim::groups::{self, Group};
use serde_json::{Value, json};

pub(crate) const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// `g` as a SCIM group located under `base`.
fn render(g: &Group, base: &str) -> Value {
    let members: Vec<Value> = g
        .members
        .iter()
        .map(|(id, name)| json!({ "value": id.to_string(), "$ref": format!("{base}/Users/{id}"), "display": name.as_str() }))
        .collect();
    json!({
        "schemas": [GROUP_SCHEMA],
        "id": g.mapping.id(),
        "displayName": g.mapping.name,
        "members": members,
        "meta": { "resourceType": "Group", "location": format!("{base}/Groups/{}", g.mapping.id()), "version": g.version() },
    })
}

/// The display name and member ids of a group document.
fn input(doc: &Value) -> Result<(String, Vec<String>), Fail> {
    let obj = doc.as_object().ok_or_else(|| Fail::bad("invalidSyntax", "a group is a JSON object"))?;
    let name =
        super::text_at(obj, "displayName")?.ok_or_else(|| Fail::bad("invalidValue", "displayName is required"))?;
    let mut members = Vec::new();
    match get_ci(obj, "members") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let item = item.as_object().ok_or_else(|| Fail::bad("invalidValue", "each member is an object"))?;
                members.push(
                    super::text_at(item, "value")?
                        .ok_or_else(|| Fail::bad("invalidValue", "a member needs a value"))?,
                );
            }
        }
        Some(_) => return Err(Fail::bad("invalidValue", "members must be a list")),
    }
    Ok((name, members))
}

/// Refuses renaming a mapped group: its name is the setting's.
fn same_name(g: &Group, name: &str) -> Result<(), Fail> {
    if g.mapping.name.eq_ignore_ascii_case(name.trim()) {
        Ok(())
    } else {
        Err(Fail::bad("mutability", "a mapped group's name is the scim_groups setting's; change the setting"))
    }
}

/// `GET /scim/v2/Groups`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ScimCaller(service): ScimCaller,
    headers: HeaderMap,
    q: ListQuery,
) -> Result<Response, Fail> {
    let (total, page) = groups::list(&state.app, &service, q.filter.as_deref(), q.start_index, q.count).await?;
    let base = base_url(&state, &headers);
    Ok(list_response(total, q.start_index, page.iter().map(|g| q.shape.apply(render(g, &base))).collect()))
}

/// `GET /scim/v2/Groups/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    ScimCaller(service): ScimCaller,
    ScimPath(id): ScimPath,
    headers: HeaderMap,
    shape: Shape,
) -> Result<Response, Fail> {
    let g = groups::get(&state.app, &service, &id).await?;
    Ok(resource(StatusCode::OK, &shape.apply(render(&g, &base_url(&state, &headers))), &g.version()))
}

/// `POST /scim/v2/Groups`: a mapped group's name only; 201 with its members set.
pub(crate) async fn create(
    State(state): State<AppState>,
    ScimCaller(service): ScimCaller,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> Result<Response, Fail> {
    let (name, members) = input(&body)?;
    let g = groups::create(&state.app, &service, &name, &members).await?;
    Ok(resource(StatusCode::CREATED, &render(&g, &base_url(&state, &headers)), &g.version()))
}

/// `PUT /scim/v2/Groups/{id}`: replaces the members.
pub(crate) async fn put(
    State(state): State<AppState>,
    ScimCaller(service): ScimCaller,
    ScimPath(id): ScimPath,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> Result<Response, Fail> {
    let (name, members) = input(&body)?;
    let current = groups::get(&state.app, &service, &id).await?;
    same_name(&current, &name)?;
    let g = groups::set_members(&state.app, &service, &id, &members, if_match(&headers).as_deref()).await?;
    Ok(resource(StatusCode::OK, &render(&g, &base_url(&state, &headers)), &g.version()))
}

/// `PATCH /scim/v2/Groups/{id}`: members added, removed or replaced.
pub(crate) async fn patch(
    State(state): State<AppState>,
    ScimCaller(service): ScimCaller,
    ScimPath(id): ScimPath,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> Result<Response, Fail> {
    let current = groups::get(&state.app, &service, &id).await?;
    let base = base_url(&state, &headers);
    if if_match(&headers).is_some_and(|t| !bonafide_app::scim::matches(&t, &current.version())) {
        return Err(bonafide_app::scim::ScimError::Precondition.into());
    }
    let patched = super::patch::apply(render(&current, &base), &body)?;
    let (name, members) = input(&patched)?;
    same_name(&current, &name)?;
    let g = groups::set_members(&state.app, &service, &id, &members, Some(&current.version())).await?;
    Ok(resource(StatusCode::OK, &render(&g, &base), &g.version()))
}

/// `DELETE /scim/v2/Groups/{id}`: refused; a mapped group is configuration.
pub(crate) async fn delete(
    State(state): State<AppState>,
    ScimCaller(service): ScimCaller,
    ScimPath(id): ScimPath,
) -> Result<StatusCode, Fail> {
    groups::get(&state.app, &service, &id).await?;
    Err(Fail::bad("mutability", "a mapped group is the scim_groups setting's: remove it there, or remove its members"))
}
