//! Correlation of suspicious-contact reports into campaigns: indicator normalisation (phone numbers,
//! addresses and look-alike domains, handles, names and nicknames, staff ids, pretexts), and incremental
//! clustering with campaign thresholds and severity.
//!
//! Pure: no IO, no clock (times are parameters), no randomness. The store applies these rules over its
//! indexed tables; it is the only correlator.
#![deny(missing_docs)]

pub mod engine;
pub mod indicator;
pub mod lookalike;
pub mod pretext;
pub mod warning;

pub use engine::{Config, Hit, Severity, Tally, Thresholds, joined, severity, text_hits};
pub use indicator::{Company, Indicator, IndicatorKind, Note, Sighting, indicators};
pub use warning::{WarningFacts, readable_number, warning};

#[cfg(test)]
mod tests;
