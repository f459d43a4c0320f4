//! Bonafide's cryptography and randomness. No other crate touches a key or a random number generator.
//!
//! - [`challenge`] — challenge codes (HMAC-SHA256 under the server secret) and the server secret itself.
//! - [`token`] — API bearer tokens and [`TokenHash`], the stored form of every bearer or session token.
//! - [`session`] — portal session tokens (the cookie) and CSRF tokens.
//! - [`password`] — Argon2id password hashes, the dummy verification for unknown accounts, and the
//!   password policy (NIST SP 800-63B).
//! - [`totp`] — RFC 6238 TOTP seeds, codes, replay-safe verification and the `otpauth://` URI.
//! - [`recovery`] — one-time recovery codes, stored as hashes.
//! - [`drill`] — drill link tokens and the `X-Bonafide-Drill` header, HMAC-SHA256 under a derived key.
//! - [`seal`] — XChaCha20-Poly1305 sealing for secrets that must be read back (TOTP seeds).
//! - [`qr`] — QR codes as standalone SVG, for TOTP enrolment.
//! - [`webhook`] — webhook signing secrets and HMAC-SHA256 delivery signatures.
//! - [`passkey`] — WebAuthn passkeys (`webauthn-rs`): registration, second factor, passwordless sign-in.
//! - [`oidc`] — single sign-on with OpenID Connect: state, nonce, PKCE and the id token checks.
#![deny(missing_docs)]

pub mod challenge;
pub mod drill;
pub mod oidc;
pub mod passkey;
pub mod password;
pub mod qr;
pub mod recovery;
pub mod seal;
pub mod session;
pub mod token;
pub mod totp;
pub mod webhook;

pub use challenge::{ChallengeCode, ChallengeSecret};
pub use seal::SealKey;
pub use session::{CsrfToken, SessionToken};
pub use token::{ApiToken, TokenHash};

/// A fresh request id: 128 random bits as 32 hex digits. Not a secret (it is logged and answered to the
/// client); random so that the ids of several instances never collide.
pub fn request_id() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

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

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_32_hex_digits_and_never_repeat() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| super::request_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    }
}
