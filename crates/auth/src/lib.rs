//! Bonafide's cryptography and randomness: challenge codes (HMAC-SHA256), API and session tokens,
//! CSRF tokens, passwords (Argon2id), TOTP, recovery codes, sealing (XChaCha20-Poly1305) and QR codes
//! for enrolment. No other crate touches a key or a random number generator.
#![deny(missing_docs)]

pub mod challenge;
pub mod password;
pub mod qr;
pub mod recovery;
pub mod seal;
pub mod token;
pub mod totp;

pub use challenge::{ChallengeCode, ChallengeSecret};
pub use token::{ApiToken, CsrfToken, SessionToken, TokenHash};

/// A cryptographic operation failed or its input was malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The input cannot be what it claims to be.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The primitive refused (wrong key, altered data, impossible parameters).
    #[error("{0}")]
    Crypto(String),
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// A secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Not hex, or too short to be safe.
    #[error(
        "the challenge secret must be at least 64 hex characters (32 bytes); generate one with `openssl rand -hex 32`"
    )]
    Malformed,
}
