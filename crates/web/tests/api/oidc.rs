//! Single sign-on (issue 19 §1) against an in-test OpenID Connect provider: the flow with PKCE, every
//! check of the id token (each tampered with in turn), the email mapping, MFA at the provider, and
//! `local_passwords`. Every refusal is in the audit log.

use crate::helpers::{TestApp, spawn_app_with};
use crate::oidc_provider::{CLIENT_ID, Provider};
use crate::portal::{Browser, PASSWORD, audited, enrol_totp, set_password};
use base64::Engine;
use bonafide_app::signin::oidc::{LocalPasswords, SsoSettings};
use bonafide_store::Backend;
use serde_json::{Value, json};
use std::collections::HashMap;

on_both!(
    a_verified_email_signs_in_and_the_page_names_the_provider,
    a_tampered_signature_issuer_audience_nonce_expiry_or_state_is_refused_and_audited,
    unverified_unknown_and_suspended_people_are_refused_and_audited,
    mfa_at_the_provider_is_demanded_and_replaces_the_second_factor,
    local_passwords_keep_a_break_glass_way_in,
);

async fn spawn(backend: Backend, idp: &Provider, tune: impl FnOnce(&mut SsoSettings)) -> TestApp {
    let mut sso = SsoSettings::new(&idp.issuer, CLIENT_ID);
    sso.name = "Acme SSO".to_owned();
    tune(&mut sso);
    spawn_app_with(backend, |c| c.app.sso = Some(sso)).await
}

/// What the browser brought back from `GET /signin/oidc`: the authorization request's parameters.
struct Authorize(HashMap<String, String>);

impl Authorize {
    fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or_else(|| panic!("no {name} in {:?}", self.0))
    }
}

async fn to_provider(b: &mut Browser, idp: &Provider) -> Authorize {
    let started = b.get("/signin/oidc").await;
    assert_eq!(started.status, 303, "{}", started.text);
    let url = openidconnect::url::Url::parse(&started.location).unwrap();
    assert_eq!(format!("{}{}", url.origin().ascii_serialization(), url.path()), format!("{}/authorize", idp.issuer));
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let a = Authorize(query);
    assert_eq!((a.get("response_type"), a.get("client_id")), ("code", CLIENT_ID));
    assert_eq!(a.get("code_challenge_method"), "S256");
    assert!(a.get("scope").split(' ').any(|s| s == "openid"), "{}", a.get("scope"));
    assert!(a.get("redirect_uri").ends_with("/signin/oidc/callback"));
    a
}

fn claims(app: &TestApp, idp: &Provider, a: &Authorize, email: &str) -> Value {
    let now = app.clock_now().unix_timestamp();
    json!({
        "iss": idp.issuer, "aud": CLIENT_ID, "sub": format!("sub-{email}"), "email": email,
        "email_verified": true, "nonce": a.get("nonce"), "iat": now, "exp": now + 300,
    })
}

/// Has the provider answer with `token` and brings the browser back with `state`.
async fn back(b: &mut Browser, idp: &Provider, a: &Authorize, token: String, state: &str) -> crate::portal::Page {
    let code = format!("code-{}", a.get("state"));
    idp.grant(&code, a.get("code_challenge"), token);
    b.get(&format!("/signin/oidc/callback?state={state}&code={code}")).await
}

/// The full flow for `email` with `edit` applied to the id token's claims.
async fn sign_in(
    app: &TestApp,
    idp: &Provider,
    email: &str,
    edit: impl FnOnce(&mut Value),
) -> (Browser, crate::portal::Page) {
    let mut b = Browser::new(app);
    let a = to_provider(&mut b, idp).await;
    let mut c = claims(app, idp, &a, email);
    edit(&mut c);
    let page = back(&mut b, idp, &a, idp.sign(&c), a.get("state")).await;
    (b, page)
}

fn continues_to(page: &crate::portal::Page) -> &str {
    let at = page.text.find("id=\"continue\" href=\"").unwrap_or_else(|| panic!("no continue link: {}", page.text));
    let rest = &page.text[at + "id=\"continue\" href=\"".len()..];
    &rest[..rest.find('"').unwrap()]
}

/// A change to an id token's claims.
type Edit = Box<dyn Fn(&mut Value)>;

fn denied(entries: &[(String, String, String)]) -> Vec<&str> {
    entries.iter().filter(|e| e.2 == "denied").map(|e| e.1.as_str()).collect()
}

