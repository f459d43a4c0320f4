//! The discovery endpoints (RFC 7644 §4): what this service provider offers, and the schemas of what
//! it serves — only the attributes Bonafide keeps, so a provider never writes what would be dropped.
//! They need no token: they describe the service, not its data.

use super::groups::GROUP_SCHEMA;
use super::users::{ENTERPRISE, USER_SCHEMA};
use super::{Fail, ScimPath, base_url, list_response, scim_json};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// One attribute's definition.
struct Attr {
    name: &'static str,
    kind: &'static str,
    multi: bool,
    required: bool,
    mutability: &'static str,
    unique: bool,
    refs: &'static [&'static str],
    subs: Vec<Attr>,
}

fn attr(name: &'static str, kind: &'static str) -> Attr {
    Attr { name, kind, multi: false, required: false, mutability: "readWrite", unique: false, refs: &[], subs: vec![] }
}

impl Attr {
    fn required(self) -> Self {
        Attr { required: true, ..self }
    }
    fn multi(self) -> Self {
        Attr { multi: true, ..self }
    }
    fn read_only(self) -> Self {
        Attr { mutability: "readOnly", ..self }
    }
    fn unique(self) -> Self {
        Attr { unique: true, ..self }
    }
    fn refs(self, refs: &'static [&'static str]) -> Self {
        Attr { refs, ..self }
    }
    fn subs(self, subs: Vec<Attr>) -> Self {
        Attr { subs, ..self }
    }

    fn json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": self.kind,
            "multiValued": self.multi,
            "description": "",
            "required": self.required,
            "caseExact": self.kind == "reference" || self.name == "externalId" || self.name == "id",
            "mutability": self.mutability,
            "returned": "default",
            "uniqueness": if self.unique { "server" } else { "none" },
        });
        if let Some(map) = v.as_object_mut() {
            if !self.refs.is_empty() {
                map.insert("referenceTypes".into(), json!(self.refs));
            }
            if !self.subs.is_empty() {
                map.insert("subAttributes".into(), Value::Array(self.subs.iter().map(Attr::json).collect()));
            }
        }
        v
    }
}

fn schema(id: &str, name: &str, description: &str, attributes: &[Attr], base: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes.iter().map(Attr::json).collect::<Vec<_>>(),
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{id}") },
    })
}

fn all_schemas(base: &str) -> Vec<Value> {
    let user = [
        attr("userName", "string").required().unique(),
        attr("displayName", "string").required(),
        attr("title", "string"),
        attr("active", "boolean").required(),
        attr("emails", "complex")
            .multi()
            .required()
            .subs(vec![attr("value", "string").required(), attr("primary", "boolean")]),
    ];
    let enterprise = [
        attr("employeeNumber", "string"),
        attr("department", "string"),
        attr("manager", "complex").subs(vec![attr("value", "string"), attr("$ref", "reference").refs(&["User"])]),
    ];
    let group = [
        attr("displayName", "string").required().unique(),
        attr("members", "complex").multi().subs(vec![
            attr("value", "string"),
            attr("$ref", "reference").refs(&["User"]),
            attr("display", "string").read_only(),
        ]),
    ];
    let resource_type = [
        attr("id", "string").read_only(),
        attr("name", "string").required().read_only(),
        attr("description", "string").read_only(),
        attr("endpoint", "reference").required().read_only().refs(&["uri"]),
        attr("schema", "reference").required().read_only().refs(&["uri"]),
        attr("schemaExtensions", "complex").multi().read_only().subs(vec![
            attr("schema", "reference").required().read_only().refs(&["uri"]),
            attr("required", "boolean").required().read_only(),
        ]),
    ];
    let spc = [
        attr("documentationUri", "reference").read_only().refs(&["external"]),
        attr("patch", "complex").required().read_only().subs(vec![attr("supported", "boolean").required().read_only()]),
        attr("filter", "complex")
            .required()
            .read_only()
            .subs(vec![attr("supported", "boolean").required().read_only(), attr("maxResults", "integer").read_only()]),
        attr("etag", "complex").required().read_only().subs(vec![attr("supported", "boolean").required().read_only()]),
    ];
    let schema_schema = [
        attr("id", "string").required().read_only(),
        attr("name", "string").read_only(),
        attr("description", "string").read_only(),
        attr("attributes", "complex").multi().required().read_only().subs(vec![
            attr("name", "string").required().read_only(),
            attr("type", "string").required().read_only(),
            attr("multiValued", "boolean").required().read_only(),
            attr("required", "boolean").read_only(),
            attr("mutability", "string").read_only(),
        ]),
    ];
    vec![
        schema(USER_SCHEMA, "User", "A person in Bonafide's directory", &user, base),
        schema(ENTERPRISE, "EnterpriseUser", "Department, manager and employee number", &enterprise, base),
        schema(GROUP_SCHEMA, "Group", "A group mapped to a department and roles (scim_groups)", &group, base),
        schema(RESOURCE_TYPE_SCHEMA, "ResourceType", "A type of resource this server serves", &resource_type, base),
        schema(SPC_SCHEMA, "ServiceProviderConfig", "What this service provider offers", &spc, base),
        schema(SCHEMA_SCHEMA, "Schema", "How a schema is described", &schema_schema, base),
    ]
}

fn all_resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "User", "name": "User", "endpoint": "/Users", "description": "People in the directory",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{ "schema": ENTERPRISE, "required": false }],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") },
        }),
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Groups mapped to departments and roles",
            "schema": GROUP_SCHEMA,
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group") },
        }),
    ]
}

/// `GET /scim/v2/ServiceProviderConfig`.
pub(crate) async fn service_provider_config(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = base_url(&state, &headers);
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [SPC_SCHEMA],
            "patch": { "supported": true },
            "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": true, "maxResults": bonafide_app::scim::MAX_COUNT },
            "changePassword": { "supported": false },
            "sort": { "supported": false },
            "etag": { "supported": true },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Service token",
                "description": "A bearer token made by `bonafide token create --service <name> --scope scim`",
                "primary": true,
            }],
            "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig") },
        }),
    )
}

/// `GET /scim/v2/ResourceTypes`.
pub(crate) async fn resource_types(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let types = all_resource_types(&base_url(&state, &headers));
    list_response(types.len(), 1, types)
}

/// `GET /scim/v2/ResourceTypes/{id}`.
pub(crate) async fn resource_type(
    State(state): State<AppState>,
    headers: HeaderMap,
    ScimPath(id): ScimPath,
) -> Result<Response, Fail> {
    let found = all_resource_types(&base_url(&state, &headers))
        .into_iter()
        .find(|t| t.get("id").and_then(Value::as_str) == Some(id.as_str()));
    found
        .map(|t| scim_json(StatusCode::OK, &t))
        .ok_or_else(|| Fail::new(StatusCode::NOT_FOUND, None, "no such resource type"))
}

/// `GET /scim/v2/Schemas`.
pub(crate) async fn schemas(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let all = all_schemas(&base_url(&state, &headers));
    list_response(all.len(), 1, all)
}

/// `GET /scim/v2/Schemas/{id}`.
pub(crate) async fn schema_by_id(
    State(state): State<AppState>,
    headers: HeaderMap,
    ScimPath(id): ScimPath,
) -> Result<Response, Fail> {
    let found = all_schemas(&base_url(&state, &headers))
        .into_iter()
        .find(|s| s.get("id").and_then(Value::as_str) == Some(id.as_str()));
    found.map(|s| scim_json(StatusCode::OK, &s)).ok_or_else(|| Fail::new(StatusCode::NOT_FOUND, None, "no such schema"))
}
