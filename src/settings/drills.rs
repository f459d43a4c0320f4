//! The drill delivery keys (`smtp_*`, `drill_*`): the mail server, the chat webhook and the SMS gateway.
//! The SMTP password and the gateway's token are never keys: they come from the files
//! `smtp_password_file` and `drill_sms_token_file` name. A password written into `smtp_url` is refused,
//! and no message shows it; nor does any message show a webhook or gateway URL, whose path is often
//! its key (a Slack incoming webhook's is).

use super::layers::{Layers, path, text, whole, whole_as};
use crate::InvalidInputError;
use bonafide_app::drills::{DrillDelivery, SmsGateway, Smtp, SmtpTls};
use bonafide_domain::Email;
use secrecy::SecretString;
use std::path::Path;
use std::time::Duration;

/// The keys this module reads.
pub const KEYS: &[&str] = &[
    "smtp_url",
    "smtp_password_file",
    "smtp_from",
    "smtp_timeout_secs",
    "drill_sends_per_minute",
    "drill_chat_webhook_url",
    "drill_sms_url",
    "drill_sms_body",
    "drill_sms_token_file",
    "drill_outbox_dir",
];

/// The SMS body when `drill_sms_body` is not set.
pub const DEFAULT_SMS_BODY: &str = r#"{"to":"{to}","text":"{text}"}"#;

/// How drill messages go out; every channel is off unless its URL is set.
pub fn read(layers: &Layers) -> Result<DrillDelivery, InvalidInputError> {
    let timeout = layers.get("smtp_timeout_secs", whole(1, Some(3600)))?.unwrap_or(30);
    let password =
        layers.get("smtp_password_file", path)?.map(|f| secret_file("smtp_password_file", &f)).transpose()?;
    let smtp = match unshown(layers, "smtp_url")? {
        Some(url) => {
            let mut smtp = smtp_url(&url).map_err(|problem| InvalidInputError(format!("smtp_url: {problem}")))?;
            smtp.timeout = Duration::from_secs(timeout.unsigned_abs());
            if password.is_some() && smtp.username.is_none() {
                return Err(InvalidInputError(
                    "smtp_password_file: a password needs a user name in smtp_url (smtp://user@host)".into(),
                ));
            }
            smtp.password = password;
            Some(smtp)
        }
        None if password.is_some() => {
            return Err(InvalidInputError("smtp_password_file: a password needs smtp_url".into()));
        }
        None => None,
    };
    let from = layers.get("smtp_from", |raw| {
        let from = text(raw)?.trim().to_owned();
        from.parse::<Email>().map(|_| from).map_err(|e| e.to_string())
    })?;
    let sends_per_minute = layers.get("drill_sends_per_minute", whole_as(1, 100_000))?.unwrap_or(60);
    let chat_webhook_url =
        unshown(layers, "drill_chat_webhook_url")?.map(|u| http_url("drill_chat_webhook_url", &u)).transpose()?;
    let outbox = layers.get("drill_outbox_dir", path)?;
    Ok(DrillDelivery { smtp, from, sends_per_minute, chat_webhook_url, sms: sms(layers)?, outbox })
}

/// The SMS gateway, when `drill_sms_url` is set.
fn sms(layers: &Layers) -> Result<Option<SmsGateway>, InvalidInputError> {
    let body = layers.get("drill_sms_body", |raw| {
        let body = text(raw)?;
        if !body.contains("{to}") || !body.contains("{text}") {
            return Err("must contain {to} and {text}".into());
        }
        let sample = body.replace("{to}", "+15555550100").replace("{text}", "a");
        serde_json::from_str::<serde_json::Value>(&sample)
            .map(|_| body)
            .map_err(|e| format!("must be JSON once {{to}} and {{text}} are filled in (inside quotes): {e}"))
    })?;
    let token =
        layers.get("drill_sms_token_file", path)?.map(|f| secret_file("drill_sms_token_file", &f)).transpose()?;
    let Some(url) = unshown(layers, "drill_sms_url")? else {
        return match (&body, &token) {
            (None, None) => Ok(None),
            _ => Err(InvalidInputError("drill_sms_body and drill_sms_token_file need drill_sms_url".into())),
        };
    };
    let url = http_url("drill_sms_url", &url)?;
    Ok(Some(SmsGateway { url, body: body.unwrap_or_else(|| DEFAULT_SMS_BODY.to_owned()), token }))
}