async fn a_verified_email_signs_in_and_the_page_names_the_provider(backend: Backend) {
    let idp = Provider::start().await;
    let app = spawn(backend, &idp, |_| {}).await;
    let form = Browser::new(&app).get("/signin").await;
    assert!(
        form.text.contains("Sign in with Acme SSO") && form.text.contains("href=\"/signin/oidc\""),
        "{}",
        form.text
    );

    let (mut b, page) = sign_in(&app, &idp, "Erin@Example.com", |_| {}).await;
    assert_eq!((page.status, continues_to(&page)), (200, "/"), "{}", page.text);
    assert!(!b.cookies.contains_key("bf_oidc"), "the flow cookie is gone once used");
    let home = b.get("/").await;
    assert_eq!(home.status, 200, "{}", home.text);
    assert!(home.text.contains("Erin"), "{}", home.text);
    let ok = audited(&app, "signin.oidc").await;
    assert_eq!(ok, vec![("erin@example.com".to_owned(), "erin@example.com".to_owned(), "ok".to_owned())]);

    // A callback replayed with its flow cookie fails: the provider redeems a code once.
    let mut again = Browser::new(&app);
    let a = to_provider(&mut again, &idp).await;
    let flow = again.cookies.clone();
    let token = idp.sign(&claims(&app, &idp, &a, "erin@example.com"));
    assert_eq!(back(&mut again, &idp, &a, token, a.get("state")).await.status, 200);
    again.cookies = flow;
    let callback = format!("/signin/oidc/callback?state={}&code=code-{}", a.get("state"), a.get("state"));
    let replay = again.get(&callback).await;
    assert_eq!(replay.status, 403, "the provider redeems a code once: {}", replay.text);
}

async fn a_tampered_signature_issuer_audience_nonce_expiry_or_state_is_refused_and_audited(backend: Backend) {
    let idp = Provider::start().await;
    let app = spawn(backend, &idp, |_| {}).await;
    let edits: Vec<(&str, Edit)> = vec![
        ("issuer", Box::new(|c| c["iss"] = json!("https://evil.example.com"))),
        ("audience", Box::new(|c| c["aud"] = json!("someone-else"))),
        ("nonce", Box::new(|c| c["nonce"] = json!("not-the-nonce"))),
        ("no nonce", Box::new(|c| drop(c.as_object_mut().unwrap().remove("nonce")))),
        ("expiry", Box::new(|c| c["exp"] = json!(c["iat"].as_i64().unwrap() - 1))),
    ];
    for (what, edit) in &edits {
        let (mut b, page) = sign_in(&app, &idp, "erin@example.com", |c| edit(c)).await;
        assert_eq!(page.status, 403, "{what}: {}", page.text);
        assert!(page.text.contains("Sign-in did not complete"), "{what}: {}", page.text);
        assert_eq!(b.get("/").await.location, "/signin", "{what}: no session");
    }

    // The signature: a payload changed after signing (erin's token made into ada's).
    let mut b = Browser::new(&app);
    let a = to_provider(&mut b, &idp).await;
    let signed = idp.sign(&claims(&app, &idp, &a, "erin@example.com"));
    let forged = claims(&app, &idp, &a, "ada.reyes@example.com");
    let parts: Vec<&str> = signed.split('.').collect();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
    let page = back(&mut b, &idp, &a, format!("{}.{payload}.{}", parts[0], parts[2]), a.get("state")).await;
    assert_eq!(page.status, 403, "signature: {}", page.text);

    // The state: the browser comes back with another flow's state.
    let mut b = Browser::new(&app);
    let a = to_provider(&mut b, &idp).await;
    let token = idp.sign(&claims(&app, &idp, &a, "erin@example.com"));
    assert_eq!(back(&mut b, &idp, &a, token, "forged-state").await.status, 403, "state");

    // PKCE: a code redeemed with another flow's verifier (the provider refuses it).
    let mut b = Browser::new(&app);
    let a = to_provider(&mut b, &idp).await;
    let token = idp.sign(&claims(&app, &idp, &a, "erin@example.com"));
    let code = format!("code-{}", a.get("state"));
    idp.grant(&code, "another-challenge", token);
    let page = b.get(&format!("/signin/oidc/callback?state={}&code={code}", a.get("state"))).await;
    assert_eq!(page.status, 403, "pkce: {}", page.text);

    // No flow cookie at all (a callback forged in another browser).
    let page = Browser::new(&app).get(&format!("/signin/oidc/callback?state={}&code=x", a.get("state"))).await;
    assert_eq!(page.status, 403);

    let entries = audited(&app, "signin.oidc").await;
    assert_eq!(denied(&entries).len(), edits.len() + 4, "{entries:?}");
    assert!(entries.iter().all(|e| e.2 == "denied"), "{entries:?}");
}

async fn unverified_unknown_and_suspended_people_are_refused_and_audited(backend: Backend) {
    let idp = Provider::start().await;
    let app = spawn(backend, &idp, |_| {}).await;
    let (_, page) = sign_in(&app, &idp, "erin@example.com", |c| c["email_verified"] = json!(false)).await;
    assert_eq!(page.status, 403);
    assert!(page.text.contains("No verified work email"), "{}", page.text);
    let (_, page) = sign_in(&app, &idp, "erin@example.com", |c| drop(c.as_object_mut().unwrap().remove("email"))).await;
    assert!(page.text.contains("No verified work email"), "{}", page.text);
    for email in ["nobody@example.com", "pat.doyle@example.com"] {
        let (mut b, page) = sign_in(&app, &idp, email, |_| {}).await;
        assert_eq!(page.status, 403, "{email}");
        assert!(page.text.contains("Not in the directory"), "{email}: {}", page.text);
        assert_eq!(b.get("/").await.location, "/signin");
    }
    let entries = audited(&app, "signin.oidc").await;
    let mut targets = denied(&entries);
    targets.sort_unstable();
    assert_eq!(targets, vec!["", "erin@example.com", "nobody@example.com", "pat.doyle@example.com"]);
}

