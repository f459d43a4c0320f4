//! The warning every employee sees about an active campaign, in plain words: what to look out for and
//! what IT never does.

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

/// The warning for a campaign seen mostly over `channel`, with these indicators (kind, value) and the
/// name the contacts gave, as one of them typed it.
pub fn warning(channel: Option<Channel>, indicators: &[(IndicatorKind, String)], claimed_name: Option<&str>) -> String {
    let of = |kind: IndicatorKind| indicators.iter().filter(move |(k, _)| *k == kind).map(|(_, v)| v.as_str());
    let mut sources: Vec<String> = of(IndicatorKind::Phone).take(2).map(readable_number).collect();
    sources.extend(of(IndicatorKind::Email).take(2).map(str::to_owned));
    if sources.is_empty() {
        sources.extend(of(IndicatorKind::Domain).take(2).map(|d| format!("addresses at {d}")));
    }
    sources.extend(of(IndicatorKind::Handle).take(2).map(|h| format!("@{h}")));
    let mut text = noun(channel).to_owned();
    if !sources.is_empty() {
        text.push_str(" from ");
        text.push_str(&sources.join(" or "));
    }
    let name = claimed_name.map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(60).collect::<String>());
    let staff_id = of(IndicatorKind::StaffId).next();
    match (name, staff_id) {
        (Some(n), Some(id)) => text.push_str(&format!(" claiming to be '{n}' (staff id {id})")),
        (Some(n), None) => text.push_str(&format!(" claiming to be '{n}'")),
        (None, Some(id)) => text.push_str(&format!(" giving the staff id {id}")),
        (None, None) => text.push_str(" claiming to be IT"),
    }
    text.push_str(". IT never contacts you without your request: never give a password or a code, and report it.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_names_the_number_and_the_claimed_name() {
        let w = warning(Some(Channel::Phone), &[(IndicatorKind::Phone, "+15550109999".into())], Some("Mike from IT"));
        assert_eq!(
            w,
            "Calls from +1 555 010 9999 claiming to be 'Mike from IT'. IT never contacts you without your request: \
             never give a password or a code, and report it."
        );
        let mail = warning(Some(Channel::Email), &[(IndicatorKind::Domain, "examp1e.com".into())], None);
        assert!(mail.starts_with("Emails from addresses at examp1e.com claiming to be IT."), "{mail}");
        assert_eq!(readable_number("+442079460018"), "+442079460018");
    }
}
