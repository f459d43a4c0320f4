//! Challenge codes: the short code only the genuine staffer's console shows.
//!
//! A code is derived, never stored: HMAC-SHA256 under the server secret over (request or outreach,
//! staffer, employee, time step), truncated as in HOTP (RFC 4226 §5.3) to six digits. Six digits rather
//! than words: they read out unambiguously over a bad line in any language, type on any keypad, look like
//! the TOTP codes people already know, and with the 5-attempt lock and two accepted steps a guesser wins
//! with probability 5 × 2 / 10⁶ per check.

use crate::SecretError;
use bonafide_domain::{Authority, ChallengeSubject, TimeStep};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;
use std::fmt;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

/// Number of digits in a code.
pub const CODE_DIGITS: usize = 6;

/// The server-wide key codes are derived from. Shared by every instance; never logged.
pub struct ChallengeSecret(SecretBox<Vec<u8>>);

impl fmt::Debug for ChallengeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChallengeSecret([REDACTED])")
    }
}

impl ChallengeSecret {
    /// The key that seals stored secrets (TOTP seeds), derived from this secret so one file or variable
    /// holds every server key. Changing the secret makes sealed seeds unreadable: people re-enrol.
    pub fn seal_key(&self) -> crate::seal::SealKey {
        crate::seal::SealKey::derive(self.0.expose_secret())
    }

    /// The key drill links and headers are made with, derived from this secret.
    pub fn drill_key(&self) -> crate::drill::DrillKey {
        crate::drill::DrillKey::derive(self.0.expose_secret())
    }

    /// Reads a secret written as hex (at least 32 bytes), ignoring surrounding whitespace.
    pub fn from_hex(text: &str) -> Result<Self, SecretError> {
        let bytes = hex::decode(text.trim()).map_err(|_| SecretError::Malformed)?;
        if bytes.len() < 32 {
            return Err(SecretError::Malformed);
        }
        Ok(Self(SecretBox::new(Box::new(bytes))))
    }

    /// A fresh random secret, and its hex form for saving to a file.
    pub fn generate() -> (Self, String) {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let text = hex::encode(bytes);
        (Self(SecretBox::new(Box::new(bytes.to_vec()))), text)
    }

    /// The code for `subject` in time step `step`.
    pub fn code(&self, subject: &ChallengeSubject, step: TimeStep) -> ChallengeCode {
        // Keyed with a fixed-size key, HMAC construction cannot fail; fall back to an impossible code
        // rather than panic if the library ever changes that.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.0.expose_secret()) else {
            return ChallengeCode(String::from("------"));
        };
        mac.update(b"bonafide/challenge/v1\0");
        match subject.authority {
            Authority::Request { key } => {
                mac.update(b"request\0");
                mac.update(&key.number().to_be_bytes());
            }
            Authority::Outreach { id } => {
                mac.update(b"outreach\0");
                mac.update(id.0.as_bytes());
            }
        }
        mac.update(subject.staffer.0.as_bytes());
        mac.update(subject.employee.0.as_bytes());
        mac.update(&step.number().to_be_bytes());
        let digest = mac.finalize().into_bytes();
        ChallengeCode(format!("{:06}", truncate(&digest) % 1_000_000))
    }

    /// Whether `typed` is the code for `subject` now or in the previous step, compared in constant time.
    /// Spaces and dashes are ignored ("123 456", "123-456").
    pub fn accepts(&self, subject: &ChallengeSubject, typed: &str, now: OffsetDateTime) -> bool {
        let cleaned: String = typed.chars().filter(|c| !matches!(c, ' ' | '-' | '\t')).collect();
        let mut ok = subtle::Choice::from(0u8);
        for step in TimeStep::accepted(now) {
            ok |= self.code(subject, step).0.as_bytes().ct_eq(cleaned.as_bytes());
        }
        bool::from(ok)
    }
}

/// Dynamic truncation (RFC 4226 §5.3): 31 bits taken at an offset chosen by the last nibble.
fn truncate(digest: &[u8]) -> u32 {
    let offset = digest.last().map_or(0, |b| usize::from(b & 0x0f));
    let window = digest.get(offset..offset + 4).unwrap_or(&[0, 0, 0, 0]);
    let mut word = [0u8; 4];
    word.copy_from_slice(window);
    u32::from_be_bytes(word) & 0x7fff_ffff
}

/// A six-digit challenge code as shown on the console.
#[derive(Clone, PartialEq, Eq)]
pub struct ChallengeCode(String);

