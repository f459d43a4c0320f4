//! Bonafide's cryptography and randomness: challenge codes (HMAC-SHA256), API tokens and server
//! secrets. No other crate touches a key or a random number generator.
#![deny(missing_docs)]

pub mod challenge;
pub mod token;

pub use challenge::{ChallengeCode, ChallengeSecret};
pub use token::{ApiToken, TokenHash};

/// A secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Not hex, or too short to be safe.
    #[error(
        "the challenge secret must be at least 64 hex characters (32 bytes); generate one with `openssl rand -hex 32`"
    )]
    Malformed,
}
