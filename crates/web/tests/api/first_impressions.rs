//! What a newcomer and a security team meet first (issue 15): the console's code and its countdown, numbers
//! to call as `tel:` links, the people page at company size, roles and suspension, alerts in words.

use crate::helpers::{sams_call, seeded, spawn_app, staffer};
use crate::portal::{enrol_totp, set_password, signed_in};
use bonafide_app::records::NewPerson;
use bonafide_domain::Roles;
use bonafide_store::Backend;

on_both!(
    regression_15_3_the_console_counts_down_to_the_next_code_and_tells_how_long_it_is_accepted,
    regression_15_4_numbers_people_are_told_to_call_are_tel_links_in_their_readable_form,
    regression_15_5_the_people_page_searches_filters_and_pages_50_000_people_under_100_kb,
    regression_15_6_role_labels_hold_their_checkbox_and_suspending_asks_first,
    regression_15_7_alerts_read_in_words_link_their_campaign_and_the_portal_downloads_stix,
);

/// Ada Reyes, the security admin, signed in with her password and authenticator.
async fn security_admin(app: &crate::helpers::TestApp) -> crate::portal::Browser {
    set_password(app, "ada.reyes@example.com").await;
    let seed = enrol_totp(app, "ada.reyes@example.com").await;
    signed_in(app, "ada.reyes@example.com", Some(&seed)).await
}

/// The README's promise: no page over 100 KB.
const PAGE_BUDGET: usize = 100 * 1024;

/// The text of the first `attribute="…"` value on `page`.
fn attribute<'a>(page: &'a str, attribute: &str) -> &'a str {
    let marker = format!("{attribute}=\"");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no {attribute} on the page: {page}"));
    let rest = &page[at + marker.len()..];
    &rest[..rest.find('"').unwrap()]
}

