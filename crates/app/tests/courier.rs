//! The courier against real peers: aiosmtpd (PyPI, in `target/smtp-venv`, which `.ci/run` installs) for
//! email, and a local HTTP receiver that answers a fixed status for the chat webhook and the SMS
//! gateway.
//!
//! Under `CI=true` a missing aiosmtpd fails the SMTP tests; elsewhere they are reported and skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use bonafide_app::drills::{Courier, DrillDelivery, Outgoing, SendError, SmsGateway, Smtp, SmtpTls};
use bonafide_app::testing::smtp_sink::SmtpSink;
use bonafide_domain::DrillChannel;
use secrecy::SecretString;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn smtp(port: u16) -> Smtp {
    Smtp {
        host: "127.0.0.1".into(),
        port,
        tls: SmtpTls::None,
        username: None,
        password: None,
        timeout: Duration::from_secs(10),
    }
}

fn outgoing(channel: DrillChannel, to: &str, n: u32) -> Outgoing {
    Outgoing {
        channel,
        to_email: to.into(),
        to_name: "Zoé Martin".into(),
        to_phone: Some("+441632960000".into()),
        from_name: "IT Service Desk".into(),
        from_address: None,
        subject: format!("Your mailbox is full ({n})"),
        text: format!("Bonjour Zoé,\nyour mailbox is full. Message {n}, \"quoted\"."),
        message_id: format!("drill-7.target-{n}@bonafide.example.com"),
        drill_header: format!("drill-7/{n}"),
    }
}

#[tokio::test]
async fn emails_reach_a_real_smtp_server_with_every_header_and_a_utf8_body() {
    let Some(sink) = SmtpSink::start_or_skip(&[]) else { return };
    let delivery = DrillDelivery {
        smtp: Some(smtp(sink.port())),
        from: Some("helpdesk@example.com".into()),
        ..DrillDelivery::default()
    };
    let courier = Courier::new(&delivery).unwrap();
    let first = outgoing(DrillChannel::Email, "zoe@example.com", 1);
    let mut second = outgoing(DrillChannel::Email, "zoe@example.com", 2);
    second.from_address = Some("it-support@example.org".into());
    for m in [&first, &second] {
        let reply = courier.send(m).await.unwrap();
        assert!(reply.starts_with("250 "), "{reply}");
    }
    let got = sink.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2, "{got:?}");
    for (m, r) in [(&first, &got[0]), (&second, &got[1])] {
        let from = m.from_address.as_deref().unwrap_or("helpdesk@example.com");
        assert_eq!(r.mail_from, from);
        assert_eq!(r.rcpt_tos, vec!["zoe@example.com".to_owned()]);
        assert_eq!(r.header("From"), Some(format!("IT Service Desk <{from}>").as_str()), "{}", r.raw);
        assert_eq!(r.header("To"), Some("Zoé Martin <zoe@example.com>"), "{}", r.raw);
        assert_eq!(r.header("Subject"), Some(m.subject.as_str()));
        assert_eq!(r.header("Message-ID"), Some(format!("<{}>", m.message_id).as_str()));
        assert_eq!(r.header("X-Bonafide-Drill"), Some(m.drill_header.as_str()));
        let content_type = r.header("Content-Type").unwrap().to_ascii_lowercase().replace('"', "");
        assert_eq!(content_type, "text/plain; charset=utf-8", "{}", r.raw);
        assert!(r.raw.contains(&format!("From: \"IT Service Desk\" <{from}>\r\n")), "{}", r.raw);
        assert_eq!(r.body.trim_end(), m.text);
    }
}

#[tokio::test]
async fn a_refused_recipient_is_permanent_and_the_pooled_transport_keeps_working() {
    let Some(sink) = SmtpSink::start_or_skip(&["nobody@example.com"]) else { return };
    let delivery = DrillDelivery {
        smtp: Some(smtp(sink.port())),
        from: Some("helpdesk@example.com".into()),
        ..Default::default()
    };
    let courier = Courier::new(&delivery).unwrap();
    let refused = courier.send(&outgoing(DrillChannel::Email, "nobody@example.com", 1)).await.unwrap_err();
    assert_eq!(refused, SendError::Permanent("550 no such user".into()));
    courier.send(&outgoing(DrillChannel::Email, "zoe@example.com", 2)).await.unwrap();
    let got = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.iter().map(|r| r.rcpt_tos.clone()).collect::<Vec<_>>(), vec![vec!["zoe@example.com".to_owned()]]);
}

#[tokio::test]
async fn a_server_without_tls_gets_nothing_when_tls_is_required_or_implicit() {
    let Some(sink) = SmtpSink::start_or_skip(&[]) else { return };
    for tls in [SmtpTls::Required, SmtpTls::Implicit] {
        let smtp = Smtp { tls, ..smtp(sink.port()) };
        let delivery =
            DrillDelivery { smtp: Some(smtp), from: Some("helpdesk@example.com".into()), ..Default::default() };
        let courier = Courier::new(&delivery).unwrap();
        let e = courier.send(&outgoing(DrillChannel::Email, "zoe@example.com", 1)).await.unwrap_err();
        assert!(matches!(e, SendError::Transient(_)), "{tls:?}: {e:?}");
    }
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn a_mail_server_that_is_not_listening_is_transient_and_missing_settings_are_permanent() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let delivery = DrillDelivery { smtp: Some(smtp(closed)), from: Some("a@example.com".into()), ..Default::default() };
    let courier = Courier::new(&delivery).unwrap();
    let e = courier.send(&outgoing(DrillChannel::Email, "zoe@example.com", 1)).await.unwrap_err();
    assert!(matches!(e, SendError::Transient(_)), "{e:?}");

    let nothing = Courier::new(&DrillDelivery::default()).unwrap();
    for channel in [DrillChannel::Email, DrillChannel::Chat, DrillChannel::Sms] {
        let e = nothing.send(&outgoing(channel, "zoe@example.com", 1)).await.unwrap_err();
        assert!(matches!(&e, SendError::Permanent(t) if t.contains("not set")), "{e:?}");
    }
}

