//! The staff directory: search, cards, the generated avatar and the per-person look-up limit.

use crate::helpers::{spawn_app, spawn_app_with};
use bonafide_store::Backend;
use serde_json::{Value, json};

on_both!(
    staff_are_found_by_name_team_and_staff_id,
    a_card_shows_the_official_contacts,
    unknown_and_malformed_staff_ids_are_not_found,
    the_avatar_is_an_svg_with_initials,
    lookups_past_the_limit_wait_for_the_next_minute,
);

fn ids(found: &Value) -> Vec<&str> {
    found.as_array().unwrap().iter().map(|c| c["staff_id"].as_str().unwrap()).collect()
}

async fn staff_are_found_by_name_team_and_staff_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let search = |q: &'static str| {
        let app = &app;
        async move {
            let r = app.get(&format!("/api/v1/staff?query={q}"), &app.tokens.erin).await;
            assert_eq!(r.status, 200, "{q}: {}", r.text);
            r.body
        }
    };
    assert_eq!(ids(&search("sam").await), ["IT-0042"]);
    assert_eq!(ids(&search("NOVAK").await), ["IT-0007"]);
    assert_eq!(ids(&search("0042").await), ["IT-0042"]);
    assert_eq!(ids(&search("it-0007").await), ["IT-0007"]);
    // By team; sorted by name. The suspended staffer is listed, marked as such.
    let desk = search("service%20desk").await;
    assert_eq!(ids(&desk), ["IT-0099", "IT-0042"]);
    assert_eq!(desk[0]["status"], "suspended");
    assert_eq!(desk[1]["status"], "active");
    assert_eq!(ids(&search("network").await), ["IT-0007"]);
    // Employees who are not IT are not in the staff directory.
    assert!(ids(&search("erin").await).is_empty());
    assert!(ids(&search("ada").await).is_empty());
    assert_eq!(ids(&search("").await).len(), 3, "an empty query lists every staffer");
    let long = "x".repeat(101);
    let r = app.get(&format!("/api/v1/staff?query={long}"), &app.tokens.erin).await;
    assert_eq!((r.status, r.fields()), (422, vec!["query"]));
    app.drop_db().await;
}

async fn a_card_shows_the_official_contacts(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.get("/api/v1/staff/IT-0042", &app.tokens.finn).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "staff_id": "IT-0042",
            "display_name": "Sam Carter",
            "team": "Service Desk",
            "photo_url": "/api/v1/staff/IT-0042/photo",
            "status": "active",
            "on_duty": true,
            "official_numbers": ["+12015550142"],
            "official_addresses": ["sam.carter@example.com"],
        })
    );
    // Staff ids are read case-insensitively.
    let kim = app.get("/api/v1/staff/it-0007", &app.tokens.finn).await;
    assert_eq!((kim.status, kim.str("display_name")), (200, "Kim Novak"));
    assert_eq!(kim.body["official_numbers"], json!(["+12015550107"]));
    let search = app.get("/api/v1/staff?query=sam", &app.tokens.finn).await;
    assert_eq!(search.body[0], r.body, "search results are full cards");
    app.drop_db().await;
}

async fn unknown_and_malformed_staff_ids_are_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    for id in ["IT-9999", "nope", "IT-", "IT-123456789", "%20", "IT-0042x"] {
        let r = app.get(&format!("/api/v1/staff/{id}"), &app.tokens.erin).await;
        assert_eq!((r.status, r.problem()), (404, "urn:bonafide:problem:not-found"), "{id}");
        let photo = app.get(&format!("/api/v1/staff/{id}/photo"), &app.tokens.erin).await;
        assert_eq!(photo.status, 404, "{id}");
    }
    app.drop_db().await;
}

async fn the_avatar_is_an_svg_with_initials(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.get("/api/v1/staff/IT-0042/photo", &app.tokens.erin).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), "image/svg+xml");
    assert_eq!(r.header("cache-control"), "private, max-age=3600");
    assert!(r.text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{}", r.text);
    assert!(r.text.contains(">SC</text>"), "{}", r.text);
    let kim = app.get("/api/v1/staff/IT-0007/photo", &app.tokens.erin).await;
    assert!(kim.text.contains(">KN</text>"), "{}", kim.text);
    assert_ne!(kim.text.replace("KN", "SC"), r.text, "colours differ per staff id");
    app.drop_db().await;
}

async fn lookups_past_the_limit_wait_for_the_next_minute(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.app.staff_lookups_per_minute = 3).await;
    let erin = &app.tokens.erin;
    assert_eq!(app.get("/api/v1/staff/IT-0042", erin).await.status, 200);
    assert_eq!(app.get("/api/v1/staff?query=kim", erin).await.status, 200);
    assert_eq!(app.get("/api/v1/staff/IT-9999", erin).await.status, 404, "misses count too");
    let limited = app.get("/api/v1/staff/IT-0042", erin).await;
    assert_eq!((limited.status, limited.problem()), (429, "urn:bonafide:problem:rate-limited"));
    // The clock stands 10 s into its minute.
    assert_eq!(limited.header("retry-after"), "50");
    assert_eq!(app.get("/api/v1/staff?query=sam", erin).await.status, 429);
    // The limit is per person.
    assert_eq!(app.get("/api/v1/staff/IT-0042", &app.tokens.finn).await.status, 200);
    app.advance(30);
    let later = app.get("/api/v1/staff/IT-0042", erin).await;
    assert_eq!((later.status, later.header("retry-after")), (429, "20"));
    app.advance(30);
    assert_eq!(app.get("/api/v1/staff/IT-0042", erin).await.status, 200, "a new minute, a new allowance");
    app.drop_db().await;
}
