//! QPQ drills: simulated "IT support" contacts, sent to employees and graded on whether they followed the
//! procedure (checked the contact, reported it) or made the mistake the script fishes for.

pub mod courier;

pub use courier::{Courier, DrillDelivery, Outgoing, SendError, SmsGateway, Smtp, SmtpTls};
