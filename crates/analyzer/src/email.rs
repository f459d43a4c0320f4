//! Emails as analyzer input: the sender, the subject and the text body, rendered as
//! `From: …`, `Subject: …`, a blank line and the body.

/// What is read from a raw email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The sender's address.
    pub from: Option<String>,
    /// The sender's display name.
    pub name: Option<String>,
    /// The subject.
    pub subject: Option<String>,
    /// The `Date:` header, as Unix seconds.
    pub date: Option<i64>,
    /// The text body.
    pub body: Option<String>,
}

/// Reads a raw email (`.eml`), or `None` when it is not one (neither a sender nor a subject).
pub fn parse(raw: &[u8]) -> Option<Parsed> {
    let message = mail_parser::MessageParser::default().parse(raw)?;
    let from = message.from().and_then(|a| a.first());
    if from.is_none() && message.subject().is_none() {
        return None;
    }
    Some(Parsed {
        from: from.and_then(|f| f.address()).map(str::to_owned),
        name: from.and_then(|f| f.name()).map(str::to_owned),
        subject: message.subject().map(str::to_owned),
        date: message.date().map(|d| d.to_timestamp()),
        body: message.body_text(0).map(|b| b.into_owned()),
    })
}

/// The text of a raw email (`.eml`), or `None` when it is not one.
pub fn text_of(raw: &[u8]) -> Option<String> {
    let p = parse(raw)?;
    let mut text = String::new();
    if p.from.is_some() || p.name.is_some() {
        text.push_str(&format!("From: {} <{}>\n", p.name.unwrap_or_default(), p.from.unwrap_or_default()));
    }
    if let Some(s) = p.subject {
        text.push_str(&format!("Subject: {s}\n"));
    }
    text.push('\n');
    text.push_str(&p.body.unwrap_or_default());
    Some(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails_are_read_and_other_bytes_refused() {
        let raw = b"From: IT <it@examp1e.com>\r\nSubject: Password expiry\r\n\r\nReply with your password.\r\n";
        let text = super::text_of(raw).unwrap();
        assert!(text.starts_with("From: IT <it@examp1e.com>\nSubject: Password expiry\n\nReply with"), "{text}");
        assert_eq!(super::text_of(b"just words"), None);
        assert_eq!(super::text_of(b""), None);
    }
}
