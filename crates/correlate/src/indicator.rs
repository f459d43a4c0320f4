//! Indicators: what a report says about the person behind a contact, normalised so that every way of
//! writing the same thing is one value.
//!
//! - phone numbers in E.164, read with the company's default region (`(201) 555-0199`, `201.555.0199` and
//!   `+1 201 555 0199` are one number); a number that cannot be read is kept as its digits and marked;
//! - email addresses (lower-cased) and their domains, with look-alikes of the company's own domains flagged;
//! - chat handles (lower-cased, without a leading `@`);
//! - claimed names (case, spacing and punctuation folded, nicknames mapped: "Mike" ~ "Michael");
//! - claimed staff ids (upper-cased; ids that are not in the directory are flagged);
//! - the pretext: what was asked over which channel, and a fingerprint of the words used.
//!
//! Strong indicators (a number, an address, a handle, a staff id, a sender domain that is neither free
//! mail nor the company's own) tie reports together on their own; weak ones (a name, a pretext) only in
//! pairs.

use crate::lookalike;
use crate::pretext;
use bonafide_domain::{Ask, Channel, PhoneNumber, PhoneRegion};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::OnceLock;

bonafide_domain::named_enum! {
    /// What an indicator is.
    pub enum IndicatorKind {
        /// A phone number (E.164, or the digits of one that could not be read).
        Phone = "phone",
        /// An email address.
        Email = "email",
        /// A sender's domain.
        Domain = "domain",
        /// A chat handle.
        Handle = "handle",
        /// A claimed name, folded.
        Name = "name",
        /// A claimed staff id.
        StaffId = "staff_id",
        /// What was asked, over which channel.
        Ask = "ask",
        /// A link in the message (`https://…`).
        Url = "url",
        /// A fingerprint of the words used (a bottom-k sketch of its word pairs: hex hashes joined by `.`).
        Text = "text",
    }
}

impl IndicatorKind {
    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::from_name(text)
    }
}

/// Something worth knowing about an indicator's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum Note {
    /// A phone number that could not be read as one; kept as its digits (or its text).
    Unparsed,
    /// A domain (or an address at one) that imitates one of the company's own domains.
    LookalikeOf(String),
    /// A staff id that nobody in the directory has.
    UnknownStaffId,
    /// Free mail (gmail.com and the like): never ties reports together by itself.
    FreeMail,
    /// The company's own domain (spoofed or internal): never ties reports together by itself.
    OwnDomain,
}

impl Note {
    /// The stored form: `unparsed`, `lookalike_of:example.com`, `unknown_staff_id`, `free_mail`, `own_domain`.
    pub fn to_text(&self) -> String {
        match self {
            Note::Unparsed => "unparsed".into(),
            Note::LookalikeOf(d) => format!("lookalike_of:{d}"),
            Note::UnknownStaffId => "unknown_staff_id".into(),
            Note::FreeMail => "free_mail".into(),
            Note::OwnDomain => "own_domain".into(),
        }
    }

    /// Reads [`Note::to_text`]'s form.
    pub fn from_text(text: &str) -> Option<Self> {
        Some(match text {
            "unparsed" => Note::Unparsed,
            "unknown_staff_id" => Note::UnknownStaffId,
            "free_mail" => Note::FreeMail,
            "own_domain" => Note::OwnDomain,
            other => Note::LookalikeOf(other.strip_prefix("lookalike_of:")?.to_owned()),
        })
    }
}

/// One normalised indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Indicator {
    /// What it is.
    pub kind: IndicatorKind,
    /// The normalised value.
    pub value: String,
    /// Anything worth knowing about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Note>,
}

impl Indicator {
    fn new(kind: IndicatorKind, value: impl Into<String>) -> Self {
        Self { kind, value: value.into(), note: None }
    }

    fn noted(mut self, note: Option<Note>) -> Self {
        self.note = note;
        self
    }

    /// An indicator read back from storage.
    pub fn stored(kind: IndicatorKind, value: String, note: Option<Note>) -> Self {
        Self { kind, value, note }
    }

