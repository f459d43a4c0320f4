//! `GET /api/v1/alerts`: security alerts (lockouts and more). security_admin only.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Api;
use crate::routes::views::rfc3339;
use axum::Json;
use axum::extract::State;
use bonafide_app::access::SecurityAdmins;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub(crate) struct AlertView {
    id: String,
    kind: String,
    severity: String,
    check_id: Option<String>,
    campaign_id: Option<String>,
    message: String,
    created_at: String,
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", responses((status = 200, body = Vec<AlertView>)))]
pub(crate) async fn list(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let alerts = bonafide_app::security::alerts(&state.app, &who, bonafide_app::security::ALERTS_LIMIT).await?;
    Ok(Json(
        alerts
            .into_iter()
            .map(|a| AlertView {
                id: a.id.to_string(),
                kind: a.kind,
                severity: a.severity,
                check_id: a.check.map(|c| c.to_string()),
                campaign_id: a.campaign.map(|c| c.to_string()),
                message: a.message,
                created_at: rfc3339(a.created_at),
            })
            .collect(),
    ))
}
