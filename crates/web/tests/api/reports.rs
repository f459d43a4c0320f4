//! Reports and campaigns over HTTP: intake (JSON and `.eml`), correlation into campaigns, warnings,
//! security's merge, split and status changes, privacy and bad input.

use crate::helpers::{Body, spawn_app, spawn_app_with};
use bonafide_store::{AuditFilter, Backend};
use reqwest::Method;
use serde_json::{Value, json};

on_both!(
    one_number_written_four_ways_by_four_people_in_three_departments_is_one_campaign,
    unrelated_reports_stay_apart_and_security_merges_splits_and_closes,
    reports_are_private_checked_and_complying_raises_an_urgent_alert,
    reported_emails_are_read_and_malformed_ones_refused,
    a_campaign_exports_as_a_stix_bundle_the_oasis_validator_accepts,
    the_analyzer_reads_texts_conversations_and_report_transcripts,
    regression_14_5_a_reported_email_is_filed_whatever_its_headers_claim,
);

fn phone_report(number: &str) -> Value {
    json!({ "channel": "phone", "caller_number": number, "claimed_name": "Mike from IT", "asked_for": ["mfa_code"] })
}

async fn one_number_written_four_ways_by_four_people_in_three_departments_is_one_campaign(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let ways = [
        ("(555) 010-9999", &t.erin),
        ("+1 555 010 9999", &t.finn),
        ("555.010.9999", &t.sam),
        ("1-555-010-9999", &t.kim),
    ];
    let mut campaign = None;
    for (i, (number, token)) in ways.iter().enumerate() {
        let r = app.post("/api/v1/reports", token, phone_report(number)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["received"], true);
        assert!(r.body.get("act_now").is_none(), "nobody complied");
        if i == 0 {
            assert!(r.body.get("campaign_id").is_none(), "one report is not a campaign");
        }
        campaign = r.body["campaign_id"].as_str().map(str::to_owned).or(campaign);
    }
    let id = campaign.expect("the reports became a campaign");
    let list = app.get("/api/v1/campaigns", &t.admin).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body.as_array().unwrap().len(), 1, "{}", list.body);
    let c = app.get(&format!("/api/v1/campaigns/{id}"), &t.auditor).await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!((c.body["report_count"].as_i64(), c.body["people_count"].as_i64()), (Some(4), Some(4)));
    assert_eq!(c.body["departments"], json!(["Finance", "IT", "Sales"]));
    assert_eq!(c.body["status"], "active");
    assert_eq!(c.body["severity"], "high", "three departments");
    let indicators = c.body["indicators"].as_array().unwrap();
    assert!(indicators.contains(&json!({ "kind": "phone", "value": "+15550109999" })), "{indicators:?}");
    assert!(indicators.contains(&json!({ "kind": "name", "value": "michael" })), "{indicators:?}");
    let warning = c.body["warning"].as_str().unwrap();
    assert!(warning.contains("+1 555 010 9999") && warning.contains("\"Michael\""), "{warning}");
    // Every employee sees the warning; security got an alert.
    let warnings = app.get("/api/v1/warnings", &t.erin).await;
    assert_eq!(warnings.body[0]["warning"], warning);
    let alerts = app.get("/api/v1/alerts", &t.admin).await;
    assert!(alerts.body.as_array().unwrap().iter().any(|a| a["kind"] == "campaign_detected"), "{}", alerts.body);
    // A check on a call from that number, written yet another way, names the campaign.
    let check = app
        .post(
            "/api/v1/checks",
            &t.erin,
            json!({ "channel": "phone", "caller_number": "555 010 9999", "claimed_staff_id": "IT-0042" }),
        )
        .await;
    assert_eq!(check.status, 201, "{}", check.body);
    assert_eq!(check.body["verdict"], "unverified");
    assert!(check.body["reasons"].as_array().unwrap().contains(&json!("matches_active_campaign")), "{}", check.body);
    let other =
        app.post("/api/v1/checks", &t.erin, json!({ "channel": "phone", "caller_number": "555 010 1234" })).await;
    assert!(!other.body["reasons"].as_array().unwrap().contains(&json!("matches_active_campaign")), "{}", other.body);
    // Employees cannot read campaigns themselves; the refusal is audited.
    assert_eq!(app.get("/api/v1/campaigns", &t.erin).await.status, 403);
    let filter = AuditFilter { action_prefix: Some("access.denied".into()), ..AuditFilter::default() };
    assert_eq!(app.store.audit_entries(&filter, 10).await.unwrap().len(), 1);
    let filed = AuditFilter { action_prefix: Some("report.filed".into()), ..AuditFilter::default() };
    assert_eq!(app.store.audit_entries(&filed, 10).await.unwrap().len(), 4);
    app.drop_db().await;
}