impl ChallengeCode {
    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ChallengeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChallengeCode([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bonafide_domain::{OutreachId, PersonId, RequestKey};
    use time::Duration;
    use time::macros::datetime;

    fn secret() -> ChallengeSecret {
        ChallengeSecret::from_hex(&"ab".repeat(32)).unwrap()
    }

    fn subject() -> ChallengeSubject {
        ChallengeSubject {
            authority: Authority::Request { key: RequestKey::from_number(1042) },
            staffer: PersonId::new(),
            employee: PersonId::new(),
        }
    }

    const T: OffsetDateTime = datetime!(2026-11-28 10:00:00 UTC);

    #[test]
    fn codes_are_six_digits_and_accepted_for_the_current_and_previous_step_only() {
        let (s, subj) = (secret(), subject());
        let code = s.code(&subj, TimeStep::at(T));
        assert_eq!(code.as_str().len(), CODE_DIGITS);
        assert!(code.as_str().bytes().all(|b| b.is_ascii_digit()));
        assert!(s.accepts(&subj, code.as_str(), T));
        assert!(s.accepts(&subj, code.as_str(), T + Duration::seconds(59)));
        assert!(s.accepts(&subj, code.as_str(), T + Duration::seconds(119)));
        assert!(!s.accepts(&subj, code.as_str(), T + Duration::seconds(120)));
        assert!(!s.accepts(&subj, code.as_str(), T - Duration::seconds(1)));
    }

    #[test]
    fn spacing_is_forgiven_but_nothing_else() {
        let (s, subj) = (secret(), subject());
        let code = s.code(&subj, TimeStep::at(T)).as_str().to_owned();
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(s.accepts(&subj, &spaced, T));
        assert!(!s.accepts(&subj, &code[..5], T));
        assert!(!s.accepts(&subj, &format!("{code}0"), T));
        assert!(!s.accepts(&subj, "", T));
    }

    #[test]
    fn every_binding_changes_the_code() {
        let s = secret();
        let base = subject();
        let step = TimeStep::at(T);
        let variants = [
            ChallengeSubject { staffer: PersonId::new(), ..base },
            ChallengeSubject { employee: PersonId::new(), ..base },
            ChallengeSubject { authority: Authority::Request { key: RequestKey::from_number(1043) }, ..base },
            ChallengeSubject { authority: Authority::Outreach { id: OutreachId::new() }, ..base },
        ];
        // Six digits collide by chance one time in a million per pair; compare over several steps.
        for v in variants {
            let differs = (0..4).any(|i| {
                let st = TimeStep::at(T + Duration::minutes(i));
                s.code(&base, st) != s.code(&v, st)
            });
            assert!(differs);
        }
        let other = ChallengeSecret::from_hex(&"cd".repeat(32)).unwrap();
        assert!((0..4).any(|i| {
            let st = TimeStep::at(T + Duration::minutes(i));
            s.code(&base, st) != other.code(&base, st)
        }));
        assert_eq!(s.code(&base, step), s.code(&base, step));
    }

    #[test]
    fn short_or_malformed_secrets_are_refused() {
        assert!(ChallengeSecret::from_hex("abcd").is_err());
        assert!(ChallengeSecret::from_hex(&"zz".repeat(32)).is_err());
        let (generated, text) = ChallengeSecret::generate();
        assert_eq!(text.len(), 64);
        assert!(format!("{generated:?}").contains("REDACTED"));
    }

    #[test]
    fn the_seal_key_follows_the_secret() {
        let sealed = secret().seal_key().seal(b"seed", "totp:a");
        assert_eq!(secret().seal_key().open(&sealed, "totp:a").unwrap(), b"seed", "another instance");
        let other = ChallengeSecret::from_hex(&"cd".repeat(32)).unwrap();
        assert!(other.seal_key().open(&sealed, "totp:a").is_err());
    }

    #[test]
    fn codes_are_spread_over_all_digits() {
        let s = secret();
        let subj = subject();
        let mut first_digits = [0u32; 10];
        for i in 0..2000 {
            let code = s.code(&subj, TimeStep::at(T + Duration::minutes(i)));
            let d = usize::from(code.as_str().as_bytes()[0] - b'0');
            first_digits[d] += 1;
        }
        // 200 expected per digit; a broken truncation shows up as a digit that never or always occurs.
        assert!(first_digits.iter().all(|&n| (120..=280).contains(&n)), "{first_digits:?}");
    }
}
