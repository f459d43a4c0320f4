//! The company's contact policy: which channels IT may use, which asks need the employee to see the
//! caller, which channels each kind of request may be handled on, and when IT may make contact.
//!
//! Security writes it as rules plus the company's own text, in versions (the store keeps them); this
//! module is the rules: read from their JSON form with an error naming each bad field, judged against a
//! contact, and said in everyday words. The built-in rules (nobody asks for a password, an MFA code or
//! remote access; IT makes no contact without an open request or approved outreach) are not here: no
//! version can turn them off, and the verification engine applies them whatever the policy says.

use crate::{Ask, Channel, PhoneNumber};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

crate::named_enum! {
    /// A day of the week, as contact hours name it.
    pub enum Day {
        /// Monday.
        Mon = "mon",
        /// Tuesday.
        Tue = "tue",
        /// Wednesday.
        Wed = "wed",
        /// Thursday.
        Thu = "thu",
        /// Friday.
        Fri = "fri",
        /// Saturday.
        Sat = "sat",
        /// Sunday.
        Sun = "sun",
    }
}

impl Day {
    fn of(weekday: jiff::civil::Weekday) -> Day {
        use jiff::civil::Weekday as W;
        match weekday {
            W::Monday => Day::Mon,
            W::Tuesday => Day::Tue,
            W::Wednesday => Day::Wed,
            W::Thursday => Day::Thu,
            W::Friday => Day::Fri,
            W::Saturday => Day::Sat,
            W::Sunday => Day::Sun,
        }
    }

    /// The day's English name.
    pub fn name(self) -> &'static str {
        match self {
            Day::Mon => "Monday",
            Day::Tue => "Tuesday",
            Day::Wed => "Wednesday",
            Day::Thu => "Thursday",
            Day::Fri => "Friday",
            Day::Sat => "Saturday",
            Day::Sun => "Sunday",
        }
    }
}

/// When IT may make contact: some days of the week, from one time of day to a later one, in a named time
/// zone (so a daylight-saving change moves the hours with the clocks on the wall).
#[derive(Debug, Clone)]
pub struct ContactHours {
    zone_name: String,
    zone: jiff::tz::TimeZone,
    /// The days contact is allowed on.
    pub days: BTreeSet<Day>,
    /// The first minute allowed.
    pub from: jiff::civil::Time,
    /// The first minute no longer allowed.
    pub to: jiff::civil::Time,
}

impl PartialEq for ContactHours {
    fn eq(&self, other: &Self) -> bool {
        (&self.zone_name, &self.days, self.from, self.to) == (&other.zone_name, &other.days, other.from, other.to)
    }
}

impl Eq for ContactHours {}

impl ContactHours {
    /// The time zone's IANA name (`Europe/Berlin`).
    pub fn zone(&self) -> &str {
        &self.zone_name
    }

    /// Whether `at` falls within the hours, on the wall clock of the zone.
    pub fn contain(&self, at: OffsetDateTime) -> bool {
        let seconds = at.unix_timestamp();
        let Ok(instant) = jiff::Timestamp::from_second(seconds) else { return false };
        let local = instant.to_zoned_datetime(self.zone.clone());
        let time = local.time();
        self.days.contains(&Day::of(local.weekday())) && self.from <= time && time < self.to
    }

    /// The days in words: "Monday to Friday", "Monday, Wednesday and Friday", "every day".
    fn days_in_words(&self) -> String {
        let days: Vec<Day> = self.days.iter().copied().collect();
        if days.len() == 7 {
            return "every day".into();
        }
        let consecutive = days.windows(2).all(|w| matches!(w, [a, b] if (*a as usize) + 1 == *b as usize));
        match days.as_slice() {
            [one] => format!("on {}s", one.name()),
            [first, .., last] if consecutive && days.len() > 2 => format!("{} to {}", first.name(), last.name()),
            _ => list_in_words(days.iter().map(|d| d.name().to_owned()).collect(), "and"),
        }
    }
}

/// The rules of one version of the contact policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPolicy {
    /// Channels IT may use to contact employees at all.
    pub allowed_channels: BTreeSet<Channel>,
    /// Asks that are only acceptable on video or in person.
    pub face_to_face_only: BTreeSet<Ask>,
    /// Per request category, the channels allowed for it.
    pub categories: BTreeMap<String, BTreeSet<Channel>>,
    /// When IT may make contact; `None` is any time.
    pub contact_hours: Option<ContactHours>,
    /// What people are told to call when a contact is not verified.
    pub service_desk_number: Option<PhoneNumber>,
    /// How many days employees have to acknowledge a new version.
    pub ack_due_days: u32,
}

/// How long employees have to acknowledge a version when its rules do not say.
pub const DEFAULT_ACK_DUE_DAYS: u32 = 14;

