//! Sealing: authenticated encryption for secrets that must be read back (TOTP seeds), so that none is
//! stored in clear. XChaCha20-Poly1305 with a random 192-bit nonce per value, under a key derived from
//! the server secret; the value's context (e.g. `totp:<person id>`) is authenticated with it, so a sealed
//! value copied into another row does not open.

use crate::AuthError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const VERSION: &str = "v1.";
const NONCE_BYTES: usize = 24;

/// The sealing key. Never printed.
pub struct SealKey(XChaCha20Poly1305);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey([REDACTED])")
    }
}

impl SealKey {
    /// Derives the sealing key from a master secret: HMAC-SHA256(master, "bonafide seal v1").
    pub fn derive(master: &[u8]) -> Self {
        let key = Hmac::<Sha256>::new_from_slice(master)
            .map(|mut mac| {
                mac.update(b"bonafide seal v1");
                mac.finalize().into_bytes()
            })
            .unwrap_or_default();
        // A 32-byte HMAC output is always a valid XChaCha20 key.
        Self(XChaCha20Poly1305::new(&key))
    }

    /// Encrypts `plaintext` bound to `context`: `v1.` + hex(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::fill(&mut nonce);
        let nonce = XNonce::from(nonce);
        // Encryption fails only for messages beyond 256 GiB.
        let sealed = self.0.encrypt(&nonce, Payload { msg: plaintext, aad: context.as_bytes() }).unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&sealed);
        format!("{VERSION}{}", hex::encode(out))
    }

    /// Decrypts a value sealed for `context`; fails if it was altered, sealed under another key or for
    /// another context.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, AuthError> {
        let hex_part = sealed.strip_prefix(VERSION).ok_or(AuthError::Malformed("sealed value"))?;
        let bytes = hex::decode(hex_part).map_err(|_| AuthError::Malformed("sealed value"))?;
        if bytes.len() < NONCE_BYTES + 16 {
            return Err(AuthError::Malformed("sealed value"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce = XNonce::try_from(nonce).map_err(|_| AuthError::Malformed("sealed value"))?;
        self.0
            .decrypt(&nonce, Payload { msg: ciphertext, aad: context.as_bytes() })
            .map_err(|_| AuthError::Crypto("the sealed value does not open with this key and context".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_open_only_with_their_key_and_context_and_untouched() {
        let key = SealKey::derive(&[7; 32]);
        let sealed = key.seal(b"seed bytes", "totp:a");
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains(&hex::encode(b"seed bytes")));
        assert_ne!(sealed, key.seal(b"seed bytes", "totp:a"), "a fresh nonce each time");
        assert_eq!(key.open(&sealed, "totp:a").unwrap(), b"seed bytes");
        assert!(key.open(&sealed, "totp:b").is_err(), "another row");
        assert!(SealKey::derive(&[8; 32]).open(&sealed, "totp:a").is_err(), "another key");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert!(key.open(std::str::from_utf8(&tampered).unwrap(), "totp:a").is_err());
        for bad in ["", "v1.", "v1.zz", "v2.00", &format!("v1.{}", "00".repeat(30))] {
            assert!(key.open(bad, "totp:a").is_err(), "{bad}");
        }
        assert_eq!(format!("{key:?}"), "SealKey([REDACTED])");
    }
}
