//! Email drills: the pooled SMTP transport (lettre over rustls) and one message, with the server's reply
//! sorted into [`SendError::Transient`] and [`SendError::Permanent`].

use super::{Outgoing, SendError, Smtp, SmtpTls, one_line};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;
use std::error::Error as _;

/// The pooled transport: connections are reused between messages and closed when idle.
pub(super) type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// `X-Bonafide-Drill`: marks a drill message, so a mail filter or the report button can tell it from a
/// real attack.
#[derive(Debug, Clone)]
struct DrillHeader(String);

impl Header for DrillHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Bonafide-Drill")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The transport for `s`. Must run inside the Tokio runtime: the pool starts its clean-up task here.
pub(super) fn transport(s: &Smtp) -> Result<Transport, String> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err("the SMTP transport must be built inside the Tokio runtime".into());
    }
    // Mozilla's roots compiled in; ring, since lettre takes the process's provider or else ring's.
    let params = || TlsParameters::new(s.host.clone()).map_err(|e| format!("TLS setup for {}: {e}", s.host));
    let tls = match s.tls {
        SmtpTls::Implicit => Tls::Wrapper(params()?),
        SmtpTls::Required => Tls::Required(params()?),
        SmtpTls::Opportunistic => Tls::Opportunistic(params()?),
        SmtpTls::None => Tls::None,
    };
    // `builder_dangerous` only means "no TLS chosen for you": the TLS above is what the operator set.
    let mut builder = Transport::builder_dangerous(s.host.as_str()).port(s.port).tls(tls).timeout(Some(s.timeout));
    if let Some(user) = &s.username {
        let password = s.password.as_ref().map(|p| p.expose_secret().to_owned()).unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// The email for `m`, from `m.from_address` or else `default_from` (`smtp_from`).
pub(super) fn message(m: &Outgoing, default_from: Option<&str>) -> Result<Message, SendError> {
    let from = m.from_address.as_deref().or(default_from).ok_or_else(|| {
        SendError::Permanent("no From address: the scenario names none and smtp_from is not set".into())
    })?;
    let from = mailbox(&m.from_name, from, "From")?;
    let to = mailbox(&m.to_name, &m.to_email, "To")?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(one_line(&m.subject))
        // INVARIANT: the same id on every attempt, so a resend after a crash is one message to clients.
        .message_id(Some(format!("<{}>", one_line(&m.message_id))))
        .header(DrillHeader(one_line(&m.drill_header)))
        .header(ContentType::TEXT_PLAIN)
        .body(m.text.clone())
        .map_err(|e| SendError::Permanent(format!("the email cannot be built: {e}")))
}

fn mailbox(name: &str, address: &str, field: &str) -> Result<Mailbox, SendError> {
    let email = address
        .trim()
        .parse()
        .map_err(|e| SendError::Permanent(format!("{field}: `{address}` is not an email address: {e}")))?;
    let name = one_line(name);
    Ok(Mailbox::new((!name.trim().is_empty()).then_some(name), email))
}

/// Hands `email` to the server; its reply (`250 …`) on success.
pub(super) async fn send(transport: &Transport, email: Message) -> Result<String, SendError> {
    match transport.send(email).await {
        Ok(reply) => Ok(reply_text(&reply.code().to_string(), &reply.message().collect::<Vec<_>>().join(" "))),
        Err(e) => Err(classify(&e)),
    }
}

/// A 5xx reply is permanent; a 4xx reply, a connection, TLS or timeout failure is worth another try.
fn classify(e: &SmtpError) -> SendError {
    let detail = e.source().map(ToString::to_string).unwrap_or_default();
    match e.status() {
        Some(code) if e.is_permanent() => SendError::Permanent(reply_text(&code.to_string(), &detail)),
        Some(code) => SendError::Transient(reply_text(&code.to_string(), &detail)),
        None if e.is_timeout() => SendError::Transient("the mail server did not answer in time".into()),
        None => SendError::Transient(chain(e)),
    }
}

fn reply_text(code: &str, message: &str) -> String {
    format!("{code} {message}").trim_end().to_owned()
}

/// An error with its causes (lettre's top level says only "Connection error").
fn chain(e: &SmtpError) -> String {
    let mut text = e.to_string();
    let mut cause = e.source().and_then(|c| c.source());
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use bonafide_domain::DrillChannel;

    fn outgoing() -> Outgoing {
        Outgoing {
            channel: DrillChannel::Email,
            to_email: "ada@example.com".into(),
            to_name: "Ada Lovelace".into(),
            to_phone: None,
            from_name: "IT Service Desk".into(),
            from_address: None,
            subject: "Your mailbox is full\r\nBcc: everyone@example.com".into(),
            text: "Bonjour, café".into(),
            message_id: "d1.t1@bonafide".into(),
            drill_header: "d1".into(),
        }
    }

    #[test]
    fn an_email_without_any_from_address_is_refused_for_good() {
        let e = message(&outgoing(), None).unwrap_err();
        assert!(matches!(&e, SendError::Permanent(t) if t.contains("smtp_from")), "{e:?}");
    }

    #[test]
    fn a_line_break_in_a_header_value_cannot_add_a_header() {
        let email = message(&outgoing(), Some("helpdesk@example.com")).unwrap();
        let text = String::from_utf8(email.formatted()).unwrap();
        assert!(!text.contains("\nBcc:"), "{text}");
        assert!(text.contains("Message-ID: <d1.t1@bonafide>\r\n"), "{text}");
        assert!(text.contains("X-Bonafide-Drill: d1\r\n"), "{text}");
    }
}
