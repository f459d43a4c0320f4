//! QPQ drills: simulated "IT support" contacts sent to employees, and the grade each target earns by what
//! they did, judged on the procedure (report it, or check it) rather than on clicks alone.
//!
//! Pure: the scenarios, how a message is written for one target, when each send is due across the window,
//! and the grading. The tokens, the signature header and the sending live elsewhere.

mod scenarios;

pub use scenarios::{BUILT_IN, BuiltIn, builtin};

use crate::{Ask, InvalidInput};
use time::OffsetDateTime;

crate::named_enum! {
    /// How a drill reaches its targets.
    pub enum DrillChannel {
        /// An email over SMTP.
        Email = "email",
        /// A chat message through a Slack-compatible incoming webhook.
        Chat = "chat",
        /// A text message through the company's SMS gateway.
        Sms = "sms",
    }
}

crate::named_enum! {
    /// Where a drill is in its life.
    pub enum DrillStatus {
        /// Written, not launched: it can still be changed or discarded.
        Draft = "draft",
        /// Launched: sends go out across the window and outcomes are recorded.
        Running = "running",
        /// Stopped early by a security admin: unsent messages are cancelled, outcomes still recorded.
        Stopped = "stopped",
    }
}

crate::named_enum! {
    /// What a target did, from best to worst (the order of `ALL`).
    pub enum Outcome {
        /// Filed a Bonafide report of the drill's contact.
        Reported = "reported",
        /// Ran a check about the drill's claimed staffer or number, and was told it was not verified.
        VerifiedFirst = "verified_first",
        /// Did nothing (or only opened it).
        Ignored = "ignored",
        /// Pressed a button on the landing page.
        Clicked = "clicked",
        /// Typed into the landing page's form, or reported having done what was asked.
        Complied = "complied",
    }
}

impl Outcome {
    /// Whether the outcome is a mistake (it shows the lesson and counts against the person's risk).
    pub fn is_mistake(self) -> bool {
        matches!(self, Outcome::Clicked | Outcome::Complied)
    }
}

crate::named_enum! {
    /// Where one message stands.
    pub enum SendStatus {
        /// Waiting for its time, or for a retry.
        Queued = "queued",
        /// Taken by a sender, which is handing it over now.
        Sending = "sending",
        /// Accepted by the mail server or gateway.
        Sent = "sent",
        /// Refused for good, or still failing after every retry (the server's reply is kept).
        Failed = "failed",
        /// Not sent: the drill was stopped first.
        Cancelled = "cancelled",
    }
}

/// What Bonafide recorded of one target: the moments each thing first happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals {
    /// The link was fetched (a GET: people, but also mail scanners and previews).
    pub opened: Option<OffsetDateTime>,
    /// A button on the landing page was pressed.
    pub clicked: Option<OffsetDateTime>,
    /// Something was typed into the landing page's form and submitted.
    pub submitted: Option<OffsetDateTime>,
    /// A report of the drill was filed.
    pub reported: Option<OffsetDateTime>,
    /// The report said the employee did what was asked.
    pub reported_complied: bool,
    /// A check about the drill's persona was run and did not verify.
    pub verified: Option<OffsetDateTime>,
}

/// The grade of a target. A mistake stands even when the person reported afterwards (what was typed or
/// clicked cannot be taken back; the report is shown with it); otherwise the best thing they did counts.
pub fn grade(s: &Signals) -> Outcome {
    if s.submitted.is_some() || (s.reported.is_some() && s.reported_complied) {
        Outcome::Complied
    } else if s.clicked.is_some() {
        Outcome::Clicked
    } else if s.reported.is_some() {
        Outcome::Reported
    } else if s.verified.is_some() {
        Outcome::VerifiedFirst
    } else {
        Outcome::Ignored
    }
}