/// The longest time to acknowledge a version a policy may give.
pub const MAX_ACK_DUE_DAYS: u32 = 365;

impl Default for ContactPolicy {
    /// Every channel is allowed, at any time, but a login walkthrough or a software install only happens
    /// where the employee can see who they are dealing with: those are the two asks a QPQ script ends
    /// with once "never share your password" has been learnt.
    fn default() -> Self {
        Self {
            allowed_channels: Channel::ALL.into_iter().collect(),
            face_to_face_only: [Ask::LoginWalkthrough, Ask::SoftwareInstall].into_iter().collect(),
            categories: BTreeMap::new(),
            contact_hours: None,
            service_desk_number: None,
            ack_due_days: DEFAULT_ACK_DUE_DAYS,
        }
    }
}

/// A rule a contact broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Breach {
    /// IT does not use this channel at all (`channels`).
    Channel(Channel),
    /// This ask happens only on video or in person (`face_to_face_only`).
    FaceToFace(Ask),
    /// Requests of this category are handled only on these channels (`categories`).
    Category {
        /// The request's category.
        category: String,
        /// The channels the policy allows for it.
        allowed: BTreeSet<Channel>,
    },
    /// The contact came outside the contact hours (`contact_hours`).
    OutsideHours,
}

impl Breach {
    /// The rule's field in the policy.
    pub fn rule(&self) -> &'static str {
        match self {
            Breach::Channel(_) => "channels",
            Breach::FaceToFace(_) => "face_to_face_only",
            Breach::Category { .. } => "categories",
            Breach::OutsideHours => "contact_hours",
        }
    }

    /// What the rule says and what happened, for the employee: "Password reset requests are handled only
    /// on video or in person. This was a phone call."
    pub fn sentence(&self, policy: &ContactPolicy, channel: Channel) -> String {
        let was = format!("This was {}.", channel_as_contact(channel));
        match self {
            Breach::Channel(c) => format!("IT never contacts you by {}. {was}", channel_word(*c)),
            Breach::FaceToFace(ask) => {
                format!("{} happens only on video or in person. {was}", capitalised(ask_in_words(*ask)))
            }
            Breach::Category { category, allowed } => format!(
                "{} requests are handled only {}. {was}",
                capitalised(&category_in_words(category)),
                channels_in_words(allowed)
            ),
            Breach::OutsideHours => match &policy.contact_hours {
                Some(h) => format!(
                    "IT contacts you only {}, {}–{} ({} time). This contact came outside those hours.",
                    h.days_in_words(),
                    clock(h.from),
                    clock(h.to),
                    h.zone()
                ),
                None => "This contact came outside IT's contact hours.".into(),
            },
        }
    }
}

impl ContactPolicy {
    /// Whether the policy accepts a contact on `channel` asking for `asks` (channels and asks only).
    pub fn allows(&self, channel: Channel, asks: &BTreeSet<Ask>) -> bool {
        self.breaches(channel, asks, None, None).is_empty()
    }

    /// The rules a contact breaks: on `channel`, asking for `asks`, about a request of `category`, at
    /// `at` (`None` when the moment is covered by approved outreach, which the hours do not limit).
    pub fn breaches(
        &self,
        channel: Channel,
        asks: &BTreeSet<Ask>,
        category: Option<&str>,
        at: Option<OffsetDateTime>,
    ) -> Vec<Breach> {
        let mut out = Vec::new();
        if !self.allowed_channels.contains(&channel) {
            out.push(Breach::Channel(channel));
        }
        if !channel.is_face_to_face() {
            out.extend(asks.iter().filter(|a| self.face_to_face_only.contains(a)).map(|a| Breach::FaceToFace(*a)));
        }
        out.extend(category.and_then(|c| self.category_breach(channel, c)));
        if let (Some(hours), Some(at)) = (&self.contact_hours, at)
            && !hours.contain(at)
        {
            out.push(Breach::OutsideHours);
        }
        out
    }

    /// The breach of `categories` a contact on `channel` about a request of `category` makes, if any.
    pub fn category_breach(&self, channel: Channel, category: &str) -> Option<Breach> {
        let (category, allowed) = self.categories.get_key_value(category)?;
        (!allowed.contains(&channel)).then(|| Breach::Category { category: category.clone(), allowed: allowed.clone() })
    }

