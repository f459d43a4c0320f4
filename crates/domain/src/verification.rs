//! The verification engine: (employee, claim, channel, asks, facts, now) → verdict and reasons.
//!
//! The engine never looks anything up. The store gathers [`Facts`] (candidate staffers, the employee's
//! requests and announced outreach, challenge progress) and the engine decides. A matching phone number
//! or address is weak evidence — caller id and display names are spoofed — so the best a claim can earn
//! on its own is `challenge_required`; only a passed challenge makes it `verified`.

use crate::challenge::Authority;
use crate::{
    Ask, Breach, Channel, ContactPolicy, DisplayName, OutreachId, OutreachWindow, PersonId, PhoneNumber, RequestKey,
    RequestStatus, StaffId,
};
use std::collections::BTreeSet;
use time::OffsetDateTime;

crate::named_enum! {
    /// The answer a check gives the employee.
    pub enum Verdict {
        /// Identity and authorisation proven and the challenge passed.
        Verified = "verified",
        /// The claim is consistent with directory, requests and policy; the code has not been given yet.
        ChallengeRequired = "challenge_required",
        /// Something is wrong: hang up, call IT back on the directory number, report.
        Unverified = "unverified",
    }
}

impl Verdict {}

impl std::str::FromStr for Verdict {
    type Err = crate::InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Verdict::from_name(s).ok_or_else(|| crate::InvalidInput::new("verdict", format!("unknown verdict `{s}`")))
    }
}

crate::named_enum! {
    /// A machine-readable reason attached to a verdict. Every reason here makes the verdict `unverified`.
    pub enum Reason {
        /// The caller asked for a password, an MFA code or remote access: never allowed, whoever asks.
        SensitiveRequest = "sensitive_request",
        /// The claimed identity matches an active campaign of suspicious contacts.
        MatchesActiveCampaign = "matches_active_campaign",
        /// No IT staffer matches what the caller claimed.
        UnknownStaff = "unknown_staff",
        /// The staff id exists but the claimed name is someone else's.
        NameMismatch = "name_mismatch",
        /// The staffer exists but is suspended.
        StaffInactive = "staff_inactive",
        /// The employee has no open request and no announced outreach: a cold contact.
        NoOpenRequest = "no_open_request",
        /// There is a request, but it is not assigned to this staffer.
        NotAssignee = "not_assignee",
        /// Outreach by this staffer was announced, but not for now.
        OutsideWindow = "outside_window",
        /// Policy or the employee's preferences do not allow this channel for this contact.
        ChannelNotAllowed = "channel_not_allowed",
        /// The contact came outside the policy's contact hours, and no approved outreach covers the moment.
        OutsideContactHours = "outside_contact_hours",
        /// The calling number is not one of the staffer's official numbers.
        NumberNotOfficial = "number_not_official",
        /// The sending address is not one of the staffer's official addresses.
        AddressNotOfficial = "address_not_official",
        /// The code the caller read out was wrong.
        ChallengeFailed = "challenge_failed",
        /// Too many wrong codes: the check is locked and security has been alerted.
        ChallengeLocked = "challenge_locked",
    }
}

impl Reason {}

impl std::str::FromStr for Reason {
    type Err = crate::InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reason::from_name(s).ok_or_else(|| crate::InvalidInput::new("reason", format!("unknown reason `{s}`")))
    }
}

/// The number the contact came from, as the employee saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerNumber {
    /// A number that normalises to E.164.
    Parsed(PhoneNumber),
    /// Something that is not a dialable number ("Unknown", "IT DESK"); kept as typed.
    Unparsed(String),
}

/// What the caller claims, as entered by the employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// How the contact reached the employee.
    pub channel: Channel,
    /// The staff id the caller gave.
    pub claimed_staff_id: Option<StaffId>,
    /// The name the caller gave.
    pub claimed_name: Option<String>,
    /// The number shown or given.
    pub caller_number: Option<CallerNumber>,
    /// The email address or handle the message came from, lower-cased.
    pub caller_address: Option<String>,
    /// The request the caller says they are calling about.
    pub request_key: Option<RequestKey>,
    /// What the caller asked for.
    pub asked_for: BTreeSet<Ask>,
}

/// A directory entry that might be the claimed staffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffFacts {
    /// The staffer's person id.
    pub person: PersonId,
    /// Their staff id.
    pub staff_id: StaffId,
    /// Their name.
    pub display_name: DisplayName,
    /// Whether they hold the it_staff role (a staff id alone does not make someone IT).
    pub is_it_staff: bool,
    /// Whether their account is active.
    pub active: bool,
    /// Numbers IT calls from.
    pub official_numbers: Vec<PhoneNumber>,
    /// Addresses IT writes from, lower-cased.
    pub official_addresses: Vec<String>,
}

