//! What a newcomer and a security team meet first (issue 15): the console's code and its countdown, numbers
//! to call as `tel:` links, the people page at company size, roles and suspension, alerts in words.

use crate::helpers::{sams_call, spawn_app};
use crate::portal::{enrol_totp, set_password, signed_in};
use bonafide_store::Backend;

on_both!(
    regression_15_3_the_console_counts_down_to_the_next_code_and_tells_how_long_it_is_accepted,
    regression_15_4_numbers_people_are_told_to_call_are_tel_links_in_their_readable_form,
);

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
    set_password(&app, "ada.reyes@example.com").await;
    let seed = enrol_totp(&app, "ada.reyes@example.com").await;
    let mut ada = signed_in(&app, "ada.reyes@example.com", Some(&seed)).await;
    let security = ada.get("/security").await;
    let fields = [
        ("csrf", security.csrf()),
        ("employee_totp_required", String::new()),
        ("service_desk_phone", "(201) 555-0100".into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = ada.post("/security/settings", &fields).await;
    assert_eq!(saved.status, 303, "{}", saved.text);
    let security = ada.get("/security").await.text;
    assert!(security.contains(r#"value="+1 201-555-0100""#), "the setting reads as people write it: {security}");
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