async fn mfa_at_the_provider_is_demanded_and_replaces_the_second_factor(backend: Backend) {
    // Without a demand, the usual second factor follows.
    let idp = Provider::start().await;
    let app = spawn(backend, &idp, |_| {}).await;
    enrol_totp(&app, "erin@example.com").await;
    let (_, page) = sign_in(&app, &idp, "erin@example.com", |c| c["amr"] = json!(["mfa"])).await;
    assert_eq!(continues_to(&page), "/signin/second-factor");
    let (mut b, page) = sign_in(&app, &idp, "sam.carter@example.com", |_| {}).await;
    assert_eq!(continues_to(&page), "/account/totp", "IT staff enrol as after a password");
    assert_eq!(b.get("/").await.location, "/account/totp");

    let app = spawn(backend, &idp, |s| s.required_amr = vec!["mfa".into(), "hwk".into()]).await;
    enrol_totp(&app, "erin@example.com").await;
    let (mut b, page) = sign_in(&app, &idp, "erin@example.com", |c| c["amr"] = json!(["pwd"])).await;
    assert_eq!(page.status, 403);
    assert!(page.text.contains("Multi-factor sign-in required"), "{}", page.text);
    assert_eq!(b.get("/").await.location, "/signin");
    let (mut b, page) = sign_in(&app, &idp, "erin@example.com", |c| c["amr"] = json!(["pwd", "hwk"])).await;
    assert_eq!(continues_to(&page), "/", "no second factor at Bonafide: {}", page.text);
    assert_eq!(b.get("/").await.status, 200);
    // IT staff must have an authenticator at Bonafide, unless the provider asserted MFA.
    let (mut b, page) = sign_in(&app, &idp, "sam.carter@example.com", |c| c["amr"] = json!(["mfa"])).await;
    assert_eq!(continues_to(&page), "/", "{}", page.text);
    assert_eq!(b.get("/").await.status, 200, "no enrolment demanded after MFA at the provider");

    let app = spawn(backend, &idp, |s| s.required_acr = vec!["urn:example:mfa".into()]).await;
    let (_, page) = sign_in(&app, &idp, "erin@example.com", |_| {}).await;
    assert!(page.text.contains("Multi-factor sign-in required"), "{}", page.text);
    let (_, page) = sign_in(&app, &idp, "erin@example.com", |c| c["acr"] = json!("urn:example:mfa")).await;
    assert_eq!(continues_to(&page), "/");
    let entries = audited(&app, "signin.oidc").await;
    assert_eq!(entries.iter().map(|e| e.2.as_str()).collect::<Vec<_>>(), vec!["ok", "denied"], "newest first");
}

async fn local_passwords_keep_a_break_glass_way_in(backend: Backend) {
    let idp = Provider::start().await;
    let app = spawn_app_with(backend, |c| {
        c.app.sso = Some(SsoSettings::new(&idp.issuer, CLIENT_ID));
        c.app.local_passwords = LocalPasswords::EmployeesOff;
    })
    .await;
    for email in ["erin@example.com", "ada.reyes@example.com"] {
        set_password(&app, email).await;
    }
    let mut b = Browser::new(&app);
    let off = b.password("erin@example.com", PASSWORD).await;
    assert_eq!(off.status, 403);
    assert!(off.text.contains("Passwords are off for your account"), "{}", off.text);
    assert!(off.text.contains("your company&#39;s sign-in") || off.text.contains("your company's sign-in"));
    let wrong = b.password("erin@example.com", "not the password at all").await;
    assert_eq!(wrong.status, 401, "a wrong password is only wrong");
    let admin = Browser::new(&app).password("ada.reyes@example.com", PASSWORD).await;
    assert_eq!(admin.status, 303, "security admins keep their password under employees_off");

    let app = spawn_app_with(backend, |c| {
        let mut sso = SsoSettings::new(&idp.issuer, CLIENT_ID);
        sso.break_glass = Some("ada.reyes@example.com".parse().unwrap());
        c.app.sso = Some(sso);
        c.app.local_passwords = LocalPasswords::AllOff;
    })
    .await;
    for email in ["kim.novak@example.com", "ada.reyes@example.com"] {
        set_password(&app, email).await;
    }
    assert_eq!(Browser::new(&app).password("kim.novak@example.com", PASSWORD).await.status, 403);
    assert_eq!(Browser::new(&app).password("ada.reyes@example.com", PASSWORD).await.status, 303, "break glass");
    let refusals = audited(&app, "signin.password").await;
    assert_eq!(denied(&refusals), vec!["kim.novak@example.com"], "{refusals:?}");
}
