//! QPQ drills in the security portal: a security admin writes a drill through the form (a CSV of emails
//! with a bad line named by its number, what was typed kept), launches and stops it with the buttons,
//! reads its results (the charts parse as XML, the counts, each person, the CSV) and a person's history
//! with a repeated mistake flagged, and makes results anonymous. Auditors read counts and no name, and
//! cannot write, launch or stop; employees are refused; nobody signed in is sent to sign in. Messages
//! go to an outbox folder (`drill_outbox_dir`) instead of being sent.

use crate::helpers::{TestApp, spawn_app_with};
use crate::portal::{Browser, Page, multipart, set_password, signed_in};
use crate::portal_access::with_totp;
use bonafide_store::Backend;
use quick_xml::events::Event;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

on_both!(
    security_admins_write_drills_through_the_form_with_a_csv_of_emails,
    security_admins_launch_and_stop_drills_and_read_results_people_and_histories,
    auditors_read_drill_counts_without_names_and_others_are_refused,
);

/// A test server whose drill messages are written to `outbox`.
async fn with_outbox(backend: Backend, outbox: &Path) -> TestApp {
    let dir = outbox.to_path_buf();
    spawn_app_with(backend, move |c| c.app.drills.outbox = Some(dir)).await
}

/// Posts the multipart new-drill form with `fields` (the CSV in `emails_file`).
async fn post_drill(b: &mut Browser, fields: &[(&str, &[u8])]) -> Page {
    let (content_type, body) = multipart(fields, "emails_file");
    let request = b.client.post(format!("{}/security/drills", b.base)).header("content-type", content_type);
    b.send(request.body(body)).await
}

