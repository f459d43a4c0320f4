//! Access policies in the portal: the resources security registers (with the allows counted over the
//! last 30 days), the Cedar editor (check or publish; each error at its line), a decision to try, and the
//! people × resources matrix for a context. Security admins write; auditors read everything.

use crate::AppState;
use crate::portal::forms::{TextForm, failed, problems, text_form};
use crate::portal::html::{csrf_field, notice, page, respond, when};
use crate::portal::input::PageQuery;
use crate::portal::session::{CsrfForm, Page, Viewer};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bonafide_app::access::{SECURITY_ADMINS, SecurityAdmins, SecurityReaders};
use bonafide_app::decisions::{self, Ask, Asker, Circumstances, Decision, Matrix};
use bonafide_app::records::{AccessPolicyRecord, ResourceRecord};
use bonafide_app::resources;
use bonafide_app::{Acting, AppError, FieldError};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/security/access", get(access_page))
        .route("/security/access/policies", post(policies_submit))
        .route("/security/access/try", post(try_submit))
}

/// People per page of the matrix.
const PEOPLE_PER_PAGE: usize = 50;

/// The days whose allows the resources table adds up.
const COUNT_DAYS: u16 = 30;

/// The actions a decision is asked for, as the form offers them.
const ACTIONS: [(&str, &str); 3] = [("access", "Access"), ("admin", "Administer"), ("export", "Export data")];

/// Where a request comes from, as the forms offer it.
const NETWORKS: [(&str, &str); 3] = [("office", "Office network"), ("vpn", "VPN"), ("internet", "Internet")];

/// What the policy editor shows.
enum Editor {
    /// The version in force; a notice when it is `published`, the version just published.
    InForce { published: Option<u32> },
    /// A text checked and found good, with `count` policies (nothing published).
    Checked { text: String, count: usize },
    /// A text refused by a check or a publish, with its errors.
    Refused { text: String, errors: Vec<FieldError>, publishing: bool },
}

/// The "try a decision" form as submitted (checkboxes are absent when not ticked).
#[derive(Deserialize)]
struct TryForm {
    #[serde(default)]
    principal: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    resource: String,
    mfa: Option<String>,
    device_managed: Option<String>,
    #[serde(default)]
    network: String,
}

/// The "try a decision" form's values, and the decision (or why there is none) once asked.
struct Trial {
    ask: Ask,
    outcome: Option<Result<Decision, Vec<FieldError>>>,
}

impl Default for Trial {
    fn default() -> Self {
        let (action, network) = ("access".to_owned(), "office".to_owned());
        let ask =
            Ask { principal: String::new(), action, resource: String::new(), mfa: true, device_managed: true, network };
        Trial { ask, outcome: None }
    }
}

/// The matrix's query string (and `published`, the version a publish just put in force). Read as text:
/// a bad value is a message on the page, not a refusal of the address.
#[derive(Deserialize, Default)]
struct MatrixParams {
    mfa: Option<String>,
    device_managed: Option<String>,
    network: Option<String>,
    department: Option<String>,
    page: Option<String>,
    published: Option<String>,
}

/// The context, department and page the matrix is asked for.
struct MatrixAsk {
    circumstances: Circumstances,
    department: String,
    page: usize,
}

/// A yes/no parameter: absent is `default`.
fn flag(value: Option<&str>, name: &str, default: bool, errors: &mut Vec<FieldError>) -> bool {
    match value.map(str::trim) {
        None | Some("") => default,
        Some("true") => true,
        Some("false") => false,
        Some(_) => {
            errors.push(FieldError::new(name, "true or false"));
            default
        }
    }
}

/// What `q` asks the matrix for (by default with a second factor, on a managed device, at the office:
/// as the API assumes), and the parameters that could not be read.
fn matrix_ask(q: &MatrixParams) -> (MatrixAsk, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mfa = flag(q.mfa.as_deref(), "mfa", true, &mut errors);
    let device_managed = flag(q.device_managed.as_deref(), "device_managed", true, &mut errors);
    let network = q.network.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or("office").to_owned();
    let page = match q.page.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if n >= 1 && (n - 1).checked_mul(PEOPLE_PER_PAGE).is_some() => n,
            _ => {
                errors.push(FieldError::new("page", "a page number, from 1"));
                1
            }
        },
    };
    let department = q.department.as_deref().unwrap_or("").trim().to_owned();
    (MatrixAsk { circumstances: Circumstances { mfa, device_managed, network }, department, page }, errors)
}