    /// The values this indicator is indexed under: its value, or each sampled hash of a text fingerprint.
    pub fn index_values(&self) -> Vec<String> {
        if self.kind == IndicatorKind::Text {
            crate::pretext::from_text(&self.value).into_iter().map(|h| format!("{h:016x}")).collect()
        } else {
            vec![self.value.clone()]
        }
    }

    /// Whether this indicator alone ties two reports together.
    pub fn is_strong(&self) -> bool {
        match self.kind {
            IndicatorKind::Phone
            | IndicatorKind::Email
            | IndicatorKind::Handle
            | IndicatorKind::StaffId
            | IndicatorKind::Url => true,
            IndicatorKind::Domain => !matches!(self.note, Some(Note::FreeMail | Note::OwnDomain)),
            IndicatorKind::Name | IndicatorKind::Ask | IndicatorKind::Text => false,
        }
    }
}

/// A reported contact, as typed or received.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sighting<'a> {
    /// How the contact came.
    pub channel: Option<Channel>,
    /// The number it came from.
    pub caller_number: Option<&'a str>,
    /// The address it came from.
    pub caller_address: Option<&'a str>,
    /// The chat handle it came from.
    pub caller_handle: Option<&'a str>,
    /// Who they said they were.
    pub claimed_name: Option<&'a str>,
    /// The staff id they gave.
    pub claimed_staff_id: Option<&'a str>,
    /// What they asked for.
    pub asked_for: &'a [Ask],
    /// What was said or written.
    pub transcript: Option<&'a str>,
}

/// What the company knows that normalisation needs.
pub struct Company<'a> {
    /// Region for numbers written without a country code.
    pub region: PhoneRegion,
    /// The company's own email domains (`example.com`).
    pub domains: &'a [String],
    /// Whether a staff id is in the directory.
    pub staff_id_known: &'a (dyn Fn(&str) -> bool + Sync),
}

/// The longest value kept for any indicator; longer input is cut (at a character boundary).
pub const MAX_VALUE: usize = 256;

fn clip(s: &str) -> &str {
    if s.len() <= MAX_VALUE {
        return s;
    }
    let mut end = MAX_VALUE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

fn nonempty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(clip)
}

/// Every indicator in `s`, normalised, without duplicates.
pub fn indicators(s: &Sighting<'_>, company: &Company<'_>) -> Vec<Indicator> {
    let mut out: Vec<Indicator> = Vec::with_capacity(8);
    if let Some(raw) = nonempty(s.caller_number) {
        out.push(phone(raw, company.region));
    }
    if let Some(raw) = nonempty(s.caller_address) {
        out.extend(address(raw, company.domains));
    }
    if let Some(raw) = nonempty(s.caller_handle) {
        let handle = raw.trim_start_matches('@').to_lowercase();
        if !handle.is_empty() {
            out.push(Indicator::new(IndicatorKind::Handle, handle));
        }
    }
    if let Some(raw) = nonempty(s.claimed_name)
        && let Some(key) = name_key(raw)
    {
        out.push(Indicator::new(IndicatorKind::Name, key));
    }
    if let Some(raw) = nonempty(s.claimed_staff_id) {
        let id: String = raw.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect();
        let known = (company.staff_id_known)(&id);
        out.push(Indicator::new(IndicatorKind::StaffId, id).noted((!known).then_some(Note::UnknownStaffId)));
    }
    if !s.asked_for.is_empty() {
        let mut asks: Vec<&str> = s.asked_for.iter().map(|a| a.as_str()).collect();
        asks.sort_unstable();
        asks.dedup();
        let channel = s.channel.map_or("any", Channel::as_str);
        out.push(Indicator::new(IndicatorKind::Ask, format!("{channel}:{}", asks.join("+"))));
    }
    if let Some(text) = s.transcript {
        for url in links(text) {
            if let Some(domain) = url_domain(&url) {
                let note = domain_note(&domain, company.domains);
                out.push(Indicator::new(IndicatorKind::Domain, domain).noted(note));
            }
            out.push(Indicator::new(IndicatorKind::Url, url));
        }
    }
    if let Some(text) = s.transcript
        && let Some(hashes) = pretext::fingerprint(text)
    {
        out.push(Indicator::new(IndicatorKind::Text, pretext::to_text(&hashes)));
    }
    out.sort_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
    out.dedup_by(|a, b| a.kind == b.kind && a.value == b.value);
    out
}