/// The messages in the outbox once there are `count`, as JSON (chat messages).
async fn messages(outbox: &Path, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found: Vec<Value> = std::fs::read_dir(outbox)
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                    .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
                    .collect()
            })
            .unwrap_or_default();
        if found.len() >= count {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {count} messages: {found:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The link token `email`'s message carries.
fn token_for(messages: &[Value], email: &str) -> String {
    let m = messages.iter().find(|m| m["to"] == email).unwrap_or_else(|| panic!("no message to {email}"));
    let text = m["text"].as_str().unwrap();
    let at = text.find("/d/").expect("the message has the link") + 3;
    text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// Types into `token`'s landing page: a mistake, `complied`.
async fn comply(app: &TestApp, token: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/d/{token}", app.base()))
        .form(&[("username", "erin"), ("secret", "hunter2")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("This was a practice drill"));
}

/// Every `<svg>` of the page parsed as XML; their ids.
fn svg_ids(page: &Page) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = page.text.as_str();
    while let Some(start) = rest.find("<svg") {
        let end = start + rest[start..].find("</svg>").expect("a closed svg") + "</svg>".len();
        let svg = &rest[start..end];
        let mut reader = quick_xml::Reader::from_str(svg);
        let mut depth = 0;
        loop {
            match reader.read_event().unwrap_or_else(|e| panic!("not XML ({e}): {svg}")) {
                Event::Start(e) => {
                    if depth == 0 {
                        let id = e.attributes().filter_map(Result::ok).find(|a| a.key.as_ref() == b"id");
                        ids.push(String::from_utf8(id.unwrap().value.to_vec()).unwrap());
                    }
                    depth += 1;
                }
                Event::End(_) => depth -= 1,
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "{svg}");
        rest = &rest[end..];
    }
    ids
}

/// Creates a chat drill of `emails` through the API; its id.
async fn drill_by_api(app: &TestApp, name: &str, emails: &[&str]) -> String {
    let body = json!({ "name": name, "scenario": "slow-logins", "channel": "chat", "targets": { "emails": emails } });
    let created = app.post("/api/v1/drills", &app.tokens.admin, body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.str("id").to_owned()
}

async fn security_admins_write_drills_through_the_form_with_a_csv_of_emails(backend: Backend) {
    let outbox = tempfile::tempdir().unwrap();
    let app = with_outbox(backend, outbox.path()).await;
    let mut ada = with_totp(&app, "ada.reyes@example.com").await;
    let list = ada.get("/security/drills").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.text.contains("<a href=\"/security/drills\">Drills</a>"), "the navigation links it");
    assert!(list.text.contains("No drills yet.") && list.text.contains("href=\"/security/drills/new\""));
    assert!(list.text.contains("Anonymous results: off"), "{}", list.text);
    let form = ada.get("/security/drills/new").await;
    assert_eq!(form.status, 200, "{}", form.text);
    for shown in [
        "value=\"mfa-reenrol\"",
        "value=\"custom\"",
        "value=\"Finance\"",
        "value=\"Sales\"",
        "value=\"chat\"",
        "enctype=\"multipart/form-data\"",
    ] {
        assert!(form.text.contains(shown), "{shown}: {}", form.text);
    }
    let csrf = form.csrf();

    // A CSV with a bad line: nothing saved, the line named, what was typed kept.
    let bad_csv = b"name,email\nErin,erin@example.com\nBob,not-an-email\nFinn,finn@example.com\n";
    let fields: [(&str, &[u8]); 8] = [
        ("csrf", csrf.as_bytes()),
        ("name", b"Portal <drill>"),
        ("scenario", b"mfa-reenrol"),
        ("channel", b"chat"),
        ("departments", b"Sales"),
        ("sample", b""),
        ("emails_file", bad_csv),
        ("window_hours", b"2"),
    ];
    let refused = post_drill(&mut ada, &fields).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("the CSV file, line 3: “not-an-email” is not an email address"), "{}", refused.text);
    assert!(refused.text.contains("value=\"Portal &lt;drill&gt;\""), "the name typed is kept, escaped");
    assert!(refused.text.contains("value=\"Sales\" checked"), "the department ticked is kept");
    assert!(app.get("/api/v1/drills", &app.tokens.admin).await.body.as_array().unwrap().is_empty());

    // The use case's own refusals are shown with the form: someone not in the directory.
    let mut unknown = fields;
    unknown[6] = ("emails_file", b"email\nnobody@example.com\n");
    let refused = post_drill(&mut ada, &unknown).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("not active people in the directory: nobody@example.com"), "{}", refused.text);

    // A scenario written in the form is checked field by field.
    let custom: [(&str, &[u8]); 7] = [
        ("csrf", csrf.as_bytes()),
        ("name", b"Own words"),
        ("scenario", b"custom"),
        ("sender_name", b"Helpdesk Henry"),
        ("body", b""),
        ("ask", b"password"),
        ("channel", b"email"),
    ];
    let refused = post_drill(&mut ada, &custom).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("value=\"Helpdesk Henry\""), "{}", refused.text);
    assert!(refused.text.contains("scenario.body"), "{}", refused.text);

    // A good one is saved as a draft and the browser sent to its page.
    let mut good = fields;
    good[6] = ("emails_file", b"\xEF\xBB\xBFName,Email\r\nErin,erin@example.com\r\n\r\nFinn,FINN@example.com\r\n");
    let saved = post_drill(&mut ada, &good).await;
    assert_eq!(saved.status, 303, "{}", saved.text);
    let drills = app.get("/api/v1/drills", &app.tokens.admin).await;
    let d = &drills.body[0];
    assert_eq!(saved.location, format!("/security/drills/{}", d["id"].as_str().unwrap()));
    assert_eq!(
        (d["name"].as_str(), d["channel"].as_str(), d["window_hours"].as_u64()),
        (Some("Portal <drill>"), Some("chat"), Some(2))
    );
    assert_eq!(d["targets"], json!({ "departments": ["Sales"], "emails": ["erin@example.com", "finn@example.com"] }));
    let page = ada.get(&saved.location).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("data-status=\"draft\"") && page.text.contains(">Launch</button>"), "{}", page.text);
    assert!(!page.text.contains(">Stop</button>"));
    assert!(page.text.contains("No targets yet: they are chosen at launch."));
    assert_eq!(svg_ids(&page), ["outcomes-chart", "timeline-chart"]);
    let list = ada.get("/security/drills").await;
    assert!(list.text.contains("Portal &lt;drill&gt;") && !list.text.contains("Portal <drill>"), "escaped");
    app.drop_db().await;
}

