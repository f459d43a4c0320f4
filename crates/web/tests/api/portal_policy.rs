//! The contact policy in the portal: the banner on every page until the employee confirms, the policy
//! page, the editor's preview and publish (refusals listed, nothing written), the diff, the dashboard,
//! the verdict page naming the rule, and each refusal.

use crate::helpers::{TestApp, sams_call, spawn_app};
use crate::portal::{Browser, audited, enrol_totp, set_password, signed_in};
use bonafide_store::Backend;
use serde_json::json;

on_both!(
    the_banner_shows_on_every_page_until_the_employee_confirms,
    security_previews_publishes_compares_and_sees_who_confirmed,
    the_verdict_page_names_the_rule_that_failed,
    policy_pages_refuse_who_may_not_see_them,
);

async fn employee(app: &TestApp, email: &str) -> Browser {
    set_password(app, email).await;
    signed_in(app, email, None).await
}

async fn publish(app: &TestApp, rules: serde_json::Value, text: &str) {
    let r = app.post("/api/v1/policy", &app.tokens.admin, json!({ "rules": rules, "text": text })).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

const BANNER: &str = "The company's IT contact policy has changed";

async fn the_banner_shows_on_every_page_until_the_employee_confirms(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut erin = employee(&app, "erin@example.com").await;
    assert!(!erin.get("/").await.text.contains(BANNER), "no banner for the built-in policy");
    let page = erin.get("/policy").await;
    assert!(page.text.contains("Security has not written the company's contact policy yet"), "{}", page.text);
    assert!(!page.text.contains("I have read this"));
    publish(
        &app,
        json!({ "categories": {"password_reset": ["video", "in_person"]} }),
        "Our **promise**:\n\n- [The desk](https://desk.example)\n- <script>x</script>",
    )
    .await;
    for path in ["/", "/contact", "/staff", "/account", "/requests/new"] {
        let p = erin.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        assert!(p.text.contains(BANNER) && p.text.contains("href=\"/policy\""), "{path}: {}", p.text);
    }
    let page = erin.get("/policy").await;
    assert!(page.text.contains("Our <strong>promise</strong>"), "{}", page.text);
    assert!(page.text.contains("<a href=\"https://desk.example\" rel=\"noopener noreferrer\">The desk</a>"));
    assert!(page.text.contains("&lt;script&gt;") && !page.text.contains("<script>x"), "the text is escaped");
    assert!(page.text.contains("Password reset requests are handled only on video or in person."));
    assert!(page.text.contains("I have read this"));
    let csrf = page.csrf();
    let without = erin.post("/policy/acknowledge", &[("version", "1")]).await;
    assert_eq!(without.status, 403, "no CSRF token");
    let done = erin.post("/policy/acknowledge", &[("csrf", &csrf), ("version", "1")]).await;
    assert_eq!((done.status, done.location.as_str()), (303, "/policy"), "{}", done.text);
    let after = erin.get("/policy").await;
    assert!(after.text.contains("You confirmed you read this version on"), "{}", after.text);
    assert!(!after.text.contains("I have read this"));
    assert!(!erin.get("/").await.text.contains(BANNER), "the banner is gone");
    assert_eq!(audited(&app, "policy.acknowledged").await.len(), 1);
    // Someone else still sees it; a new version brings it back.
    let mut finn = employee(&app, "finn@example.com").await;
    assert!(finn.get("/").await.text.contains(BANNER));
    publish(&app, json!({}), "Version two.").await;
    assert!(erin.get("/").await.text.contains("version 2"), "a new version is new to Erin");
    let stale = erin.post("/policy/acknowledge", &[("csrf", &csrf), ("version", "1")]).await;
    assert_eq!(stale.status, 409, "{}", stale.text);
    app.drop_db().await;
}

async fn security_previews_publishes_compares_and_sees_who_confirmed(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "ada.reyes@example.com").await;
    let seed = enrol_totp(&app, "ada.reyes@example.com").await;
    let mut ada = signed_in(&app, "ada.reyes@example.com", Some(&seed)).await;
    let editor = ada.get("/security/policy").await;
    assert_eq!(editor.status, 200, "{}", editor.text);
    assert!(editor.text.contains("None yet: the built-in default is in force."));
    let csrf = editor.csrf();
    let form = |action: &'static str, channels: &'static [&'static str], zone: &'static str| {
        let mut f: Vec<(&str, &str)> = vec![("action", action)];
        f.extend(channels.iter().map(|c| ("channels", *c)));
        f.extend([
            ("face_to_face_only", "login_walkthrough"),
            ("categories", "password_reset: video, in_person\n"),
            ("hours_on", "true"),
            ("days", "mon"),
            ("days", "fri"),
            ("from", "08:00"),
            ("to", "18:00"),
            ("zone", zone),
            ("service_desk_number", "(201) 555-0100"),
            ("ack_due_days", "10"),
            ("effective_at", ""),
            ("text", "We **never** ask for codes."),
        ]);
        f
    };
    let with_csrf = |f: Vec<(&'static str, &'static str)>, csrf: &str| -> Vec<(String, String)> {
        let mut out = vec![("csrf".to_owned(), csrf.to_owned())];
        out.extend(f.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())));
        out
    };
    // A preview shows the version in words and writes nothing.
    let owned = with_csrf(form("preview", &["phone", "video", "in_person"], "Europe/Berlin"), &csrf);
    let p = post_owned(&mut ada, "/security/policy", &owned).await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert!(p.text.contains("Preview of version 1"), "{}", p.text);
    assert!(p.text.contains("We <strong>never</strong> ask for codes."));
    assert!(p.text.contains("IT contacts you only Monday and Friday, 08:00–18:00 (Europe/Berlin time)"), "{}", p.text);
    assert_eq!(app.get("/api/v1/policy", &app.tokens.erin).await.body["version"], 0, "a preview writes nothing");
    // Bad rules are listed by field, and nothing is written.
    let bad = with_csrf(form("publish", &["phone", "fax"], "Mars/Olympus"), &csrf);
    let p = post_owned(&mut ada, "/security/policy", &bad).await;
    assert_eq!(p.status, 422, "{}", p.text);
    assert!(p.text.contains("rules.channels[1]") && p.text.contains("rules.contact_hours.zone"), "{}", p.text);
    assert_eq!(app.get("/api/v1/policy/versions", &app.tokens.erin).await.body, json!([]));
    // Publish.
    let good = with_csrf(form("publish", &["phone", "video", "in_person"], "Europe/Berlin"), &csrf);
    let p = post_owned(&mut ada, "/security/policy", &good).await;
    assert_eq!(p.status, 201, "{}", p.text);
    assert!(p.text.contains("Version 1 is published"), "{}", p.text);
    let v1 = app.get("/api/v1/policy", &app.tokens.erin).await;
    assert_eq!(v1.body["rules"]["categories"], json!({"password_reset": ["video", "in_person"]}));
    assert_eq!(v1.body["rules"]["service_desk_number"], "+12015550100");
    assert_eq!(v1.body["rules"]["ack_due_days"], 10);
    assert_eq!(v1.body["rules"]["contact_hours"]["days"], json!(["mon", "fri"]));
    // The editor starts from the newest version; a second one can be compared with it.
    let editor = ada.get("/security/policy").await;
    assert!(editor.text.contains("password_reset: video, in_person"), "{}", editor.text);
    publish(&app, json!({}), "We **never** ask for codes.\nCall the desk.").await;
    let diff = ada.get("/security/policy/diff?from=1&to=2").await;
    assert_eq!(diff.status, 200, "{}", diff.text);
    assert!(
        diff.text
            .contains("<li class=\"removed\"><span class=\"visually-hidden\">Removed: </span>Password reset requests"),
        "{}",
        diff.text
    );
    assert!(
        diff.text.contains("<li class=\"added\"><span class=\"visually-hidden\">Added: </span>Call the desk.</li>"),
        "{}",
        diff.text
    );
    assert!(diff.text.contains("<li class=\"same\">We **never** ask for codes.</li>"), "{}", diff.text);
    assert_eq!(ada.get("/security/policy/diff?from=1&to=9").await.status, 404);
    // The dashboard: a bar per department, and who is overdue once the version is due.
    assert_eq!(app.post("/api/v1/policy/versions/2/acknowledge", &app.tokens.erin, json!({})).await.status, 200);
    let dash = ada.get("/security/policy/acknowledgements").await;
    assert_eq!(dash.status, 200, "{}", dash.text);
    assert!(dash.text.contains("class=\"chart bars\""), "{}", dash.text);
    assert_eq!(dash.text.matches("<rect ").count(), 2 * 5, "two rectangles for each of five departments");
    assert!(dash.text.contains("100 % (1/1)") && dash.text.contains("0 % (0/2)"), "{}", dash.text);
    let svg = &dash.text[dash.text.find("<svg").unwrap()..dash.text.find("</svg>").unwrap()];
    assert!(!svg.contains("<script") && !svg.contains(" on"), "no script in the chart: {svg}");
    assert!(dash.text.contains("Nobody yet: the version is not due."));
    app.advance(15 * 86_400);
    // Sessions last 12 hours: sign in again on the day the version is due.
    let mut ada = signed_in(&app, "ada.reyes@example.com", Some(&seed)).await;
    let due = ada.get("/security/policy/acknowledgements").await;
    assert!(
        due.text.contains("finn@example.com") && !due.text.contains("<td data-label=\"Email\">erin@"),
        "{}",
        due.text
    );
    app.drop_db().await;
}

