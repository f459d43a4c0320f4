//! The portal over HTTP: sign-in with password and TOTP, CSRF, session expiry, role refusals on pages,
//! and the contact check as an employee sees it. Every refusal must also be in the audit log.

use crate::helpers::{TestApp, spawn_app};
use bonafide_auth::password;
use bonafide_auth::totp::{self, TotpSeed};
use bonafide_store::{AuditFilter, Backend};
use secrecy::SecretString;
use std::collections::HashMap;

on_both!(
    wrong_passwords_and_unknown_accounts_get_the_same_answer_and_are_audited,
    sign_in_forms_without_their_csrf_token_are_refused,
    totp_codes_are_required_checked_and_never_accepted_twice,
    sessions_expire_when_idle_and_sign_out_everywhere_ends_them,
    pages_refuse_other_roles_and_audit_the_refusal,
    a_cold_call_ends_on_the_red_page_and_pages_carry_security_headers,
    people_create_and_revoke_their_own_api_tokens,
    it_staff_propose_outreach_that_only_someone_else_approves,
    security_admins_import_suspend_and_change_roles,
    regression_14_1_a_role_grant_or_a_new_company_rule_does_not_lift_a_password_only_session,
    security_admins_edit_people_and_upload_csv_files,
    a_company_can_require_totp_of_employees_and_recovery_codes_work_once,
    older_password_hashes_are_upgraded_at_sign_in,
);

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A browser without JavaScript: keeps cookies, does not follow redirects.
pub(crate) struct Browser {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    pub(crate) cookies: HashMap<String, String>,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: String,
    pub(crate) text: String,
    pub(crate) headers: reqwest::header::HeaderMap,
}