async fn security_admins_launch_and_stop_drills_and_read_results_people_and_histories(backend: Backend) {
    let outbox = tempfile::tempdir().unwrap();
    let app = with_outbox(backend, outbox.path()).await;
    let id = drill_by_api(&app, "First drill", &["erin@example.com", "finn@example.com"]).await;
    let mut ada = with_totp(&app, "ada.reyes@example.com").await;
    let path = format!("/security/drills/{id}");
    let csrf = ada.get(&path).await.csrf();
    let launched = ada.post(&format!("{path}/launch"), &[("csrf", &csrf)]).await;
    assert_eq!((launched.status, launched.location.as_str()), (303, path.as_str()), "{}", launched.text);
    let sent = messages(outbox.path(), 2).await;
    let erin_first = token_for(&sent, "erin@example.com");
    comply(&app, &erin_first).await;

    let page = ada.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("data-status=\"running\"") && page.text.contains(">Stop</button>"));
    assert!(!page.text.contains(">Launch</button>"));
    assert_eq!(svg_ids(&page), ["outcomes-chart", "timeline-chart"]);
    assert!(page.text.contains("<td data-outcome=\"complied\">1</td>"), "{}", page.text);
    assert!(page.text.contains("<td data-outcome=\"ignored\">1</td>"));
    assert_eq!(page.text.matches(">1 (50%)</text>").count(), 2, "the bars of ignored and complied: {}", page.text);
    assert!(page.text.contains("<h2 id=\"people\">People</h2>"));
    assert!(page.text.contains("<a href=\"/security/drills/people/erin@example.com\">Erin Walsh</a>"), "{}", page.text);
    assert!(page.text.contains("11 characters") && !page.text.contains("hunter2"), "the count, never the text");
    assert!(page.text.contains("<td data-label=\"Department\">Finance</td>"), "the departments' table");
    assert!(page.text.contains("<span class=\"muted department\">Finance</span>"), "Erin's department");

    let csv = ada.get(&format!("{path}/results.csv")).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(csv.headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"drill-"));
    assert!(csv.text.starts_with("email,name,department,outcome"), "{}", csv.text);
    assert!(csv.text.contains("erin@example.com,Erin Walsh,Finance,complied,sent"), "{}", csv.text);

    // Launching twice is the use case's conflict, as a page; stopping ends it.
    let again = ada.post(&format!("{path}/launch"), &[("csrf", &csrf)]).await;
    assert_eq!(again.status, 409);
    assert!(again.text.contains("This drill is running, only a draft can be launched."), "{}", again.text);
    let stopped = ada.post(&format!("{path}/stop"), &[("csrf", &csrf)]).await;
    assert_eq!((stopped.status, stopped.location.as_str()), (303, path.as_str()));
    let page = ada.get(&path).await;
    assert!(page.text.contains("data-status=\"stopped\"") && !page.text.contains(">Stop</button>"));
    assert_eq!(ada.post(&format!("{path}/stop"), &[("csrf", "wrong")]).await.status, 403, "CSRF is checked");

    // A second mistake by Erin is flagged as repeated on her history.
    app.advance(60);
    let second = drill_by_api(&app, "Second drill", &["erin@example.com"]).await;
    let launched = ada.post(&format!("/security/drills/{second}/launch"), &[("csrf", &csrf)]).await;
    assert_eq!(launched.status, 303, "{}", launched.text);
    let sent = messages(outbox.path(), 3).await;
    let to_erin = sent.iter().filter(|m| m["to"] == "erin@example.com");
    let erin_second =
        to_erin.map(|m| token_for(std::slice::from_ref(m), "erin@example.com")).find(|t| *t != erin_first);
    comply(&app, &erin_second.expect("the second drill's message")).await;
    let history = ada.get("/security/drills/people/erin@example.com").await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert!(
        history.text.contains("<strong class=\"badge repeat-mistake\">Repeated mistake</strong>"),
        "{}",
        history.text
    );
    assert!(history.text.contains("1 drill repeats a mistake made in an earlier drill"));
    assert_eq!(history.text.matches("data-outcome=\"complied\"").count(), 2);
    let list = ada.get("/security/drills").await;
    let (second_at, first_at) = (list.text.find("Second drill").unwrap(), list.text.find("First drill").unwrap());
    assert!(second_at < first_at, "newest first");

    // Anonymous results: the switch on the list; then no people, and no history.
    let on = ada.post("/security/drills/settings", &[("csrf", &csrf), ("anonymous", "true")]).await;
    assert_eq!((on.status, on.location.as_str()), (303, "/security/drills"));
    let list = ada.get("/security/drills").await;
    assert!(list.text.contains("Anonymous results: on") && list.text.contains("Name people again"));
    let page = ada.get(&path).await;
    assert!(!page.text.contains("id=\"people\"") && page.text.contains("Results are anonymous"), "{}", page.text);
    assert!(page.text.contains("fewer than 5 people"), "small departments are hidden: {}", page.text);
    let refused = ada.get("/security/drills/people/erin@example.com").await;
    assert_eq!(refused.status, 403);
    assert!(refused.text.contains("Drill results are anonymous"), "{}", refused.text);
    app.drop_db().await;
}