/// A phone number in E.164, or its digits (marked) when it cannot be read as one.
pub fn phone(raw: &str, region: PhoneRegion) -> Indicator {
    match PhoneNumber::normalize(raw, region) {
        Ok(n) => Indicator::new(IndicatorKind::Phone, n.as_str()),
        Err(_) => {
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            let value = if digits.len() >= 3 { digits } else { raw.trim().to_lowercase() };
            Indicator::new(IndicatorKind::Phone, value).noted(Some(Note::Unparsed))
        }
    }
}

/// The most links taken from one message.
pub const MAX_LINKS: usize = 5;

/// The links in `text` (`http://`, `https://` or `www.`), scheme and host lower-cased, trailing
/// punctuation dropped; at most [`MAX_LINKS`]. One pass over the text.
pub fn links(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Brackets do not end a link (an IPv6 host is `[2001:db8::1]`, a path may hold `]`); only one that
    // closes nothing opened in the link is trailing punctuation.
    for word in text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"')) {
        if out.len() >= MAX_LINKS {
            break;
        }
        let lower = word.to_ascii_lowercase();
        let start = ["https://", "http://", "www."].iter().find_map(|p| lower.find(p));
        let Some(start) = start else { continue };
        let mut link = word.get(start..).unwrap_or("");
        loop {
            let trimmed = link.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '*']);
            // A `)` more than the `(`s is the text's; a `]` is the text's only when the link opens no `[`
            // (an IPv6 host, a query's `[1]`): a link is cut short only when nothing else can be meant.
            let paren = trimmed.ends_with(')') && trimmed.matches(')').count() > trimmed.matches('(').count();
            let bracket = trimmed.ends_with(']') && !trimmed.contains('[');
            link = if paren || bracket { trimmed.get(..trimmed.len() - 1).unwrap_or("") } else { trimmed };
            if link == trimmed {
                break;
            }
        }
        let with_scheme =
            if link.to_ascii_lowercase().starts_with("www.") { format!("http://{link}") } else { link.to_owned() };
        let Some((scheme, rest)) = with_scheme.split_once("://") else { continue };
        let (host, path) = rest
            .find(['/', '?', '#'])
            .map_or((rest, ""), |i| (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("")));
        if !host.contains('.') && !host.starts_with('[') {
            continue;
        }
        let url = clip(&format!("{}://{}{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase(), path)).to_owned();
        if !out.contains(&url) {
            out.push(url);
        }
    }
    out
}

fn url_domain(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#', ':']).next()?.trim_start_matches("www.");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    host.contains('.').then(|| host.to_owned())
}

/// The domain of `address` when it ties reports together (not free mail, not one of `own`), as campaigns
/// index it.
pub fn sender_domain(sender: &str, own: &[String]) -> Option<String> {
    address(sender, own).into_iter().find(|i| i.kind == IndicatorKind::Domain && i.is_strong()).map(|i| i.value)
}

/// An address and its domain, with the domain's notes on both.
fn address(raw: &str, own: &[String]) -> Vec<Indicator> {
    let lower = raw.trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace()).to_lowercase();
    let Some((local, domain)) = lower.rsplit_once('@') else {
        // Not an address: a bare domain or a URL someone pasted.
        let domain = lower.trim_start_matches("https://").trim_start_matches("http://");
        let domain = domain.split(['/', '?', '#']).next().unwrap_or("").trim_end_matches('.');
        if domain.contains('.') {
            return vec![Indicator::new(IndicatorKind::Domain, domain).noted(domain_note(domain, own))];
        }
        return vec![];
    };
    let domain = domain.trim_end_matches('.');
    if local.is_empty() || !domain.contains('.') {
        return vec![];
    }
    let note = domain_note(domain, own);
    vec![
        Indicator::new(IndicatorKind::Email, format!("{local}@{domain}")).noted(note.clone()),
        Indicator::new(IndicatorKind::Domain, domain).noted(note),
    ]
}

