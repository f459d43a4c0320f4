//! `GET /api/v1/campaigns/{id}/stix`: a campaign as a STIX 2.1 bundle, for threat-intelligence platforms
//! and SIEMs.
//!
//! The bundle holds the reporting organisation (`identity`), the `campaign`, one `indicator` per
//! indicator with a STIX pattern (email addresses, domains, URLs, and phone numbers), a `sighting` of each
//! with its count and first and last time, the ATT&CK techniques the campaign uses (T1566.004 Spearphishing
//! Voice, T1598.004 Spearphishing Voice for information, T1656 Impersonation) and the relationships
//! between them. STIX has no phone-number object: numbers travel as the custom observable
//! `x-bonafide-phone-number`, declared by an `extension-definition` (a new SCO with one property, `value`,
//! in E.164), so consumers can recognise and ignore it cleanly.
//!
//! Ids are UUIDv5 over the campaign's and the value's identity, so the same campaign exported twice gives
//! the same ids and a consumer updates instead of duplicating.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiPath};
use crate::routes::views::rfc3339;
use axum::Json;
use axum::extract::State;
use bonafide_app::access::SecurityReaders;
use bonafide_app::records::{Campaign, Sighted};
use bonafide_correlate::IndicatorKind;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

/// The namespace of every id Bonafide puts in a bundle.
const NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_52a4_93c4_4d0e_9f3b_2c7a_e1d0_5a11);
/// The extension that declares the phone-number observable.
const PHONE_TYPE: &str = "x-bonafide-phone-number";

fn id(kind: &str, key: &str) -> String {
    format!("{kind}--{}", Uuid::new_v5(&NAMESPACE, format!("{kind}:{key}").as_bytes()))
}

/// STIX timestamps: RFC 3339 in UTC with millisecond precision.
fn stamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&f).unwrap_or_else(|_| rfc3339(t))
}

