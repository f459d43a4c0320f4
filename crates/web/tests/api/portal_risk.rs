//! The QPQ risk dashboard (issue 18 §4): the company's distribution against its tolerance, departments
//! ranked against theirs (a department smaller than the settings' `min_group` named with no figure), a
//! trend per group that is honest before the first snapshot, the people at high or critical for
//! security admins, the settings previewed and saved; every chart parses as XML. Auditors read
//! aggregates and no name; employees and IT staff are refused, and nobody signed in is sent to sign in.

use crate::helpers::{TestApp, person, seeded, spawn_app};
use crate::portal::{Browser, Page, audited, set_password, signed_in};
use crate::portal_access::with_totp;
use crate::risk::instance;
use bonafide_store::Backend;
use quick_xml::events::Event;
use serde_json::{Value, json};

on_both!(
    security_reads_the_risk_dashboard_with_its_charts_people_and_small_groups_hidden,
    security_previews_settings_before_saving_them_and_a_refusal_keeps_the_version,
    auditors_read_risk_aggregates_without_names_and_others_are_refused,
);

/// A department name that would break the markup if it were not escaped.
const LABS: &str = "R&D <\"Labs\">";

/// Nine more people in Sales (ten with Finn, all at medium) and five remote ones in the labs (each at
/// high: the base and working remotely): twenty active people, seven at high with Sam and Kim.
async fn grow_the_company(app: &TestApp) {
    let mut people: Vec<_> =
        (0..9).map(|i| person(&format!("seller{i}@example.com"), &format!("Seller Number{i}"), "Sales", &[])).collect();
    people.extend((0..5).map(|i| {
        let mut p = person(&format!("lab{i}@example.com"), &format!("Lab Person{i}"), LABS, &[]);
        p.remote = true;
        p
    }));
    app.store.import_people(&people, app.clock_now(), |_| {}, |_, _| seeded("directory.imported")).await.unwrap();
}

/// Every `<svg>…</svg>` of the page, each parsed as an XML document on its own (tags closed and
/// matched, attributes not repeated, no bare `&`, only XML's own entities); returns their ids.
fn svgs_parse_as_xml(page: &Page) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = page.text.as_str();
    while let Some(start) = rest.find("<svg") {
        let end = start + rest[start..].find("</svg>").expect("a closed svg") + "</svg>".len();
        let svg = &rest[start..end];
        let mut reader = quick_xml::Reader::from_str(svg);
        let mut depth = 0i32;
        loop {
            match reader.read_event().unwrap_or_else(|e| panic!("not XML ({e}): {svg}")) {
                Event::Start(e) => {
                    for a in e.attributes() {
                        let a = a.unwrap_or_else(|e| panic!("a bad attribute ({e}): {svg}"));
                        if a.key.as_ref() == b"id" && depth == 0 {
                            ids.push(String::from_utf8(a.value.to_vec()).unwrap());
                        }
                    }
                    depth += 1;
                }
                Event::End(_) => depth -= 1,
                Event::GeneralRef(r) => {
                    let name = r.decode().unwrap();
                    assert!(
                        r.is_char_ref() || ["lt", "gt", "amp", "quot", "apos"].contains(&&*name),
                        "&{name}; is not XML's: {svg}"
                    );
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "{svg}");
        assert!(svg.contains("role=\"img\"") && svg.contains("viewBox=") && svg.contains("width=\"100%\""), "{svg}");
        rest = &rest[end..];
    }
    ids
}

/// The part of the page from the heading with `id` to the next `<h2`.
fn section<'a>(page: &'a Page, id: &str) -> &'a str {
    let at = page.text.find(&format!("<h2 id=\"{id}\">")).unwrap_or_else(|| panic!("no #{id}: {}", page.text));
    let rest = &page.text[at..];
    let end = rest[4..].find("<h2").map_or(rest.len(), |e| e + 4);
    &rest[..end]
}

async fn settings_version(app: &TestApp) -> Value {
    app.get("/api/v1/risk/settings", &app.tokens.admin).await.body["version"].clone()
}

