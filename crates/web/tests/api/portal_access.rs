//! The access policies page: the resources with their counted allows, the Cedar editor (a check writes
//! nothing; a refused publish lists each error at its line and leaves the version in force), a decision
//! tried with its deciding policies, the people × resources matrix per context and department, and each
//! refusal (auditors read but do not write; employees and IT staff see nothing; forms need their token).

use crate::helpers::{TestApp, seeded, spawn_app, staffer};
use crate::portal::{Browser, Page, audited, enrol_totp, set_password, signed_in};
use bonafide_store::Backend;
use serde_json::{Value, json};

on_both!(
    security_sees_resources_checks_and_publishes_access_policies,
    security_tries_decisions_and_reads_the_matrix,
    auditors_read_the_access_page_and_others_are_refused,
);

const POLICIES: &str = "@id(\"finance-with-mfa\")\npermit (principal in Department::\"Finance\", action == Action::\"access\", resource)\nwhen { context.mfa };\n\n@id(\"high-needs-managed-device\")\nforbid (principal, action, resource)\nwhen { resource.sensitivity == \"high\" && !context.device_managed };\n";

const BROKEN: &str = "permit (principal, action, resource);\npermit (principal action, resource);";

/// A person with a password and an authenticator, signed in with both.
pub(crate) async fn with_totp(app: &TestApp, email: &str) -> Browser {
    set_password(app, email).await;
    let seed = enrol_totp(app, email).await;
    signed_in(app, email, Some(&seed)).await
}

/// Registers the payroll database (high, Finance) and the wiki (low) through the API.
async fn register_resources(app: &TestApp) {
    let payroll = json!({ "id": "payroll-db", "kind": "database", "name": "Payroll", "owner_department": "Finance", "sensitivity": "high", "tags": ["pii", "finance"] });
    let wiki = json!({ "id": "wiki", "kind": "app", "name": "Wiki", "sensitivity": "low" });
    for r in [payroll, wiki] {
        let reply = app.post("/api/v1/resources", &app.tokens.admin, r).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
}

async fn publish_by_api(app: &TestApp, text: &str) {
    let r = app.post("/api/v1/access-policies", &app.tokens.admin, json!({ "policies": text })).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn in_force(app: &TestApp) -> (Value, Value) {
    let r = app.get("/api/v1/access-policies", &app.tokens.admin).await;
    (r.body["version"].clone(), r.body["policies"].clone())
}

/// The table row that starts with `first` (an email, a resource id).
fn row<'a>(page: &'a Page, first: &str) -> &'a str {
    let at = page.text.find(first).unwrap_or_else(|| panic!("no {first}: {}", page.text));
    let start = page.text[..at].rfind("<tr>").unwrap();
    let end = at + page.text[at..].find("</tr>").unwrap();
    &page.text[start..end]
}

/// "allowed" or "denied": the matrix's cell for `email` and `resource`.
fn cell<'a>(page: &'a Page, email: &str, resource: &str) -> &'a str {
    let r = row(page, &format!("<span class=\"email\">{email}</span>"));
    let needle = format!("data-label=\"{resource}\" title=\"");
    let at = r.find(&needle).unwrap_or_else(|| panic!("no cell for {resource}: {r}")) + needle.len();
    &r[at..at + r[at..].find('"').unwrap()]
}

