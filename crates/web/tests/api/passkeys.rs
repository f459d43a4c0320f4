//! Passkeys over HTTP with a software authenticator: registration, the passkey as the second factor,
//! passwordless sign-in, and every forged or replayed answer refused and audited.

use crate::helpers::{PASSKEY_ORIGIN, TestApp, spawn_app};
use crate::portal::{Browser, Page, audited, set_password, signed_in};
use crate::softkey::SoftKey;
use bonafide_domain::PersonStatus;
use bonafide_store::Backend;
use serde_json::Value;

on_both!(
    a_passkey_is_registered_and_then_serves_as_the_second_factor,
    a_passkey_signs_in_without_a_password_once_per_challenge,
    forged_and_cloned_passkey_answers_are_refused_and_audited,
);

fn json(page: &Page) -> Value {
    assert_eq!(page.status, 200, "{}", page.text);
    serde_json::from_str(&page.text).unwrap_or_else(|e| panic!("{e}: {}", page.text))
}

/// Registers `key` for whoever `b` is signed in as; returns the final answer.
async fn register(b: &mut Browser, key: &mut SoftKey, name: &str) -> Page {
    let csrf = b.get("/account").await.csrf();
    let started = json(&b.post("/account/passkeys/options", &[("csrf", &csrf)]).await);
    let answer = key.register(&started["options"]).to_string();
    let ceremony = started["ceremony"].as_str().unwrap().to_owned();
    b.post("/account/passkeys", &[("csrf", &csrf), ("ceremony", &ceremony), ("credential", &answer), ("name", name)])
        .await
}

/// Runs the passwordless ceremony in a fresh browser; returns the browser and the final answer.
async fn passwordless(app: &TestApp, key: &mut SoftKey) -> (Browser, Page, [String; 3]) {
    let mut b = Browser::new(app);
    let csrf = b.get("/signin").await.csrf();
    let started = json(&b.post("/signin/passkey/options", &[("csrf", &csrf)]).await);
    let answer = key.assert(&started["options"]).to_string();
    let ceremony = started["ceremony"].as_str().unwrap().to_owned();
    let done = b.post("/signin/passkey", &[("csrf", &csrf), ("ceremony", &ceremony), ("credential", &answer)]).await;
    (b, done, [csrf, ceremony, answer])
}