async fn security_reads_the_risk_dashboard_with_its_charts_people_and_small_groups_hidden(backend: Backend) {
    let app = spawn_app(backend).await;
    grow_the_company(&app).await;
    let mut ada = with_totp(&app, "ada.reyes@example.com").await;
    assert!(ada.get("/security").await.text.contains("href=\"/security/risk\""), "the security desk links it");
    let page = ada.get("/security/risk").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("<a href=\"/security/risk\">Risk</a>"), "the navigation links it");
    let ids = svgs_parse_as_xml(&page);
    assert_eq!(ids[..3], ["company-levels", "departments-ranked", "trend-0"], "{ids:?}");
    // The company: Sam and Kim (IT staff) and the five in the labs are at high, 7 of 20.
    let company = section(&page, "company");
    assert!(company.contains("Tolerated at high or above: 10%"), "{company}");
    assert!(company.contains("Over tolerance: more people at high or critical than tolerated"), "{company}");
    assert!(company.contains("<td data-label=\"People\">7</td>") && company.contains("35%"), "{company}");
    // Departments: the labs (all at high) before Sales (nobody), the small ones only named.
    let departments = section(&page, "departments");
    let labs = departments.find("R&amp;D &lt;&quot;Labs&quot;&gt;").expect("the name, escaped");
    let sales = departments.find("<td data-label=\"Department\">Sales</td>").expect("Sales is shown");
    assert!(labs < sales, "the labs are the most over their tolerance: {departments}");
    assert!(!page.text.contains(LABS), "nowhere unescaped");
    assert!(departments.contains("90 points over") && departments.contains("10 points under"), "{departments}");
    assert!(departments.contains("Not shown, each has fewer than 5 people:"), "{departments}");
    for small in ["Finance", "IT", "Security", "Audit"] {
        assert!(departments.contains(&format!("<li>{small}</li>")), "{small}: {departments}");
        assert!(!departments.contains(&format!("<td data-label=\"Department\">{small}</td>")), "no figures: {small}");
    }
    // Before the first snapshot every trend says it has no history.
    let trend = section(&page, "trend");
    assert!(trend.contains("No history yet: a snapshot of every group is taken once a day"), "{trend}");
    assert_eq!(trend.matches("class=\"chart trend\"").count(), 3, "the company, the labs and Sales: {trend}");
    assert_eq!(trend.matches(">No history yet</text>").count(), 3);
    // The people at high or critical, with what weighs most and what lowers it.
    let people = section(&page, "people");
    for shown in ["Sam Carter", "sam.carter@example.com", "Lab Person0", "badge risk-high", "works remotely: +10"] {
        assert!(people.contains(shown), "{shown}: {people}");
    }
    assert!(!people.contains("Seller Number0") && !people.contains("Erin Walsh"), "only high or critical: {people}");
    // A snapshot a day: each trend draws its day, with the figures in a table.
    assert!(bonafide_app::risk::snapshot(&instance(&app)).await.unwrap());
    let day = bonafide_app::risk::day_of(app.clock_now());
    let page = ada.get("/security/risk").await;
    svgs_parse_as_xml(&page);
    let trend = section(&page, "trend");
    assert!(!trend.contains("No history yet"), "{trend}");
    assert_eq!(trend.matches("<circle ").count(), 3, "{trend}");
    assert!(trend.contains(&format!("<td>{day}</td>")) && trend.contains(&format!("{day}: 35%")), "{trend}");
    // A larger minimum hides Sales (ten people) and its trend, and says the actual number.
    let r = app.put("/api/v1/risk/settings", &app.tokens.admin, json!({ "min_group": 11 })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let page = ada.get("/security/risk").await;
    let departments = section(&page, "departments");
    assert!(departments.contains("No department has 11 people or more, so none is shown."), "{departments}");
    assert!(departments.contains("fewer than 11 people") && departments.contains("<li>Sales</li>"), "{departments}");
    assert!(!departments.contains("<svg"), "no chart of hidden groups");
    assert_eq!(section(&page, "trend").matches("class=\"chart trend\"").count(), 1, "the company's only");
    // Nor does the trend show the day Sales had ten people, under a minimum of eleven.
    let sales = app.get("/api/v1/risk/trend?department=Sales", &app.tokens.auditor).await;
    assert_eq!((sales.status, sales.body.as_array().unwrap().len()), (200, 0), "{}", sales.text);
    let company = app.get("/api/v1/risk/trend", &app.tokens.auditor).await;
    assert_eq!(company.body.as_array().unwrap().len(), 1, "the company's day stays: {}", company.text);
    app.drop_db().await;
}