async fn security_sees_resources_checks_and_publishes_access_policies(backend: Backend) {
    let app = spawn_app(backend).await;
    register_resources(&app).await;
    let mut ada = with_totp(&app, "ada.reyes@example.com").await;
    let home = ada.get("/security").await;
    assert!(home.text.contains("href=\"/security/access\""), "the security desk links the page");
    let first = ada.get("/security/access").await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert!(first.text.contains("No version has been published yet: everything is denied."), "{}", first.text);
    let payroll = row(&first, "<code>payroll-db</code>");
    for shown in ["Payroll", "database", "high", "Finance", "pii, finance"] {
        assert!(payroll.contains(shown), "{shown}: {payroll}");
    }
    assert!(row(&first, "<code>wiki</code>").contains("<td data-label=\"Owner department\">—</td>"));
    assert!(first.text.contains("<details><summary>The schema"), "{}", first.text);
    assert!(first.text.contains("entity Person in [Department, Role]"));
    // The version in force, and allows counted on the wiki (the payroll database's are audited instead).
    publish_by_api(&app, POLICIES).await;
    for resource in ["wiki", "wiki", "payroll-db"] {
        let ask = json!({ "principal": "erin@example.com", "action": "access", "resource": resource,
            "context": { "mfa": true, "device_managed": true, "network": "office" } });
        assert_eq!(app.post("/api/v1/authorize", &app.tokens.admin, ask).await.str("decision"), "allow");
    }
    let page = ada.get("/security/access").await;
    assert!(page.text.contains("Version 1 is in force, since"), "{}", page.text);
    assert!(row(&page, "<code>wiki</code>").contains("<td data-label=\"Allows (30 days)\">2</td>"), "{}", page.text);
    assert!(row(&page, "<code>payroll-db</code>").contains("<td data-label=\"Allows (30 days)\">0</td>"));
    assert!(page.text.contains("@id(&quot;finance-with-mfa&quot;)"), "the editor holds the version in force");
    let csrf = page.csrf();
    // A bad version: each error at its line, the text shown again, the version in force unchanged.
    let bad =
        ada.post("/security/access/policies", &[("csrf", &csrf), ("intent", "publish"), ("policies", BROKEN)]).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("This version was not published; the one in force stays"), "{}", bad.text);
    assert!(bad.text.contains("<a href=\"#line-2\">Line 2, column "), "{}", bad.text);
    assert!(bad.text.contains("<li class=\"bad\" id=\"line-2\">"), "the line is marked: {}", bad.text);
    assert!(bad.text.contains("<li id=\"line-1\">permit (principal, action, resource);</li>"), "{}", bad.text);
    assert!(bad.text.contains("permit (principal action, resource);</textarea>"), "the text is kept");
    assert_eq!(in_force(&app).await, (json!(1), json!(POLICIES)), "a refused publish changes nothing");
    let unknown = "@id(\"salary\")\npermit (principal, action, resource)\nwhen { principal.salary > 10 };";
    let bad =
        ada.post("/security/access/policies", &[("csrf", &csrf), ("intent", "publish"), ("policies", unknown)]).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("Line 3, column "), "an attribute the schema lacks: {}", bad.text);
    // A check writes nothing, good text or bad.
    let two = format!(
        "{POLICIES}\n@id(\"wiki-for-all\")\npermit (principal, action == Action::\"access\", resource == Resource::\"wiki\");\n"
    );
    let checked =
        ada.post("/security/access/policies", &[("csrf", &csrf), ("intent", "check"), ("policies", &two)]).await;
    assert_eq!(checked.status, 200, "{}", checked.text);
    assert!(checked.text.contains("No errors: 3 policies."), "{}", checked.text);
    assert!(checked.text.contains("wiki-for-all"), "the checked text is kept");
    let checked =
        ada.post("/security/access/policies", &[("csrf", &csrf), ("intent", "check"), ("policies", BROKEN)]).await;
    assert_eq!(checked.status, 422, "{}", checked.text);
    assert!(checked.text.contains("The check found errors") && checked.text.contains("Line 2, column "));
    let odd = ada.post("/security/access/policies", &[("csrf", &csrf), ("intent", "maybe"), ("policies", "")]).await;
    assert_eq!(odd.status, 422, "{}", odd.text);
    assert_eq!(in_force(&app).await, (json!(1), json!(POLICIES)), "checks publish nothing");
    // Publish: back to the page, which says so.
    let done =
        ada.post("/security/access/policies", &[("csrf", &csrf), ("intent", "publish"), ("policies", &two)]).await;
    assert_eq!((done.status, done.location.as_str()), (303, "/security/access?published=2#policies"), "{}", done.text);
    let after = ada.get("/security/access?published=2").await;
    assert!(after.text.contains("Version 2 is in force."), "{}", after.text);
    assert_eq!(in_force(&app).await, (json!(2), json!(two)));
    assert!(
        !ada.get("/security/access?published=1").await.text.contains("Version 1 is in force."),
        "only the one in force"
    );
    assert_eq!(audited(&app, "access_policies.published").await.len(), 2);
    app.drop_db().await;
}

