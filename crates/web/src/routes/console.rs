//! `GET /api/v1/console/codes`: the IT staffer's live challenge codes ([`bonafide_app::console`]), one per
//! open assigned request and per approved outreach in its window. it_staff only.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Api;
use crate::routes::views::{PersonRef, rfc3339};
use axum::Json;
use axum::extract::State;
use bonafide_app::access::ItStaff;
use bonafide_app::console::{self, CodeFor};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub(crate) struct CodeView {
    #[serde(skip_serializing_if = "Option::is_none")]
    request_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outreach_id: Option<String>,
    employee: PersonRef,
    code: String,
    /// When the console shows the next code.
    rotates_at: String,
    /// Until when this code is accepted.
    valid_until: String,
}

#[utoipa::path(get, path = "/api/v1/console/codes", tag = "console", responses((status = 200, body = Vec<CodeView>)))]
pub(crate) async fn codes(
    Api(who, ..): Api<ItStaff>,
    State(state): State<AppState>,
) -> Result<Json<Vec<CodeView>>, ApiError> {
    let codes = console::codes(&state.app, &who).await?;
    Ok(Json(
        codes
            .into_iter()
            .map(|c| {
                let (request_key, outreach_id) = match c.subject {
                    CodeFor::Request { key, .. } => (Some(key.to_string()), None),
                    CodeFor::Outreach { id, .. } => (None, Some(id.to_string())),
                };
                CodeView {
                    request_key,
                    outreach_id,
                    employee: PersonRef { email: c.employee_email, display_name: c.employee_name },
                    code: c.code,
                    rotates_at: rfc3339(c.rotates_at),
                    valid_until: rfc3339(c.valid_until),
                }
            })
            .collect(),
    ))
}