/// When the first mistake was made, if one was.
pub fn mistake_at(s: &Signals) -> Option<OffsetDateTime> {
    let complied = s.submitted.or(if s.reported_complied { s.reported } else { None });
    match (s.clicked, complied) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The longest sending window, in hours (a month).
pub const MAX_WINDOW_HOURS: u32 = 24 * 31;

/// The most targets one drill has.
pub const MAX_TARGETS: usize = 100_000;

/// When the `index`-th of `count` sends is due: spread evenly across `window_hours` from `launch` (all at
/// launch when the window is 0). The order of targets is the caller's (random tokens make it random).
pub fn send_at(launch: OffsetDateTime, window_hours: u32, index: usize, count: usize) -> OffsetDateTime {
    if window_hours == 0 || count <= 1 {
        return launch;
    }
    let window = i128::from(window_hours) * 3_600_000_000_000;
    let step = window / i128::try_from(count).unwrap_or(i128::MAX);
    let offset = step.saturating_mul(i128::try_from(index).unwrap_or(0)).min(window);
    launch + time::Duration::nanoseconds(i64::try_from(offset).unwrap_or(i64::MAX))
}

/// A drill's story: who it pretends to be, what it says, and what it finally asks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The persona's name ("IT Service Desk").
    pub sender_name: String,
    /// The address it writes from (email drills; defaults to `smtp_from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_address: Option<String>,
    /// The staff id the persona claims (a check about it counts as checking first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_staff_id: Option<String>,
    /// The number the persona gives to call back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_number: Option<String>,
    /// The email's subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The message. `{first_name}`, `{name}`, `{link}`, `{sender_name}`, `{staff_id}` and `{number}` are
    /// filled in; a body without `{link}` gets the link on a line of its own at the end.
    pub body: String,
    /// What the contact finally asks for.
    pub ask: Ask,
}

/// The longest message body, in characters.
pub const MAX_BODY: usize = 10_000;

impl Scenario {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        let short = |field: &'static str, v: &str, max: usize| -> Result<(), InvalidInput> {
            if v.trim().is_empty() {
                return Err(InvalidInput::new(field, "must not be empty"));
            }
            if v.chars().count() > max {
                return Err(InvalidInput::new(field, format!("at most {max} characters")));
            }
            if v.chars().any(char::is_control) {
                return Err(InvalidInput::new(field, "must be one line without control characters"));
            }
            Ok(())
        };
        short("scenario.sender_name", &self.sender_name, 120)?;
        if let Some(a) = &self.sender_address {
            short("scenario.sender_address", a, 254)?;
            if !a.contains('@') || a.contains(char::is_whitespace) {
                return Err(InvalidInput::new("scenario.sender_address", "an email address"));
            }
        }
        if let Some(s) = &self.claimed_staff_id {
            short("scenario.claimed_staff_id", s, 32)?;
        }
        if let Some(n) = &self.caller_number {
            short("scenario.caller_number", n, 64)?;
        }
        if let Some(s) = &self.subject {
            short("scenario.subject", s, 200)?;
        }
        if self.body.trim().is_empty() {
            return Err(InvalidInput::new("scenario.body", "must not be empty"));
        }
        if self.body.chars().count() > MAX_BODY {
            return Err(InvalidInput::new("scenario.body", format!("at most {MAX_BODY} characters")));
        }
        if self.body.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(InvalidInput::new("scenario.body", "contains control characters"));
        }
        Ok(())
    }

    /// The subject line an email gets.
    pub fn subject_line(&self) -> &str {
        self.subject.as_deref().unwrap_or("Action needed on your account")
    }

    /// The message for one target: the placeholders filled in, the link added when the body lacks it.
    pub fn render(&self, name: &str, link: &str) -> String {
        let first = name.split_whitespace().next().unwrap_or(name);
        let mut text = self
            .body
            .replace("{first_name}", first)
            .replace("{name}", name)
            .replace("{sender_name}", &self.sender_name)
            .replace("{staff_id}", self.claimed_staff_id.as_deref().unwrap_or(""))
            .replace("{number}", self.caller_number.as_deref().unwrap_or(""));
        if text.contains("{link}") {
            text = text.replace("{link}", link);
        } else {
            text = format!("{}\n\n{link}\n", text.trim_end());
        }
        text
    }
}

#[cfg(test)]
mod tests;