/// A STIX pattern's string literal: backslashes and quotes escaped.
fn literal(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

/// Whether `name` is a host name a STIX `domain-name` may hold: dot-separated labels of letters, digits
/// and inner hyphens, 1 to 63 characters each, 253 in all, ending in a label that is not all digits.
fn is_domain_name(name: &str) -> bool {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels.last().is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

fn pattern(kind: IndicatorKind, value: &str) -> Option<String> {
    let v = literal(value);
    Some(match kind {
        IndicatorKind::Email => format!("[email-addr:value = '{v}']"),
        // A host given as an address is an address, and what is no host name is not exported at all.
        IndicatorKind::Domain => match value.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => format!("[ipv4-addr:value = '{ip}']"),
            Ok(std::net::IpAddr::V6(ip)) => format!("[ipv6-addr:value = '{ip}']"),
            Err(_) if is_domain_name(value) => format!("[domain-name:value = '{v}']"),
            Err(_) => return None,
        },
        IndicatorKind::Url => format!("[url:value = '{v}']"),
        IndicatorKind::Phone => format!("[{PHONE_TYPE}:value = '{v}']"),
        _ => return None,
    })
}

const TECHNIQUES: [(&str, &str, &str); 3] = [
    ("T1566.004", "Phishing: Spearphishing Voice", "https://attack.mitre.org/techniques/T1566/004/"),
    ("T1598.004", "Phishing for Information: Spearphishing Voice", "https://attack.mitre.org/techniques/T1598/004/"),
    ("T1656", "Impersonation", "https://attack.mitre.org/techniques/T1656/"),
];

/// The bundle for campaign `c`, its indicators' sightings, reported by `organisation`, made `now`.
pub(crate) fn bundle(c: &Campaign, sightings: &[Sighted], organisation: &str, now: OffsetDateTime) -> Value {
    let created = stamp(c.promoted_at.unwrap_or(c.first_seen));
    let modified = stamp(now.max(c.promoted_at.unwrap_or(c.first_seen)));
    let org = id("identity", organisation);
    let cid = c.id.to_string();
    let campaign = id("campaign", &cid);
    let extension = id("extension-definition", PHONE_TYPE);
    let mut objects = vec![
        json!({
            "type": "identity", "spec_version": "2.1", "id": org, "created": created, "modified": created,
            "name": organisation, "identity_class": "organization",
        }),
        json!({
            "type": "campaign", "spec_version": "2.1", "id": campaign, "created": created, "modified": modified,
            "created_by_ref": org,
            "name": format!("Bonafide campaign {}", cid.get(..8).unwrap_or(&cid)),
            "description": c.warning,
            "first_seen": stamp(c.first_seen),
            "last_seen": stamp(c.last_seen),
            "objective": "Obtain credentials, sign-in codes or remote access from employees by posing as IT support",
            "labels": [format!("severity:{}", c.severity.as_str()), format!("status:{}", c.status.as_str())],
            "external_references": [{ "source_name": "bonafide", "external_id": cid }],
        }),
    ];
    let mut phones = false;
    for s in sightings {
        let Some(pattern) = pattern(s.indicator.kind, &s.indicator.value) else { continue };
        phones |= s.indicator.kind == IndicatorKind::Phone;
        let key = format!("{}:{}:{}", c.id, s.indicator.kind.as_str(), s.indicator.value);
        let indicator = id("indicator", &key);
        let mut description = format!("{} reported in {} contact(s)", s.indicator.kind.as_str(), s.count);
        if let Some(note) = &s.indicator.note {
            description.push_str(&format!("; {}", note.to_text().replace('_', " ")));
        }
        objects.push(json!({
            "type": "indicator", "spec_version": "2.1", "id": indicator, "created": created, "modified": modified,
            "created_by_ref": org,
            "name": format!("{} {}", s.indicator.kind.as_str(), s.indicator.value),
            "description": description,
            "indicator_types": ["malicious-activity"],
            "pattern": pattern, "pattern_type": "stix", "pattern_version": "2.1",
            "valid_from": stamp(s.first_seen),
        }));
        objects.push(json!({
            "type": "sighting", "spec_version": "2.1", "id": id("sighting", &key), "created": created,
            "modified": modified, "created_by_ref": org,
            "sighting_of_ref": indicator, "where_sighted_refs": [org],
            "count": s.count, "first_seen": stamp(s.first_seen),
            "last_seen": stamp(s.last_seen.max(s.first_seen + time::Duration::milliseconds(1))),
        }));
        objects.push(json!({
            "type": "relationship", "spec_version": "2.1", "id": id("relationship", &format!("{key}:indicates")),
            "created": created, "modified": modified, "created_by_ref": org,
            "relationship_type": "indicates", "source_ref": indicator, "target_ref": campaign,
        }));
    }
    for (technique, name, url) in TECHNIQUES {
        let pattern_id = id("attack-pattern", technique);
        objects.push(json!({
            "type": "attack-pattern", "spec_version": "2.1", "id": pattern_id, "created": created, "modified": created,
            "name": name,
            "external_references": [{ "source_name": "mitre-attack", "external_id": technique, "url": url }],
        }));
        objects.push(json!({
            "type": "relationship", "spec_version": "2.1", "id": id("relationship", &format!("{}:uses:{technique}", c.id)),
            "created": created, "modified": modified, "created_by_ref": org,
            "relationship_type": "uses", "source_ref": campaign, "target_ref": pattern_id,
        }));
    }
    if phones {
        objects.push(json!({
            "type": "extension-definition", "spec_version": "2.1", "id": extension,
            "created": "2026-11-28T00:00:00.000Z", "modified": "2026-11-28T00:00:00.000Z", "created_by_ref": org,
            "name": "Bonafide phone number",
            "description": "A telephone number that contacted employees, as an observable: one property, `value`, \
                the number in E.164 (+ and digits).",
            "schema": "A new STIX Cyber-observable Object of type x-bonafide-phone-number with one required string \
                property, value: a telephone number in E.164 form, a plus sign followed by up to 15 digits.",
            "version": "1.0.0",
            "extension_types": ["new-sco"],
        }));
        for s in sightings.iter().filter(|s| s.indicator.kind == IndicatorKind::Phone) {
            objects.push(json!({
                "type": PHONE_TYPE, "spec_version": "2.1", "id": id(PHONE_TYPE, &s.indicator.value),
                "value": s.indicator.value,
                "extensions": { extension.clone(): { "extension_type": "new-sco" } },
            }));
        }
    }
    json!({ "type": "bundle", "id": id("bundle", &format!("{}:{}", c.id, modified)), "objects": objects })
}

/// `GET /api/v1/campaigns/{id}/stix`: security admins and auditors.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/stix", tag = "campaigns", params(("id" = String, Path)), responses((status = 200, description = "A STIX 2.1 bundle", body = Object)))]
pub(crate) async fn export(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let (campaign, sightings) = bonafide_app::campaigns::with_sightings(&state.app, &who, &id).await?;
    Ok(Json(bundle(&campaign, &sightings, &state.app.settings().company_name, state.app.now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14, point 12: an address was exported as a `domain-name`, and so was any text.
    #[test]
    fn regression_14_12_addresses_are_addresses_and_non_names_are_not_exported() {
        let domain = |v| pattern(IndicatorKind::Domain, v);
        assert_eq!(domain("203.0.113.9").as_deref(), Some("[ipv4-addr:value = '203.0.113.9']"));
        assert_eq!(domain("[2001:db8::1]").as_deref(), Some("[ipv6-addr:value = '2001:db8::1']"));
        assert_eq!(domain("examp1e-login.com").as_deref(), Some("[domain-name:value = 'examp1e-login.com']"));
        for bad in ["not a domain", "-bad.com", "a..b", "x_y.com", "1.2.3", "localhost"] {
            assert_eq!(domain(bad), None, "{bad}");
        }
        let url = "https://evil.example.com/a]b";
        assert_eq!(pattern(IndicatorKind::Url, url).as_deref(), Some("[url:value = 'https://evil.example.com/a]b']"));
    }
}