fn domain_note(domain: &str, own: &[String]) -> Option<Note> {
    if own.iter().any(|d| d.eq_ignore_ascii_case(domain) || domain.ends_with(&format!(".{d}"))) {
        return Some(Note::OwnDomain);
    }
    if FREE_MAIL.contains(&domain) {
        return Some(Note::FreeMail);
    }
    lookalike::imitated(domain, own).map(|d| Note::LookalikeOf(d.to_owned()))
}

/// Free-mail providers: an address there says something, its domain does not.
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.net",
    "mail.com",
    "zoho.com",
    "yandex.com",
    "yandex.ru",
    "qq.com",
    "163.com",
    "web.de",
    "t-online.de",
];

fn nicknames() -> &'static HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = HashMap::new();
        for line in include_str!("../data/nicknames.txt").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((nick, full)) = line.split_once(' ') {
                table.entry(nick.trim()).or_insert(full.trim());
            }
        }
        table
    })
}

/// Words that describe a role rather than name a person ("Mike from IT", "the help desk").
const NOT_NAMES: &[&str] = &[
    "from",
    "the",
    "at",
    "of",
    "it",
    "i.t",
    "ict",
    "support",
    "help",
    "helpdesk",
    "desk",
    "service",
    "servicedesk",
    "team",
    "tech",
    "technical",
    "technician",
    "department",
    "dept",
    "security",
    "admin",
    "administrator",
    "microsoft",
    "office",
    "calling",
    "here",
    "this",
    "is",
    "mr",
    "mrs",
    "ms",
    "dr",
    "with",
    "and",
];

