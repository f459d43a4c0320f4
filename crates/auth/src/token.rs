//! Per-person API bearer tokens: shown once, stored only as a SHA-256 hash. The random body and the
//! [`TokenHash`] are shared with the session tokens in `session.rs`.
//!
//! A token carries 256 random bits, so a fast hash is the right tool: there is nothing to brute-force,
//! and every API call must look the hash up cheaply.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::fmt;

/// Prefix that makes leaked tokens easy to spot by secret scanners.
pub const TOKEN_PREFIX: &str = "bf_";

/// A freshly generated token, in clear: give it to the person once, then drop it.
pub struct ApiToken(SecretString);

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken([REDACTED])")
    }
}

/// 256 random bits in hex: the body of every token this crate issues (API, session, CSRF).
pub(crate) fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

/// `prefix` followed by [`random_hex`], kept secret.
pub(crate) fn random_token(prefix: &str) -> SecretString {
    SecretString::from(format!("{prefix}{}", random_hex()))
}

impl ApiToken {
    /// A new random token.
    pub fn generate() -> Self {
        Self(random_token(TOKEN_PREFIX))
    }

    /// The token text, for showing once.
    pub fn reveal(&self) -> &str {
        self.0.expose_secret()
    }

    /// What is stored.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.0.expose_secret())
    }
}

/// The stored form of a token: hex SHA-256 of its text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Hashes a presented token. Anything is accepted: a wrong token just finds no row.
    pub fn of(presented: &str) -> Self {
        Self(hex::encode(Sha256::digest(presented.as_bytes())))
    }

    /// The hex text, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", self.0.get(..8).unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hash_stably() {
        let (a, b) = (ApiToken::generate(), ApiToken::generate());
        assert_ne!(a.reveal(), b.reveal());
        assert!(a.reveal().starts_with(TOKEN_PREFIX) && a.reveal().len() == 67);
        assert_eq!(a.hash(), TokenHash::of(a.reveal()));
        assert_ne!(a.hash(), b.hash());
        assert!(!format!("{a:?}").contains(&a.reveal()[3..]));
    }

    #[test]
    fn the_stored_hash_is_hex_sha_256_of_the_whole_text() {
        // FIPS 180-2 appendix B.1: SHA-256("abc").
        let h = TokenHash::of("abc");
        assert_eq!(h.as_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(format!("{h:?}"), "TokenHash(ba7816bf…)");
        let body = random_hex();
        assert_eq!(body.len(), 64);
        assert!(body.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}
