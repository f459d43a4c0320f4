//! Durability of report intake: `bonafide demo` (SQLite) is killed with SIGKILL while eight clients file
//! reports as fast as they can; after a restart on the same database, every report whose 201 reached a
//! client is there, and the audit log's chain is intact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn token_of(creds: &serde_json::Value, role: &str) -> String {
    let people = creds["people"].as_array().unwrap();
    let p = people.iter().find(|p| p["roles"].as_array().unwrap().iter().any(|r| r == role)).unwrap();
    p["api_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_report_is_lost_when_the_server_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let (demo, creds) = common::start_demo(dir.path()).await;
    let base = creds["base_url"].as_str().unwrap().to_owned();
    bonafide_web::install_tls_provider();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    common::wait_healthy(&client, &base).await;
    let tokens: Vec<String> = creds["people"]
        .as_array()
        .unwrap()
        .iter()
        .take(8)
        .map(|p| p["api_token"].as_str().unwrap().to_owned())
        .collect();

    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let mut clients = Vec::new();
    for (n, token) in tokens.into_iter().enumerate() {
        let (client, base, acknowledged) = (client.clone(), base.clone(), acknowledged.clone());
        clients.push(tokio::spawn(async move {
            for i in 0.. {
                let body = serde_json::json!({
                    "channel": "phone",
                    "caller_number": format!("(555) 01{}-{:04}", n % 10, i % 7),
                    "claimed_name": "Mike from IT",
                    "asked_for": ["mfa_code"],
                });
                let sent = client.post(format!("{base}/api/v1/reports")).bearer_auth(&token).json(&body).send().await;
                match sent {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        if let Some(id) = v["id"].as_str() {
                            acknowledged.lock().unwrap().insert(id.to_owned());
                        }
                    }
                    // The server is gone: stop.
                    Err(_) => return,
                    Ok(r) => panic!("unexpected answer {}", r.status()),
                }
            }
        }));
    }
    // Let them file a good number of reports, then pull the plug mid-flight.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 150 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(demo); // SIGKILL
    for c in clients {
        c.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 150, "only {} reports were acknowledged", acknowledged.len());

    std::fs::remove_file(dir.path().join("people.json")).unwrap();
    let (_demo, creds) = common::start_demo(dir.path()).await;
    let base = creds["base_url"].as_str().unwrap().to_owned();
    common::wait_healthy(&client, &base).await;
    let admin = token_of(&creds, "security_admin");
    let stored = common::json_of(client.get(format!("{base}/api/v1/reports?scope=all")).bearer_auth(&admin)).await;
    let stored = stored.as_array().expect("a list of reports");
    let stored: BTreeSet<String> = stored.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "{} acknowledged reports were lost: {lost:?}", lost.len());

    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_bonafide"))
        .args(["audit", "verify", "--db", "sqlite://bonafide-demo.db"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}
