//! The Bonafide domain: people and IT staff, support requests, announced outreach, the contact policy
//! and the verification engine that turns "someone claims to be IT" into a verdict.
//!
//! Everything here is pure: no IO, no randomness, no cryptography. Time comes in as a parameter so tests
//! control it; storage, HTTP and the challenge-code HMAC live in other crates.
#![deny(missing_docs)]

pub mod campaign;
pub mod challenge;
pub mod clock;
pub mod contact;
pub mod drill;
pub mod ids;
pub mod names;
pub mod outreach;
pub mod person;
pub mod phone;
pub mod policy;
pub mod request;
pub mod risk;
pub mod text;
pub mod verification;

pub use campaign::CampaignStatus;
pub use challenge::Authority;
pub use challenge::{
    ChallengeSubject, FAILURE_WINDOW_SECONDS, GuardScope, MAX_CHALLENGE_ATTEMPTS, MAX_FAILURES_ACROSS_CHECKS, TimeStep,
    VERIFICATION_LOCK_SECONDS,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use contact::{Ask, Channel};
pub use drill::{DrillChannel, DrillStatus, Scenario, SendStatus, Signals};
pub use ids::{
    AlertId, CampaignId, CheckId, DeliveryId, DrillId, DrillTargetId, Email, OutreachId, PersonId, ReportId,
    RequestKey, StaffId, TokenId, WebhookId,
};
pub use outreach::{OutreachStatus, OutreachWindow};
pub use person::{DisplayName, NewPerson, PersonFacts, PersonStatus, Principal, Role, Roles, SessionStage};
pub use phone::{PhoneNumber, PhoneRegion};
pub use policy::{Breach, ContactHours, ContactPolicy, Day, RuleError};
pub use request::{RequestStatus, Summary};
pub use verification::{Assessment, Claim, Facts, Reason, Verdict};

/// A value from outside did not have the expected form.
///
/// `field` names the offending input so the API can answer 422 with it and the CLI can print it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidInput {
    /// The input field that was rejected, e.g. `caller_number`.
    pub field: &'static str,
    /// What was wrong with it, in plain words.
    pub message: String,
}

impl InvalidInput {
    /// Builds an error for `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}
