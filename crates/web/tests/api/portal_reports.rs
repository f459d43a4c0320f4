//! Reports and campaigns in the portal: one click from the red page to a filled report, the "act now"
//! answer for someone who complied, the warning for every employee, and security's campaign and webhook
//! pages, with their refusals.

use crate::helpers::spawn_app;
use crate::portal::{audited, enrol_totp, set_password, signed_in};
use bonafide_store::Backend;
use serde_json::json;

on_both!(
    a_cold_call_is_reported_in_one_click_and_everyone_is_warned,
    security_works_campaigns_and_webhooks_in_the_portal,
);

async fn a_cold_call_is_reported_in_one_click_and_everyone_is_warned(backend: Backend) {
    let app = spawn_app(backend).await;
    for email in ["erin@example.com", "finn@example.com"] {
        set_password(&app, email).await;
    }
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    let form = erin.get("/contact").await;
    let sent = erin
        .post(
            "/contact",
            &[
                ("csrf", &form.csrf()),
                ("claimed", "Mike <b>from</b> IT"),
                ("channel", "phone"),
                ("from", "(555) 010-9999"),
                ("asked_for", "mfa_code"),
            ],
        )
        .await;
    let red = erin.get(&sent.location).await;
    let check = sent.location.trim_start_matches("/checks/").to_owned();
    let link = format!("/report?check={check}");
    assert!(red.text.contains(&link), "the red page links to the report form: {}", red.text);
    let report = erin.get(&link).await;
    assert_eq!(report.status, 200);
    assert!(report.text.contains("value=\"(555) 010-9999\""), "filled from the check");
    assert!(report.text.contains("Mike &lt;b&gt;from&lt;/b&gt; IT"), "escaped");
    assert!(report.text.contains("value=\"mfa_code\" checked"), "{}", report.text);
    let filed = erin
        .post(
            "/report",
            &[
                ("csrf", &report.csrf()),
                ("check_id", &check),
                ("channel", "phone"),
                ("caller_number", "(555) 010-9999"),
                ("claimed_name", "Mike from IT"),
                ("asked_for", "mfa_code"),
                ("complied", "yes"),
            ],
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    assert!(filed.text.contains("Act now") && filed.text.contains("Call IT now"), "{}", filed.text);
    let mine = app.get("/api/v1/reports", &app.tokens.erin).await;
    assert_eq!(mine.body[0]["check_id"], check.as_str());
    assert_eq!(mine.body[0]["complied"], true);
    // A second person in another department reports the same number: a campaign, and a warning for all.
    let r = json!({ "channel": "phone", "caller_number": "+1 555 010 9999", "claimed_name": "Mike from IT" });
    assert_eq!(app.post("/api/v1/reports", &app.tokens.finn, r).await.status, 201);
    let mut finn = signed_in(&app, "finn@example.com", None).await;
    for home in [erin.get("/").await, finn.get("/").await] {
        assert!(home.text.contains("Warning:") && home.text.contains("+1 555 010 9999"), "{}", home.text);
    }
    // Bad input is answered on the form, nothing filed.
    let again = erin.get("/report").await;
    let bad = erin.post("/report", &[("csrf", &again.csrf()), ("channel", "pigeon")]).await;
    assert_eq!(bad.status, 422);
    let no_token = erin.post("/report", &[("channel", "phone")]).await;
    assert_eq!(no_token.status, 403);
    assert_eq!(app.get("/api/v1/reports", &app.tokens.erin).await.body.as_array().unwrap().len(), 1);
    app.drop_db().await;
}

async fn security_works_campaigns_and_webhooks_in_the_portal(backend: Backend) {
    let app = spawn_app(backend).await;
    for email in ["ada.reyes@example.com", "gus.ortiz@example.com", "erin@example.com"] {
        set_password(&app, email).await;
    }
    let t = &app.tokens;
    let mut ids = vec![];
    for number in ["(555) 010-1111", "(555) 010-2222"] {
        for token in [&t.erin, &t.finn] {
            let r = json!({ "channel": "phone", "caller_number": number, "claimed_name": "<script>x</script>" });
            let filed = app.post("/api/v1/reports", token, r).await;
            if let Some(c) = filed.body["campaign_id"].as_str() {
                ids.push(c.to_owned());
            }
        }
    }
    assert_eq!(ids.len(), 2, "two campaigns");
    let seed = enrol_totp(&app, "ada.reyes@example.com").await;
    let mut ada = signed_in(&app, "ada.reyes@example.com", Some(&seed)).await;
    let mut gus = signed_in(&app, "gus.ortiz@example.com", None).await;
    let mut erin = signed_in(&app, "erin@example.com", None).await;
    assert_eq!(erin.get("/security/campaigns").await.status, 403);
    let list = gus.get("/security/campaigns").await;
    assert_eq!(list.status, 200);
    let page = gus.get(&format!("/security/campaigns/{}", ids[0])).await;
    assert!(page.text.contains("&lt;script&gt;") && !page.text.contains("<script>x"), "escaped");
    assert!(!page.text.contains("Split the checked"), "auditors read, they do not change");
    let csrf = gus.get("/").await.csrf();
    let refused =
        gus.post(&format!("/security/campaigns/{}/status", ids[0]), &[("csrf", &csrf), ("status", "closed")]).await;
    assert_eq!(refused.status, 403);

    let page = ada.get(&format!("/security/campaigns/{}", ids[0])).await;
    let csrf = page.csrf();
    let merged =
        ada.post(&format!("/security/campaigns/{}/merge", ids[0]), &[("csrf", &csrf), ("campaign_id", &ids[1])]).await;
    assert_eq!(merged.status, 303, "{}", merged.text);
    let reports = app.get(&format!("/api/v1/campaigns/{}/reports", ids[0]), &t.admin).await;
    assert_eq!(reports.body.as_array().unwrap().len(), 4);
    let second: Vec<String> = reports
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["caller_number"] == "(555) 010-2222")
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let mut split = vec![("csrf", csrf.clone())];
    split.extend(second.iter().map(|id| ("report_ids", id.clone())));
    let split: Vec<(&str, &str)> = split.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(ada.post(&format!("/security/campaigns/{}/split", ids[0]), &split).await.status, 303);
    let closed =
        ada.post(&format!("/security/campaigns/{}/status", ids[0]), &[("csrf", &csrf), ("status", "closed")]).await;
    assert_eq!(closed.status, 303);
    assert_eq!(app.get(&format!("/api/v1/campaigns/{}", ids[0]), &t.admin).await.body["status"], "closed");
    assert_eq!(app.get(&format!("/api/v1/campaigns/{}", ids[0]), &t.admin).await.body["report_count"], 2);

    let hooks = ada.get("/security/webhooks").await;
    assert_eq!(hooks.status, 200);
    let refused = ada.post("/security/webhooks", &[("csrf", &hooks.csrf()), ("url", "https://10.1.2.3/hook")]).await;
    assert_eq!(refused.status, 422);
    let added =
        ada.post("/security/webhooks", &[("csrf", &hooks.csrf()), ("url", "https://siem.example.com/bonafide")]).await;
    assert_eq!(added.status, 201);
    assert!(added.text.contains("whsec_"), "the secret is shown once");
    assert!(!ada.get("/security/webhooks").await.text.contains("whsec_"), "and never again");
    assert_eq!(erin.get("/security/webhooks").await.status, 403);
    assert_eq!(audited(&app, "webhook.created").await.len(), 1);
    app.drop_db().await;
}
