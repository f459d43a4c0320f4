//! Per-person API bearer tokens: shown once, stored only as a SHA-256 hash.
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

/// `prefix` followed by 256 random bits in hex.
fn random_token(prefix: &str) -> SecretString {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    SecretString::from(format!("{prefix}{}", hex::encode(bytes)))
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

/// Prefix of session cookie values.
pub const SESSION_PREFIX: &str = "bfs_";

/// A portal session's token: the cookie value, stored only as its [`TokenHash`].
pub struct SessionToken(SecretString);

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken([REDACTED])")
    }
}

impl SessionToken {
    /// A new random token.
    pub fn generate() -> Self {
        Self(random_token(SESSION_PREFIX))
    }

    /// The cookie value.
    pub fn reveal(&self) -> &str {
        self.0.expose_secret()
    }

    /// What is stored.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.0.expose_secret())
    }
}

/// A CSRF token: random per session (or per sign-in form), echoed by every form, compared in constant
/// time. Not a credential on its own.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken(String);

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken(..)")
    }
}

impl CsrfToken {
    /// A new random token.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Self(hex::encode(bytes))
    }

    /// The expected token as stored or sent in a cookie.
    pub fn from_presented(text: &str) -> Self {
        Self(text.to_owned())
    }

    /// The text to put in forms.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a form carried this token (never matches when this token is empty).
    pub fn matches(&self, presented: &str) -> bool {
        !self.0.is_empty() && crate::constant_time_eq(self.0.as_bytes(), presented.as_bytes())
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
    fn session_and_csrf_tokens_are_random_and_compared_exactly() {
        let s = SessionToken::generate();
        assert!(s.reveal().starts_with(SESSION_PREFIX) && s.reveal().len() == 68);
        assert_eq!(s.hash(), TokenHash::of(s.reveal()));
        assert!(!format!("{s:?}").contains(&s.reveal()[4..]));
        let c = CsrfToken::generate();
        assert_ne!(c, CsrfToken::generate());
        assert!(c.matches(c.as_str()));
        assert!(!c.matches(&c.as_str()[1..]));
        assert!(!c.matches(""));
        assert!(!CsrfToken::from_presented("").matches(""), "an empty expected token matches nothing");
    }
}
