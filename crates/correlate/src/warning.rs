//! The warning every employee sees about an active campaign, in plain words: what to look out for and
//! what IT never does.
//!
//! The text is Bonafide's own sentence with values filled in, and only values the correlation normalised
//! and that pass a strict shape check here: a phone number as digits, an address and a domain in their
//! plain characters, a handle and a staff id short and quoted or plain, a claimed name as its normalised
//! key. A reporter's own words (a claimed name as typed, a transcript) never reach it, so two reports
//! cannot write a company-wide message.

use crate::indicator::IndicatorKind;
use bonafide_domain::Channel;

/// Writes a phone number for people: `+1 201 555 0199` for North American numbers, E.164 otherwise.
pub fn readable_number(e164: &str) -> String {
    let digits = e164.strip_prefix("+1").filter(|d| d.len() == 10 && d.bytes().all(|b| b.is_ascii_digit()));
    match digits.and_then(|d| Some((d.get(..3)?, d.get(3..6)?, d.get(6..)?))) {
        Some((area, exchange, line)) => format!("+1 {area} {exchange} {line}"),
        None => e164.to_owned(),
    }
}

/// What a campaign's warning is built from.
#[derive(Debug, Clone, Copy, Default)]
pub struct WarningFacts<'a> {
    /// The channel its latest contact used.
    pub channel: Option<Channel>,
    /// Its indicators (kind, normalised value), the directory's own contacts left out.
    pub indicators: &'a [(IndicatorKind, String)],
    /// The name its contacts gave most often, as its normalised key (a `name` indicator).
    pub claimed_name: Option<&'a str>,
    /// The real staffer its contacts claimed to be, from the directory: (display name, staff id).
    pub impersonated: Option<(&'a str, &'a str)>,
}

fn noun(channel: Option<Channel>) -> &'static str {
    match channel {
        Some(Channel::Phone) => "Calls",
        Some(Channel::Video) => "Video calls",
        Some(Channel::Chat) => "Chat messages",
        Some(Channel::Sms) => "Text messages",
        Some(Channel::Email) => "Emails",
        Some(Channel::InPerson) => "Visitors",
        None => "Contacts",
    }
}

/// A phone number as `+` and 7 to 15 digits (E.164), or 3 to 15 digits (one that could not be read).
fn plain_number(v: &str) -> Option<String> {
    let digits = v.strip_prefix('+').unwrap_or(v);
    let ok = digits.bytes().all(|b| b.is_ascii_digit())
        && (3..=15).contains(&digits.len())
        && (!v.starts_with('+') || digits.len() >= 7);
    ok.then(|| readable_number(v))
}

fn plain_domain(v: &str) -> bool {
    (3..=64).contains(&v.len())
        && v.contains('.')
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !v.starts_with(['.', '-'])
}

fn plain_address(v: &str) -> bool {
    match v.split_once('@') {
        Some((local, domain)) => {
            (1..=32).contains(&local.len())
                && local.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._+-".contains(&b))
                && plain_domain(domain)
        }
        None => false,
    }
}