async fn auditors_read_drill_counts_without_names_and_others_are_refused(backend: Backend) {
    let outbox = tempfile::tempdir().unwrap();
    let app = with_outbox(backend, outbox.path()).await;
    let id = drill_by_api(&app, "Audited drill", &["erin@example.com", "finn@example.com"]).await;
    let path = format!("/security/drills/{id}");
    assert_eq!(Browser::new(&app).get(&path).await.location, "/signin", "nobody signed in is sent to sign in");

    let mut gus = with_totp(&app, "gus.ortiz@example.com").await;
    let list = gus.get("/security/drills").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.text.contains("Audited drill") && list.text.contains("Anonymous results: off"));
    assert!(!list.text.contains("/security/drills/new") && !list.text.contains("/security/drills/settings"));
    let page = gus.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(!page.text.contains(">Launch</button>"), "no button for auditors");
    let csrf = page.csrf();
    for refused in [
        gus.get("/security/drills/new").await,
        gus.post(&format!("{path}/launch"), &[("csrf", &csrf)]).await,
        gus.post(&format!("{path}/stop"), &[("csrf", &csrf)]).await,
        gus.post("/security/drills/settings", &[("csrf", &csrf), ("anonymous", "true")]).await,
        gus.get("/security/drills/people/erin@example.com").await,
    ] {
        assert_eq!(refused.status, 403, "{}", refused.text);
        assert!(refused.text.contains("This page is for security admins."), "{}", refused.text);
    }
    assert_eq!(app.get(&format!("/api/v1/drills/{id}"), &app.tokens.admin).await.str("status"), "draft");

    // Launched: counts and departments of at least the minimum size, and no name.
    assert_eq!(app.post(&format!("/api/v1/drills/{id}/launch"), &app.tokens.admin, json!({})).await.status, 200);
    comply(&app, &token_for(&messages(outbox.path(), 2).await, "erin@example.com")).await;
    let page = gus.get(&path).await;
    assert!(page.text.contains("<td data-outcome=\"complied\">1</td>"), "{}", page.text);
    assert!(!page.text.contains("id=\"people\"") && !page.text.contains("Erin Walsh"), "{}", page.text);
    assert!(!page.text.contains(">Stop</button>"));
    assert!(
        page.text.contains("<td class=\"hidden-group\" data-label=\"Counts\" colspan=\"7\">fewer than 5 people</td>"),
        "{}",
        page.text
    );
    let csv = gus.get(&format!("{path}/results.csv")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.text.starts_with("department,targets,reported,") && !csv.text.contains("erin@"), "{}", csv.text);

    // Employees are refused every page, and their navigation has no link.
    set_password(&app, "erin@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    assert!(!erin.get("/").await.text.contains("/security/drills"));
    for path in ["/security/drills".to_owned(), path.clone(), format!("{path}/results.csv")] {
        let refused = erin.get(&path).await;
        assert_eq!(refused.status, 403, "{path}");
        assert!(refused.text.contains("This page is for security admins and auditors."), "{}", refused.text);
    }
    app.drop_db().await;
}
