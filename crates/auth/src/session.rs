//! Portal sessions: the session cookie's token, stored only as its [`TokenHash`], and the CSRF token
//! every form echoes.
//!
//! Both draw 256 random bits from the helpers in `token.rs`, like API tokens: a fast hash is enough for
//! a value nobody can guess.

use crate::token::{TokenHash, random_hex, random_token};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// Prefix of session cookie values, so a leaked cookie is easy to spot and never mistaken for an API
/// token (`bf_`).
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

    /// What is stored; a presented cookie is looked up with [`TokenHash::of`].
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
    /// A new random token: 32 random bytes in hex.
    pub fn generate() -> Self {
        Self(random_hex())
    }

    /// The expected token as stored or sent in a cookie.
    pub fn from_presented(text: &str) -> Self {
        Self(text.to_owned())
    }

    /// The text to put in forms.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a form carried this token, compared in constant time (never matches when this token is
    /// empty).
    pub fn matches(&self, presented: &str) -> bool {
        !self.0.is_empty() && crate::constant_time_eq(self.0.as_bytes(), presented.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tokens_are_random_prefixed_redacted_and_stored_as_their_hash() {
        let (s, t) = (SessionToken::generate(), SessionToken::generate());
        assert_ne!(s.reveal(), t.reveal());
        assert!(s.reveal().starts_with(SESSION_PREFIX) && s.reveal().len() == 68);
        assert!(s.reveal()[4..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(s.hash(), TokenHash::of(s.reveal()));
        assert_ne!(s.hash(), t.hash());
        assert!(!format!("{s:?}").contains(&s.reveal()[4..]));
    }

    #[test]
    fn csrf_tokens_match_only_the_exact_text() {
        let c = CsrfToken::generate();
        assert_eq!(c.as_str().len(), 64);
        assert_ne!(c, CsrfToken::generate());
        assert!(c.matches(c.as_str()));
        assert!(CsrfToken::from_presented(c.as_str()).matches(c.as_str()));
        assert!(!c.matches(&c.as_str()[1..]));
        assert!(!c.matches(&format!("{}0", c.as_str())));
        let mut last_changed = c.as_str()[..63].to_owned();
        last_changed.push(if c.as_str().ends_with('a') { 'b' } else { 'a' });
        assert!(!c.matches(&last_changed), "same length, one character differs");
        assert!(!c.matches(""));
        assert!(!CsrfToken::from_presented("").matches(""), "an empty expected token matches nothing");
        assert!(!format!("{c:?}").contains(c.as_str()));
    }
}