fn plain_handle(v: &str) -> bool {
    (1..=32).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn plain_staff_id(v: &str) -> bool {
    (1..=16).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// A normalised name key (`michael carter`) written as a name (`Michael Carter`): letters only (and `'`,
/// `-`, `.` inside words), at most three words and 40 characters.
fn plain_name(key: &str) -> Option<String> {
    let words: Vec<&str> = key.split_whitespace().collect();
    let letters =
        |w: &&str| w.chars().all(|c| c.is_alphabetic() || "'-.".contains(c)) && w.chars().any(char::is_alphabetic);
    if words.is_empty() || words.len() > 3 || !words.iter().all(letters) {
        return None;
    }
    let name = words
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ");
    (name.chars().count() <= 40).then_some(name)
}

/// The warning for a campaign with these facts.
pub fn warning(f: &WarningFacts<'_>) -> String {
    let of = |kind: IndicatorKind| f.indicators.iter().filter(move |(k, _)| *k == kind).map(|(_, v)| v.as_str());
    let mut sources: Vec<String> = of(IndicatorKind::Phone).filter_map(plain_number).take(2).collect();
    sources.extend(of(IndicatorKind::Email).filter(|v| plain_address(v)).take(2).map(str::to_owned));
    if sources.is_empty() {
        sources
            .extend(of(IndicatorKind::Domain).filter(|v| plain_domain(v)).take(2).map(|d| format!("addresses at {d}")));
    }
    sources.extend(of(IndicatorKind::Handle).filter(|v| plain_handle(v)).take(2).map(|h| format!("\"@{h}\"")));
    let mut text = noun(f.channel).to_owned();
    if !sources.is_empty() {
        text.push_str(" from ");
        text.push_str(&sources.join(" or "));
    }
    let real = f.impersonated.filter(|(name, id)| !name.trim().is_empty() && plain_staff_id(id));
    if let Some((name, id)) = real {
        let name: String = name.trim().chars().take(60).collect();
        text.push_str(&format!(
            " claiming to be {name} (staff id {id}), who is real: the caller's number or address may be faked. \
             Before you act, check the contact in Bonafide: only the real {name} can give you its code."
        ));
    } else {
        let name = f.claimed_name.and_then(plain_name);
        let staff_id = of(IndicatorKind::StaffId).find(|v| plain_staff_id(v));
        match (name, staff_id) {
            (Some(n), Some(id)) => text.push_str(&format!(" claiming to be \"{n}\" (staff id {id}).")),
            (Some(n), None) => text.push_str(&format!(" claiming to be \"{n}\".")),
            (None, Some(id)) => text.push_str(&format!(" giving the staff id {id}.")),
            (None, None) => text.push_str(" claiming to be IT."),
        }
    }
    text.push_str(" IT never contacts you without your request: never give a password or a code, and report it.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(indicators: &'a [(IndicatorKind, String)], name: Option<&'a str>) -> WarningFacts<'a> {
        WarningFacts { channel: Some(Channel::Phone), indicators, claimed_name: name, impersonated: None }
    }

    #[test]
    fn the_warning_names_the_number_and_the_claimed_name() {
        let w = warning(&facts(&[(IndicatorKind::Phone, "+15550109999".into())], Some("michael")));
        assert_eq!(
            w,
            "Calls from +1 555 010 9999 claiming to be \"Michael\". IT never contacts you without your request: \
             never give a password or a code, and report it."
        );
        let domain = [(IndicatorKind::Domain, "examp1e.com".into())];
        let mail = warning(&WarningFacts { channel: Some(Channel::Email), ..facts(&domain, None) });
        assert!(mail.starts_with("Emails from addresses at examp1e.com claiming to be IT."), "{mail}");
        assert_eq!(readable_number("+442079460018"), "+442079460018");
    }

    /// Issue 14, point 3: only Bonafide's words and checked values; never what a reporter typed.
    #[test]
    fn regression_14_3_the_warning_never_carries_free_text() {
        let hostile = [
            (IndicatorKind::Phone, "call 555 now <b>".into()),
            (IndicatorKind::Email, "\"urgent\"<script>@x.com".into()),
            (IndicatorKind::Domain, "a b.com".into()),
            (IndicatorKind::Handle, format!("{}<img>", "h".repeat(40))),
            (IndicatorKind::StaffId, "IT-0042; CALL +1 555".into()),
        ];
        let w = warning(&facts(&hostile, Some("call now <b> visit evil dot com")));
        assert_eq!(
            w,
            "Calls claiming to be IT. IT never contacts you without your request: never give a password or a \
             code, and report it."
        );
        let long = "a".repeat(41);
        assert_eq!(plain_name(&long), None);
        assert_eq!(plain_name("sam carter"), Some("Sam Carter".into()));
        let handle = [(IndicatorKind::Handle, "it-helpdesk".into()), (IndicatorKind::StaffId, "IT-9999".into())];
        let w = warning(&facts(&handle, Some("sam")));
        assert!(w.starts_with("Calls from \"@it-helpdesk\" claiming to be \"Sam\" (staff id IT-9999)."), "{w}");
    }

    #[test]
    fn a_real_staffer_is_named_as_the_one_claimed_not_as_the_fraud() {
        let w = warning(&WarningFacts {
            impersonated: Some(("Sam Carter", "IT-0042")),
            ..facts(&[(IndicatorKind::Phone, "+15550109999".into())], Some("samuel"))
        });
        assert!(
            w.starts_with(
                "Calls from +1 555 010 9999 claiming to be Sam Carter (staff id IT-0042), who is real: the caller's \
                 number or address may be faked."
            ),
            "{w}"
        );
        assert!(w.contains("only the real Sam Carter can give you its code"), "{w}");
    }
}