async fn try_decision(b: &mut Browser, form: Vec<(&'static str, String)>) -> Page {
    let request = b.client.post(format!("{}/security/access/try", b.base)).form(&form);
    b.send(request).await
}

async fn security_tries_decisions_and_reads_the_matrix(backend: Backend) {
    let app = spawn_app(backend).await;
    register_resources(&app).await;
    publish_by_api(&app, POLICIES).await;
    let mut ada = with_totp(&app, "ada.reyes@example.com").await;
    let page = ada.get("/security/access").await;
    assert!(page.text.contains("<option value=\"payroll-db\">payroll-db · Payroll</option>"), "{}", page.text);
    let csrf = page.csrf();
    let ask = |principal: &'static str, device: bool| {
        let mut form = vec![
            ("csrf", csrf.clone()),
            ("principal", principal.to_owned()),
            ("action", "access".to_owned()),
            ("resource", "payroll-db".to_owned()),
            ("mfa", "true".to_owned()),
            ("network", "office".to_owned()),
        ];
        if device {
            form.push(("device_managed", "true".to_owned()));
        }
        form
    };
    let allowed = try_decision(&mut ada, ask("Erin@example.com", true)).await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);
    assert!(allowed.text.contains("<h3>Allowed</h3>"), "{}", allowed.text);
    assert!(allowed.text.contains("Decided by: <code class=\"policy\">finance-with-mfa</code>"), "{}", allowed.text);
    let unmanaged = try_decision(&mut ada, ask("erin@example.com", false)).await;
    assert!(unmanaged.text.contains("<h3>Denied</h3>"), "{}", unmanaged.text);
    assert!(unmanaged.text.contains("<code class=\"policy\">high-needs-managed-device</code>"));
    assert!(!unmanaged.text.contains("name=\"device_managed\" value=\"true\" checked"), "the form keeps what was sent");
    let finn = try_decision(&mut ada, ask("finn@example.com", true)).await;
    assert!(finn.text.contains("<h3>Denied</h3>") && finn.text.contains("No policy permits it"), "{}", finn.text);
    let pat = try_decision(&mut ada, ask("pat.doyle@example.com", true)).await;
    assert!(pat.text.contains("<h3>Denied</h3>") && pat.text.contains("Suspended: "), "{}", pat.text);
    // What is unknown is named by field, with the values sent kept.
    let mut unknown = ask("nobody@example.com", true);
    unknown.retain(|(k, _)| !matches!(*k, "resource" | "network"));
    unknown.extend([("resource", "moon".to_owned()), ("network", "mars".to_owned())]);
    let r = try_decision(&mut ada, unknown).await;
    assert_eq!(r.status, 422, "{}", r.text);
    for shown in [
        "no person in the directory has this email",
        "no resource is registered with this id",
        "<code>context.network</code>: one of office, vpn, internet",
        "value=\"nobody@example.com\"",
        "aria-invalid=\"true\"",
    ] {
        assert!(r.text.contains(shown), "{shown}: {}", r.text);
    }
    assert!(!r.text.contains("<h3>"), "no decision is shown");
    assert_eq!(audited(&app, "access.decided").await.len(), 5, "the four denies and the allow on a high resource");
    // The matrix: with a second factor on a managed device at the office (the default), then without one.
    let m = ada.get("/security/access").await;
    assert!(m.text.contains("People 1–6 of 6"), "the six active people: {}", m.text);
    assert_eq!(cell(&m, "erin@example.com", "payroll-db"), "allowed");
    assert_eq!(cell(&m, "erin@example.com", "wiki"), "allowed");
    assert_eq!(cell(&m, "finn@example.com", "payroll-db"), "denied");
    assert!(!m.text.contains("pat.doyle@example.com</span>"), "a suspended person is not listed");
    assert!(
        row(&m, "<span class=\"email\">erin@example.com</span>")
            .contains("<span class=\"visually-hidden\">allowed</span>")
    );
    let unmanaged = ada.get("/security/access?mfa=true&device_managed=false&network=vpn").await;
    assert_eq!(unmanaged.status, 200, "{}", unmanaged.text);
    assert_eq!(cell(&unmanaged, "erin@example.com", "payroll-db"), "denied");
    assert_eq!(cell(&unmanaged, "erin@example.com", "wiki"), "allowed");
    assert!(unmanaged.text.contains("<option value=\"vpn\" selected>"), "the form shows the context");
    let no_mfa = ada.get("/security/access?mfa=false").await;
    assert_eq!(cell(&no_mfa, "erin@example.com", "wiki"), "denied");
    let finance = ada.get("/security/access?department=Finance").await;
    assert!(finance.text.contains("People 1–1 of 1"), "{}", finance.text);
    assert_eq!(cell(&finance, "erin@example.com", "wiki"), "allowed");
    assert!(!finance.text.contains("finn@example.com</span>"), "{}", finance.text);
    let sales = ada.get("/security/access?department=Sales&mfa=true").await;
    assert_eq!(cell(&sales, "finn@example.com", "wiki"), "denied");
    let beyond = ada.get("/security/access?page=2").await;
    assert!(beyond.text.contains("No people on this page; 6 in all."), "{}", beyond.text);
    // A context that cannot be read is a page that says why.
    for (query, shown) in [
        ("network=mars", "one of office, vpn, internet"),
        ("mfa=maybe", "true or false"),
        ("page=0", "a page number, from 1"),
        ("page=99999999999999999999", "a page number, from 1"),
    ] {
        let bad = ada.get(&format!("/security/access?{query}")).await;
        assert_eq!(bad.status, 422, "{query}: {}", bad.text);
        assert!(bad.text.contains("This context cannot be shown") && bad.text.contains(shown), "{query}: {}", bad.text);
        assert!(bad.text.contains("<code>payroll-db</code>"), "the rest of the page is there");
    }
    // Fifty people a page, the context kept from page to page.
    let many: Vec<_> = (0..50)
        .map(|i| {
            staffer(
                &format!("tech{i:02}@example.com"),
                &format!("Tech {i}"),
                &format!("IT-8{i:03}"),
                "Desk",
                "201-555-0150",
            )
        })
        .collect();
    app.store.import_people(&many, app.clock_now(), |_| {}, |_, _| seeded("directory.imported")).await.unwrap();
    let first = ada.get("/security/access?department=IT&network=vpn").await;
    assert!(first.text.contains("People 1–50 of 52") && first.text.contains("Page 1 of 2"), "{}", first.text);
    assert_eq!(first.text.matches("<span class=\"email\">").count(), 50);
    let next = "/security/access?mfa=true&device_managed=true&network=vpn&department=IT&page=2#matrix";
    assert!(first.text.contains(&format!("href=\"{}\" rel=\"next\"", next.replace('&', "&amp;"))), "{}", first.text);
    let second = ada.get(next.trim_end_matches("#matrix")).await;
    assert!(second.text.contains("People 51–52 of 52") && second.text.contains("rel=\"prev\""), "{}", second.text);
    assert_eq!(second.text.matches("<span class=\"email\">").count(), 2);
    assert!(!second.text.contains("rel=\"next\""));
    app.drop_db().await;
}

