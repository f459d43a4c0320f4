//! `GET /api/v1/me`: who the token belongs to. Every signed-in person.

use crate::extract::Api;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The signed-in person.
#[derive(Serialize, ToSchema)]
pub(crate) struct Me {
    email: String,
    display_name: String,
    roles: Vec<&'static str>,
    department: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    staff_id: Option<String>,
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/api/v1/me", tag = "me", responses((status = 200, body = Me)))]
pub(crate) async fn get(Api(who, ..): Api) -> Json<Me> {
    let p = who.person;
    Json(Me {
        email: p.email.to_string(),
        display_name: p.display_name.to_string(),
        roles: p.roles.iter().map(|r| r.as_str()).collect(),
        department: p.department,
        staff_id: p.staff_id.map(|s| s.to_string()),
    })
}