    /// The rules in everyday words, one sentence each, the built-in ones first (they hold in every
    /// version).
    pub fn in_words(&self) -> Vec<String> {
        let mut out = vec![
            "Nobody, IT included, will ever ask you for your password, an MFA code or remote access to your computer. \
             Whoever asks, the answer is no."
                .to_owned(),
            "IT contacts you only about a request you opened, or in outreach that security announced.".to_owned(),
        ];
        let refused: BTreeSet<Channel> =
            Channel::ALL.into_iter().filter(|c| !self.allowed_channels.contains(c)).collect();
        if !refused.is_empty() {
            out.push(format!(
                "IT contacts you only {}; never by {}.",
                channels_in_words(&self.allowed_channels),
                list_in_words(refused.iter().map(|c| channel_word(*c).to_owned()).collect(), "or")
            ));
        }
        if !self.face_to_face_only.is_empty() {
            let asks: Vec<String> = self.face_to_face_only.iter().map(|a| ask_in_words(*a).to_owned()).collect();
            out.push(format!("{} happens only on video or in person.", capitalised(&list_in_words(asks, "or"))));
        }
        for (category, allowed) in &self.categories {
            out.push(format!(
                "{} requests are handled only {}.",
                capitalised(&category_in_words(category)),
                channels_in_words(allowed)
            ));
        }
        if let Some(h) = &self.contact_hours {
            out.push(format!(
                "IT contacts you only {}, {}–{} ({} time), unless security announced outreach for another time.",
                h.days_in_words(),
                clock(h.from),
                clock(h.to),
                h.zone()
            ));
        }
        if let Some(n) = &self.service_desk_number {
            out.push(format!("When a contact is not verified, hang up and call the service desk on {}.", n.readable()));
        }
        out
    }

    /// The rules in their JSON form, as the API shows them and [`ContactPolicy::from_json`] reads them.
    pub fn to_json(&self) -> Value {
        json!({
            "channels": self.allowed_channels.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "face_to_face_only": self.face_to_face_only.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            "categories": self.categories.iter().map(|(k, v)| {
                (k.clone(), Value::from(v.iter().map(|c| c.as_str()).collect::<Vec<_>>()))
            }).collect::<Map<String, Value>>(),
            "contact_hours": self.contact_hours.as_ref().map(|h| json!({
                "zone": h.zone(),
                "days": h.days.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
                "from": clock(h.from),
                "to": clock(h.to),
            })),
            "service_desk_number": self.service_desk_number.as_ref().map(PhoneNumber::as_str),
            "ack_due_days": self.ack_due_days,
        })
    }
}

/// A time of day as `HH:MM`; the end of the day is `24:00`.
fn clock(t: jiff::civil::Time) -> String {
    if t == jiff::civil::Time::MAX { "24:00".into() } else { t.strftime("%H:%M").to_string() }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// `a`, `a and b`, `a, b and c`.
fn list_in_words(mut items: Vec<String>, joiner: &str) -> String {
    match items.len() {
        0 => String::new(),
        1 => items.remove(0),
        _ => {
            let last = items.pop().unwrap_or_default();
            format!("{} {joiner} {last}", items.join(", "))
        }
    }
}

/// A request category in words: `password_reset` is "password reset".
fn category_in_words(category: &str) -> String {
    category.replace(['_', '-'], " ")
}

fn channel_word(c: Channel) -> &'static str {
    match c {
        Channel::Phone => "phone",
        Channel::Video => "video",
        Channel::Chat => "chat",
        Channel::Sms => "text message",
        Channel::Email => "email",
        Channel::InPerson => "visiting you in person",
    }
}

fn channel_as_contact(c: Channel) -> &'static str {
    match c {
        Channel::Phone => "a phone call",
        Channel::Video => "a video call",
        Channel::Chat => "a chat message",
        Channel::Sms => "a text message",
        Channel::Email => "an email",
        Channel::InPerson => "in person",
    }
}

/// "on video or in person", "by phone, chat or email".
fn channels_in_words(channels: &BTreeSet<Channel>) -> String {
    let words: Vec<String> = channels
        .iter()
        .map(|c| match c {
            Channel::InPerson => "in person".to_owned(),
            Channel::Video => "on video".to_owned(),
            Channel::Phone => "by phone".to_owned(),
            Channel::Chat => "by chat".to_owned(),
            Channel::Sms => "by text message".to_owned(),
            Channel::Email => "by email".to_owned(),
        })
        .collect();
    list_in_words(words, "or")
}

fn ask_in_words(a: Ask) -> &'static str {
    match a {
        Ask::Password => "asking for your password",
        Ask::MfaCode => "asking for an MFA code",
        Ask::RemoteAccess => "remote access to your computer",
        Ask::SoftwareInstall => "installing software",
        Ask::LoginWalkthrough => "walking you through signing in",
        Ask::PersonalInfo => "asking for personal details",
        Ask::Payment => "asking for a payment",
    }
}

mod rules;
pub use rules::RuleError;

#[cfg(test)]
#[path = "policy/tests.rs"]
mod tests;
