//! The README's story as a newcomer runs it: the people `bonafide demo` prints, and the three calls of
//! "The story in three calls" exactly as written, with the printed tokens put in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The code block after `<!-- story -->` in README.md.
fn readme_story() -> String {
    readme_block("<!-- story -->")
}

/// The code block after `marker` in README.md.
fn readme_block(marker: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let after = readme.split(marker).nth(1).unwrap_or_else(|| panic!("README.md has no {marker}"));
    let block = after.split("```").nth(1).expect("a code block");
    block.trim_start_matches(|c: char| c != '\n').trim_matches('\n').to_owned()
}

/// Shell words of one command line: single quotes literal, double quotes with `\"` and `$VAR`, bare words
/// with `$VAR`, a `#` after a blank starting a comment. Returns the words and the comment.
fn shell_words(line: &str, vars: &BTreeMap<String, String>) -> (Vec<String>, String) {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    let expand = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String| {
        let mut name = String::new();
        while let Some(&c) = chars.peek().filter(|c| c.is_ascii_alphanumeric() || **c == '_') {
            name.push(c);
            chars.next();
        }
        out.push_str(vars.get(&name).unwrap_or_else(|| panic!("the story uses ${name}, which nothing set")));
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                words.extend(word.take());
            }
            '#' if word.is_none() => return (words, chars.collect::<String>().trim().to_owned()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        '$' => expand(&mut chars, w),
                        c => w.push(c),
                    }
                }
            }
            '$' => expand(&mut chars, word.get_or_insert_with(String::new)),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    (words, String::new())
}

/// The story's commands: continuation lines joined, comment-only lines attached to the command before.
fn commands(story: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut continuing = false;
    for line in story.lines() {
        let trimmed = line.trim();
        if continuing || trimmed.starts_with('#') {
            let last = out.last_mut().expect("the story starts with a command");
            last.push(' ');
            last.push_str(trimmed.trim_end_matches('\\'));
        } else {
            out.push(trimmed.trim_end_matches('\\').to_owned());
        }
        continuing = trimmed.ends_with('\\');
    }
    out
}

