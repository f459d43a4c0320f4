//! Issue 17: nginx's `auth_request` asking Bonafide, end to end. The demo runs with its HR portal and
//! policies (the portal's own department, People, with MFA); nginx (Debian's, with the repo's
//! `deploy/nginx/bonafide-authz.conf`) fronts a tiny upstream and lets an allowed person through, and
//! answers a denied one 403.
//!
//! Needs `nginx` (Debian: `nginx`; `.ci/run` installs it). Under `CI=true` a missing nginx fails the test;
//! elsewhere it is reported and skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::Kill;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn nginx() -> Option<String> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_owned)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An upstream that answers every request with the same page.
async fn upstream() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let body = "hello from the HR portal\n";
                let answer =
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn nginx_lets_an_allowed_person_through_and_answers_a_denied_one_403() {
    let Some(nginx) = nginx() else {
        assert!(std::env::var("CI").is_err(), "CI must run the nginx test: install nginx");
        use std::io::Write as _;
        let _ = std::io::stderr().write_all(b"SKIPPED the nginx test: nginx is not installed; install it with `sudo apt-get install nginx` (under CI=true this fails)\n");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_demo, creds) = common::start_demo(dir.path()).await;
    let base = creds["base_url"].as_str().unwrap().to_owned();
    bonafide_web::install_tls_provider();
    let client = reqwest::Client::new();
    common::wait_healthy(&client, &base).await;
    let people = creds["people"].as_array().unwrap();
    let token_of =
        |email: &str| people.iter().find(|p| p["email"] == email).unwrap()["api_token"].as_str().unwrap().to_owned();
    let rhea = token_of("rhea.grant@example.com");
    // The demo seeds the HR portal (owned by People) and its policy: its own department, with MFA.
    let seeded = client.get(format!("{base}/api/v1/resources/hr-portal")).bearer_auth(&rhea).send().await.unwrap();
    assert_eq!(seeded.status(), 200);
    // The operator makes nginx's service token.
    let made = Command::new(env!("CARGO_BIN_EXE_bonafide"))
        .args([
            "token",
            "create",
            "--db",
            "sqlite://bonafide-demo.db",
            "--service",
            "nginx",
            "--scope",
            "authorize",
            "--json",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let service: Value = serde_json::from_slice(&made.stdout).unwrap();
    // Someone in People and someone in Finance, by what the directory says of them.
    let in_department = |wanted: &'static str| {
        let client = client.clone();
        let base = base.clone();
        let people = people.clone();
        async move {
            for p in &people {
                let me: Value = common::json_of(
                    client.get(format!("{base}/api/v1/me")).bearer_auth(p["api_token"].as_str().unwrap()),
                )
                .await;
                if me["department"] == wanted {
                    return me["email"].as_str().unwrap().to_owned();
                }
            }
            panic!("nobody in {wanted}");
        }
    };
    let (hr_person, finance_person) = (in_department("People").await, in_department("Finance").await);

    let app = upstream().await;
    let port = free_port();
    let snippet =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/nginx/bonafide-authz.conf")).unwrap();
    let server = snippet
        .replace("listen 8443;", &format!("listen 127.0.0.1:{port};"))
        .replace("BONAFIDE", base.trim_start_matches("http://"))
        .replace("APP", &app.to_string())
        .replace("RESOURCE", "hr-portal")
        .replace("SERVICE_TOKEN", service["api_token"].as_str().unwrap());
    let d = dir.path().display();
    let conf = format!(
        "pid {d}/nginx.pid;\nerror_log {d}/nginx-error.log;\nevents {{}}\nhttp {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n{server}\n}}\n"
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let _nginx = Kill(
        Command::new(&nginx)
            .args(["-p", &d.to_string(), "-c", &format!("{d}/nginx.conf"), "-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not start: {}",
            std::fs::read_to_string(dir.path().join("nginx-error.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let through = |email: String, mfa: &'static str| {
        let request = client
            .get(format!("http://127.0.0.1:{port}/"))
            .header("X-Auth-Request-Email", email)
            .header("X-Auth-Request-MFA", mfa)
            .header("X-Network", "office");
        async move { request.send().await.unwrap() }
    };
    let allowed = through(hr_person.clone(), "true").await;
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.text().await.unwrap(), "hello from the HR portal\n");
    assert_eq!(through(finance_person, "true").await.status(), 403, "another department");
    assert_eq!(through(hr_person, "false").await.status(), 403, "without MFA");
    assert_eq!(through("nobody@example.com".into(), "true").await.status(), 403, "a stranger");
}