async fn unrelated_reports_stay_apart_and_security_merges_splits_and_closes(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let mut campaigns = vec![];
    for number in ["(555) 010-1111", "(555) 010-2222"] {
        let mut last = Value::Null;
        for token in [&t.erin, &t.finn, &t.sam] {
            last = app.post("/api/v1/reports", token, phone_report(number)).await.body;
        }
        campaigns.push(last["campaign_id"].as_str().expect("three reports from three people").to_owned());
    }
    assert_ne!(campaigns[0], campaigns[1], "a shared name and ask do not tie different numbers");
    let one = app.get(&format!("/api/v1/campaigns/{}", campaigns[0]), &t.admin).await;
    assert_eq!(one.body["report_count"], 3);
    // Only security admins change campaigns.
    let path = format!("/api/v1/campaigns/{}/merge", campaigns[0]);
    assert_eq!(app.post(&path, &t.auditor, json!({ "campaign_id": campaigns[1] })).await.status, 403);
    let merged = app.post(&path, &t.admin, json!({ "campaign_id": campaigns[1] })).await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    assert_eq!(merged.body["report_count"], 6);
    let gone = app.get(&format!("/api/v1/campaigns/{}", campaigns[1]), &t.admin).await;
    assert_eq!(gone.body["id"], campaigns[0].as_str(), "a merged campaign answers as the one it joined");
    assert_eq!(app.post(&path, &t.admin, json!({ "campaign_id": campaigns[0] })).await.status, 422);
    // Split the second number's reports off again.
    let reports = app.get(&format!("/api/v1/campaigns/{}/reports", campaigns[0]), &t.admin).await;
    let second: Vec<&str> = reports
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["caller_number"] == "(555) 010-2222")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(second.len(), 3);
    let split =
        app.post(&format!("/api/v1/campaigns/{}/split", campaigns[0]), &t.admin, json!({ "report_ids": second })).await;
    assert_eq!(split.status, 200, "{}", split.body);
    assert_eq!(split.body["campaign"]["report_count"], 3);
    let off = split.body["split_off"].as_str().unwrap();
    let again = app.get(&format!("/api/v1/campaigns/{off}"), &t.admin).await;
    assert_eq!(
        (again.status, again.body["report_count"].as_i64()),
        (200, Some(3)),
        "the part split off is judged again"
    );
    let all: Vec<&str> = reports.body.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    let everything = app.post(&format!("/api/v1/campaigns/{off}/split"), &t.admin, json!({ "report_ids": all })).await;
    assert_eq!(everything.status, 422, "splitting off every report is not a split");
    // Closing takes a campaign off the warnings.
    let closed = app.post(&format!("/api/v1/campaigns/{off}/status"), &t.admin, json!({ "status": "closed" })).await;
    assert_eq!((closed.status, closed.body["status"].as_str()), (200, Some("closed")));
    assert_eq!(app.get("/api/v1/warnings", &t.erin).await.body.as_array().unwrap().len(), 1);
    assert_eq!(
        app.post(&format!("/api/v1/campaigns/{off}/status"), &t.admin, json!({ "status": "gone" })).await.status,
        422
    );
    assert_eq!(app.get("/api/v1/campaigns?status=all", &t.admin).await.body.as_array().unwrap().len(), 2);
    app.drop_db().await;
}

