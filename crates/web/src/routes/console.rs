//! `GET /api/v1/console/codes`: the IT staffer's live challenge codes, one per open assigned request and
//! per approved outreach in its window. it_staff only.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ItStaff;
use crate::routes::views::{PersonRef, rfc3339};
use axum::Json;
use axum::extract::State;
use bonafide_domain::{Authority, ChallengeSubject, RequestStatus, TimeStep};
use bonafide_store::RequestScope;
use serde::Serialize;

#[derive(Serialize)]
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

pub(crate) async fn codes(
    ItStaff(me): ItStaff,
    State(state): State<AppState>,
) -> Result<Json<Vec<CodeView>>, ApiError> {
    let now = state.clock.now();
    let step = TimeStep::at(now);
    let mut out = Vec::new();
    let code_for = |authority: Authority, employee| {
        state.secret.code(&ChallengeSubject { authority, staffer: me.id, employee }, step).as_str().to_owned()
    };
    for r in state.store.list_requests(RequestScope::AssignedTo(me.id), 500).await? {
        if r.status != RequestStatus::Assigned {
            continue;
        }
        out.push(CodeView {
            code: code_for(Authority::Request { key: r.key }, r.requester),
            request_key: Some(r.key.to_string()),
            outreach_id: None,
            employee: PersonRef { email: r.requester_email.to_string(), display_name: r.requester_name.to_string() },
            rotates_at: rfc3339(step.rotates_at()),
            valid_until: rfc3339(step.valid_until()),
        });
    }
    for o in state.store.live_outreach_by(me.id, now).await? {
        if !o.window.contains(now) {
            continue;
        }
        out.push(CodeView {
            code: code_for(Authority::Outreach { id: o.id }, o.employee),
            request_key: None,
            outreach_id: Some(o.id.to_string()),
            employee: PersonRef { email: o.employee_email.to_string(), display_name: o.employee_name.to_string() },
            rotates_at: rfc3339(step.rotates_at()),
            valid_until: rfc3339(step.valid_until()),
        });
    }
    Ok(Json(out))
}
