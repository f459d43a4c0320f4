//! The pieces of the API's OpenAPI 3.1 document that no single route owns: the problem every refusal
//! answers with, the bearer scheme, and the answers every operation can give (a sign-in required, a
//! role refused, a body that cannot be read, storage unavailable). [`crate::routes::ApiDoc`] lists the
//! operations; [`Common`] adds these to each, so a route documents only what is its own.

use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, OpenApi, Ref, RefOr};
use utoipa::{Modify, ToResponse, ToSchema};

/// An RFC 9457 problem: what every error answers with, as `application/problem+json`.
#[derive(ToSchema)]
#[schema(as = Problem)]
#[allow(dead_code)] // Describes the JSON that `ApiError` writes; never built.
pub(crate) struct ProblemDoc {
    /// `urn:bonafide:problem:<kind>`, stable per kind of error.
    #[schema(rename = "type", example = "urn:bonafide:problem:invalid-input")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    /// For `invalid-input`: each rejected field.
    errors: Option<Vec<FieldErrorDoc>>,
}

/// One rejected input field.
#[derive(ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)]
pub(crate) struct FieldErrorDoc {
    /// The field, as the input names it (`asked_for[1]`, `staff_id`).
    field: String,
    message: String,
    /// Where in a text field (a policy), the 1-based line...
    line: Option<u64>,
    /// ...and column.
    column: Option<u64>,
}

/// A problem answer with `description`.
fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
        )
        .build()
}

/// 409: the resource is not in a state that allows this.
pub(crate) struct Conflict;

impl<'r> ToResponse<'r> for Conflict {
    fn response() -> (&'r str, RefOr<Response>) {
        ("Conflict", problem("Conflicts with the current state").into())
    }
}

/// The body `POST /api/v1/analyze` reads as JSON: one text, or a conversation.
#[derive(ToSchema)]
#[schema(as = AnalyzeInput)]
#[allow(dead_code)]
pub(crate) struct AnalyzeInput {
    /// Echoed back in the answer: any JSON value.
    id: Option<serde_json::Value>,
    /// One message or transcript (or give `messages`).
    text: Option<String>,
    /// A conversation (or give `text`).
    messages: Option<Vec<AnalyzeMessage>>,
}

/// One message of a conversation.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct AnalyzeMessage {
    /// Who wrote it (empty by default).
    from: Option<String>,
    text: String,
}

/// The analyzer's answer.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Analysis {
    /// The input's `id`, or null.
    id: serde_json::Value,
    /// In [0, 1]: how strongly the text follows a social-engineering script.
    score: f64,
    /// `qpq`, `suspicious` or `benign`.
    verdict: String,
    stages: Vec<Stage>,
    /// Whether more stages were found than are listed.
    stages_truncated: bool,
}

/// One stage of the script found in the text, with its evidence.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Stage {
    stage: String,
    /// What is asked, for a sensitive request.
    kind: Option<String>,
    /// Which message, in a conversation.
    message_index: Option<u64>,
    /// Byte offsets of the evidence in its message.
    start: u64,
    end: u64,
    evidence: String,
}

/// Paths that answer without a token.
const OPEN: [&str; 2] = ["/healthz", "/api/v1/openapi.json"];

/// Adds the bearer scheme, and to every operation the problems any operation of its kind can answer.
pub(crate) struct Common;

impl Modify for Common {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.security_schemes.insert(
            "bearer".to_owned(),
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token (`bonafide token create`) or a service token"))
                    .build(),
            )
            .into(),
        );
        for response in components.responses.values_mut() {
            if let RefOr::T(r) = response {
                with_request_id(r);
            }
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let open = OPEN.contains(&path.as_str());
            let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                add_common(op, open);
                for response in op.responses.responses.values_mut() {
                    if let RefOr::T(r) = response {
                        with_request_id(r);
                    }
                }
            }
        }
    }
}

/// Every answer carries the request's id, the one its log lines carry.
fn with_request_id(r: &mut Response) {
    r.headers.entry("X-Request-Id".to_owned()).or_insert_with(|| {
        HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String).max_length(Some(64))))
            .description(Some("The request's id, as in the log (the caller's own when it sent a sane one)"))
            .build()
            .into()
    });
}

fn add_common(op: &mut Operation, open: bool) {
    let has_body = op.request_body.is_some();
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let mut add = |status: &str, description: &str| {
        op.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description).into());
    };
    if !open {
        add("401", "Sign-in required: no token, or one that is unknown, expired or revoked");
        add("403", "Not allowed for the caller's role or scope");
        add("429", "Too many requests (see `Retry-After`)");
    }
    if has_params {
        add("404", "Absent, or not visible to the caller");
        add("422", "A parameter is invalid");
    }
    if has_body {
        add("400", "The body is not valid JSON");
        add("408", "The body did not arrive in time");
        add("413", "The body is over the size limit");
        add("415", "The body is not of a type this operation reads");
        add("422", "A field is invalid (each is named in `errors`)");
    }
    add("500", "Internal error");
    op.responses.responses.entry("503".to_owned()).or_insert_with(|| {
        let mut r = problem("Storage is unavailable; try again (see `Retry-After`)");
        r.headers.insert(
            "Retry-After".to_owned(),
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .description(Some("Seconds to wait"))
                .build()
                .into(),
        );
        r.into()
    });
    if !open {
        op.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
}
