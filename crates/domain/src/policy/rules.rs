//! Reading a policy's rules from their JSON form, naming every bad field.

use super::{ContactHours, ContactPolicy, Day, MAX_ACK_DUE_DAYS};
use crate::{Ask, Channel, PhoneNumber, PhoneRegion};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

impl ContactPolicy {
    /// Reads rules from their JSON form; an absent field takes its default ([`ContactPolicy::default`]).
    /// Every bad field is named (`rules.categories.password_reset`), not only the first.
    pub fn from_json(rules: &Value, region: PhoneRegion) -> Result<ContactPolicy, Vec<RuleError>> {
        let mut errors = Vec::new();
        let mut policy = ContactPolicy::default();
        let Some(fields) = rules.as_object() else {
            return Err(vec![RuleError::new("rules", "the rules are an object")]);
        };
        for (name, value) in fields {
            let field = format!("rules.{name}");
            match name.as_str() {
                "channels" => {
                    let before = errors.len();
                    if let Some(c) = channel_set(&field, value, &mut errors) {
                        if c.is_empty() && errors.len() == before {
                            errors.push(RuleError::new(&field, "allow at least one channel"));
                        }
                        policy.allowed_channels = c;
                    }
                }
                "face_to_face_only" => policy.face_to_face_only = face_to_face(&field, value, &mut errors),
                "categories" => policy.categories = categories(&field, value, &mut errors),
                "contact_hours" if value.is_null() => policy.contact_hours = None,
                "contact_hours" => policy.contact_hours = contact_hours(&field, value, &mut errors),
                "service_desk_number" => match value {
                    Value::Null => policy.service_desk_number = None,
                    Value::String(s) if s.trim().is_empty() => policy.service_desk_number = None,
                    Value::String(s) => match PhoneNumber::normalize(s, region) {
                        Ok(n) => policy.service_desk_number = Some(n),
                        Err(e) => errors.push(RuleError::new(&field, e.message)),
                    },
                    _ => errors.push(RuleError::new(&field, "a phone number, as text")),
                },
                "ack_due_days" => match value.as_u64() {
                    Some(d) if (1..=u64::from(MAX_ACK_DUE_DAYS)).contains(&d) => policy.ack_due_days = d as u32,
                    _ => {
                        errors.push(RuleError::new(&field, format!("a whole number of days, 1 to {MAX_ACK_DUE_DAYS}")))
                    }
                },
                _ => errors.push(RuleError::new(
                    &field,
                    "unknown rule; the rules are channels, face_to_face_only, categories, contact_hours, \
                     service_desk_number and ack_due_days",
                )),
            }
        }
        for (category, allowed) in &policy.categories {
            if !allowed.is_empty() && allowed.is_disjoint(&policy.allowed_channels) {
                errors.push(RuleError::new(
                    &format!("rules.categories.{category}"),
                    "allows no channel that `channels` allows",
                ));
            }
        }
        if errors.is_empty() { Ok(policy) } else { Err(errors) }
    }
}

/// A bad field in a policy's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    /// The field, as the input names it (`rules.contact_hours.zone`, `rules.channels[2]`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl RuleError {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into() }
    }
}

/// The strings of a JSON array, each with its field name; an error when `value` is not an array of strings.
fn strings<'a>(field: &str, value: &'a Value, errors: &mut Vec<RuleError>) -> Option<Vec<(String, &'a str)>> {
    let Some(items) = value.as_array() else {
        errors.push(RuleError::new(field, "a list of names"));
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(s) => out.push((format!("{field}[{i}]"), s)),
            None => errors.push(RuleError::new(&format!("{field}[{i}]"), "a name, as text")),
        }
    }
    Some(out)
}

fn channel_set(field: &str, value: &Value, errors: &mut Vec<RuleError>) -> Option<BTreeSet<Channel>> {
    let names = strings(field, value, errors)?;
    let mut out = BTreeSet::new();
    for (field, name) in names {
        match Channel::from_name(name) {
            Some(c) => {
                out.insert(c);
            }
            None => errors.push(RuleError::new(
                &field,
                format!("unknown channel `{name}`; channels are {}", Channel::NAMES.join(", ")),
            )),
        }
    }
    Some(out)
}