/// One of the employee's support requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts {
    /// The request's key.
    pub key: RequestKey,
    /// Its status.
    pub status: RequestStatus,
    /// Who works on it.
    pub assignee: Option<PersonId>,
    /// The channels the employee asked to be contacted on; empty means any.
    pub channels: BTreeSet<Channel>,
    /// Its category (`password_reset`), which the policy may limit to some channels.
    pub category: Option<String>,
}

/// An approved outreach naming the employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutreachFacts {
    /// The outreach's id.
    pub id: OutreachId,
    /// The staffer who will make contact.
    pub staffer: PersonId,
    /// When.
    pub window: OutreachWindow,
    /// How.
    pub channels: BTreeSet<Channel>,
}

/// Progress of the challenge on one check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChallengeState {
    /// Wrong codes so far.
    pub failures: u32,
    /// Whether the last code given was wrong.
    pub last_failed: bool,
    /// Whether the check is locked.
    pub locked: bool,
    /// Whether a correct code was given.
    pub passed: bool,
}

/// Everything the engine needs to know besides the claim.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// Staffers that might be the one claimed: by staff id, by name and by official number or address.
    pub candidates: &'a [StaffFacts],
    /// The employee's requests: every active one, plus the one named in the claim if it is theirs.
    pub requests: &'a [RequestFacts],
    /// Approved outreach naming the employee.
    pub outreach: &'a [OutreachFacts],
    /// The company's contact policy.
    pub policy: &'a ContactPolicy,
    /// Whether the claim matches an active campaign.
    pub campaign_match: bool,
    /// Challenge progress on this check.
    pub challenge: ChallengeState,
}

/// The engine's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in a stable order; empty unless something is wrong.
    pub reasons: Vec<Reason>,
    /// The staffer the claim resolved to, if any.
    pub staffer: Option<PersonId>,
    /// What authorises the contact, if anything does.
    pub authority: Option<Authority>,
    /// The contact policy's rules the contact broke, in the policy's order.
    pub breaches: Vec<Breach>,
}

impl Assessment {
    /// Whether a code may be tried now: the claim is consistent and only a challenge (or a previous
    /// wrong code) stands between it and `verified`.
    pub fn awaits_code(&self) -> bool {
        self.authority.is_some()
            && self.staffer.is_some()
            && self.verdict != Verdict::Verified
            && self.reasons.iter().all(|r| *r == Reason::ChallengeFailed)
    }
}

/// Assesses `claim` against `facts` at `now`.
pub fn assess(claim: &Claim, facts: &Facts<'_>, now: OffsetDateTime) -> Assessment {
    let mut reasons = BTreeSet::new();
    if claim.asked_for.iter().any(|a| a.is_never_allowed()) {
        reasons.insert(Reason::SensitiveRequest);
    }
    if facts.campaign_match {
        reasons.insert(Reason::MatchesActiveCampaign);
    }
    let outreach_now = facts.outreach.iter().any(|o| o.window.contains(now));
    // Approved outreach covering the moment is contact the hours do not limit.
    let mut breaches = facts.policy.breaches(claim.channel, &claim.asked_for, None, (!outreach_now).then_some(now));
    if !facts.requests.iter().any(|r| r.status.is_active()) && !outreach_now {
        reasons.insert(Reason::NoOpenRequest);
    }

    let staff = resolve_staff(claim, facts, &mut reasons);
    let authority = staff.and_then(|s| {
        check_contact_details(claim, s, &mut reasons);
        find_authority(claim, s, facts, now, &mut reasons, &mut breaches)
    });
    for b in &breaches {
        reasons.insert(match b {
            Breach::OutsideHours => Reason::OutsideContactHours,
            Breach::Channel(_) | Breach::FaceToFace(_) | Breach::Category { .. } => Reason::ChannelNotAllowed,
        });
    }

    if facts.challenge.locked {
        reasons.insert(Reason::ChallengeLocked);
    } else if facts.challenge.last_failed && !facts.challenge.passed {
        reasons.insert(Reason::ChallengeFailed);
    }
    let verdict = if !reasons.is_empty() || authority.is_none() {
        Verdict::Unverified
    } else if facts.challenge.passed {
        Verdict::Verified
    } else {
        Verdict::ChallengeRequired
    };
    Assessment {
        verdict,
        reasons: reasons.into_iter().collect(),
        staffer: staff.map(|s| s.person),
        authority,
        breaches,
    }
}

