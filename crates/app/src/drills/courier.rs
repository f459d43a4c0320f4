//! Handing one drill message to its channel: SMTP (lettre, with TLS options), a Slack-compatible chat
//! webhook (JSON `{text}`), or the company's SMS gateway (a configurable POST with the number and the
//! text). The server's reply is kept, so a failed send says why.

mod http;
mod smtp;

use bonafide_domain::DrillChannel;
use secrecy::SecretString;
use std::time::Duration;

/// How drill messages go out (`smtp_*`, `drill_*` settings).
#[derive(Debug, Clone, Default)]
pub struct DrillDelivery {
    /// The mail server, when email drills are set up (`smtp_url`, `smtp_password_file`).
    pub smtp: Option<Smtp>,
    /// The `From:` address of email drills whose scenario names none (`smtp_from`).
    pub from: Option<String>,
    /// The most messages sent per minute, across every instance (`drill_sends_per_minute`; 0 means 60).
    pub sends_per_minute: u32,
    /// The Slack-compatible incoming webhook chat drills post to (`drill_chat_webhook_url`).
    pub chat_webhook_url: Option<String>,
    /// The SMS gateway (`drill_sms_url`, `drill_sms_body`, `drill_sms_token_file`).
    pub sms: Option<SmsGateway>,
    /// When set, no message is sent: each is written to a file here instead (`drill_outbox_dir`), an
    /// email as the `.eml` a mail server would get, a chat or SMS message as `.json`. For trial runs
    /// and the demo.
    pub outbox: Option<std::path::PathBuf>,
}

/// How TLS is used with the mail server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpTls {
    /// TLS from the first byte (`smtps://`, usually port 465).
    Implicit,
    /// STARTTLS, refusing to send without it (`smtp://…?tls=required`).
    Required,
    /// STARTTLS when offered (`smtp://`, the default).
    #[default]
    Opportunistic,
    /// Never (`smtp://…?tls=none`; a relay on the same host).
    None,
}

/// A mail server.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// Its host name or address.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How TLS is used.
    pub tls: SmtpTls,
    /// The user name, from the URL.
    pub username: Option<String>,
    /// The password, from `smtp_password_file` (never the URL).
    pub password: Option<SecretString>,
    /// How long one exchange may take.
    pub timeout: Duration,
}

/// An SMS gateway: a POST of `body` with `{to}` and `{text}` filled in (JSON-escaped).
#[derive(Debug, Clone)]
pub struct SmsGateway {
    /// Where to post.
    pub url: String,
    /// The body template; `{"to":"{to}","text":"{text}"}` by default.
    pub body: String,
    /// A bearer token sent as `Authorization`, from `drill_sms_token_file`.
    pub token: Option<SecretString>,
}

/// One message to one target.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// How it goes.
    pub channel: DrillChannel,
    /// The target's email address (the recipient of an email).
    pub to_email: String,
    /// The target's name.
    pub to_name: String,
    /// The target's mobile number in E.164, for SMS.
    pub to_phone: Option<String>,
    /// The persona's name.
    pub from_name: String,
    /// The persona's address; `smtp_from` when none.
    pub from_address: Option<String>,
    /// The email's subject.
    pub subject: String,
    /// The text.
    pub text: String,
    /// The `Message-ID` (without angle brackets): the same on every attempt of one send.
    pub message_id: String,
    /// The `X-Bonafide-Drill` header's value.
    pub drill_header: String,
}

/// Why a message was not handed over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (a connection failure, a 4xx SMTP reply, a 5xx or 429 HTTP answer).
    #[error("{0}")]
    Transient(String),
    /// Trying again will not help (a 5xx SMTP reply, a missing setting, a target without a number).
    #[error("{0}")]
    Permanent(String),
}

/// Sends drill messages on every channel that is set up. Build one per process and share it: the SMTP
/// connections are pooled inside (clones share them).
#[derive(Clone)]
pub struct Courier {
    delivery: DrillDelivery,
    /// The pooled mail transport, when `smtp_url` is set.
    smtp: Option<smtp::Transport>,
    /// The client for the chat webhook and the SMS gateway.
    http: reqwest::Client,
}

impl Courier {
    /// A courier for `delivery`. Must run inside the Tokio runtime when SMTP is set up (the pool starts
    /// its clean-up task); otherwise, and when the TLS set-up fails, says why.
    pub fn new(delivery: &DrillDelivery) -> Result<Self, String> {
        let smtp = delivery.smtp.as_ref().map(smtp::transport).transpose()?;
        Ok(Self { delivery: delivery.clone(), smtp, http: http::client()? })
    }

    /// Hands `m` to its channel; the server's reply on success (`250 …`, `200 ok`).
    pub async fn send(&self, m: &Outgoing) -> Result<String, SendError> {
        if let Some(dir) = &self.delivery.outbox {
            return self.write_out(dir, m).await;
        }
        match m.channel {
            DrillChannel::Email => {
                let transport = self.smtp.as_ref().ok_or_else(|| missing("email", "smtp_url"))?;
                smtp::send(transport, smtp::message(m, self.delivery.from.as_deref())?).await
            }
            DrillChannel::Chat => {
                let url = self
                    .delivery
                    .chat_webhook_url
                    .as_deref()
                    .ok_or_else(|| missing("chat", "drill_chat_webhook_url"))?;
                http::post(&self.http, url, http::chat_body(m), None, &m.drill_header).await
            }
            DrillChannel::Sms => {
                let gateway = self.delivery.sms.as_ref().ok_or_else(|| missing("SMS", "drill_sms_url"))?;
                let to = m.to_phone.as_deref().filter(|p| !p.trim().is_empty());
                let to = to.ok_or_else(|| SendError::Permanent("no mobile number".into()))?;
                let body = http::sms_body(gateway, to, &m.text);
                http::post(&self.http, &gateway.url, body, gateway.token.as_ref(), &m.drill_header).await
            }
        }
    }
}

impl Courier {
    /// Writes `m` into the outbox `dir` as a mail server or gateway would get it.
    async fn write_out(&self, dir: &std::path::Path, m: &Outgoing) -> Result<String, SendError> {
        let safe: String =
            m.message_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        let (name, bytes) = match m.channel {
            DrillChannel::Email => {
                (format!("{safe}.eml"), smtp::message(m, self.delivery.from.as_deref())?.formatted())
            }
            channel => {
                let body = serde_json::json!({
                    "channel": channel.as_str(), "to": m.to_email, "to_phone": m.to_phone, "text": m.text,
                    "x_bonafide_drill": m.drill_header,
                });
                (format!("{safe}.json"), body.to_string().into_bytes())
            }
        };
        let path = dir.join(name);
        let written = async {
            tokio::fs::create_dir_all(dir).await?;
            tokio::fs::write(&path, bytes).await
        };
        written
            .await
            .map_err(|e| SendError::Transient(format!("the outbox {} cannot be written: {e}", dir.display())))?;
        Ok(format!("written to the outbox as {}", path.display()))
    }
}

impl std::fmt::Debug for Courier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The settings' Debug hides the password and the token.
        f.debug_struct("Courier").field("delivery", &self.delivery).finish_non_exhaustive()
    }
}

fn missing(channel: &str, key: &str) -> SendError {
    SendError::Permanent(format!("{channel} drills are not set up: {key} is not set"))
}

/// `s` with line breaks as spaces: a header value cannot start another header.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}