fn face_to_face(field: &str, value: &Value, errors: &mut Vec<RuleError>) -> BTreeSet<Ask> {
    let mut out = BTreeSet::new();
    for (field, name) in strings(field, value, errors).unwrap_or_default() {
        match Ask::from_name(name) {
            Some(a) if a.is_never_allowed() => errors.push(RuleError::new(
                &field,
                format!("`{name}` is never asked for, on any channel (a built-in rule no version can change)"),
            )),
            Some(a) => {
                out.insert(a);
            }
            None => {
                errors.push(RuleError::new(&field, format!("unknown ask `{name}`; asks are {}", Ask::NAMES.join(", "))))
            }
        }
    }
    out
}

fn categories(field: &str, value: &Value, errors: &mut Vec<RuleError>) -> BTreeMap<String, BTreeSet<Channel>> {
    let mut out = BTreeMap::new();
    let Some(entries) = value.as_object() else {
        errors.push(RuleError::new(field, "an object of request categories, each with its channels"));
        return out;
    };
    for (name, channels) in entries {
        let field = format!("{field}.{name}");
        let category = match crate::request::parse_category(name) {
            Ok(c) => c,
            Err(e) => {
                errors.push(RuleError::new(&field, e.message));
                continue;
            }
        };
        let before = errors.len();
        if let Some(allowed) = channel_set(&field, channels, errors) {
            if allowed.is_empty() && errors.len() == before {
                errors.push(RuleError::new(&field, "a category must allow at least one channel"));
            }
            out.insert(category, allowed);
        }
    }
    out
}

fn contact_hours(field: &str, value: &Value, errors: &mut Vec<RuleError>) -> Option<ContactHours> {
    let Some(h) = value.as_object() else {
        errors.push(RuleError::new(field, "an object with zone, days, from and to, or null for any time"));
        return None;
    };
    let before = errors.len();
    for key in h.keys().filter(|k| !matches!(k.as_str(), "zone" | "days" | "from" | "to")) {
        errors.push(RuleError::new(
            &format!("{field}.{key}"),
            "unknown field; contact hours have zone, days, from and to",
        ));
    }
    let zone_field = format!("{field}.zone");
    let zone = match h.get("zone").and_then(Value::as_str) {
        Some(name) => match jiff::tz::db().get(name) {
            Ok(zone) => Some((zone.iana_name().unwrap_or(name).to_owned(), zone)),
            Err(_) => {
                errors.push(RuleError::new(
                    &zone_field,
                    format!("unknown time zone `{name}`; use an IANA name such as Europe/Berlin"),
                ));
                None
            }
        },
        None => {
            errors.push(RuleError::new(&zone_field, "an IANA time zone name such as Europe/Berlin"));
            None
        }
    };
    let days_field = format!("{field}.days");
    let mut days = BTreeSet::new();
    match h.get("days") {
        Some(v) => {
            for (field, name) in strings(&days_field, v, errors).unwrap_or_default() {
                match Day::from_name(name) {
                    Some(d) => {
                        days.insert(d);
                    }
                    None => errors.push(RuleError::new(
                        &field,
                        format!("unknown day `{name}`; days are {}", Day::NAMES.join(", ")),
                    )),
                }
            }
            if days.is_empty() && errors.len() == before {
                errors.push(RuleError::new(&days_field, "name at least one day"));
            }
        }
        None => days = Day::ALL.into_iter().collect(),
    }
    let time = |key: &str, errors: &mut Vec<RuleError>| {
        let field = format!("{field}.{key}");
        let Some(text) = h.get(key).and_then(Value::as_str) else {
            errors.push(RuleError::new(&field, "a time of day as HH:MM"));
            return None;
        };
        match parse_time(text) {
            Some(t) => Some(t),
            None => {
                errors.push(RuleError::new(&field, format!("`{text}` is not a time of day as HH:MM (00:00 to 24:00)")));
                None
            }
        }
    };
    let from = time("from", errors);
    let to = time("to", errors);
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        errors.push(RuleError::new(&format!("{field}.to"), "the hours must end after they start, on the same day"));
    }
    let ((zone_name, zone), from, to) = (zone?, from?, to?);
    (errors.len() == before).then_some(ContactHours { zone_name, zone, days, from, to })
}

/// `HH:MM`, 00:00 to 23:59, or 24:00 for the end of the day.
fn parse_time(text: &str) -> Option<jiff::civil::Time> {
    let (h, m) = text.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    if (h, m) == (24, 0) {
        return Some(jiff::civil::Time::MAX);
    }
    jiff::civil::Time::new(h, m, 0, 0).ok()
}