async fn security_previews_settings_before_saving_them_and_a_refusal_keeps_the_version(backend: Backend) {
    let app = spawn_app(backend).await;
    grow_the_company(&app).await;
    let mut ada = with_totp(&app, "ada.reyes@example.com").await;
    let page = ada.get("/security/risk").await;
    let settings = section(&page, "settings");
    assert!(settings.contains("The defaults are in force: no version has been saved yet."), "{settings}");
    assert!(settings.contains("&quot;min_group&quot;: 5"), "the editor holds the settings in force: {settings}");
    let csrf = page.csrf();
    let post = |intent: &str, text: &str| {
        vec![("csrf", csrf.clone()), ("intent", intent.to_owned()), ("settings", text.to_owned())]
    };
    async fn send(b: &mut Browser, form: Vec<(&'static str, String)>) -> Page {
        let request = b.client.post(format!("{}/security/risk/settings", b.base)).form(&form);
        b.send(request).await
    }
    // A preview: the company now and under the proposal side by side; nothing is saved.
    let lax = r#"{ "tolerance": { "company": { "max_high_share": 0.5 }, "departments": { "Sales": { "max_high_share": 0 } } } }"#;
    let preview = send(&mut ada, post("preview", lax)).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    let ids = svgs_parse_as_xml(&preview);
    assert!(ids.contains(&"preview-now".to_owned()) && ids.contains(&"preview-new".to_owned()), "{ids:?}");
    let compared = &preview.text[preview.text.find("id=\"preview\"").expect("the comparison")..];
    assert!(
        compared.contains("Tolerated at high or above: 10%") && compared.contains("Tolerated at high or above: 50%")
    );
    assert!(compared.contains("35% (tolerated 10%, 25 points over)"), "{compared}");
    assert!(compared.contains("35% (tolerated 50%, 15 points under)"), "{compared}");
    assert!(compared.contains("<td data-label=\"Group\">Finance</td><td data-label=\"Now\">fewer than 5 people</td>"));
    assert!(preview.text.contains("A preview: nothing was saved.") && preview.text.contains("&quot;Sales&quot;"));
    assert_eq!(settings_version(&app).await, json!(0), "a preview saves nothing");
    // Text that is not JSON, and a field out of range: each named, the text kept, nothing saved.
    let broken = send(&mut ada, post("save", "{ \"base\": 40,")).await;
    assert_eq!(broken.status, 422, "{}", broken.text);
    assert!(broken.text.contains("These settings were not saved; the defaults stay in force:"), "{}", broken.text);
    assert!(broken.text.contains("<code>settings</code>: not JSON (line 1, column "), "{}", broken.text);
    let bad = r#"{ "min_group": 0, "weights": { "passkey": "lots" } }"#;
    let refused = send(&mut ada, post("save", bad)).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    for shown in ["<code>min_group</code>: a whole number from 1 to 1000", "<code>weights.passkey</code>: a number"] {
        assert!(refused.text.contains(shown), "{shown}: {}", refused.text);
    }
    assert!(refused.text.contains("&quot;lots&quot;"), "the text is kept");
    let unpreviewable = send(&mut ada, post("preview", bad)).await;
    assert_eq!(unpreviewable.status, 422);
    assert!(unpreviewable.text.contains("These settings cannot be previewed:"), "{}", unpreviewable.text);
    let odd = send(&mut ada, post("maybe", lax)).await;
    assert_eq!(odd.status, 422, "{}", odd.text);
    assert!(odd.text.contains("<code>intent</code>: preview or save"));
    assert_eq!(settings_version(&app).await, json!(0), "nothing was saved");
    // Save: back to the page, which says so and holds the new version.
    let saved = send(&mut ada, post("save", lax)).await;
    assert_eq!((saved.status, saved.location.as_str()), (303, "/security/risk?saved=1#settings"), "{}", saved.text);
    assert_eq!(settings_version(&app).await, json!(1));
    let page = ada.get("/security/risk?saved=1").await;
    assert!(page.text.contains("Saved: version 1 is in force."), "{}", page.text);
    assert!(section(&page, "company").contains("Tolerated at high or above: 50%"));
    let refused = send(&mut ada, post("save", bad)).await;
    assert!(refused.text.contains("These settings were not saved; version 1 stays in force:"), "{}", refused.text);
    assert_eq!(settings_version(&app).await, json!(1));
    assert!(!ada.get("/security/risk?saved=7").await.text.contains("Saved: version"), "only the one in force");
    assert_eq!(audited(&app, "risk.settings_published").await.len(), 1);
    app.drop_db().await;
}

async fn auditors_read_risk_aggregates_without_names_and_others_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    grow_the_company(&app).await;
    assert!(bonafide_app::risk::snapshot(&instance(&app)).await.unwrap());
    let mut gus = with_totp(&app, "gus.ortiz@example.com").await;
    let page = gus.get("/security/risk").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("<a href=\"/security/risk\">Risk</a>"), "the navigation links it");
    assert_eq!(svgs_parse_as_xml(&page).len(), 5, "the company, the ranking and three trends");
    assert!(page.text.contains("id=\"company-levels\"") && page.text.contains("<li>Finance</li>"));
    // Aggregates only: no person is named anywhere, and there is nothing that writes.
    let everyone = app.get("/api/v1/risk/people", &app.tokens.admin).await;
    for p in everyone.body.as_array().unwrap() {
        for key in ["email", "display_name"] {
            let named = p[key].as_str().unwrap();
            assert!(!page.text.contains(named), "{named} is named to an auditor");
        }
    }
    assert!(!page.text.contains("id=\"people\"") && !page.text.contains("id=\"settings\""), "{}", page.text);
    assert!(!page.text.contains("action=\"/security/risk/settings\"") && !page.text.contains("<textarea"));
    let csrf = page.csrf();
    for intent in ["preview", "save"] {
        let form = [("csrf", csrf.as_str()), ("intent", intent), ("settings", "{\"min_group\": 1}")];
        let r = gus.post("/security/risk/settings", &form).await;
        assert_eq!(r.status, 403, "{intent}: {}", r.text);
        assert!(!r.text.contains("Lab Person"), "a refusal names nobody either");
    }
    assert_eq!(settings_version(&app).await, json!(0));
    // Employees and IT staff are refused the page; nobody signed in is sent to sign in.
    set_password(&app, "erin@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let refused = erin.get("/security/risk").await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert!(refused.text.contains("This page is for security admins and auditors."), "{}", refused.text);
    assert!(!erin.get("/").await.text.contains("href=\"/security/risk\""), "no link for an employee");
    let mut sam = with_totp(&app, "sam.carter@example.com").await;
    assert_eq!(sam.get("/security/risk").await.status, 403);
    let csrf = sam.get("/").await.csrf();
    let r = sam.post("/security/risk/settings", &[("csrf", &csrf), ("intent", "save"), ("settings", "{}")]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let mut nobody = Browser::new(&app);
    let p = nobody.get("/security/risk").await;
    assert_eq!((p.status, p.location.as_str()), (303, "/signin"));
    let p = nobody.post("/security/risk/settings", &[("intent", "save"), ("settings", "{}")]).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/signin"));
    let denied = audited(&app, "access.denied").await;
    for who in ["erin@example.com", "sam.carter@example.com", "gus.ortiz@example.com"] {
        assert!(denied.iter().any(|(by, _, _)| by == who), "{who}: {denied:?}");
    }
    // A security admin's form without its token is refused, and nothing is saved.
    let mut ada = with_totp(&app, "ada.reyes@example.com").await;
    let forged = ada.post("/security/risk/settings", &[("intent", "save"), ("settings", "{\"min_group\": 1}")]).await;
    assert_eq!(forged.status, 403, "{}", forged.text);
    let forged = ada
        .post("/security/risk/settings", &[("csrf", "forged"), ("intent", "save"), ("settings", "{\"min_group\": 1}")])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(audited(&app, "csrf.rejected").await.len(), 2);
    assert_eq!(settings_version(&app).await, json!(0));
    app.drop_db().await;
}