/// The address of page `page` of the matrix for `ask`.
fn matrix_href(ask: &MatrixAsk, page: usize) -> String {
    let c = &ask.circumstances;
    let query = serde_urlencoded::to_string([
        ("mfa", c.mfa.to_string()),
        ("device_managed", c.device_managed.to_string()),
        ("network", c.network.clone()),
        ("department", ask.department.clone()),
        ("page", page.to_string()),
    ])
    .unwrap_or_default();
    format!("/security/access?{query}#matrix")
}

async fn access_page(
    p: Page<SecurityReaders>,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<MatrixParams>,
) -> Response {
    let published = q.published.as_deref().and_then(|v| v.trim().parse().ok());
    render(&p.viewer, &state, StatusCode::OK, Editor::InForce { published }, Trial::default(), &q).await
}

#[derive(Deserialize)]
struct PoliciesForm {
    #[serde(default)]
    intent: String,
    #[serde(default)]
    policies: String,
}

async fn policies_submit(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<PoliciesForm>,
) -> Response {
    let text = form.policies;
    let editor = match form.intent.as_str() {
        "check" => match resources::compile(&text) {
            Ok(compiled) => Editor::Checked { count: compiled.len(), text },
            Err(AppError::Invalid(errors)) => Editor::Refused { text, errors, publishing: false },
            Err(e) => return failed(e, &p.viewer),
        },
        "publish" => match resources::publish(&state.app, Acting::Person(p.viewer.caller()), &text).await {
            Ok(v) => {
                return Redirect::to(&format!("/security/access?published={}#policies", v.version)).into_response();
            }
            Err(AppError::Invalid(errors)) => Editor::Refused { text, errors, publishing: true },
            Err(e) => return failed(e, &p.viewer),
        },
        _ => Editor::Refused { text, errors: vec![FieldError::new("intent", "check or publish")], publishing: false },
    };
    let status =
        if matches!(editor, Editor::Refused { .. }) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    render(&p.viewer, &state, status, editor, Trial::default(), &MatrixParams::default()).await
}

async fn try_submit(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<TryForm>,
) -> Response {
    let ask = Ask {
        principal: form.principal.trim().to_owned(),
        action: form.action,
        resource: form.resource,
        mfa: form.mfa.is_some(),
        device_managed: form.device_managed.is_some(),
        network: form.network,
    };
    let (status, outcome) = match decisions::authorize(&state.app, Asker::Person(p.viewer.caller()), ask.clone()).await
    {
        Ok(d) => (StatusCode::OK, Ok(d)),
        Err(AppError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, Err(errors)),
        Err(e) => return failed(e, &p.viewer),
    };
    let trial = Trial { ask, outcome: Some(outcome) };
    let editor = Editor::InForce { published: None };
    render(&p.viewer, &state, status, editor, trial, &MatrixParams::default()).await
}