async fn reports_are_private_checked_and_complying_raises_an_urgent_alert(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let body = json!({
        "channel": "chat",
        "caller_handle": "@IT-Helpdesk",
        "claimed_name": "<script>alert(1)</script>",
        "caller_number": "not a number",
        "asked_for": ["remote_access", "password"],
        "complied": true,
        "transcript": "They said they were from IT and asked me to install AnyDesk.",
    });
    let filed = app.post("/api/v1/reports", &t.erin, body).await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let steps = filed.body["act_now"].as_array().unwrap();
    assert!(steps[0].as_str().unwrap().starts_with("Call IT now"), "{steps:?}");
    assert!(steps.iter().any(|s| s.as_str().unwrap().contains("Disconnect")), "{steps:?}");
    assert!(steps.iter().any(|s| s.as_str().unwrap().contains("Change your password")), "{steps:?}");
    let alerts = app.get("/api/v1/alerts", &t.admin).await;
    let urgent: Vec<&Value> =
        alerts.body.as_array().unwrap().iter().filter(|a| a["kind"] == "report_complied").collect();
    assert_eq!((urgent.len(), urgent[0]["severity"].as_str()), (1, Some("critical")));
    // Kept as typed (markup is escaped where it is shown), and the odd number is kept raw.
    let id = filed.str("id").to_owned();
    let mine = app.get(&format!("/api/v1/reports/{id}"), &t.erin).await;
    assert_eq!(mine.body["claimed_name"], "<script>alert(1)</script>");
    assert_eq!(mine.body["caller_number"], "not a number");
    assert_eq!(app.get(&format!("/api/v1/reports/{id}"), &t.finn).await.status, 404, "someone else's report");
    assert_eq!(app.get(&format!("/api/v1/reports/{id}"), &t.auditor).await.status, 200);
    assert_eq!(app.get("/api/v1/reports", &t.finn).await.body.as_array().unwrap().len(), 0);
    assert_eq!(app.get("/api/v1/reports?scope=all", &t.finn).await.status, 403);
    assert_eq!(app.get("/api/v1/reports", &t.admin).await.body.as_array().unwrap().len(), 1);

    // Bad input: each field named, nothing filed.
    let huge = "a".repeat(100_001);
    let bad = app
        .post(
            "/api/v1/reports",
            &t.erin,
            json!({ "channel": "phone", "transcript": huge, "occurred_at": "2999-01-01T00:00:00Z", "claimed_name": "a\u{7}b" }),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.fields(), vec!["occurred_at", "claimed_name", "transcript"]);
    assert_eq!(app.post("/api/v1/reports", &t.erin, json!({ "caller_number": "1" })).await.fields(), vec!["channel"]);
    assert_eq!(app.post("/api/v1/reports", &t.erin, json!({ "channel": "fax" })).await.status, 422);
    assert_eq!(
        app.post("/api/v1/reports", &t.erin, json!({ "channel": "phone", "check_id": "nope" })).await.status,
        422
    );
    // Past the body limit (here 256 KiB: small enough that the whole request fits in the socket buffers,
    // so the client reads the early 413 instead of a reset), the body is refused unread.
    let limited = spawn_app_with(backend, |c| c.web.report_body_limit = 256 * 1024).await;
    let enormous = json!({ "channel": "phone", "transcript": "a".repeat(300 * 1024) });
    assert_eq!(limited.post("/api/v1/reports", &limited.tokens.erin, enormous).await.status, 413);
    limited.drop_db().await;
    let plain =
        app.send(Method::POST, "/api/v1/reports", Some(&t.erin), Body::Raw("text/plain", b"hello".to_vec())).await;
    assert_eq!(plain.status, 415);
    let broken =
        app.send(Method::POST, "/api/v1/reports", Some(&t.erin), Body::Raw("application/json", b"{".to_vec())).await;
    assert_eq!(broken.status, 400);
    assert_eq!(app.get("/api/v1/reports", &t.admin).await.body.as_array().unwrap().len(), 1, "nothing else was filed");
    app.drop_db().await;
}