/// `key` as text, refused without showing it (it can hold a password or a key).
fn unshown(layers: &Layers, key: &'static str) -> Result<Option<String>, InvalidInputError> {
    match layers.get(key, |raw| Ok(text(raw)))? {
        Some(Ok(value)) => Ok(Some(value)),
        Some(Err(problem)) => Err(InvalidInputError(format!("{key}: {problem} (the value is not shown)"))),
        None => Ok(None),
    }
}

/// A secret read from `file`, without its trailing newline.
fn secret_file(key: &str, file: &Path) -> Result<SecretString, InvalidInputError> {
    let text =
        std::fs::read_to_string(file).map_err(|e| InvalidInputError(format!("{key} {}: {e}", file.display())))?;
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(InvalidInputError(format!("{key} {}: the file is empty", file.display())));
    }
    Ok(SecretString::from(secret.to_owned()))
}

/// An http or https URL with a host. The value is not shown: its path or query may be the key.
fn http_url(key: &str, value: &str) -> Result<String, InvalidInputError> {
    let value = value.trim();
    let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
    match host {
        Some(host) if !host.is_empty() && !host.contains('@') => Ok(value.to_owned()),
        _ => Err(InvalidInputError(format!(
            "{key}: must be an http or https URL with a host and no user (the value is not shown: a URL can hold a key)"
        ))),
    }
}

/// `smtp://[user@]host[:port][?tls=required|opportunistic|none]` or `smtps://[user@]host[:port]`; the
/// timeout and password are filled in by the caller. No problem quotes what comes before the last `@`.
fn smtp_url(url: &str) -> Result<Smtp, String> {
    let url = url.trim();
    let (implicit, rest) = match (url.strip_prefix("smtps://"), url.strip_prefix("smtp://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return Err("must start with smtp:// or smtps://".into()),
    };
    // The user is everything before the last `@`, so a login that is an address works written as is or
    // as `%40`. A `:` there is a password, whatever follows it.
    let (user, rest) = match rest.rsplit_once('@') {
        Some((user, rest)) => (Some(user), rest),
        None => (None, rest),
    };
    if user.is_some_and(|u| u.contains(':')) {
        return Err("a password does not belong in the URL: put it in the file smtp_password_file names".into());
    }
    let username = match user.map(percent_decode).transpose()? {
        Some(u) if u.is_empty() => return Err("the user name before `@` is empty".into()),
        u => u,
    };
    let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    if authority.contains('/') {
        return Err("the URL has no path: smtp://[user@]host[:port]".into());
    }
    let (host, port) = host_port(authority)?;
    let tls = match (implicit, query) {
        (true, "") => SmtpTls::Implicit,
        (true, _) => return Err("smtps:// is TLS from the first byte; `?tls=` is for smtp://".into()),
        (false, "") => SmtpTls::Opportunistic,
        (false, "tls=required") => SmtpTls::Required,
        (false, "tls=opportunistic") => SmtpTls::Opportunistic,
        (false, "tls=none") => SmtpTls::None,
        (false, other) => {
            return Err(format!("`?{other}`: the only option is tls=required, tls=opportunistic or tls=none"));
        }
    };
    let port = port.unwrap_or(if implicit { 465 } else { 25 });
    Ok(Smtp { host, port, tls, username, password: None, timeout: Duration::from_secs(30) })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn host_port(authority: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("an IPv6 address needs its closing `]`")?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or("`:port` must follow `]`")?)),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.contains(['[', ']', ' ']) {
        return Err("the URL needs a host: smtp://[user@]host[:port]".into());
    }
    let port = port
        .map(|p| {
            p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| format!("the port `{p}` must be from 1 to 65535"))
        })
        .transpose()?;
    Ok((host.to_owned(), port))
}