/// The whole page: the resources, the policies, the trial form (security admins) and the matrix for `q`.
async fn render(
    viewer: &Viewer,
    state: &AppState,
    status: StatusCode,
    editor: Editor,
    trial: Trial,
    q: &MatrixParams,
) -> Response {
    let (app, who) = (&state.app, viewer.caller());
    let (listed, in_force, counts) = tokio::join!(
        resources::list(app, who),
        resources::policies(app, who),
        decisions::allow_counts(app, who, COUNT_DAYS)
    );
    let (listed, in_force, counts) = match (listed, in_force, counts) {
        (Ok(l), Ok(p), Ok(c)) => (l, p, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return failed(e, viewer),
    };
    let mut allows: HashMap<String, i64> = HashMap::new();
    for c in counts {
        *allows.entry(c.resource).or_default() += c.allows;
    }
    let (ask, mut trouble) = matrix_ask(q);
    let mut matrix = None;
    if trouble.is_empty() {
        let department = Some(ask.department.as_str()).filter(|d| !d.is_empty());
        let offset = (ask.page - 1) * PEOPLE_PER_PAGE;
        match decisions::matrix(app, who, &ask.circumstances, department, offset, PEOPLE_PER_PAGE).await {
            Ok(m) => matrix = Some(m),
            Err(AppError::Invalid(errors)) => trouble = errors,
            Err(e) => return failed(e, viewer),
        }
    }
    let status = if trouble.is_empty() { status } else { StatusCode::UNPROCESSABLE_ENTITY };
    let admin = SECURITY_ADMINS.allows(&viewer.me);
    let body = html! {
        h1 { "Access policies" }
        p.lead { "Who may reach the company's portals, databases and apps: Cedar policies decide on the directory's facts." }
        p { a href="#resources" { "Resources" } " · " a href="#policies" { "Policies" } " · "
            @if admin { a href="#try" { "Try a decision" } " · " } a href="#matrix" { "Who can reach what" } }
        (resources_section(&listed, &allows))
        (editor_section(&viewer.csrf, admin, in_force.as_ref(), &editor))
        @if admin { (try_section(&viewer.csrf, &listed, &trial)) }
        (matrix_section(&listed, &ask, matrix.as_ref(), &trouble))
    };
    respond(status, page("Access policies", Some(viewer), body))
}

fn resources_section(listed: &[ResourceRecord], allows: &HashMap<String, i64>) -> Markup {
    html! {
        h2 #resources { "Resources" }
        @if listed.is_empty() {
            p { "No resources are registered yet. Security registers them through the API (" code { "POST /api/v1/resources" } ")." }
        } @else {
            div.table-wrap { table.stack {
                thead { tr {
                    th { "Id" } th { "Name" } th { "Kind" } th { "Sensitivity" } th { "Owner department" } th { "Tags" }
                    th { "Allows (30 days)" }
                } }
                tbody {
                    @for r in listed {
                        tr {
                            td data-label="Id" { code { (r.id) } }
                            td data-label="Name" { (r.name) }
                            td data-label="Kind" { (r.kind) }
                            td data-label="Sensitivity" { (r.sensitivity) }
                            td data-label="Owner department" { (r.owner_department.as_deref().unwrap_or("—")) }
                            td data-label="Tags" { (r.tags.join(", ")) }
                            td data-label="Allows (30 days)" { (allows.get(&r.id).copied().unwrap_or(0)) }
                        }
                    }
                }
            } }
            p.hint { "Allows on high-sensitivity resources are not counted here: each one is in the audit log." }
        }
    }
}

/// Where in the text an error is, as people read it: "Line 2, column 9".
fn place(e: &FieldError) -> Option<String> {
    match (e.line.filter(|l| *l > 0), e.column.filter(|c| *c > 0)) {
        (Some(l), Some(c)) => Some(format!("Line {l}, column {c}")),
        (Some(l), None) => Some(format!("Line {l}")),
        _ => None,
    }
}

/// The errors of a refused text, each linking to its line in [`numbered`].
fn refusal(errors: &[FieldError], publishing: bool) -> Markup {
    html! {
        div.notice.error role="alert" {
            p { @if publishing { "This version was not published; the one in force stays:" } @else { "The check found errors:" } }
            ul.errors {
                @for e in errors {
                    li {
                        @match (place(e), e.line.filter(|l| *l > 0)) {
                            (Some(at), Some(line)) => { a href=(format!("#line-{line}")) { (at) } ": " }
                            _ => { @if e.field != "policies" { code { (e.field) } ": " } }
                        }
                        (e.message)
                    }
                }
            }
        }
    }
}

/// `text` with its lines numbered (each `line-N`, to link to), the lines `errors` name marked.
fn numbered(text: &str, errors: &[FieldError], label: &str) -> Markup {
    let bad: HashSet<usize> = errors.iter().filter_map(|e| e.line).collect();
    html! {
        ol.source aria-label=(label) {
            @for (i, line) in text.lines().enumerate() {
                @let n = i + 1;
                @if bad.contains(&n) {
                    li.bad id=(format!("line-{n}")) { span.visually-hidden { "Error on this line: " } (line) }
                } @else {
                    li id=(format!("line-{n}")) { (line) }
                }
            }
        }
    }
}

fn count_text(n: usize) -> String {
    if n == 1 { "1 policy".to_owned() } else { format!("{n} policies") }
}

fn editor_section(csrf: &str, admin: bool, in_force: Option<&AccessPolicyRecord>, editor: &Editor) -> Markup {
    let current = in_force.map_or("", |r| r.policies.as_str());
    let text = match editor {
        Editor::InForce { .. } => current,
        Editor::Checked { text, .. } | Editor::Refused { text, .. } => text.as_str(),
    };
    html! {
        h2 #policies { "Policies" }
        @match in_force {
            Some(r) => p.meta { "Version " (r.version) " is in force, since " (when(r.created_at)) "." },
            None => p.meta { "No version has been published yet: everything is denied." },
        }
        @match editor {
            Editor::InForce { published: Some(n) } if in_force.is_some_and(|r| r.version == *n) => {
                (notice(&format!("Version {n} is in force."), false))
            }
            Editor::InForce { .. } => {}
            Editor::Checked { count, .. } => {
                (notice(&format!("No errors: {}. Nothing was published.", count_text(*count)), false))
            }
            Editor::Refused { errors, publishing, .. } => (refusal(errors, *publishing)),
        }
        @if admin {
            (text_form(csrf, &TextForm {
                action: "/security/access/policies",
                id: "policy-text",
                field: "policies",
                label: "Cedar policies",
                hint: "Name each policy with @id(\"…\"): a decision names the policies that made it.",
                rows: 16,
                text,
                look: ("check", "Check"),
                change: ("publish", "Publish"),
            }))
            @if let Editor::Refused { text, errors, .. } = editor {
                h3 { "The text, line by line" }
                (numbered(text, errors, "The submitted policies"))
            }
        } @else if in_force.is_some() {
            (numbered(current, &[], "The policies in force"))
        }
        details {
            summary { "The schema the policies are checked against" }
            pre.schema { (resources::SCHEMA) }
        }
    }
}

/// The messages of `errors` about `field`, under its input.
fn field_problem(errors: &[FieldError], field: &str) -> Markup {
    html! {
        @for e in errors.iter().filter(|e| e.field == field) {
            span.field-error id=(format!("{}-error", field.replace('.', "-"))) { (e.message) }
        }
    }
}

fn try_section(csrf: &str, listed: &[ResourceRecord], t: &Trial) -> Markup {
    let a = &t.ask;
    let errors: &[FieldError] = match &t.outcome {
        Some(Err(errors)) => errors,
        _ => &[],
    };
    let invalid = |field: &str| errors.iter().any(|e| e.field == field).then_some("true");
    let described =
        |field: &str| errors.iter().any(|e| e.field == field).then(|| format!("{}-error", field.replace('.', "-")));
    html! {
        h2 #try { "Try a decision" }
        p.hint { "Decided by the version in force, as another system would ask. Denies, and allows on high-sensitivity resources, are audited." }
        @if !errors.is_empty() { (problems("This could not be decided:", errors)) }
        form.stack method="post" action="/security/access/try" {
            (csrf_field(csrf))
            div {
                label for="principal" { "Person (email)" }
                input #principal type="email" name="principal" value=(a.principal) maxlength="254" aria-invalid=[invalid("principal")] aria-describedby=[described("principal")];
                (field_problem(errors, "principal"))
            }
            div.row {
                div {
                    label for="action" { "Action" }
                    select #action name="action" aria-invalid=[invalid("action")] aria-describedby=[described("action")] {
                        @for (v, label) in ACTIONS { option value=(v) selected[a.action == v] { (label) } }
                    }
                    (field_problem(errors, "action"))
                }
                div {
                    label for="resource" { "Resource" }
                    select #resource name="resource" aria-invalid=[invalid("resource")] aria-describedby=[described("resource")] {
                        @for r in listed { option value=(r.id) selected[a.resource == r.id] { (r.id) " · " (r.name) } }
                    }
                    (field_problem(errors, "resource"))
                }
                div {
                    label for="network" { "Network" }
                    select #network name="network" aria-invalid=[invalid("context.network")] aria-describedby=[described("context.network")] {
                        @for (v, label) in NETWORKS { option value=(v) selected[a.network == v] { (label) } }
                    }
                    (field_problem(errors, "context.network"))
                }
            }
            div.choices {
                label { input type="checkbox" name="mfa" value="true" checked[a.mfa]; "Signed in with a second factor" }
                label { input type="checkbox" name="device_managed" value="true" checked[a.device_managed]; "From a managed device" }
            }
            button type="submit" { "Decide" }
        }
        @if let Some(Ok(d)) = &t.outcome { (decision_markup(a, d)) }
    }
}

