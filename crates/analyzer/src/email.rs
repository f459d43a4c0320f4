//! Emails as analyzer input: the sender, the subject and the text body, rendered as
//! `From: …`, `Subject: …`, a blank line and the body.

/// The text of a raw email (`.eml`), or `None` when it is not one.
pub fn text_of(raw: &[u8]) -> Option<String> {
    let message = mail_parser::MessageParser::default().parse(raw)?;
    let from = message.from().and_then(|a| a.first());
    if from.is_none() && message.subject().is_none() {
        return None;
    }
    let mut text = String::new();
    if let Some(f) = from {
        let name = f.name().unwrap_or("");
        let address = f.address().unwrap_or("");
        text.push_str(&format!("From: {name} <{address}>\n"));
    }
    if let Some(s) = message.subject() {
        text.push_str(&format!("Subject: {s}\n"));
    }
    text.push('\n');
    if let Some(body) = message.body_text(0) {
        text.push_str(&body);
    }
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