/// Picks the staffer the claim designates: by staff id first, then by name, then by official contact.
fn resolve_staff<'a>(claim: &Claim, facts: &Facts<'a>, reasons: &mut BTreeSet<Reason>) -> Option<&'a StaffFacts> {
    let found = if let Some(id) = &claim.claimed_staff_id {
        let staff = facts.candidates.iter().find(|s| &s.staff_id == id);
        if let (Some(s), Some(name)) = (staff, &claim.claimed_name)
            && !s.display_name.is_named_by(name)
        {
            reasons.insert(Reason::NameMismatch);
        }
        staff
    } else if let Some(name) = &claim.claimed_name {
        let named: Vec<&StaffFacts> = facts.candidates.iter().filter(|s| s.display_name.is_named_by(name)).collect();
        match named.as_slice() {
            [one] => Some(*one),
            // INVARIANT: an ambiguous name never picks a staffer at random; it may only be settled by
            // the one staffer who actually holds an assignment for this employee.
            several => {
                let assigned: Vec<&&StaffFacts> =
                    several.iter().filter(|s| facts.requests.iter().any(|r| r.assignee == Some(s.person))).collect();
                match assigned.as_slice() {
                    [one] => Some(**one),
                    _ => None,
                }
            }
        }
    } else {
        facts.candidates.iter().find(|s| {
            let by_number =
                matches!(&claim.caller_number, Some(CallerNumber::Parsed(n)) if s.official_numbers.contains(n));
            let by_address = claim.caller_address.as_ref().is_some_and(|a| s.official_addresses.contains(a));
            by_number || by_address
        })
    };
    match found {
        None => {
            reasons.insert(Reason::UnknownStaff);
            None
        }
        Some(s) if !s.is_it_staff => {
            reasons.insert(Reason::UnknownStaff);
            None
        }
        Some(s) => {
            if !s.active {
                reasons.insert(Reason::StaffInactive);
            }
            Some(s)
        }
    }
}

fn check_contact_details(claim: &Claim, staff: &StaffFacts, reasons: &mut BTreeSet<Reason>) {
    match &claim.caller_number {
        Some(CallerNumber::Parsed(n)) if staff.official_numbers.contains(n) => {}
        Some(_) => {
            reasons.insert(Reason::NumberNotOfficial);
        }
        None => {}
    }
    if let Some(address) = &claim.caller_address
        && !staff.official_addresses.contains(address)
    {
        reasons.insert(Reason::AddressNotOfficial);
    }
}

fn find_authority(
    claim: &Claim,
    staff: &StaffFacts,
    facts: &Facts<'_>,
    now: OffsetDateTime,
    reasons: &mut BTreeSet<Reason>,
    breaches: &mut Vec<Breach>,
) -> Option<Authority> {
    let mine = |r: &&RequestFacts| r.status == RequestStatus::Assigned && r.assignee == Some(staff.person);
    let request = match claim.request_key {
        Some(key) => match facts.requests.iter().find(|r| r.key == key) {
            Some(r) if !r.status.is_active() => {
                reasons.insert(Reason::NoOpenRequest);
                return None;
            }
            Some(r) if r.assignee != Some(staff.person) => {
                reasons.insert(Reason::NotAssignee);
                return None;
            }
            Some(r) => Some(r),
            None => {
                reasons.insert(Reason::NoOpenRequest);
                return None;
            }
        },
        None => facts.requests.iter().find(mine),
    };
    if let Some(r) = request {
        if !r.channels.is_empty() && !r.channels.contains(&claim.channel) {
            reasons.insert(Reason::ChannelNotAllowed);
        }
        // The policy's channels for the request's category.
        breaches.extend(r.category.as_deref().and_then(|c| facts.policy.category_breach(claim.channel, c)));
        return Some(Authority::Request { key: r.key });
    }
    let theirs: Vec<&OutreachFacts> = facts.outreach.iter().filter(|o| o.staffer == staff.person).collect();
    if let Some(o) = theirs.iter().find(|o| o.window.contains(now)) {
        if !o.channels.contains(&claim.channel) {
            reasons.insert(Reason::ChannelNotAllowed);
        }
        return Some(Authority::Outreach { id: o.id });
    }
    if !theirs.is_empty() {
        reasons.insert(Reason::OutsideWindow);
    } else if facts.requests.iter().any(|r| r.status.is_active()) {
        reasons.insert(Reason::NotAssignee);
    } else {
        reasons.insert(Reason::NoOpenRequest);
    }
    None
}

#[cfg(test)]
#[path = "verification/tests.rs"]
mod tests;