fn decision_markup(a: &Ask, d: &Decision) -> Markup {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    html! {
        section.panel.(if d.allow { "ok" } else { "bad" }) #decision role="status" aria-label="The decision" {
            h3 { @if d.allow { "Allowed" } @else { "Denied" } }
            p.muted {
                span.email { (a.principal) } " · " (a.action) " · " code { (a.resource) } " · second factor " (yes_no(a.mfa))
                ", managed device " (yes_no(a.device_managed)) ", network " (a.network)
            }
            @if d.suspended {
                p { strong { "Suspended: " } "this person is suspended, so everything is denied whatever the policies say." }
            }
            @if d.policies.is_empty() {
                @if !d.suspended { p { "No policy permits it: denied by default." } }
            } @else {
                p { "Decided by: " @for (i, id) in d.policies.iter().enumerate() { @if i > 0 { ", " } code.policy { (id) } } }
            }
            @if !d.errors.is_empty() {
                p { "Errors while deciding:" }
                ul.errors { @for e in &d.errors { li { (e) } } }
            }
        }
    }
}

fn matrix_section(listed: &[ResourceRecord], ask: &MatrixAsk, m: Option<&Matrix>, trouble: &[FieldError]) -> Markup {
    let c = &ask.circumstances;
    let names: HashMap<&str, &str> = listed.iter().map(|r| (r.id.as_str(), r.name.as_str())).collect();
    let yes_no = |name: &str, label: &str, value: bool| {
        html! {
            div {
                label for=(format!("m-{name}")) { (label) }
                select id=(format!("m-{name}")) name=(name) {
                    option value="true" selected[value] { "Yes" }
                    option value="false" selected[!value] { "No" }
                }
            }
        }
    };
    html! {
        h2 #matrix { "Who can reach what" }
        p.hint { "Whether each active person may access each resource, by the version in force, in the context chosen here." }
        form.row.search method="get" action="/security/access#matrix" {
            (yes_no("mfa", "Second factor", c.mfa))
            (yes_no("device_managed", "Managed device", c.device_managed))
            div {
                label for="m-network" { "Network" }
                select #m-network name="network" {
                    @for (v, label) in NETWORKS { option value=(v) selected[c.network == v] { (label) } }
                }
            }
            div { label for="m-department" { "Department" } input #m-department type="text" name="department" value=(ask.department) maxlength="120"; }
            button type="submit" { "Show" }
        }
        @if !trouble.is_empty() { (problems("This context cannot be shown:", trouble)) }
        @if let Some(m) = m {
            @let first = (ask.page - 1) * PEOPLE_PER_PAGE + 1;
            @let last = (first + m.rows.len()).saturating_sub(1);
            p.muted role="status" {
                @if m.total == 0 { "Nobody matches." }
                @else if m.rows.is_empty() { "No people on this page; " (m.total) " in all." }
                @else { "People " (first) "–" (last) " of " (m.total) }
            }
            @if m.resources.is_empty() {
                p { "No resources are registered yet." }
            } @else if !m.rows.is_empty() {
                div.table-wrap { table.stack.matrix {
                    thead { tr {
                        th scope="col" { "Person" } th scope="col" { "Department" }
                        @for id in &m.resources { th scope="col" title=(names.get(id.as_str()).copied().unwrap_or("")) { code { (id) } } }
                    } }
                    tbody {
                        @for row in &m.rows {
                            tr {
                                td data-label="Person" { span.email { (row.email) } }
                                td data-label="Department" { (row.department) }
                                @for (id, allowed) in m.resources.iter().zip(&row.allowed) {
                                    @if *allowed {
                                        td.allowed data-label=(id) title="allowed" { span aria-hidden="true" { "✓" } span.visually-hidden { "allowed" } }
                                    } @else {
                                        td.denied data-label=(id) title="denied" { span aria-hidden="true" { "✗" } span.visually-hidden { "denied" } }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
            @let pages = m.total.div_ceil(PEOPLE_PER_PAGE);
            @if pages > 1 {
                nav.pages aria-label="Pages of the matrix" {
                    @if ask.page > 1 { a href=(matrix_href(ask, ask.page - 1)) rel="prev" { "← Previous" } }
                    span { "Page " (ask.page) " of " (pages) }
                    @if ask.page < pages { a href=(matrix_href(ask, ask.page + 1)) rel="next" { "Next →" } }
                }
            }
        }
    }
}
