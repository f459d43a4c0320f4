//! Chat and SMS drills: a JSON POST to an operator-configured URL (a Slack-compatible incoming webhook,
//! the company's SMS gateway), with the answer's status sorted into [`SendError::Transient`] and
//! [`SendError::Permanent`].
//!
//! These URLs are settings, not user input, so the webhook address policy does not apply. As for
//! webhooks: rustls with ring and Mozilla's roots, no redirects, no proxy from the environment.

use super::{Outgoing, SendError, SmsGateway};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// How long connecting may take, and the whole exchange.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a refusal's body is kept in the error.
const BODY_CHARS: usize = 200;

/// The client chat and SMS drills are posted with.
pub(super) fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(crate::webhooks::tls()?)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT)
        .user_agent("Bonafide-Drill/1")
        .build()
        .map_err(|e| format!("the drill client cannot be built: {}", describe(e)))
}

/// The chat webhook's body: Slack reads `text` and ignores `email`, which lets a bridge find the person.
pub(super) fn chat_body(m: &Outgoing) -> String {
    serde_json::json!({ "text": m.text, "email": m.to_email }).to_string()
}

/// The gateway's body: its template with `{to}` and `{text}` replaced, JSON-escaped, in one pass (so a
/// text holding `{to}` stays as written).
pub(super) fn sms_body(gateway: &SmsGateway, to: &str, text: &str) -> String {
    let mut out = String::with_capacity(gateway.body.len() + text.len());
    let mut rest = gateway.body.as_str();
    while let Some(start) = rest.find('{') {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        if let Some(after) = from.strip_prefix("{to}") {
            out.push_str(&json_content(to));
            rest = after;
        } else if let Some(after) = from.strip_prefix("{text}") {
            out.push_str(&json_content(text));
            rest = after;
        } else {
            out.push('{');
            rest = from.get(1..).unwrap_or_default();
        }
    }
    out.push_str(rest);
    out
}

/// `s` as the inside of a JSON string: escaped, without the quotes.
fn json_content(s: &str) -> String {
    let quoted = serde_json::Value::from(s).to_string();
    quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_owned()
}

/// Posts `body` (JSON) to `url` with the drill header and, when given, a bearer token. `<status> <body>`
/// on a 2xx answer.
pub(super) async fn post(
    http: &reqwest::Client,
    url: &str,
    body: String,
    token: Option<&SecretString>,
    drill_header: &str,
) -> Result<String, SendError> {
    let mut request = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Bonafide-Drill", drill_header)
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token.expose_secret());
    }
    let mut response = request.send().await.map_err(|e| {
        if e.is_builder() { SendError::Permanent(describe(e)) } else { SendError::Transient(describe(e)) }
    })?;
    let status = response.status();
    let answer = format!("{} {}", status.as_u16(), first_chars(&mut response).await).trim_end().to_owned();
    if status.is_success() {
        Ok(answer)
    } else if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Err(SendError::Transient(answer))
    } else {
        // Other 4xx, and a redirect (not followed): the same request would get the same answer.
        Err(SendError::Permanent(answer))
    }
}

/// The first [`BODY_CHARS`] characters of the answer, reading no more of it than that needs.
async fn first_chars(response: &mut reqwest::Response) -> String {
    let mut bytes = Vec::new();
    // Four bytes a character at most; an unread rest is dropped with the connection.
    while bytes.len() < BODY_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    String::from_utf8_lossy(&bytes).chars().take(BODY_CHARS).collect::<String>().trim().to_owned()
}

/// A reqwest error with its causes and without the URL (an SMS gateway's may carry a key).
fn describe(e: reqwest::Error) -> String {
    crate::webhooks::describe(&e.without_url())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(body: &str) -> SmsGateway {
        SmsGateway { url: "http://127.0.0.1:1/".into(), body: body.into(), token: None }
    }

    #[test]
    fn the_sms_template_is_filled_in_once_with_json_escaped_values() {
        let g = gateway(r#"{"to":"{to}","text":"{text}","x":"{other}"}"#);
        let body = sms_body(&g, "+441632960000", "Say \"{to}\"\nnow é");
        assert_eq!(body, r#"{"to":"+441632960000","text":"Say \"{to}\"\nnow é","x":"{other}"}"#);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["text"], "Say \"{to}\"\nnow é");
    }
}