impl Page {
    /// The value of the hidden `csrf` field of the page's first form.
    pub(crate) fn csrf(&self) -> String {
        let at = self.text.find("name=\"csrf\" value=\"").unwrap_or_else(|| panic!("no csrf field: {}", self.text));
        let rest = &self.text[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Self {
        Browser {
            base: app.base().to_owned(),
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            cookies: HashMap::new(),
        }
    }

    pub(crate) async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let response = request.header("cookie", cookie).send().await.unwrap();
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            // The single sign-on flow's cookie alone is Lax: the provider sends the browser back cross-site.
            let same_site = if set.starts_with("bf_oidc=") { "SameSite=Lax" } else { "SameSite=Strict" };
            assert!(set.contains("HttpOnly") && set.contains(same_site), "{set}");
            let (name, rest) = set.split_once('=').unwrap();
            let value = rest.split(';').next().unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let text = response.text().await.unwrap();
        assert_ne!(status, 500, "{text}");
        Page { status, location, text, headers }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    /// Signs in with the password; returns where the browser is sent next.
    pub(crate) async fn password(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/signin").await;
        assert_eq!(form.status, 200, "{}", form.text);
        let csrf = form.csrf();
        self.post("/signin", &[("csrf", &csrf), ("email", email), ("password", password)]).await
    }
}

pub(crate) async fn set_password(app: &TestApp, email: &str) {
    let person = app.store.person_by_email(&email.parse().unwrap()).await.unwrap().unwrap();
    let hash = password::hash_password(&SecretString::from(PASSWORD.to_owned())).unwrap();
    app.store
        .set_password_hash(person.id, hash.as_str(), app.clock_now(), &crate::helpers::seeded("factor.password_set"))
        .await
        .unwrap();
}

/// Enrols TOTP for `email` straight in the store; returns the seed.
pub(crate) async fn enrol_totp(app: &TestApp, email: &str) -> TotpSeed {
    let person = app.store.person_by_email(&email.parse().unwrap()).await.unwrap().unwrap();
    let seed = TotpSeed::generate();
    let sealed = app.secret().seal_key().seal(seed.expose_bytes(), &format!("totp:{}", person.id));
    app.store.set_totp_pending(person.id, &sealed, app.clock_now()).await.unwrap();
    app.store
        .confirm_totp(person.id, 1, &[], app.clock_now(), &crate::helpers::seeded("factor.totp_enrolled"))
        .await
        .unwrap();
    seed
}

/// Password and (when `seed` is given) TOTP: a fully signed-in browser.
pub(crate) async fn signed_in(app: &TestApp, email: &str, seed: Option<&TotpSeed>) -> Browser {
    let mut b = Browser::new(app);
    let next = b.password(email, PASSWORD).await;
    assert_eq!(next.status, 303, "{}", next.text);
    if let Some(seed) = seed {
        assert_eq!(next.location, "/signin/second-factor");
        let form = b.get("/signin/second-factor").await;
        let code = totp::code_at(seed, app.clock_now().unix_timestamp());
        let done = b.post("/signin/second-factor", &[("csrf", &form.csrf()), ("code", &code)]).await;
        assert_eq!((done.status, done.location.as_str()), (303, "/"), "{}", done.text);
    } else {
        assert_eq!(next.location, "/");
    }
    b
}

pub(crate) async fn audited(app: &TestApp, action: &str) -> Vec<(String, String, String)> {
    let filter = AuditFilter { action_prefix: Some(action.to_owned()), ..AuditFilter::default() };
    let entries = app.store.audit_entries(&filter, 100).await.unwrap();
    entries.into_iter().map(|e| (e.actor, e.target, e.outcome)).collect()
}

async fn wrong_passwords_and_unknown_accounts_get_the_same_answer_and_are_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    let mut b = Browser::new(&app);
    let wrong = b.password("erin@example.com", "not the password at all").await;
    let unknown = b.password("nobody@example.com", PASSWORD).await;
    let notice = |page: &Page| page.text.split("role=\"alert\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(notice(&wrong), "Wrong email or password.");
    assert_eq!(notice(&unknown), notice(&wrong), "an unknown account gets the same answer");
    let denied = audited(&app, "signin.password").await;
    assert_eq!(denied.len(), 2);
    assert!(denied.iter().all(|(_, _, outcome)| outcome == "denied"));
    assert!(denied.iter().any(|(_, target, _)| target == "nobody@example.com"));
    // Five failures lock the account for a while, right password or not.
    for _ in 0..4 {
        b.password("erin@example.com", "still not it, sorry").await;
    }
    let locked = b.password("erin@example.com", PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.text);
    assert!(audited(&app, "signin.throttled").await.len() == 1);
    app.advance(16 * 60);
    let ok = b.password("erin@example.com", PASSWORD).await;
    assert_eq!((ok.status, ok.location.as_str()), (303, "/"), "the lock ends by itself");
    assert_eq!(audited(&app, "signin.password").await[0].2, "ok");
    app.drop_db().await;
}

async fn sign_in_forms_without_their_csrf_token_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    let mut b = Browser::new(&app);
    // No pre-session cookie: a cross-site form cannot have it.
    let forged = b.post("/signin", &[("csrf", "x"), ("email", "erin@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(forged.status, 403);
    assert!(b.cookies.is_empty(), "no session was started");
    // Signed in, a form without the session's token is refused too.
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let no_token = erin.post("/contact", &[("channel", "phone"), ("claimed", "IT-0042")]).await;
    assert_eq!(no_token.status, 403, "{}", no_token.text);
    let wrong_token = erin.post("/requests/new", &[("csrf", "forged"), ("summary", "VPN")]).await;
    assert_eq!(wrong_token.status, 403);
    let forged_signout = erin.post("/signout", &[("csrf", "forged"), ("everywhere", "1")]).await;
    assert_eq!(forged_signout.status, 403);
    assert_eq!(erin.get("/").await.status, 200, "a forged sign-out does not sign out");
    let rejected = audited(&app, "csrf.rejected").await;
    assert_eq!(rejected.len(), 4);
    assert_eq!(rejected[0].0, "erin@example.com", "a signed-in person's refusal names them");
    let mine = app.get("/api/v1/requests", &app.tokens.erin).await;
    assert_eq!(mine.body.as_array().unwrap().len(), 0, "nothing was created");
    app.drop_db().await;
}

async fn totp_codes_are_required_checked_and_never_accepted_twice(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    let seed = enrol_totp(&app, "erin@example.com").await;
    let mut b = Browser::new(&app);
    let next = b.password("erin@example.com", PASSWORD).await;
    assert_eq!((next.status, next.location.as_str()), (303, "/signin/second-factor"));
    assert_eq!(b.get("/").await.location, "/signin/second-factor", "the password alone opens nothing");
    let form = b.get("/signin/second-factor").await;
    let now = app.clock_now().unix_timestamp();
    let code = totp::code_at(&seed, now);
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let refused = b.post("/signin/second-factor", &[("csrf", &form.csrf()), ("code", &wrong)]).await;
    assert_eq!(refused.status, 401);
    let accepted = b.post("/signin/second-factor", &[("csrf", &form.csrf()), ("code", &code)]).await;
    assert_eq!((accepted.status, accepted.location.as_str()), (303, "/"));
    assert_eq!(b.get("/").await.status, 200);
    // The same code again, in a new sign-in within its 30 seconds: refused.
    let mut other = Browser::new(&app);
    other.password("erin@example.com", PASSWORD).await;
    let form = other.get("/signin/second-factor").await;
    let replay = other.post("/signin/second-factor", &[("csrf", &form.csrf()), ("code", &code)]).await;
    assert_eq!(replay.status, 401, "a code is accepted once");
    let totp_events = audited(&app, "signin.totp").await;
    let outcomes: Vec<&str> = totp_events.iter().map(|(_, _, o)| o.as_str()).collect();
    assert_eq!(outcomes, ["denied", "ok", "denied"]);
    app.drop_db().await;
}

async fn sessions_expire_when_idle_and_sign_out_everywhere_ends_them(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    let mut one = signed_in(&app, "erin@example.com", None).await;
    app.advance(31 * 60);
    let expired = one.get("/").await;
    assert_eq!((expired.status, expired.location.as_str()), (303, "/signin"));
    assert_eq!(audited(&app, "session.rejected").await.len(), 1);
    let mut two = signed_in(&app, "erin@example.com", None).await;
    let mut three = signed_in(&app, "erin@example.com", None).await;
    let account = two.get("/account").await;
    let out = two.post("/signout", &[("csrf", &account.csrf()), ("everywhere", "1")]).await;
    assert_eq!((out.status, out.location.as_str()), (303, "/signin"));
    assert_eq!(three.get("/").await.location, "/signin", "the other session ended too");
    assert_eq!(audited(&app, "signout.everywhere").await.len(), 1);
    app.drop_db().await;
}

async fn pages_refuse_other_roles_and_audit_the_refusal(backend: Backend) {
    let app = spawn_app(backend).await;
    for email in ["erin@example.com", "gus.ortiz@example.com", "sam.carter@example.com", "ada.reyes@example.com"] {
        set_password(&app, email).await;
    }
    let mut anonymous = Browser::new(&app);
    for path in ["/", "/contact", "/console", "/security", "/security/audit", "/account"] {
        assert_eq!(anonymous.get(path).await.location, "/signin", "{path}");
    }
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    for path in ["/console", "/security", "/security/audit", "/security/people"] {
        assert_eq!(erin.get(path).await.status, 403, "{path}");
    }
    let home = erin.get("/").await;
    let take = erin.post("/console/requests/R-1001/take", &[("csrf", &home.csrf())]).await;
    assert_eq!(take.status, 403, "role-gated forms too");
    let mut gus = signed_in(&app, "gus.ortiz@example.com", None).await;
    assert_eq!(gus.get("/security/audit").await.status, 200, "auditors read the audit log");
    for path in ["/security", "/console", "/security/people"] {
        assert_eq!(gus.get(path).await.status, 403, "{path}");
    }
    // IT staff must enrol TOTP before anything else.
    let mut sam = Browser::new(&app);
    assert_eq!(sam.password("sam.carter@example.com", PASSWORD).await.location, "/account/totp");
    assert_eq!(sam.get("/console").await.location, "/account/totp");
    let seed = enrol_totp(&app, "sam.carter@example.com").await;
    let mut sam = signed_in(&app, "sam.carter@example.com", Some(&seed)).await;
    assert_eq!(sam.get("/console").await.status, 200);
    assert_eq!(sam.get("/security").await.status, 403);
    assert_eq!(sam.get("/security/people").await.status, 403);
    let denied = audited(&app, "access.denied").await;
    assert_eq!(denied.len(), 10, "{denied:?}");
    assert!(denied.iter().any(|(who, path, _)| who == "erin@example.com" && path == "/security/audit"));
    assert!(denied.iter().all(|(_, _, outcome)| outcome == "denied"));
    app.drop_db().await;
}

async fn a_cold_call_ends_on_the_red_page_and_pages_carry_security_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let form = erin.get("/contact").await;
    let csp = form.headers.get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline")
    );
    assert_eq!(form.headers.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(form.headers.get("referrer-policy").unwrap(), "no-referrer");
    assert!(form.text.len() < 100_000);
    let sent = erin
        .post(
            "/contact",
            &[
                ("csrf", &form.csrf()),
                ("claimed", "Mike from IT"),
                ("channel", "phone"),
                ("from", "+1 555 010 9999"),
                ("asked_for", "password"),
                ("asked_for", "mfa_code"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    assert!(sent.location.starts_with("/checks/"));
    let verdict = erin.get(&sent.location).await;
    assert_eq!(verdict.status, 200);
    assert!(verdict.text.contains("Not verified"), "{}", verdict.text);
    assert!(verdict.text.contains("IT never asks for these"), "{}", verdict.text);
    assert!(verdict.text.contains("no open request"), "{}", verdict.text);
    // Another employee cannot open it.
    set_password(&app, "finn@example.com").await;
    let mut finn = signed_in(&app, "finn@example.com", None).await;
    assert_eq!(finn.get(&sent.location).await.status, 404);
    app.drop_db().await;
}

async fn people_create_and_revoke_their_own_api_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    set_password(&app, "erin@example.com").await;
    set_password(&app, "finn@example.com").await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let account = erin.get("/account").await;
    let created = erin.post("/account/tokens", &[("csrf", &account.csrf()), ("label", "my script")]).await;
    assert_eq!(created.status, 200, "{}", created.text);
    let token = created.text.split("<pre class=\"codes\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(token.starts_with("bf_"), "{token}");
    assert_eq!(app.get("/api/v1/me", &token).await.str("email"), "erin@example.com");
    let account = erin.get("/account").await;
    assert!(account.text.contains("my script") && !account.text.contains(&token), "shown once");
    let revoke = account.text.split("action=\"/account/tokens/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    // Finn cannot revoke Erin's token.
    let mut finn = signed_in(&app, "finn@example.com", None).await;
    let finns = finn.get("/account").await;
    let path = format!("/account/tokens/{revoke}");
    assert_eq!(finn.post(&path, &[("csrf", &finns.csrf())]).await.status, 404);
    assert_eq!(app.get("/api/v1/me", &token).await.status, 200);
    let done = erin.post(&path, &[("csrf", &account.csrf())]).await;
    assert_eq!((done.status, done.location.as_str()), (303, "/account"));
    assert_eq!(app.get("/api/v1/me", &token).await.status, 401, "revoked at once");
    let events: Vec<String> = audited(&app, "token").await.into_iter().map(|(_, _, o)| o).collect();
    assert_eq!(events.len(), 2);
    app.drop_db().await;
}

async fn it_staff_propose_outreach_that_only_someone_else_approves(backend: Backend) {
    let app = spawn_app(backend).await;
    for email in ["sam.carter@example.com", "kim.novak@example.com", "erin@example.com"] {
        set_password(&app, email).await;
    }
    let sam_seed = enrol_totp(&app, "sam.carter@example.com").await;
    let kim_seed = enrol_totp(&app, "kim.novak@example.com").await;
    let mut sam = signed_in(&app, "sam.carter@example.com", Some(&sam_seed)).await;
    let console = sam.get("/console").await;
    let start = app.clock_now() + time::Duration::minutes(30);
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let proposed = sam
        .post(
            "/console/outreach",
            &[
                ("csrf", &console.csrf()),
                ("employee_email", "erin@example.com"),
                ("reason", "Laptop replacement"),
                ("channels", "phone"),
                ("channels", "in_person"),
                ("starts_at", &start.format(&f).unwrap()),
                ("hours", "4"),
            ],
        )
        .await;
    assert_eq!((proposed.status, proposed.location.as_str()), (303, "/console"), "{}", proposed.text);
    let console = sam.get("/console").await;
    assert!(console.text.contains("your proposal: someone else approves it"));
    let id = app.store.pending_outreach(app.clock_now(), 10).await.unwrap()[0].id.to_string();
    let own = sam.post(&format!("/console/outreach/{id}/approve"), &[("csrf", &console.csrf())]).await;
    assert_eq!(own.status, 403, "never the proposer");
    let mut kim = signed_in(&app, "kim.novak@example.com", Some(&kim_seed)).await;
    let kims = kim.get("/console").await;
    let approved = kim.post(&format!("/console/outreach/{id}/approve"), &[("csrf", &kims.csrf())]).await;
    assert_eq!(approved.status, 303, "{}", approved.text);
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    assert!(erin.get("/").await.text.contains("Laptop replacement"), "announced to the employee");
    assert_eq!(audited(&app, "outreach.proposed").await.len(), 1);
    assert_eq!(audited(&app, "outreach.approved").await[0].0, "kim.novak@example.com");
    app.drop_db().await;
}

async fn security_admins_import_suspend_and_change_roles(backend: Backend) {
    let app = spawn_app(backend).await;
    for email in ["ada.reyes@example.com", "erin@example.com"] {
        set_password(&app, email).await;
    }
    let seed = enrol_totp(&app, "ada.reyes@example.com").await;
    let mut ada = signed_in(&app, "ada.reyes@example.com", Some(&seed)).await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let people = ada.get("/security/people").await;
    assert_eq!(people.status, 200);
    let bad = "email,display_name,roles\nnew.one@example.com,New One,employee\nnot-an-email,Nobody,employee\n";
    let refused = ada.post("/security/import", &[("csrf", &people.csrf()), ("csv", bad)]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains("line 3: email"), "{}", refused.text);
    assert!(
        app.store.person_by_email(&"new.one@example.com".parse().unwrap()).await.unwrap().is_none(),
        "all or nothing"
    );
    let good = "email,display_name,roles\nnew.one@example.com,New One,employee\n";
    let imported = ada.post("/security/import", &[("csrf", &people.csrf()), ("csv", good)]).await;
    assert_eq!(imported.status, 200, "{}", imported.text);
    assert!(imported.text.contains("1 added"));
    let csrf = people.csrf();
    let add = |email| {
        [
            ("csrf", csrf.as_str()),
            ("email", email),
            ("display_name", "Lee Park"),
            ("roles", "it_staff"),
            ("staff_id", "IT-0500"),
            ("official_phones", "(201) 555-0150"),
        ]
    };
    assert_eq!(ada.post("/security/people", &add("lee.park@example.com")).await.status, 200);
    let lee = app.store.staff_card(&"IT-0500".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!((lee.display_name.as_str(), lee.official_numbers[0].as_str()), ("Lee Park", "+12015550150"));
    assert_eq!(ada.post("/security/people", &add("lee.park@example.com")).await.status, 409, "adding is not editing");
    let refused = ada.post("/security/people", &add("not an email")).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains("email"), "{}", refused.text);
    let erin_id = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap().id;
    let ada_id = app.store.person_by_email(&"ada.reyes@example.com".parse().unwrap()).await.unwrap().unwrap().id;
    let own = ada
        .post(&format!("/security/people/{ada_id}/status"), &[("csrf", &people.csrf()), ("status", "suspended")])
        .await;
    assert_eq!(own.status, 409, "no self-suspension");
    let keep = ada.post(&format!("/security/people/{ada_id}/roles"), &[("csrf", &people.csrf())]).await;
    assert_eq!(keep.status, 409, "an admin cannot drop their own admin role");
    let roles =
        ada.post(&format!("/security/people/{erin_id}/roles"), &[("csrf", &people.csrf()), ("roles", "auditor")]).await;
    assert_eq!(roles.status, 200, "{}", roles.text);
    assert_eq!(erin.get("/security/audit").await.location, "/signin", "a role change ends the person's sessions");
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    assert_eq!(erin.get("/security/audit").await.status, 200, "the new role applies at the next sign-in");
    let suspended = ada
        .post(&format!("/security/people/{erin_id}/status"), &[("csrf", &people.csrf()), ("status", "suspended")])
        .await;
    assert_eq!(suspended.status, 200);
    assert_eq!(erin.get("/").await.location, "/signin", "a suspended person's session ends");
    assert_eq!(app.get("/api/v1/me", &app.tokens.erin).await.status, 401, "and their tokens stop working");
    let changes: Vec<String> = audited(&app, "directory").await.into_iter().map(|(_, t, _)| t).collect();
    assert_eq!(changes.len(), 4, "{changes:?}");
    app.drop_db().await;
}

/// Issue 14, point 1: a role grant lifted an employee's password-only session to IT pages.
async fn regression_14_1_a_role_grant_or_a_new_company_rule_does_not_lift_a_password_only_session(backend: Backend) {
    let app = spawn_app(backend).await;
    for email in ["ada.reyes@example.com", "erin@example.com", "finn@example.com"] {
        set_password(&app, email).await;
    }
    let seed = enrol_totp(&app, "ada.reyes@example.com").await;
    let mut ada = signed_in(&app, "ada.reyes@example.com", Some(&seed)).await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let mut finn = signed_in(&app, "finn@example.com", None).await;
    let erin_id = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap().id;
    let people = ada.get("/security/people").await;
    let grant = ada
        .post(&format!("/security/people/{erin_id}/roles"), &[("csrf", &people.csrf()), ("roles", "it_staff")])
        .await;
    assert_eq!(grant.status, 200, "{}", grant.text);
    let console = erin.get("/console").await;
    assert_eq!((console.status, console.location.as_str()), (303, "/signin"), "the password-only session ended");
    // Signing in again, the new role demands an authenticator before any page.
    let again = erin.password("erin@example.com", PASSWORD).await;
    assert_eq!(again.location, "/account/totp");
    assert_eq!(erin.get("/console").await.location, "/account/totp");

    // The company now demands an authenticator of every employee: Finn's open session goes to enrolment.
    assert_eq!(finn.get("/").await.status, 200);
    let security = ada.get("/security").await;
    let rule = ada.post("/security/settings", &[("csrf", &security.csrf()), ("employee_totp_required", "true")]).await;
    assert_eq!(rule.status, 303, "{}", rule.text);
    for path in ["/", "/contact", "/staff"] {
        assert_eq!(finn.get(path).await.location, "/account/totp", "{path}");
    }
    assert_eq!(finn.get("/account/totp").await.status, 200, "enrolment itself is open");
    app.drop_db().await;
}

async fn post_owned(b: &mut Browser, path: &str, fields: Vec<(&str, String)>) -> Page {
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(path, &borrowed).await
}

/// A `multipart/form-data` body as a browser sends a form with a file field.
pub(crate) fn multipart(fields: &[(&str, &[u8])], file_field: &str) -> (String, Vec<u8>) {
    let boundary = "----bonafide-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if *name == file_field {
            body.extend_from_slice(b"; filename=\"people.csv\"\r\nContent-Type: text/csv");
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn security_admins_edit_people_and_upload_csv_files(backend: Backend) {
    let app = spawn_app(backend).await;
    for email in ["ada.reyes@example.com", "erin@example.com"] {
        set_password(&app, email).await;
    }
    let seed = enrol_totp(&app, "ada.reyes@example.com").await;
    let mut ada = signed_in(&app, "ada.reyes@example.com", Some(&seed)).await;
    let erin = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap().id;
    let sam = app.store.person_by_email(&"sam.carter@example.com".parse().unwrap()).await.unwrap().unwrap().id;
    let form = ada.get(&format!("/security/people/{sam}")).await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(form.text.contains("value=\"IT-0042\""), "the form shows the current record");
    let csrf = form.csrf();
    let edit = |title: &'static str, phones: &'static str, staff_id: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("display_name", "Erin Walsh".to_owned()),
            ("title", title.to_owned()),
            ("location", "Berlin <HQ>".to_owned()),
            ("phones", phones.to_owned()),
            ("staff_id", staff_id.to_owned()),
            ("remote", "yes".to_owned()),
        ]
    };
    let saved = post_owned(&mut ada, &format!("/security/people/{erin}"), edit("Analyst", "(201) 555-0199", "")).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    let record = app.store.person_record(erin).await.unwrap().unwrap();
    assert_eq!((record.title.as_str(), record.location.as_str(), record.remote), ("Analyst", "Berlin <HQ>", true));
    assert_eq!(record.phones[0].as_str(), "+12015550199");
    assert_eq!(record.department, "", "a field left empty is cleared");
    let page = ada.get(&format!("/security/people/{erin}")).await;
    assert!(page.text.contains("Berlin &lt;HQ&gt;"), "markup is escaped");
    // Bad values are refused with the field named, and nothing changes.
    let bad_phone = post_owned(&mut ada, &format!("/security/people/{erin}"), edit("Boss", "call me maybe", "")).await;
    assert_eq!(bad_phone.status, 422);
    assert!(bad_phone.text.contains("phones"), "{}", bad_phone.text);
    let not_it = post_owned(&mut ada, &format!("/security/people/{erin}"), edit("Boss", "", "IT-0555")).await;
    assert_eq!(not_it.status, 422, "only IT staff have a staff id");
    assert_eq!(app.store.person_record(erin).await.unwrap().unwrap().title, "Analyst");
    let mut sams = edit("Lead", "", "IT-0007");
    sams[1].1 = "Sam Carter".to_owned();
    let taken = post_owned(&mut ada, &format!("/security/people/{sam}"), sams).await;
    assert_eq!(taken.status, 409, "IT-0007 is Kim's: {}", taken.text);
    assert_eq!(ada.get("/security/people/not-an-id").await.status, 404);
    assert_eq!(ada.get(&format!("/security/people/{}", bonafide_domain::PersonId::new())).await.status, 404);
    let mut erin_b = signed_in(&app, "erin@example.com", None).await;
    assert_eq!(erin_b.get(&format!("/security/people/{erin}")).await.status, 403);
    let edits = audited(&app, "directory.person_edited").await;
    assert_eq!(edits.len(), 1, "only the saved edit: {edits:?}");

    // CSV as an uploaded file: imported; not UTF-8, or without the CSRF token, refused.
    let csv = b"email,display_name,roles\nuploaded@example.com,Up Loaded,employee\n";
    let (client, base) = (ada.client.clone(), ada.base.clone());
    let upload = |fields: Vec<(&str, Vec<u8>)>| {
        let borrowed: Vec<(&str, &[u8])> = fields.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        let (content_type, body) = multipart(&borrowed, "file");
        client.post(format!("{base}/security/import")).header("content-type", content_type).body(body)
    };
    let request = upload(vec![("csrf", csrf.clone().into_bytes()), ("file", csv.to_vec()), ("csv", vec![])]);
    let imported = ada.send(request).await;
    assert_eq!(imported.status, 200, "{}", imported.text);
    assert!(imported.text.contains("1 added"), "{}", imported.text);
    let request = upload(vec![("csrf", csrf.clone().into_bytes()), ("file", vec![0xff, 0xfe, b'e'])]);
    let latin = ada.send(request).await;
    assert_eq!(latin.status, 422);
    assert!(latin.text.contains("UTF-8"), "{}", latin.text);
    let request = upload(vec![("file", csv.to_vec())]);
    assert_eq!(ada.send(request).await.status, 403);
    app.drop_db().await;
}

async fn a_company_can_require_totp_of_employees_and_recovery_codes_work_once(backend: Backend) {
    let app = spawn_app(backend).await;
    for email in ["ada.reyes@example.com", "erin@example.com"] {
        set_password(&app, email).await;
    }
    let seed = enrol_totp(&app, "ada.reyes@example.com").await;
    let mut ada = signed_in(&app, "ada.reyes@example.com", Some(&seed)).await;
    let security = ada.get("/security").await;
    assert_eq!(app.store.setting("employee_totp_required").await.unwrap(), None);
    let saved = ada.post("/security/settings", &[("csrf", &security.csrf()), ("employee_totp_required", "true")]).await;
    assert_eq!(saved.status, 303);
    assert_eq!(app.store.setting("employee_totp_required").await.unwrap().as_deref(), Some("true"));
    // Erin has no authenticator yet: after her password, only enrolment is open to her.
    let mut erin = Browser::new(&app);
    assert_eq!(erin.password("erin@example.com", PASSWORD).await.location, "/account/totp");
    assert_eq!(erin.get("/contact").await.location, "/account/totp");
    let start = erin.get("/account/totp").await;
    let qr = erin.post("/account/totp/start", &[("csrf", &start.csrf())]).await;
    assert!(qr.text.contains("<svg") && qr.text.contains("aria-label"), "{}", qr.text);
    let key = qr.text.split("<code>").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let now = app.clock_now().unix_timestamp();
    let erin_seed = TotpSeed::from_bytes(base32(&key)).unwrap();
    let confirmed =
        erin.post("/account/totp/confirm", &[("csrf", &qr.csrf()), ("code", &totp::code_at(&erin_seed, now))]).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let codes =
        confirmed.text.split("<pre class=\"codes\">").nth(1).unwrap().split("</pre>").next().unwrap().to_owned();
    let first = codes.split_whitespace().next().unwrap().to_owned();
    assert_eq!(codes.split_whitespace().count(), 10);
    // The red page tells her to call the service desk on the contact policy's number.
    let rules = serde_json::json!({ "service_desk_number": "(201) 555-0100" });
    let body = serde_json::json!({ "rules": rules, "text": "" });
    assert_eq!(app.post("/api/v1/policy", &app.tokens.admin, body).await.status, 201);
    let contact = erin.get("/contact").await;
    assert_eq!(contact.status, 200, "enrolment completes sign-in");
    let cold =
        erin.post("/contact", &[("csrf", &contact.csrf()), ("claimed", "Mike from IT"), ("channel", "phone")]).await;
    let red = erin.get(&cold.location).await;
    assert!(
        red.text.contains("Not verified") && red.text.contains("+12015550100"),
        "the service desk number: {}",
        red.text
    );
    // Lost phone: a recovery code signs her in, once.
    for (attempt, expected) in [(1, 303), (2, 401)] {
        let mut b = Browser::new(&app);
        b.password("erin@example.com", PASSWORD).await;
        let form = b.get("/signin/second-factor").await;
        let r = b.post("/signin/second-factor", &[("csrf", &form.csrf()), ("recovery", &first)]).await;
        assert_eq!(r.status, expected, "attempt {attempt}: {}", r.text);
    }
    let outcomes: Vec<String> = audited(&app, "signin.recovery_code").await.into_iter().map(|(_, _, o)| o).collect();
    assert_eq!(outcomes, ["denied", "ok"]);
    assert_eq!(audited(&app, "settings.changed").await.len(), 1);
    app.drop_db().await;
}

fn base32(text: &str) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut buffer, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for ch in text.chars() {
        buffer = (buffer << 5) | ALPHABET.find(ch).unwrap() as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    out
}

async fn older_password_hashes_are_upgraded_at_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let erin = app.store.person_by_email(&"erin@example.com".parse().unwrap()).await.unwrap().unwrap();
    // The Argon2 reference vector (m = 256 KiB, t = 2): far weaker than today's parameters.
    let old = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
    app.store
        .set_password_hash(erin.id, old, app.clock_now(), &crate::helpers::seeded("factor.password_set"))
        .await
        .unwrap();
    let mut b = Browser::new(&app);
    assert_eq!(b.password("erin@example.com", "password").await.location, "/");
    let stored = app.store.credentials(erin.id).await.unwrap().password_hash.unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    assert_eq!(Browser::new(&app).password("erin@example.com", "password").await.location, "/", "still works");
    app.drop_db().await;
}