const EMAIL: &str = "From: \"IT Service Desk\" <it-helpdesk@examp1e-support.com>\r\n\
To: erin@example.com\r\n\
Subject: Action required: your mailbox will be locked\r\n\
Date: Tue, 24 Nov 2026 09:15:00 +0000\r\n\
Message-ID: <1@examp1e-support.com>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Hello, this is the IT service desk. Your mailbox is over its quota and will be locked today.\r\n\
Reply with the code we just sent to your phone so we can keep it open.\r\n";

async fn reported_emails_are_read_and_malformed_ones_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let filed = app
        .send(Method::POST, "/api/v1/reports", Some(&t.erin), Body::Raw("message/rfc822", EMAIL.as_bytes().to_vec()))
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let report = app.get(&format!("/api/v1/reports/{}", filed.str("id")), &t.erin).await;
    assert_eq!(report.body["channel"], "email");
    assert_eq!(report.body["caller_address"], "it-helpdesk@examp1e-support.com");
    assert_eq!(report.body["claimed_name"], "IT Service Desk");
    assert_eq!(report.body["email_subject"], "Action required: your mailbox will be locked");
    assert_eq!(report.body["occurred_at"], "2026-11-24T09:15:00Z");
    assert!(report.body["transcript"].as_str().unwrap().contains("over its quota"));
    // Two more people get the same email: a campaign whose domain is flagged as a look-alike.
    for token in [&t.finn, &t.sam] {
        app.send(Method::POST, "/api/v1/reports", Some(token), Body::Raw("message/rfc822", EMAIL.as_bytes().to_vec()))
            .await;
    }
    let campaigns = app.get("/api/v1/campaigns", &t.admin).await;
    let indicators = &campaigns.body[0]["indicators"];
    let domain = indicators.as_array().unwrap().iter().find(|i| i["kind"] == "domain").unwrap();
    assert_eq!(domain["value"], "examp1e-support.com");
    assert_eq!(domain["note"], json!({ "kind": "lookalike_of", "detail": "example.com" }));
    for junk in [&b"\x00\x01\x02 not an email at all"[..], b"", b"just some words"] {
        let r =
            app.send(Method::POST, "/api/v1/reports", Some(&t.erin), Body::Raw("message/rfc822", junk.to_vec())).await;
        assert_eq!(r.status, 422, "{junk:?}: {}", r.body);
    }
    app.drop_db().await;
}

/// The OASIS STIX validator: `BONAFIDE_STIX_VALIDATOR`, or the virtualenv `.ci/run` makes in `target/`.
/// Says on the terminal that the OASIS validation was skipped, and how to install the validator: written to
/// the process's standard error itself, which the test harness does not capture (`eprintln!` it does).
fn skipped_validation() {
    use std::io::Write as _;
    let line = "SKIPPED the OASIS STIX validation: stix2-validator is not installed; install it with \
                `python3 -m venv target/stix-venv && target/stix-venv/bin/pip install stix2-validator` \
                (under CI=true this fails)\n";
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Issue 15, point 17: outside CI a missing validator skips the validation, and the skip shows without
/// `--nocapture`, naming the install command.
#[test]
fn regression_15_17_a_skipped_stix_validation_says_so_on_the_terminal() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["reports::sqlite::a_campaign_exports_as_a_stix_bundle_the_oasis_validator_accepts", "--exact"])
        .env("BONAFIDE_STIX_VALIDATOR", "/nonexistent/stix2_validator")
        .env_remove("CI")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.contains("1 passed"), "{stdout}{stderr}");
    assert!(
        stderr.contains("SKIPPED the OASIS STIX validation") && stderr.contains("pip install stix2-validator"),
        "{stderr}"
    );
}

fn stix_validator() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("BONAFIDE_STIX_VALIDATOR").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/stix-venv/bin/stix2_validator")
    });
    path.exists().then_some(path)
}