/// A claimed name folded for comparison: letters only, lower-case, role words dropped, nicknames mapped
/// to the given name. `None` when nothing name-like is left ("IT support").
pub fn name_key(raw: &str) -> Option<String> {
    let words: Vec<String> = raw
        .split(|c: char| !(c.is_alphabetic() || c == '\'' || c == '.'))
        .map(|w| w.trim_matches(|c| c == '\'' || c == '.').to_lowercase())
        .filter(|w| !w.is_empty() && !NOT_NAMES.contains(&w.as_str()))
        .map(|w| nicknames().get(w.as_str()).map_or(w.clone(), |full| (*full).to_owned()))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company_known(id: &str) -> bool {
        id == "IT-0042"
    }

    fn company() -> Company<'static> {
        static DOMAINS: OnceLock<Vec<String>> = OnceLock::new();
        Company {
            region: PhoneRegion::default(),
            domains: DOMAINS.get_or_init(|| vec!["example.com".to_owned()]),
            staff_id_known: &company_known,
        }
    }

    fn one(kind: IndicatorKind, s: Sighting<'_>) -> Indicator {
        indicators(&s, &company()).into_iter().find(|i| i.kind == kind).unwrap_or_else(|| panic!("no {kind:?}"))
    }

    #[test]
    fn every_national_format_of_a_number_is_one_indicator() {
        let forms = ["(201) 555-0199", "201.555.0199", "+1 201 555 0199", "1-201-555-0199", "2015550199"];
        for form in forms {
            let i = one(IndicatorKind::Phone, Sighting { caller_number: Some(form), ..Sighting::default() });
            assert_eq!((i.value.as_str(), &i.note), ("+12015550199", &None), "{form}");
        }
    }

    #[test]
    fn unreadable_numbers_are_kept_raw_and_marked() {
        let i = one(IndicatorKind::Phone, Sighting { caller_number: Some("ext. 12"), ..Sighting::default() });
        assert_eq!(i.note, Some(Note::Unparsed));
        let hidden = one(IndicatorKind::Phone, Sighting { caller_number: Some("Unknown"), ..Sighting::default() });
        assert_eq!((hidden.value.as_str(), hidden.note), ("unknown", Some(Note::Unparsed)));
    }

    #[test]
    fn addresses_give_the_address_and_the_domain_with_notes() {
        let all = |a| indicators(&Sighting { caller_address: Some(a), ..Sighting::default() }, &company());
        let lookalike = all("IT-Help@Examp1e-support.com");
        assert_eq!(lookalike[0].value, "it-help@examp1e-support.com");
        assert_eq!(lookalike[1].value, "examp1e-support.com");
        assert_eq!(lookalike[1].note, Some(Note::LookalikeOf("example.com".into())));
        assert!(lookalike.iter().all(Indicator::is_strong));
        let free = all("mike.it.desk@gmail.com");
        assert!(free[0].is_strong() && !free[1].is_strong(), "a gmail address ties reports, gmail.com does not");
        let own = all("<helpdesk@example.com>");
        assert_eq!(own[1].note, Some(Note::OwnDomain));
        assert!(all("not an address").is_empty());
    }

    #[test]
    fn names_fold_case_spacing_roles_and_nicknames() {
        for form in ["Mike from IT", "  MICHAEL ", "mike", "Mike, IT support", "Mickey"] {
            assert_eq!(name_key(form).as_deref(), Some("michael"), "{form}");
        }
        assert_eq!(name_key("Bob  Smith").as_deref(), Some("robert smith"));
        assert_eq!(name_key("IT support"), None);
        assert_ne!(name_key("Mike"), name_key("Mia"));
    }

    #[test]
    fn staff_ids_are_upper_cased_and_unknown_ones_flagged() {
        let known = one(IndicatorKind::StaffId, Sighting { claimed_staff_id: Some("it-0042"), ..Sighting::default() });
        assert_eq!((known.value.as_str(), known.note), ("IT-0042", None));
        let unknown =
            one(IndicatorKind::StaffId, Sighting { claimed_staff_id: Some("IT 9999"), ..Sighting::default() });
        assert_eq!((unknown.value.as_str(), unknown.note), ("IT9999", Some(Note::UnknownStaffId)));
    }

    #[test]
    fn asks_are_sorted_with_their_channel() {
        let s = Sighting {
            channel: Some(Channel::Phone),
            asked_for: &[Ask::Password, Ask::MfaCode, Ask::Password],
            ..Sighting::default()
        };
        assert_eq!(one(IndicatorKind::Ask, s).value, "phone:mfa_code+password");
    }

    #[test]
    fn links_and_their_domains_are_indicators() {
        let text = "Please log in at HTTPS://Examp1e-Login.com/reset?u=erin. Or www.example-help.net, thanks";
        let all = indicators(&Sighting { transcript: Some(text), ..Sighting::default() }, &company());
        let of = |kind| all.iter().filter(|i| i.kind == kind).map(|i| i.value.as_str()).collect::<Vec<_>>();
        assert_eq!(
            of(IndicatorKind::Url),
            vec!["http://www.example-help.net", "https://examp1e-login.com/reset?u=erin"]
        );
        assert_eq!(of(IndicatorKind::Domain), vec!["examp1e-login.com", "example-help.net"]);
        assert!(
            all.iter()
                .filter(|i| i.kind == IndicatorKind::Domain)
                .all(|i| matches!(i.note, Some(Note::LookalikeOf(_))))
        );
        assert!(links("no links here, just words.").is_empty());
        assert_eq!(links(&"https://a.b/ ".repeat(50)).len(), 1);
    }

    /// Issue 14, point 12: links were cut at `]` (and `(`, `)`), so an exported URL was not the one sent.
    #[test]
    fn regression_14_12_links_are_kept_whole_through_brackets() {
        assert_eq!(links("see https://evil.example.com/a]b?x=[1] now"), ["https://evil.example.com/a]b?x=[1]"]);
        assert_eq!(links("(https://x.example.com/wiki/A_(b))."), ["https://x.example.com/wiki/A_(b)"]);
        assert_eq!(links("[https://x.example.com]"), ["https://x.example.com"]);
        assert_eq!(links("http://[2001:db8::1]/login"), ["http://[2001:db8::1]/login"]);
    }

    #[test]
    fn huge_values_are_cut_at_a_character_boundary() {
        let long = "é".repeat(1000);
        let i = one(IndicatorKind::Handle, Sighting { caller_handle: Some(&long), ..Sighting::default() });
        assert!(i.value.len() <= MAX_VALUE);
    }
}
