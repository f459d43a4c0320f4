//! Handing one drill message to its channel: SMTP (lettre, with TLS options), a Slack-compatible chat
//! webhook (JSON `{text}`), or the company's SMS gateway (a configurable POST with the number and the
//! text). The server's reply is kept, so a failed send says why.

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

/// Sends drill messages on every channel that is set up.
pub struct Courier {
    delivery: DrillDelivery,
}

impl Courier {
    /// A courier for `delivery`.
    pub fn new(delivery: &DrillDelivery) -> Result<Self, String> {
        Ok(Self { delivery: delivery.clone() })
    }

    /// Hands `m` to its channel; the server's reply on success.
    pub async fn send(&self, m: &Outgoing) -> Result<String, SendError> {
        let _ = (&self.delivery, m);
        Err(SendError::Permanent("drill delivery is not built yet".into()))
    }
}
