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
mod drills;
pub(crate) mod stix;
pub(crate) mod views;
mod webhooks;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{Common, Conflict, FieldErrorDoc, ProblemDoc};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub(crate) fn router(config: &crate::WebConfig) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(metrics::get))
        .route("/api/v1/openapi.json", get(openapi_json))
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
        .route("/api/v1/drills", post(drills::create).get(drills::list))
        .route("/api/v1/drills/scenarios", get(drills::scenarios))
        .route("/api/v1/drills/settings", get(drills::settings).put(drills::put_settings))
        .route("/api/v1/drills/verify-header", post(drills::verify_header))
        .route("/api/v1/drills/{id}", get(drills::get))
        .route("/api/v1/drills/{id}/launch", post(drills::launch))
        .route("/api/v1/drills/{id}/stop", post(drills::stop))
        .route("/api/v1/drills/{id}/results", get(drills::results))
        .route("/api/v1/people/{email}/drills", get(drills::person))
        .nest("/scim/v2", scim::router())
}

/// The API's OpenAPI 3.1 document: every route of [`router`] (a test proves none is missing).
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Bonafide API", description = "Verify IT contacts, report and correlate quid pro quo social engineering, and hold the risk against the company's tolerance. Every error is an RFC 9457 problem (`application/problem+json`)."),
    paths(
        health, openapi_json, metrics::get, me::get,
        staff::search, staff::get, staff::photo,
        requests::create, requests::list, requests::get, requests::assign, requests::resolve, requests::cancel, requests::close,
        outreach::create, outreach::list, outreach::approve,
        checks::create, checks::get, checks::challenge, console::codes,
        policy::current, policy::publish, policy::versions, policy::version, policy::acknowledge, policy::acknowledgements,
        resources::create, resources::list, resources::get, resources::put, resources::delete, resources::who_can_access,
        resources::what_can_reach, resources::policies, resources::publish, resources::schema, resources::authorize,
        resources::allow_counts, resources::authz,
        risk::me, risk::people, risk::departments, risk::trend, risk::settings, risk::put_settings, risk::preview,
        alerts::list, reports::create, reports::list, reports::get,
        campaigns::list, campaigns::get, campaigns::reports, stix::export, campaigns::set_status, campaigns::merge,
        campaigns::official_contacts, campaigns::split, campaigns::warnings,
        analyze::analyze_route,
        webhooks::events, webhooks::create, webhooks::list, webhooks::delete, webhooks::deliveries,
        drills::create, drills::list, drills::scenarios, drills::settings, drills::put_settings, drills::verify_header,
        drills::get, drills::launch, drills::stop, drills::results, drills::person,
    ),
    components(schemas(ProblemDoc, FieldErrorDoc), responses(Conflict)),
    modifiers(&Common),
)]
pub(crate) struct ApiDoc;

/// The document, built once.
pub(crate) fn openapi_document() -> &'static serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(<ApiDoc as utoipa::OpenApi>::openapi()).unwrap_or_default())
}

/// `GET /api/v1/openapi.json`: the API's contract, for client generators and API testers. No sign-in.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "This document", body = Object)))]
async fn openapi_json() -> axum::Json<&'static serde_json::Value> {
    axum::Json(openapi_document())
}

/// `GET /healthz`: no auth; 200 when the process answers.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "The process answers", content_type = "text/plain", body = String)))]
async fn health() -> &'static str {
    "ok"
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::openapi_document;
    use std::collections::BTreeSet;

    const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

    /// Every (method, path) that [`super::router`] serves, read from its source: one `.route("path",
    /// method(handler)...)` call at a time, with each `method(` that is not part of a longer name.
    fn routes_in_source() -> BTreeSet<(String, String)> {
        let src = include_str!("routes.rs");
        let start = src.find("pub(crate) fn router(").expect("router in routes.rs");
        let body = &src[start..];
        let body = &body[..body.find("\n}\n").expect("the end of router")];
        let mut found = BTreeSet::new();
        for call in body.split(".route(").skip(1) {
            let path = call.split('"').nth(1).expect("a path literal").to_owned();
            for m in METHODS {
                let mut rest = call;
                while let Some(i) = rest.find(&format!("{m}(")) {
                    let before = rest[..i].chars().next_back();
                    if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        found.insert((m.to_owned(), path.clone()));
                    }
                    rest = &rest[i + m.len()..];
                }
            }
        }
        found
    }

    fn routes_in_document() -> BTreeSet<(String, String)> {
        let doc = openapi_document();
        let paths = doc["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                METHODS.iter().filter(|m| item.get(**m).is_some()).map(move |m| ((*m).to_owned(), path.clone()))
            })
            .collect()
    }

    #[test]
    fn the_document_has_every_route_the_router_serves_and_no_other() {
        let served = routes_in_source();
        assert!(served.len() > 60, "the router's routes were not read: {served:?}");
        let documented = routes_in_document();
        let missing: Vec<_> = served.difference(&documented).collect();
        assert!(missing.is_empty(), "routes the OpenAPI document lacks: {missing:?}");
        let stale: Vec<_> = documented.difference(&served).collect();
        assert!(stale.is_empty(), "documented operations no route serves: {stale:?}");
    }

    /// Every `$ref` anywhere in `value`.
    fn refs<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_and_every_reference_resolves() {
        let doc = openapi_document();
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
        let mut found = Vec::new();
        refs(doc, &mut found);
        assert!(found.len() > 50, "few references: {}", found.len());
        for r in found {
            let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("a reference outside the document: {r}"));
            assert!(doc.pointer(pointer).is_some(), "{r} resolves to nothing");
        }
    }

    #[test]
    fn every_operation_documents_its_refusals_as_problems() {
        let doc = openapi_document();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("a path item") {
                let responses = op["responses"].as_object().expect("responses");
                assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} documents no success");
                assert!(responses.contains_key("503"), "{method} {path}: no 503");
                for (status, r) in responses {
                    let r = match r.get("$ref").and_then(|v| v.as_str()) {
                        Some(at) => doc.pointer(at.trim_start_matches('#')).expect("a response"),
                        None => r,
                    };
                    assert!(r["headers"].get("X-Request-Id").is_some(), "{method} {path} {status}: no X-Request-Id");
                }
                if path != "/healthz" && path != "/api/v1/openapi.json" {
                    assert!(responses.contains_key("401"), "{method} {path}: no 401");
                    assert_eq!(op["security"][0]["bearer"], serde_json::json!([]), "{method} {path}");
                    let problem = &responses["401"]["content"]["application/problem+json"]["schema"]["$ref"];
                    assert_eq!(problem, "#/components/schemas/Problem", "{method} {path}");
                }
                if op.get("requestBody").is_some() {
                    assert!(responses.contains_key("422"), "{method} {path}: no 422");
                }
            }
        }
    }
}