async fn a_campaign_exports_as_a_stix_bundle_the_oasis_validator_accepts(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let mut campaign = String::new();
    for token in [&t.erin, &t.finn, &t.sam] {
        let report = json!({
            "channel": "email",
            "caller_address": "it-desk@examp1e-support.com",
            "caller_number": "(555) 010-9999",
            "claimed_name": "Mike O'Neil",
            "transcript": "Your mailbox is full. Sign in at https://examp1e-support.com/login?next='x'&y=1 to keep it.",
        });
        campaign = app.post("/api/v1/reports", token, report).await.str("campaign_id").to_owned();
    }
    assert!(!campaign.is_empty());
    assert_eq!(app.get(&format!("/api/v1/campaigns/{campaign}/stix"), &t.erin).await.status, 403);
    let stix = app.get(&format!("/api/v1/campaigns/{campaign}/stix"), &t.auditor).await;
    assert_eq!(stix.status, 200, "{}", stix.body);
    let objects = stix.body["objects"].as_array().unwrap();
    let of = |kind: &str| objects.iter().filter(|o| o["type"] == kind).collect::<Vec<_>>();
    let patterns: Vec<&str> = of("indicator").iter().map(|o| o["pattern"].as_str().unwrap()).collect();
    for expected in [
        "[email-addr:value = 'it-desk@examp1e-support.com']",
        "[domain-name:value = 'examp1e-support.com']",
        "[url:value = 'https://examp1e-support.com/login?next=\\'x\\'&y=1']",
        "[x-bonafide-phone-number:value = '+15550109999']",
    ] {
        assert!(patterns.contains(&expected), "{expected} in {patterns:?}");
    }
    assert!(of("sighting").iter().all(|s| s["count"] == 3), "each indicator was seen three times");
    let techniques: Vec<&str> =
        of("attack-pattern").iter().map(|a| a["external_references"][0]["external_id"].as_str().unwrap()).collect();
    assert_eq!(techniques, vec!["T1566.004", "T1598.004", "T1656"]);
    assert_eq!(of("extension-definition").len(), 1);
    let again = app.get(&format!("/api/v1/campaigns/{campaign}/stix"), &t.admin).await;
    assert_eq!(again.body["objects"][1]["id"], stix.body["objects"][1]["id"], "ids are stable across exports");

    let Some(validator) = stix_validator() else {
        assert!(std::env::var("CI").is_err(), "CI must validate STIX: .ci/run installs stix2-validator");
        skipped_validation();
        app.drop_db().await;
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&stix.body).unwrap()).unwrap();
    let out = std::process::Command::new(validator).arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the OASIS validator refused the bundle:\n{text}");
    assert!(!text.contains("[X]"), "{text}");
    app.drop_db().await;
}

async fn the_analyzer_reads_texts_conversations_and_report_transcripts(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let script = "Hello, this is the IT service desk. We noticed unusual sign-in activity on your account. \
        I can fix it for you now, just read me the code we sent to your phone.";
    let one = app.post("/api/v1/analyze", &t.erin, json!({ "id": "x", "text": script })).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!((one.body["id"].as_str(), one.body["verdict"].as_str()), (Some("x"), Some("qpq")));
    let conversation = json!({ "messages": [
        { "from": "caller", "text": "Hi, IT support here, your mailbox is over quota." },
        { "from": "erin", "text": "Oh, what do I do?" },
        { "from": "caller", "text": "I can fix that, tell me your password." },
    ] });
    let c = app.post("/api/v1/analyze", &t.erin, conversation).await;
    assert_eq!(c.body["verdict"], "qpq", "{}", c.body);
    assert!(c.body["stages"].as_array().unwrap().iter().any(|f| f["message_index"] == 2));
    let lines = format!("{}\nnot json\n{}\n", json!({ "id": 1, "text": script }), json!({ "id": 2, "text": "lunch?" }));
    let batch = app
        .send(Method::POST, "/api/v1/analyze", Some(&t.erin), Body::Raw("application/x-ndjson", lines.into_bytes()))
        .await;
    assert_eq!(batch.status, 200);
    let out: Vec<Value> = batch.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(out.len(), 3);
    assert_eq!(
        (out[0]["verdict"].as_str(), out[1]["line"].as_i64(), out[2]["verdict"].as_str()),
        (Some("qpq"), Some(2), Some("benign"))
    );
    assert_eq!(app.post("/api/v1/analyze", &t.erin, json!({ "text": "a", "messages": [] })).await.status, 422);
    assert_eq!(
        app.send(Method::POST, "/api/v1/analyze", Some(&t.erin), Body::Raw("text/plain", b"hi".to_vec())).await.status,
        415
    );
    assert_eq!(app.send(Method::POST, "/api/v1/analyze", None, Body::Json(json!({ "text": "x" }))).await.status, 401);

    // A report with only a transcript: the analyzer's reading fills what was asked, which correlation uses.
    let filed = app.post("/api/v1/reports", &t.erin, json!({ "channel": "phone", "transcript": script })).await;
    let report = app.get(&format!("/api/v1/reports/{}", filed.str("id")), &t.erin).await;
    assert_eq!(report.body["asked_for"], json!(["mfa_code"]), "{}", report.body);
    assert_eq!(report.body["analysis"]["verdict"], "qpq");
    app.drop_db().await;
}