async fn post_owned(b: &mut Browser, path: &str, form: &[(String, String)]) -> crate::portal::Page {
    let request = b.client.post(format!("{}{path}", b.base)).form(form);
    b.send(request).await
}

async fn the_verdict_page_names_the_rule_that_failed(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let r =
        app.post("/api/v1/requests", &t.erin, json!({ "summary": "Locked out", "category": "password_reset" })).await;
    let key = r.str("key").to_owned();
    app.assign(&key, "IT-0042", &t.kim).await;
    publish(&app, json!({ "categories": {"password_reset": ["video", "in_person"]} }), "").await;
    let check = app.open_check(&t.erin, sams_call()).await;
    let mut erin = employee(&app, "erin@example.com").await;
    let page = erin.get(&format!("/checks/{}", check.str("id"))).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Not verified — hang up"), "{}", page.text);
    assert!(
        page.text.contains("Password reset requests are handled only on video or in person. This was a phone call."),
        "{}",
        page.text
    );
    assert!(
        !page.text.contains("IT does not do this kind of request over this channel."),
        "the rule, not the generic reason"
    );
    app.drop_db().await;
}

async fn policy_pages_refuse_who_may_not_see_them(backend: Backend) {
    let app = spawn_app(backend).await;
    publish(&app, json!({}), "").await;
    let mut erin = employee(&app, "erin@example.com").await;
    for path in ["/security/policy", "/security/policy/acknowledgements", "/security/policy/diff?from=1&to=1"] {
        assert_eq!(erin.get(path).await.status, 403, "{path}");
    }
    let mut nobody = Browser::new(&app);
    for path in ["/policy", "/security/policy"] {
        let p = nobody.get(path).await;
        assert_eq!((p.status, p.location.as_str()), (303, "/signin"), "{path}");
    }
    // An auditor reads the dashboard and the diff but may not write a version.
    set_password(&app, "gus.ortiz@example.com").await;
    let seed = enrol_totp(&app, "gus.ortiz@example.com").await;
    let mut gus = signed_in(&app, "gus.ortiz@example.com", Some(&seed)).await;
    assert_eq!(gus.get("/security/policy/acknowledgements").await.status, 200);
    assert_eq!(gus.get("/security/policy/diff?from=1&to=1").await.status, 200);
    assert_eq!(gus.get("/security/policy").await.status, 403);
    let csrf = gus.get("/policy").await.csrf();
    assert_eq!(gus.post("/security/policy", &[("csrf", &csrf), ("action", "publish")]).await.status, 403);
    assert_eq!(erin.get("/security/policy/diff").await.status, 403);
    app.drop_db().await;
}
