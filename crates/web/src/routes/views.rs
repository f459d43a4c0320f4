//! The JSON shapes the API answers with.

use bonafide_app::records::{Outreach, StaffCard, SupportRequest};
use bonafide_domain::Channel;
use serde::Serialize;
use std::collections::BTreeSet;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// A person as others see them.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PersonRef {
    pub email: String,
    pub display_name: String,
}

/// A staffer in brief.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StaffRef {
    pub staff_id: String,
    pub display_name: String,
}

/// The directory card of an IT staffer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StaffCardView {
    pub staff_id: String,
    pub display_name: String,
    pub team: String,
    pub photo_url: String,
    pub status: &'static str,
    pub on_duty: bool,
    pub official_numbers: Vec<String>,
    pub official_addresses: Vec<String>,
}

impl From<StaffCard> for StaffCardView {
    fn from(c: StaffCard) -> Self {
        Self {
            photo_url: photo_url(c.photo_url.as_deref(), c.staff_id.as_str()),
            staff_id: c.staff_id.to_string(),
            display_name: c.display_name.to_string(),
            team: c.team,
            status: c.status.as_str(),
            on_duty: c.on_duty,
            official_numbers: c.official_numbers.iter().map(ToString::to_string).collect(),
            official_addresses: c.official_addresses,
        }
    }
}

/// The stored photo address, or the generated avatar.
pub(crate) fn photo_url(stored: Option<&str>, staff_id: &str) -> String {
    stored.map_or_else(|| format!("/api/v1/staff/{staff_id}/photo"), str::to_owned)
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// A support request.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RequestView {
    pub key: String,
    pub status: &'static str,
    pub summary: String,
    pub category: Option<String>,
    pub channels: BTreeSet<Channel>,
    pub requester: PersonRef,
    pub assignee: Option<StaffRef>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<SupportRequest> for RequestView {
    fn from(r: SupportRequest) -> Self {
        let assignee = match (r.assignee_staff_id, r.assignee_name) {
            (Some(id), Some(name)) => Some(StaffRef { staff_id: id.to_string(), display_name: name }),
            _ => None,
        };
        Self {
            key: r.key.to_string(),
            status: r.status.as_str(),
            summary: r.summary,
            category: r.category,
            channels: r.channels,
            requester: PersonRef { email: r.requester_email.to_string(), display_name: r.requester_name.to_string() },
            assignee,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// An announced outreach.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OutreachView {
    pub id: String,
    pub status: &'static str,
    pub staffer: StaffRef,
    pub employee: PersonRef,
    pub reason: String,
    pub channels: BTreeSet<Channel>,
    pub starts_at: String,
    pub ends_at: String,
    pub created_at: String,
}

impl From<Outreach> for OutreachView {
    fn from(o: Outreach) -> Self {
        Self {
            id: o.id.to_string(),
            status: o.status.as_str(),
            staffer: StaffRef {
                staff_id: o.staffer_staff_id.map(|s| s.to_string()).unwrap_or_default(),
                display_name: o.staffer_name.to_string(),
            },
            employee: PersonRef { email: o.employee_email.to_string(), display_name: o.employee_name.to_string() },
            reason: o.reason,
            channels: o.channels,
            starts_at: rfc3339(o.window.starts_at),
            ends_at: rfc3339(o.window.ends_at),
            created_at: rfc3339(o.created_at),
        }
    }
}