/// A receiver that answers one request with `status` and `body`; the request as it came.
async fn receiver(status: &str, body: &str) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let answer = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .map_or(0, |v| v.parse::<usize>().unwrap());
                if request.len() >= end + 4 + length {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        stream.write_all(answer.as_bytes()).await.unwrap();
        stream.shutdown().await.ok();
        String::from_utf8(request).unwrap()
    });
    (url, task)
}

fn body_json(request: &str) -> serde_json::Value {
    serde_json::from_str(request.split_once("\r\n\r\n").unwrap().1).unwrap()
}

fn has_header(request: &str, line: &str) -> bool {
    request.lines().any(|l| l.eq_ignore_ascii_case(line))
}

#[tokio::test]
async fn chat_drills_post_the_text_and_the_email_and_the_status_decides_the_outcome() {
    let m = outgoing(DrillChannel::Chat, "zoe@example.com", 1);
    let (url, request) = receiver("200 OK", "ok").await;
    let courier = Courier::new(&DrillDelivery { chat_webhook_url: Some(url), ..Default::default() }).unwrap();
    assert_eq!(courier.send(&m).await, Ok("200 ok".to_owned()));
    let request = request.await.unwrap();
    assert!(request.starts_with("POST /hook HTTP/1.1\r\n"), "{request}");
    assert!(has_header(&request, "content-type: application/json"), "{request}");
    assert!(has_header(&request, "x-bonafide-drill: drill-7/1"), "{request}");
    assert_eq!(body_json(&request), serde_json::json!({ "text": m.text, "email": "zoe@example.com" }));

    let cases = [
        ("503 Service Unavailable", "busy", SendError::Transient("503 busy".into())),
        ("429 Too Many Requests", "", SendError::Transient("429".into())),
        ("400 Bad Request", "invalid_payload", SendError::Permanent("400 invalid_payload".into())),
        ("404 Not Found", "no_service", SendError::Permanent("404 no_service".into())),
    ];
    for (status, body, want) in cases {
        let (url, request) = receiver(status, body).await;
        let courier = Courier::new(&DrillDelivery { chat_webhook_url: Some(url), ..Default::default() }).unwrap();
        assert_eq!(courier.send(&m).await, Err(want), "{status}");
        request.await.unwrap();
    }
    let (url, request) = receiver("400 Bad Request", &"x".repeat(1000)).await;
    let courier = Courier::new(&DrillDelivery { chat_webhook_url: Some(url), ..Default::default() }).unwrap();
    assert_eq!(courier.send(&m).await, Err(SendError::Permanent(format!("400 {}", "x".repeat(200)))));
    request.await.unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let courier =
        Courier::new(&DrillDelivery { chat_webhook_url: Some(format!("http://{closed}/")), ..Default::default() })
            .unwrap();
    assert!(matches!(courier.send(&m).await, Err(SendError::Transient(_))));
}

#[tokio::test]
async fn sms_drills_fill_in_the_gateway_template_and_send_the_token() {
    let (url, request) = receiver("202 Accepted", "{\"id\":\"sm-1\"}").await;
    let gateway = SmsGateway {
        url,
        body: r#"{"to":"{to}","text":"{text}","from":"IT"}"#.into(),
        token: Some(SecretString::from("gateway-token")),
    };
    let courier = Courier::new(&DrillDelivery { sms: Some(gateway.clone()), ..Default::default() }).unwrap();
    let m = outgoing(DrillChannel::Sms, "zoe@example.com", 3);
    assert_eq!(courier.send(&m).await, Ok("202 {\"id\":\"sm-1\"}".to_owned()));
    let request = request.await.unwrap();
    assert!(has_header(&request, "authorization: Bearer gateway-token"), "{request}");
    assert!(has_header(&request, "content-type: application/json"), "{request}");
    assert!(has_header(&request, "x-bonafide-drill: drill-7/3"), "{request}");
    assert_eq!(body_json(&request), serde_json::json!({ "to": "+441632960000", "text": m.text, "from": "IT" }));

    let mut no_phone = m.clone();
    no_phone.to_phone = None;
    assert_eq!(courier.send(&no_phone).await, Err(SendError::Permanent("no mobile number".into())));

    for (status, want) in [
        ("503 Service Unavailable", SendError::Transient("503 down".into())),
        ("401 Unauthorized", SendError::Permanent("401 down".into())),
    ] {
        let (url, request) = receiver(status, "down").await;
        let gateway = SmsGateway { url, token: None, ..gateway.clone() };
        let courier = Courier::new(&DrillDelivery { sms: Some(gateway), ..Default::default() }).unwrap();
        assert_eq!(courier.send(&m).await, Err(want));
        assert!(!request.await.unwrap().to_ascii_lowercase().contains("authorization"), "no token, no header");
    }
}