/// Issue 14, point 5: a reported email could be made unreportable by its own headers (a `Date:` far off,
/// a long display name). The headers are evidence: the email is filed whatever they claim.
async fn regression_14_5_a_reported_email_is_filed_whatever_its_headers_claim(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = &app.tokens;
    let email = |headers: &str| {
        format!("{headers}To: erin@example.com\r\n\r\nReply with the code we sent you, this is IT.\r\n").into_bytes()
    };
    let long_name = "I".repeat(10 * 1024);
    let hostile: Vec<(&str, Vec<u8>)> = vec![
        ("no date", email("From: IT <it@examp1e.com>\r\nSubject: Locked\r\n")),
        ("1970", email("From: IT <it@examp1e.com>\r\nSubject: Locked\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n")),
        ("2035", email("From: IT <it@examp1e.com>\r\nSubject: Locked\r\nDate: Mon, 01 Jan 2035 00:00:00 +0000\r\n")),
        ("a 10 KB name", email(&format!("From: \"{long_name}\" <it@examp1e.com>\r\nSubject: Locked\r\n"))),
        ("broken encodings", {
            let mut e = email("From: =?utf-8?B?%%%notbase64?= <it@examp1e.com>\r\nSubject: =?bogus?Q?=ZZ?=\r\n");
            e.splice(0..0, b"X-Junk: \xff\xfe\x00\r\n".iter().copied());
            e
        }),
        (
            "duplicate headers",
            email("From: IT <it@examp1e.com>\r\nFrom: Other <x@y.com>\r\nSubject: A\r\nSubject: B\r\n"),
        ),
    ];
    for (what, raw) in hostile {
        let r = app.send(Method::POST, "/api/v1/reports", Some(&t.erin), Body::Raw("message/rfc822", raw)).await;
        assert_eq!(r.status, 201, "{what}: {}", r.text);
        let report = app.get(&format!("/api/v1/reports/{}", r.str("id")), &t.erin).await;
        assert_eq!(
            report.body["occurred_at"], report.body["received_at"],
            "{what}: no plausible date, the receive time"
        );
        let name = report.body["claimed_name"].as_str().unwrap_or("");
        assert!(name.chars().count() <= 120, "{what}: the name is cut for indexing");
    }
    // A large attachment: past the reported email's 1 MiB (under the request's body limit, so the
    // answer is read whole, not cut off mid-upload) it is a clear 422, and nothing is filed.
    let mut large = email("From: IT <it@examp1e.com>\r\nSubject: Invoice\r\n");
    large.extend(std::iter::repeat_n(b'A', 1536 * 1024));
    let r = app.send(Method::POST, "/api/v1/reports", Some(&t.erin), Body::Raw("message/rfc822", large)).await;
    assert_eq!((r.status, r.fields()), (422, vec!["email"]), "{}", r.text);
    assert_eq!(app.get("/api/v1/reports", &t.erin).await.body.as_array().unwrap().len(), 6);
    app.drop_db().await;
}