async fn regression_15_3_the_console_counts_down_to_the_next_code_and_tells_how_long_it_is_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let key = app.open_request(&t.erin, "VPN drops").await;
    app.assign(&key, "IT-0042", &t.sam).await;
    set_password(&app, "sam.carter@example.com").await;
    let seed = enrol_totp(&app, "sam.carter@example.com").await;
    let mut sam = signed_in(&app, "sam.carter@example.com", Some(&seed)).await;
    let console = sam.get("/console").await.text;
    let code = app.console_code(&t.sam, &key).await;

    // Shown as one group read aloud, "123 456", with the digits for copying.
    assert_eq!(attribute(&console, "data-code"), code);
    assert!(console.contains(&format!(">{} {}</span>", &code[..3], &code[3..])), "{console}");
    // The countdown runs to the next code (at most a minute away), as the page says.
    let now = app.clock_now().unix_timestamp();
    let rotates_at: i64 = attribute(&console, "data-rotates-at").parse().unwrap();
    assert_eq!(rotates_at, (now.div_euclid(60) + 1) * 60, "the next code comes on the minute");
    let left = console.split("class=\"countdown\">").nth(1).unwrap().split(" s<").next().unwrap();
    assert_eq!(left.parse::<i64>().unwrap(), rotates_at - now);
    assert!(rotates_at - now <= 60);
    assert!(
        console.contains(
            "A new code appears every minute; the one you just read out is still accepted for one more minute"
        )
    );

    // What it says holds: a code read out after it changed still verifies, a minute later it does not.
    app.advance(rotates_at - now + 50);
    let check = app.open_check(&t.erin, sams_call()).await;
    let id = check.str("id").to_owned();
    assert_eq!(app.answer(&id, &t.erin, &code).await.str("verdict"), "verified");
    app.advance(60);
    let check = app.open_check(&t.erin, sams_call()).await;
    let late = app.answer(check.str("id"), &t.erin, &code).await;
    assert_eq!((late.str("verdict"), &late.body["reasons"]), ("unverified", &serde_json::json!(["challenge_failed"])));
    // The API says the same: the next code at `rotates_at`, this one accepted until `valid_until`.
    let codes = app.get("/api/v1/console/codes", &t.sam).await;
    let entry = &codes.body[0];
    let rotates = time::OffsetDateTime::parse(
        entry["rotates_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let valid = time::OffsetDateTime::parse(
        entry["valid_until"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(valid - rotates, time::Duration::minutes(1));
    app.drop_db().await;
}

async fn regression_15_4_numbers_people_are_told_to_call_are_tel_links_in_their_readable_form(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ada = security_admin(&app).await;
    // The number people are told to call is the contact policy's.
    let rules = serde_json::json!({ "service_desk_number": "(201) 555-0100" });
    let published =
        app.post("/api/v1/policy", &app.tokens.admin, serde_json::json!({ "rules": rules, "text": "" })).await;
    assert_eq!(published.status, 201, "{}", published.text);
    let editor = ada.get("/security/policy").await.text;
    assert!(editor.contains(r#"value="+1 201-555-0100""#), "the number reads as people write it: {editor}");
    set_password(&app, "erin@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;

    // The red page.
    let form = erin.get("/contact").await;
    let red = erin
        .post(
            "/contact",
            &[("csrf", &form.csrf()), ("claimed", "Mike from IT"), ("channel", "phone"), ("from", "+1 555 010 9999")],
        )
        .await;
    assert_eq!(red.status, 303);
    let red = erin.get(&red.location).await.text;
    assert!(red.contains("Not verified"), "{red}");
    assert!(red.contains(r#"<a class="nowrap" href="tel:+12015550100">+1 201-555-0100</a>"#), "{red}");
    assert!(!red.contains("+12015550100<"), "never the raw E.164 text: {red}");

    // The "act now" page after doing what a caller asked.
    let form = erin.get("/report").await;
    let filed = erin
        .post(
            "/report",
            &[("csrf", &form.csrf()), ("channel", "phone"), ("asked_for", "password"), ("complied", "yes")],
        )
        .await;
    assert!(filed.text.contains("Act now"), "{}", filed.text);
    assert!(
        filed.text.contains(
            r#"Call IT now on <a class="nowrap" href="tel:+12015550100">+1 201-555-0100</a> (the official number)"#
        ),
        "{}",
        filed.text
    );

    // The staff directory.
    let staff = erin.get("/staff?query=Sam").await.text;
    assert!(staff.contains(r#"href="tel:+12015550142">+1 201-555-0142</a>"#), "{staff}");
    app.drop_db().await;
}

/// A company of `n` more people with long, realistic names and addresses: every tenth one in IT.
fn company_of(n: usize) -> Vec<NewPerson> {
    const DEPARTMENTS: [&str; 6] = ["Finance", "Sales", "Engineering", "Operations", "People", "Customer Success"];
    (0..n)
        .map(|i| {
            let name = format!("Maximiliana-Josefina Oyelaran-Castellanos {i:05}");
            let email = format!("maximiliana.oyelaran-castellanos.{i:05}@example.com");
            if i % 10 == 0 {
                let number = format!("201-555-{:04}", i % 10_000);
                let mut s = staffer(&email, &name, &format!("IT-{:05}", 10_000 + i), "Field Services", &number);
                s.official_phones.clear();
                s
            } else {
                let mut p = NewPerson::new(email.parse().unwrap(), name.parse().unwrap(), Roles::new([]));
                p.department = DEPARTMENTS[i % DEPARTMENTS.len()].to_owned();
                p
            }
        })
        .collect()
}

async fn regression_15_5_the_people_page_searches_filters_and_pages_50_000_people_under_100_kb(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = app.clock_now();
    app.store.import_people(&company_of(50_000), now, |_| {}, |_, _| seeded("directory.imported")).await.unwrap();
    let mut ada = security_admin(&app).await;
    let rows = |page: &str| page.matches("<tr>").count() - 1;

    let first = ada.get("/security/people").await;
    assert_eq!(first.status, 200);
    assert!(first.text.len() < PAGE_BUDGET, "the first page is {} bytes", first.text.len());
    assert_eq!(rows(&first.text), 50);
    assert!(first.text.contains("1–50 of 50007 people"), "{}", &first.text[..2000.min(first.text.len())]);
    assert!(first.text.contains("Page 1 of 1001"));
    assert!(first.text.contains(r#"href="/security/people?page=2" rel="next""#));

    // The last page, and a page past the end (a stale bookmark) showing the last one.
    let last = ada.get("/security/people?page=1001").await.text;
    assert!(last.len() < PAGE_BUDGET);
    assert_eq!(rows(&last), 7);
    assert!(last.contains("50001–50007 of 50007 people") && !last.contains("rel=\"next\""), "{last}");
    assert_eq!(ada.get("/security/people?page=999999999999").await.text, last);
    assert!(ada.get("/security/people?page=nonsense").await.text.contains("Page 1 of 1001"));

    // Search by name, email, staff id and department, in any case; filters by role and status.
    let by_name = ada.get("/security/people?q=castellanos+04242").await.text;
    assert!(by_name.contains("1–1 of 1 person") && by_name.contains("oyelaran-castellanos.04242@"), "{by_name}");
    let by_email = ada.get("/security/people?q=ERIN%40EXAMPLE").await.text;
    assert!(by_email.contains("1–1 of 1 person") && by_email.contains("Erin Walsh"), "{by_email}");
    let by_staff_id = ada.get("/security/people?q=it-0042").await.text;
    assert!(by_staff_id.contains("Sam Carter") && by_staff_id.contains("of 1 person"), "{by_staff_id}");
    let by_department = ada.get("/security/people?q=customer+success").await.text;
    assert!(by_department.contains("of 8333 people") && by_department.len() < PAGE_BUDGET, "{}", by_department.len());
    let it = ada.get("/security/people?role=it_staff&page=2").await.text;
    assert!(it.contains("51–100 of 5003 people") && it.len() < PAGE_BUDGET, "{it}");
    let suspended = ada.get("/security/people?status=suspended").await.text;
    assert!(suspended.contains("1–1 of 1 person") && suspended.contains("Pat Doyle"), "{suspended}");
    let both = ada.get("/security/people?q=castellanos&role=auditor").await.text;
    assert!(both.contains("Nobody matches."), "{both}");
    // LIKE's wildcards are searched for as they are.
    assert!(ada.get("/security/people?q=%25").await.text.contains("Nobody matches."));
    // A page carries the search into its links.
    assert!(it.contains(r#"href="/security/people?role=it_staff&amp;page=3" rel="next""#), "{it}");
    let unknown = ada.get("/security/people?role=wizard").await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.text.contains("unknown role"), "{}", unknown.text);
    app.drop_db().await;
}

async fn regression_15_6_role_labels_hold_their_checkbox_and_suspending_asks_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ada = security_admin(&app).await;
    let people = ada.get("/security/people?q=erin").await.text;
    // Each role's checkbox sits inside its own label, before the words.
    assert!(
        people.contains(r#"<label class="check"><input type="checkbox" name="roles" value="auditor">Auditor</label>"#),
        "{people}"
    );
    // The list suspends nobody by itself: it links to a page that asks.
    assert!(!people.contains(r#"type="hidden" name="status" value="suspended""#), "{people}");
    let erin = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    let href = format!("/security/people/{}/suspend", erin.id);
    assert!(people.contains(&format!(r#"href="{href}""#)), "{people}");
    let ask = ada.get(&href).await;
    assert_eq!(ask.status, 200);
    assert!(
        ask.text.contains("Suspend Erin Walsh?") && ask.text.contains("will not be able to sign in"),
        "{}",
        ask.text
    );
    assert!(ask.text.contains(r#"href="/security/people">Cancel</a>"#));
    let still = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(still.status, bonafide_domain::PersonStatus::Active, "asking changes nothing");
    let done = ada
        .post(&format!("/security/people/{}/status", erin.id), &[("csrf", &ask.csrf()), ("status", "suspended")])
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("erin@example.com is now suspended."));
    let after = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(after.status, bonafide_domain::PersonStatus::Suspended);
    // Only security admins are asked.
    set_password(&app, "gus.ortiz@example.com").await;
    let mut gus = signed_in(&app, "gus.ortiz@example.com", None).await;
    assert_eq!(gus.get(&href).await.status, 403);
    app.drop_db().await;
}

async fn regression_15_7_alerts_read_in_words_link_their_campaign_and_the_portal_downloads_stix(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut campaign = None;
    for token in [&app.tokens.erin, &app.tokens.finn] {
        let r = serde_json::json!({ "channel": "phone", "caller_number": "(555) 010-1111", "claimed_name": "Mike from IT" });
        let filed = app.post("/api/v1/reports", token, r).await;
        campaign = filed.body["campaign_id"].as_str().map(str::to_owned).or(campaign);
    }
    let campaign = campaign.expect("two people in two departments make a campaign");
    // The API names the alert's campaign.
    let alerts = app.get("/api/v1/alerts", &app.tokens.admin).await;
    let detected = alerts.body.as_array().unwrap().iter().find(|a| a["kind"] == "campaign_detected").unwrap();
    assert_eq!(detected["campaign_id"], campaign.as_str(), "{}", alerts.text);

    let mut ada = security_admin(&app).await;
    let security = ada.get("/security").await.text;
    assert!(security.contains("<strong>New campaign</strong>"), "{security}");
    assert!(!security.contains("campaign_detected"), "no raw kinds: {security}");
    let link = format!(r#"<a href="/security/campaigns/{campaign}">{campaign}</a>"#);
    assert!(security.contains(&link), "{security}");

    // The campaign page offers the bundle from the session; it downloads as a file.
    let page = ada.get(&format!("/security/campaigns/{campaign}")).await.text;
    let href = format!("/security/campaigns/{campaign}/stix");
    assert!(page.contains(&format!(r#"href="{href}""#)), "{page}");
    let file = ada.get(&href).await;
    assert_eq!(file.status, 200, "{}", file.text);
    assert_eq!(file.headers["content-type"], "application/stix+json;version=2.1");
    assert!(
        file.headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"bonafide-campaign-")
    );
    let bundle: serde_json::Value = serde_json::from_str(&file.text).unwrap();
    let api = app.get(&format!("/api/v1/campaigns/{campaign}/stix"), &app.tokens.admin).await;
    assert_eq!(bundle["objects"].as_array().unwrap().len(), api.body["objects"].as_array().unwrap().len());
    assert_eq!(bundle["type"], "bundle");
    // Employees get no bundle.
    set_password(&app, "erin@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    assert_eq!(erin.get(&href).await.status, 403);
    app.drop_db().await;
}