/// `%XX` sequences as bytes; the result must be UTF-8. A bad sequence is reported without the text.
fn percent_decode(s: &str) -> Result<String, String> {
    let bad = || "the user name has a bad %-sequence".to_owned();
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next().ok_or_else(bad)?, bytes.next().ok_or_else(bad)?];
            let hex = std::str::from_utf8(&hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::ffi::OsString;

    fn layers(vars: &[(&str, &str)]) -> Layers {
        let env = vars.iter().map(|(k, v)| (OsString::from(k), OsString::from(v)));
        Layers::new(Vec::new(), env, None, KEYS).unwrap()
    }

    fn err(vars: &[(&str, &str)]) -> String {
        read(&layers(vars)).unwrap_err().0
    }

    #[test]
    fn nothing_set_means_no_channel_and_sixty_sends_a_minute() {
        let d = read(&layers(&[])).unwrap();
        assert!(d.smtp.is_none() && d.from.is_none() && d.chat_webhook_url.is_none() && d.sms.is_none());
        assert_eq!(d.sends_per_minute, 60);
    }

    #[test]
    fn smtp_urls_give_the_host_the_port_the_tls_and_the_user() {
        let view = |url: &str| {
            let s = smtp_url(url).unwrap();
            (s.host, s.port, s.tls, s.username)
        };
        assert_eq!(view("smtp://mail.example.com"), ("mail.example.com".into(), 25, SmtpTls::Opportunistic, None));
        assert_eq!(view("smtps://mail.example.com"), ("mail.example.com".into(), 465, SmtpTls::Implicit, None));
        assert_eq!(
            view("smtp://drills@mail.example.com:587?tls=required"),
            ("mail.example.com".into(), 587, SmtpTls::Required, Some("drills".into()))
        );
        assert_eq!(view("smtp://127.0.0.1:2525/?tls=none"), ("127.0.0.1".into(), 2525, SmtpTls::None, None));
        assert_eq!(view("smtp://[::1]:25?tls=opportunistic").0, "::1");
        assert_eq!(view("smtps://ada@example.com@smtp.example.com").3.as_deref(), Some("ada@example.com"));
        assert_eq!(view("smtps://ada%40example.com@smtp.example.com").3.as_deref(), Some("ada@example.com"));
        for (bad, problem) in [
            ("http://mail.example.com", "smtp:// or smtps://"),
            ("smtp://", "needs a host"),
            ("smtp://mail.example.com:0", "from 1 to 65535"),
            ("smtp://mail.example.com:x", "from 1 to 65535"),
            ("smtp://mail.example.com/inbox", "no path"),
            ("smtp://mail.example.com?tls=maybe", "the only option"),
            ("smtps://mail.example.com?tls=none", "`?tls=` is for smtp://"),
            ("smtp://@mail.example.com", "empty"),
        ] {
            let e = smtp_url(bad).unwrap_err();
            assert!(e.contains(problem), "{bad}: {e}");
        }
    }

    #[test]
    fn a_password_in_smtp_url_is_refused_without_being_shown() {
        for url in [
            "smtp://drills:hunter2-secret@mail.example.com",
            "smtps://drills:hunter2-secret@mail.example.com:465",
            "smtp://drills:hunter2-secret/x?y@mail.example.com",
            "smtp://drills:hunter2-secret@",
        ] {
            let e = err(&[("BONAFIDE_SMTP_URL", url)]);
            assert!(e.contains("smtp_password_file"), "{e}");
            assert!(!e.contains("hunter2"), "the password is not echoed: {e}");
        }
        let e = read(&layers_from_file(r#"smtp_url = "smtp://drills:hunter2-secret@mail.example.com""#)).unwrap_err();
        assert!(!e.0.contains("hunter2"), "{}", e.0);
    }

    fn layers_from_file(text: &str) -> Layers {
        let table = text.parse::<toml::Table>().unwrap();
        Layers::new(Vec::new(), Vec::new(), Some(("b.toml".into(), table)), KEYS).unwrap()
    }

    #[test]
    fn the_password_and_the_token_come_from_files_without_their_newline() {
        let dir = tempfile::tempdir().unwrap();
        let (pw, token) = (dir.path().join("smtp.pw"), dir.path().join("sms.token"));
        std::fs::write(&pw, "p@ss word\n").unwrap();
        std::fs::write(&token, "tok-123\r\n").unwrap();
        let d = read(&layers(&[
            ("BONAFIDE_SMTP_URL", "smtps://drills@mail.example.com"),
            ("BONAFIDE_SMTP_PASSWORD_FILE", pw.to_str().unwrap()),
            ("BONAFIDE_SMTP_FROM", "IT-Support@Example.com"),
            ("BONAFIDE_SMTP_TIMEOUT_SECS", "5"),
            ("BONAFIDE_DRILL_SENDS_PER_MINUTE", "100000"),
            ("BONAFIDE_DRILL_CHAT_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/x"),
            ("BONAFIDE_DRILL_SMS_URL", "https://sms.example.com/send"),
            ("BONAFIDE_DRILL_SMS_TOKEN_FILE", token.to_str().unwrap()),
        ]))
        .unwrap();
        let smtp = d.smtp.as_ref().unwrap();
        assert_eq!(smtp.password.as_ref().unwrap().expose_secret(), "p@ss word");
        assert_eq!((smtp.timeout, smtp.username.as_deref()), (Duration::from_secs(5), Some("drills")));
        assert!(!format!("{d:?}").contains("p@ss word") && !format!("{d:?}").contains("tok-123"), "{d:?}");
        assert_eq!((d.from.as_deref(), d.sends_per_minute), (Some("IT-Support@Example.com"), 100_000));
        assert_eq!(d.chat_webhook_url.as_deref(), Some("https://hooks.slack.com/services/T0/B0/x"));
        let sms = d.sms.unwrap();
        assert_eq!((sms.url.as_str(), sms.body.as_str()), ("https://sms.example.com/send", DEFAULT_SMS_BODY));
        assert_eq!(sms.token.unwrap().expose_secret(), "tok-123");

        let missing = dir.path().join("nope.pw");
        let e = err(&[
            ("BONAFIDE_SMTP_URL", "smtp://drills@mail.example.com"),
            ("BONAFIDE_SMTP_PASSWORD_FILE", missing.to_str().unwrap()),
        ]);
        assert!(e.starts_with("smtp_password_file ") && e.contains("nope.pw"), "{e}");
        let e = err(&[
            ("BONAFIDE_SMTP_URL", "smtp://mail.example.com"),
            ("BONAFIDE_SMTP_PASSWORD_FILE", pw.to_str().unwrap()),
        ]);
        assert!(e.contains("needs a user name"), "{e}");
        assert!(!e.contains("p@ss"), "{e}");
        assert!(err(&[("BONAFIDE_SMTP_PASSWORD_FILE", pw.to_str().unwrap())]).contains("needs smtp_url"));
    }

    #[test]
    fn bad_values_are_refused_naming_the_key() {
        for (var, value, problem) in [
            ("BONAFIDE_SMTP_FROM", "not an address", "is not an email address"),
            ("BONAFIDE_SMTP_TIMEOUT_SECS", "0", "must be from 1 to 3600"),
            ("BONAFIDE_DRILL_SENDS_PER_MINUTE", "0", "must be from 1 to 100000"),
            ("BONAFIDE_DRILL_SENDS_PER_MINUTE", "100001", "must be from 1 to 100000"),
            ("BONAFIDE_DRILL_CHAT_WEBHOOK_URL", "ftp://hooks.example.com/T/secret-path", "http or https"),
            ("BONAFIDE_DRILL_SMS_URL", "https:///send", "http or https"),
            ("BONAFIDE_DRILL_SMS_BODY", r#"{"to":"{to}"}"#, "must contain {to} and {text}"),
        ] {
            let key = var.trim_start_matches("BONAFIDE_").to_lowercase();
            let e = err(&[("BONAFIDE_DRILL_SMS_URL", "https://sms.example.com"), (var, value)]);
            assert!(e.starts_with(&key) && e.contains(problem), "{var}={value}: {e}");
            assert!(!e.contains("secret-path"), "a webhook URL is not shown: {e}");
        }
        let unquoted = err(&[
            ("BONAFIDE_DRILL_SMS_URL", "https://s.example.com"),
            ("BONAFIDE_DRILL_SMS_BODY", "{\"to\":{to},\"text\":\"{text}\"}"),
        ]);
        assert!(unquoted.contains("must be JSON"), "{unquoted}");
        let orphan = err(&[("BONAFIDE_DRILL_SMS_BODY", DEFAULT_SMS_BODY)]);
        assert!(orphan.contains("need drill_sms_url"), "{orphan}");
    }
}