async fn a_passkey_is_registered_and_then_serves_as_the_second_factor(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let account = erin.get("/account").await;
    assert!(account.text.contains("You have no passkeys."));
    assert!(account.text.contains(&format!("data-origin=\"{PASSKEY_ORIGIN}\"")), "{}", account.text);
    assert!(account.text.contains(&format!("Passkeys work at {PASSKEY_ORIGIN}")), "where they work, for other origins");
    let mut key = SoftKey::new(PASSKEY_ORIGIN);
    let added = register(&mut erin, &mut key, "work <laptop>").await;
    assert_eq!((added.status, added.location.as_str()), (303, "/account"), "{}", added.text);
    let account = erin.get("/account").await;
    assert!(account.text.contains("work &lt;laptop&gt;"), "the name is shown, escaped");
    assert_eq!(audited(&app, "factor.passkey.added").await[0].2, "ok");

    // The same authenticator twice is refused (the options also list it to exclude).
    let again = register(&mut erin, &mut key, "again").await;
    assert_eq!(again.status, 422, "{}", again.text);
    assert_eq!(audited(&app, "factor.passkey.added").await[0].2, "denied");

    // Now the password alone opens nothing: the passkey is the second factor.
    let mut b = Browser::new(&app);
    let next = b.password("erin@example.com", crate::portal::PASSWORD).await;
    assert_eq!((next.status, next.location.as_str()), (303, "/signin/second-factor"));
    assert_eq!(b.get("/").await.location, "/signin/second-factor");
    let form = b.get("/signin/second-factor").await;
    assert!(form.text.contains("Use my passkey") && !form.text.contains("6-digit code"), "{}", form.text);
    let csrf = form.csrf();
    let started = json(&b.post("/signin/second-factor/passkey/options", &[("csrf", &csrf)]).await);
    let allowed = started["options"]["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1, "only Erin's passkey is offered");
    let answer = key.assert(&started["options"]).to_string();
    let ceremony = started["ceremony"].as_str().unwrap();
    let done = b
        .post("/signin/second-factor/passkey", &[("csrf", &csrf), ("ceremony", ceremony), ("credential", &answer)])
        .await;
    assert_eq!((done.status, done.location.as_str()), (303, "/"), "{}", done.text);
    assert_eq!(b.get("/").await.status, 200);
    let used = audited(&app, "signin.passkey").await;
    assert_eq!((used.len(), used[0].2.as_str()), (1, "ok"));

    // Removed, it no longer counts: the password signs straight in again.
    let id = added_id(&app).await;
    let csrf = erin.get("/account").await.csrf();
    let removed = erin.post(&format!("/account/passkeys/{id}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(removed.status, 303, "{}", removed.text);
    assert_eq!(audited(&app, "factor.passkey.removed").await[0].2, "ok");
    let mut c = Browser::new(&app);
    assert_eq!(c.password("erin@example.com", crate::portal::PASSWORD).await.location, "/");
    app.drop_db().await;
}

async fn added_id(app: &TestApp) -> String {
    let erin = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    app.store.passkeys_of(erin.id).await.unwrap()[0].id.clone()
}

async fn a_passkey_signs_in_without_a_password_once_per_challenge(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let mut key = SoftKey::new(PASSKEY_ORIGIN);
    assert_eq!(register(&mut erin, &mut key, "phone").await.status, 303);

    let page = Browser::new(&app).get("/signin").await;
    assert!(page.text.contains("Sign in with a passkey"), "{}", page.text);
    let (mut b, done, [csrf, ceremony, answer]) = passwordless(&app, &mut key).await;
    assert_eq!((done.status, done.location.as_str()), (303, "/"), "{}", done.text);
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.text.contains("Erin"), "signed in as Erin");
    let ok = audited(&app, "signin.passkey").await;
    assert_eq!((ok[0].0.as_str(), ok[0].2.as_str()), ("erin@example.com", "ok"));

    // The same answer again: its challenge was used up.
    let mut replayer = Browser::new(&app);
    let fresh = replayer.get("/signin").await.csrf();
    let replayed =
        replayer.post("/signin/passkey", &[("csrf", &fresh), ("ceremony", &ceremony), ("credential", &answer)]).await;
    assert_eq!(replayed.status, 401, "{}", replayed.text);
    assert!(!replayer.cookies.keys().any(|k| k.contains("session")), "no session");
    // Without the sign-in page's own token (a cross-site form), refused before anything is checked.
    let mut forger = Browser::new(&app);
    let forged =
        forger.post("/signin/passkey", &[("csrf", &csrf), ("ceremony", &ceremony), ("credential", &answer)]).await;
    assert_eq!(forged.status, 403);
    let options = forger.post("/signin/passkey/options", &[("csrf", &csrf)]).await;
    assert_eq!(options.status, 403);

    // A suspended person's passkey opens nothing.
    let person = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    app.store
        .set_person_status(
            person.id,
            PersonStatus::Suspended,
            app.clock_now(),
            &crate::helpers::seeded("directory.status_changed"),
        )
        .await
        .unwrap();
    let (_, suspended, _) = passwordless(&app, &mut key).await;
    assert_eq!(suspended.status, 401, "{}", suspended.text);
    let denied: Vec<_> = audited(&app, "signin.passkey").await.into_iter().filter(|e| e.2 == "denied").collect();
    assert_eq!(denied.len(), 2, "the replay and the suspended sign-in are audited");
    app.drop_db().await;
}

async fn forged_and_cloned_passkey_answers_are_refused_and_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;

    // A phishing site's origin, or an authenticator that skipped user verification, does not register.
    let mut phished = SoftKey::new("https://bonafide-login.example.net");
    assert_eq!(register(&mut erin, &mut phished, "x").await.status, 422);
    let mut careless = SoftKey::new(PASSKEY_ORIGIN);
    careless.verified = false;
    assert_eq!(register(&mut erin, &mut careless, "x").await.status, 422);
    // Nor does an answer that is not JSON, or a form without the session's CSRF token.
    let csrf = erin.get("/account").await.csrf();
    let started = json(&erin.post("/account/passkeys/options", &[("csrf", &csrf)]).await);
    let ceremony = started["ceremony"].as_str().unwrap().to_owned();
    let garbage =
        erin.post("/account/passkeys", &[("csrf", &csrf), ("ceremony", &ceremony), ("credential", "{\"id\": 1")]).await;
    assert_eq!(garbage.status, 422);
    assert_eq!(erin.post("/account/passkeys/options", &[("csrf", "forged")]).await.status, 403);
    let refused = audited(&app, "factor.passkey.added").await;
    assert_eq!(refused.len(), 3);
    assert!(refused.iter().all(|e| e.2 == "denied"));

    // Registered properly, the key signs in; answers for another origin or without verification do not.
    let mut key = SoftKey::new(PASSKEY_ORIGIN);
    assert_eq!(register(&mut erin, &mut key, "laptop").await.status, 303);
    key.origin = "https://bonafide-login.example.net".into();
    assert_eq!(passwordless(&app, &mut key).await.1.status, 401);
    key.origin = PASSKEY_ORIGIN.into();
    key.verified = false;
    assert_eq!(passwordless(&app, &mut key).await.1.status, 401);
    key.verified = true;
    assert_eq!(passwordless(&app, &mut key).await.1.status, 303);
    // A copy of the authenticator shows itself by a signature counter that went back.
    key.rewind_counter();
    assert_eq!(passwordless(&app, &mut key).await.1.status, 401);
    let denied = audited(&app, "signin.passkey").await.into_iter().filter(|e| e.2 == "denied").count();
    assert_eq!(denied, 3);
    // Someone else's registration ceremony cannot be finished from Erin's session.
    set_password(&app, "finn@example.com").await;
    let mut finn = signed_in(&app, "finn@example.com", None).await;
    let finn_csrf = finn.get("/account").await.csrf();
    let finns = json(&finn.post("/account/passkeys/options", &[("csrf", &finn_csrf)]).await);
    let mut other = SoftKey::new(PASSKEY_ORIGIN);
    let answer = other.register(&finns["options"]).to_string();
    let csrf = erin.get("/account").await.csrf();
    let stolen = erin
        .post(
            "/account/passkeys",
            &[("csrf", &csrf), ("ceremony", finns["ceremony"].as_str().unwrap()), ("credential", &answer)],
        )
        .await;
    assert_eq!(stolen.status, 422);
    app.drop_db().await;
}