async fn auditors_read_the_access_page_and_others_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    register_resources(&app).await;
    publish_by_api(&app, POLICIES).await;
    let mut gus = with_totp(&app, "gus.ortiz@example.com").await;
    let page = gus.get("/security/access").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("<a href=\"/security/access\">Access</a>"), "the navigation links it");
    assert!(page.text.contains("<code>payroll-db</code>") && page.text.contains("Version 1 is in force"));
    assert!(page.text.contains("<ol class=\"source\" aria-label=\"The policies in force\">"), "{}", page.text);
    assert_eq!(cell(&page, "erin@example.com", "payroll-db"), "allowed");
    for writes in ["action=\"/security/access/policies\"", "action=\"/security/access/try\"", "<textarea"] {
        assert!(!page.text.contains(writes), "no form that writes for an auditor: {writes}");
    }
    let csrf = page.csrf();
    let publish =
        gus.post("/security/access/policies", &[("csrf", &csrf), ("intent", "publish"), ("policies", "")]).await;
    assert_eq!(publish.status, 403, "{}", publish.text);
    let check = gus.post("/security/access/policies", &[("csrf", &csrf), ("intent", "check"), ("policies", "")]).await;
    assert_eq!(check.status, 403);
    let tried = gus
        .post(
            "/security/access/try",
            &[("csrf", &csrf), ("principal", "erin@example.com"), ("action", "access"), ("resource", "wiki")],
        )
        .await;
    assert_eq!(tried.status, 403, "{}", tried.text);
    assert_eq!(in_force(&app).await, (json!(1), json!(POLICIES)));
    // Employees and IT staff do not see the page; nobody signed in is sent to sign in.
    set_password(&app, "erin@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    assert_eq!(erin.get("/security/access").await.status, 403);
    assert!(!erin.get("/").await.text.contains("href=\"/security/access\""), "no link for an employee");
    let mut sam = with_totp(&app, "sam.carter@example.com").await;
    assert_eq!(sam.get("/security/access").await.status, 403);
    assert_eq!(sam.get("/security/access?network=mars").await.status, 403);
    let mut nobody = Browser::new(&app);
    let p = nobody.get("/security/access").await;
    assert_eq!((p.status, p.location.as_str()), (303, "/signin"));
    let refused = audited(&app, "access.denied").await;
    assert!(
        refused.iter().any(|(who, path, _)| who == "erin@example.com" && path == "/security/access"),
        "{refused:?}"
    );
    // A security admin's form without its token is refused, and nothing is published.
    let mut ada = with_totp(&app, "ada.reyes@example.com").await;
    let forged = ada.post("/security/access/policies", &[("intent", "publish"), ("policies", POLICIES)]).await;
    assert_eq!(forged.status, 403, "{}", forged.text);
    let forged = ada
        .post("/security/access/policies", &[("csrf", "forged"), ("intent", "publish"), ("policies", POLICIES)])
        .await;
    assert_eq!(forged.status, 403);
    let forged = ada.post("/security/access/try", &[("principal", "erin@example.com"), ("resource", "wiki")]).await;
    assert_eq!(forged.status, 403);
    assert_eq!(audited(&app, "csrf.rejected").await.len(), 3);
    assert_eq!(in_force(&app).await, (json!(1), json!(POLICIES)));
    app.drop_db().await;
}
