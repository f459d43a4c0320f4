//! Drill links and the drill header. Each target's link token is HMAC-SHA256 under a key derived from the
//! server secret, over the target's id: unguessable, never stored (only its SHA-256 is, to find the
//! target), and derived again whenever the message is (re)sent. The `X-Bonafide-Drill` header is an HMAC
//! over the drill and the recipient, so a mail filter holding the key can allow drills through without
//! allowing a look-alike that copies the header from another message.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The key drill tokens and headers are made with. Never printed.
pub struct DrillKey([u8; 32]);

impl std::fmt::Debug for DrillKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DrillKey([REDACTED])")
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return [0; 32] };
    for p in parts {
        mac.update(&(p.len() as u64).to_be_bytes());
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The stored form of a link token: hex SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl DrillKey {
    /// Derives the key from a master secret: HMAC-SHA256(master, "bonafide drill v1").
    pub fn derive(master: &[u8]) -> Self {
        Self(mac(master, &[b"bonafide drill v1"]))
    }

    /// The link token of target `target` (43 URL-safe characters, 256 bits).
    pub fn token(&self, target: &str) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.0, &[b"link", target.as_bytes()]))
    }

    /// The `X-Bonafide-Drill` value for drill `drill` sent to `recipient`: `v1 <drill> <signature>`.
    pub fn header(&self, drill: &str, recipient: &str) -> String {
        let sig = mac(&self.0, &[b"header", drill.as_bytes(), recipient.trim().to_lowercase().as_bytes()]);
        format!("v1 {drill} {}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// Whether `value` is the header of some drill for `recipient`; the drill's id when it is.
    pub fn verify_header(&self, value: &str, recipient: &str) -> Option<String> {
        let mut parts = value.split_whitespace();
        let (Some("v1"), Some(drill), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return None;
        };
        let expected = self.header(drill, recipient);
        bool::from(expected.as_bytes().ct_eq(value.trim().as_bytes())).then(|| drill.to_owned())
    }

    /// The key as hex, for a mail filter that checks the header itself.
    pub fn reveal_hex(&self) -> String {
        hex::encode(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_per_target_and_key_and_headers_verify_only_for_their_recipient() {
        let key = DrillKey::derive(&[7; 32]);
        let other = DrillKey::derive(&[8; 32]);
        let t = key.token("target-1");
        assert_eq!(t.len(), 43);
        assert_eq!(t, key.token("target-1"), "derived again for a resend");
        assert_ne!(t, key.token("target-2"));
        assert_ne!(t, other.token("target-1"));
        assert_eq!(token_hash(&t).len(), 64);
        assert_ne!(token_hash(&t), t);
        let h = key.header("drill-9", "Ann@Example.com");
        assert_eq!(key.verify_header(&h, "ann@example.com").as_deref(), Some("drill-9"));
        assert_eq!(key.verify_header(&h, "bob@example.com"), None, "copied onto another recipient");
        assert_eq!(other.verify_header(&h, "ann@example.com"), None);
        assert_eq!(key.verify_header("v1 drill-9 forged", "ann@example.com"), None);
        assert_eq!(key.verify_header("", "ann@example.com"), None);
        assert!(!format!("{key:?}").contains(&key.reveal_hex()));
    }
}
