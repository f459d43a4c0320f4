//! The API's routes, one file per resource.

mod alerts;
mod analyze;
mod campaigns;
mod checks;
mod console;
mod me;
pub(crate) mod metrics;
mod outreach;
mod policy;
mod reports;
mod requests;
mod resources;
mod risk;
mod scim;
mod staff;
pub(crate) use staff::svg_response;
pub(crate) mod stix;
pub(crate) mod views;
mod webhooks;

use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub(crate) fn router(config: &crate::WebConfig) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(metrics::get))
        .route("/api/v1/me", get(me::get))
        .route("/api/v1/staff", get(staff::search))
        .route("/api/v1/staff/{staff_id}", get(staff::get))
        .route("/api/v1/staff/{staff_id}/photo", get(staff::photo))
        .route("/api/v1/requests", post(requests::create).get(requests::list))
        .route("/api/v1/requests/{key}", get(requests::get))
        .route("/api/v1/requests/{key}/assign", post(requests::assign))
        .route("/api/v1/requests/{key}/resolve", post(requests::resolve))
        .route("/api/v1/requests/{key}/cancel", post(requests::cancel))
        .route("/api/v1/requests/{key}/close", post(requests::close))
        .route("/api/v1/outreach", post(outreach::create).get(outreach::list))
        .route("/api/v1/outreach/{id}/approve", post(outreach::approve))
        .route("/api/v1/checks", post(checks::create))
        .route("/api/v1/checks/{id}", get(checks::get))
        .route("/api/v1/checks/{id}/challenge", post(checks::challenge))
        .route("/api/v1/console/codes", get(console::codes))
        .route("/api/v1/policy", get(policy::current).post(policy::publish))
        .route("/api/v1/policy/versions", get(policy::versions))
        .route("/api/v1/policy/versions/{n}", get(policy::version))
        .route("/api/v1/policy/versions/{n}/acknowledge", post(policy::acknowledge))
        .route("/api/v1/policy/acknowledgements", get(policy::acknowledgements))
        .route("/api/v1/resources", post(resources::create).get(resources::list))
        .route("/api/v1/resources/{id}", get(resources::get).put(resources::put).delete(resources::delete))
        .route("/api/v1/resources/{id}/access", get(resources::who_can_access))
        .route("/api/v1/people/{email}/access", get(resources::what_can_reach))
        .route("/api/v1/access-policies", get(resources::policies).post(resources::publish))
        .route("/api/v1/access-policies/schema", get(resources::schema))
        .route("/api/v1/authorize", post(resources::authorize))
        .route("/api/v1/access/counts", get(resources::allow_counts))
        .route("/api/v1/risk/me", get(risk::me))
        .route("/api/v1/risk/people", get(risk::people))
        .route("/api/v1/risk/departments", get(risk::departments))
        .route("/api/v1/risk/trend", get(risk::trend))
        .route("/api/v1/risk/settings", get(risk::settings).put(risk::put_settings))
        .route("/api/v1/risk/settings/preview", post(risk::preview))
        .route("/authz/{resource}", get(resources::authz))
        .route("/api/v1/alerts", get(alerts::list))
        .route(
            "/api/v1/reports",
            post(reports::create).layer(DefaultBodyLimit::max(config.report_body_limit)).get(reports::list),
        )
        .route("/api/v1/reports/{id}", get(reports::get))
        .route("/api/v1/campaigns", get(campaigns::list))
        .route("/api/v1/campaigns/{id}", get(campaigns::get))
        .route("/api/v1/campaigns/{id}/reports", get(campaigns::reports))
        .route("/api/v1/campaigns/{id}/stix", get(stix::export))
        .route("/api/v1/campaigns/{id}/status", post(campaigns::set_status))
        .route("/api/v1/campaigns/{id}/merge", post(campaigns::merge))
        .route("/api/v1/campaigns/{id}/official-contacts", post(campaigns::official_contacts))
        .route("/api/v1/campaigns/{id}/split", post(campaigns::split))
        .route("/api/v1/warnings", get(campaigns::warnings))
        .route("/api/v1/analyze", post(analyze::analyze_route).layer(DefaultBodyLimit::max(analyze::MAX_BODY)))
        .route("/api/v1/events", get(webhooks::events))
        .route("/api/v1/webhooks", post(webhooks::create).get(webhooks::list))
        .route("/api/v1/webhooks/{id}", axum::routing::delete(webhooks::delete))
        .route("/api/v1/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .nest("/scim/v2", scim::router())
}

/// `GET /healthz`: no auth; 200 when the process answers.
async fn health() -> &'static str {
    "ok"
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