/// Runs one `curl` command line (`-s`, `-H`, `-d`, the URL) and returns the JSON answer and the comment.
async fn curl(client: &reqwest::Client, line: &str, vars: &BTreeMap<String, String>) -> (Value, String) {
    let (words, comment) = shell_words(line, vars);
    let mut words = words.into_iter();
    assert_eq!(words.next().as_deref(), Some("curl"), "{line}");
    let (mut headers, mut data, mut url, mut post) = (Vec::new(), None, None, false);
    while let Some(w) = words.next() {
        match w.as_str() {
            "-s" => {}
            "-X" => post = words.next().as_deref() == Some("POST"),
            "-H" => headers.push(words.next().unwrap()),
            "-d" => data = words.next(),
            u if u.starts_with("http") => url = Some(u.to_owned()),
            other => panic!("the story uses curl option {other}, which this test does not know"),
        }
    }
    let url = url.expect("a URL");
    let mut request = match data {
        Some(d) => client.post(&url).body(d),
        None if post => client.post(&url),
        None => client.get(&url),
    };
    for h in headers {
        let (name, value) = h.split_once(':').unwrap();
        request = request.header(name.trim(), value.trim());
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{line}\n→ {status} {body}");
    (body, comment)
}

#[tokio::test]
async fn regression_15_1_the_readme_story_is_true_for_the_people_demo_prints() {
    let dir = tempfile::tempdir().unwrap();
    let (_demo, creds) = common::start_demo(dir.path()).await;
    let base = creds["base_url"].as_str().unwrap().to_owned();
    let story = readme_story();

    // The demo prints the story as the README has it (at its own address) and the people in it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let printed = loop {
        let out = std::fs::read_to_string(dir.path().join("demo.out")).unwrap_or_default();
        if out.contains("/challenge") {
            break out;
        }
        assert!(Instant::now() < deadline, "the demo printed no story:\n{out}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(printed.contains(&story.replace("http://localhost:8080", &base)), "{printed}\n---\n{story}");
    let mut vars = BTreeMap::new();
    for line in printed.lines() {
        if let Some((name, rest)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            vars.insert(name.to_owned(), rest.split_whitespace().next().unwrap().to_owned());
        }
    }
    for name in ["EMPLOYEE", "SAM"] {
        let token = &vars[name];
        assert!(creds["people"].as_array().unwrap().iter().any(|p| p["api_token"] == token.as_str()), "{name}");
    }

    bonafide_web::install_tls_provider();
    let client = reqwest::Client::new();
    common::wait_healthy(&client, &base).await;
    let story = story.replace("http://localhost:8080", &base);
    let calls = commands(&story);
    assert_eq!(calls.len(), 3, "{calls:#?}");

    // The demo's policy lets IT call Monday to Friday, 08:00-18:00 in Boston. Outside those hours the
    // first call is refused for that reason alone, as the README says; IT then announces the call as
    // outreach (Sam proposes, Rhea approves), and the story holds as written.
    let get = |path: &str, token: &str| {
        let request = client.get(format!("{base}{path}")).bearer_auth(token);
        common::json_of(request)
    };
    let policy = get("/api/v1/policy", &vars["EMPLOYEE"]).await;
    assert_eq!(policy["version"], 1, "the demo seeds its contact policy: {policy}");
    let rules = bonafide_domain::ContactPolicy::from_json(&policy["rules"], Default::default()).unwrap();
    let hours = rules.contact_hours.expect("the demo's policy has contact hours");
    if !hours.contain(time::OffsetDateTime::now_utc()) {
        let (refused, _) = curl(&client, &calls[0], &vars).await;
        assert_eq!(
            (refused["verdict"].clone(), refused["reasons"].clone()),
            (json!("unverified"), json!(["outside_contact_hours"])),
            "{refused}"
        );
        let me = get("/api/v1/me", &vars["EMPLOYEE"]).await;
        let now = time::OffsetDateTime::now_utc();
        let at = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
        let proposal = json!({
            "employee_email": me["email"], "reason": "Calling about your VPN request after hours",
            "channels": ["phone"], "starts_at": at(now - time::Duration::minutes(1)), "ends_at": at(now + time::Duration::hours(1)),
        });
        let proposed: Value =
            common::json_of(client.post(format!("{base}/api/v1/outreach")).bearer_auth(&vars["SAM"]).json(&proposal))
                .await;
        let approve = format!("{base}/api/v1/outreach/{}/approve", proposed["id"].as_str().unwrap());
        let approved = client.post(approve).bearer_auth(&vars["SECURITY"]).json(&json!({})).send().await.unwrap();
        assert_eq!(approved.status(), 200);
        eprintln!("the story ran outside the demo's contact hours: the refusal was checked, then the call announced");
    }

    // 1. The employee checks the caller: the answer is the comment's verdict, with Sam's photo.
    let (check, comment) = curl(&client, &calls[0], &vars).await;
    assert!(comment.starts_with("→ challenge_required"), "{comment}");
    assert_eq!(check["verdict"], "challenge_required", "{check}");
    assert_eq!(check["staff"]["staff_id"], "IT-0042", "{check}");
    assert!(check["staff"]["photo_url"].is_string(), "{check}");
    vars.insert("ID".to_owned(), check["id"].as_str().unwrap().to_owned());

    // 2. Sam's console shows a code beside the employee's request.
    let me: Value = common::json_of(client.get(format!("{base}/api/v1/me")).bearer_auth(&vars["EMPLOYEE"])).await;
    let (codes, comment) = curl(&client, &calls[1], &vars).await;
    assert!(comment.contains(me["display_name"].as_str().unwrap()), "the story names the employee: {comment}");
    let code = codes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["employee"]["email"] == me["email"] && c["request_key"] == check["request"]["key"])
        .unwrap_or_else(|| panic!("Sam's console has no code for {}: {codes}", me["email"]));
    vars.insert("CODE".to_owned(), code["code"].as_str().unwrap().to_owned());

    // 3. The code Sam read out verifies him.
    let (answer, comment) = curl(&client, &calls[2], &vars).await;
    assert!(comment.starts_with("→ verified"), "{comment}");
    assert_eq!(answer["verdict"], "verified", "{answer}");

    // The portal tells the same employee to ask for Sam's code, not to hang up.
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = no_redirects.get(format!("{base}/signin")).send().await.unwrap();
    let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let csrf = |html: &str| html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let token = csrf(&form.text().await.unwrap());
    let password = creds["people"][0]["password"].as_str().unwrap();
    let signed_in = no_redirects
        .post(format!("{base}/signin"))
        .header("cookie", &cookie)
        .form(&[("csrf", token.as_str()), ("email", me["email"].as_str().unwrap()), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let contact = no_redirects.get(format!("{base}/contact")).header("cookie", &cookie).send().await.unwrap();
    let token = csrf(&contact.text().await.unwrap());
    let submitted = no_redirects
        .post(format!("{base}/contact"))
        .header("cookie", &cookie)
        .form(&[("csrf", token.as_str()), ("claimed", "IT-0042"), ("channel", "phone"), ("from", "+1 201-555-0140")])
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 303);
    let location = submitted.headers()["location"].to_str().unwrap().to_owned();
    let page = no_redirects.get(format!("{base}{location}")).header("cookie", &cookie).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("Ask them for their code") && page.contains("Sam Carter"), "{page}");
    assert!(!page.contains("Not verified"), "{page}");

    // Issue 16: the README's contact policy calls, as written.
    let calls = commands(&readme_block("<!-- policy-calls -->").replace("http://localhost:8080", &base));
    assert_eq!(calls.len(), 4, "{calls:#?}");
    let (policy, _) = curl(&client, &calls[0], &vars).await;
    assert_eq!(policy["version"], 1, "{policy}");
    assert!(policy["text"].as_str().unwrap().contains("IT will never ask you for your password"), "{policy}");
    assert!(policy["rules_in_words"].as_array().unwrap().len() >= 5, "{policy}");
    let (acknowledged, _) = curl(&client, &calls[1], &vars).await;
    assert_eq!(acknowledged["version"], 1, "{acknowledged}");
    let (counts, _) = curl(&client, &calls[2], &vars).await;
    let departments = counts["departments"].as_array().unwrap();
    let rate = |name: &str| departments.iter().find(|d| d["department"] == name).unwrap()["rate"].as_f64().unwrap();
    assert_eq!((rate("Finance"), rate("People")), (1.0, 0.0), "the demo's gap by department: {counts}");
    assert!(rate("Sales") > rate("Engineering") && rate("Engineering") > rate("Operations"), "{counts}");
    assert!(counts["missing"].as_array().unwrap().iter().any(|m| m["overdue"] == true), "{counts}");
    let (v2, _) = curl(&client, &calls[3], &vars).await;
    assert_eq!(v2["version"], 2, "{v2}");
}
