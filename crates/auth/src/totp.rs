//! TOTP (RFC 6238): HMAC-SHA1, 30-second steps, 6 digits — what every authenticator app speaks.
//!
//! [`verify`] accepts the current step and one either side (clock drift), and only a step newer than
//! the last one accepted: the store records that step atomically, so a code works once.

use crate::AuthError;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Seconds per step.
pub const STEP_SECONDS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
const SEED_BYTES: usize = 20;

/// A TOTP seed (160 random bits, as RFC 4226 recommends). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSeed(Vec<u8>);

impl std::fmt::Debug for TotpSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSeed([REDACTED])")
    }
}

impl TotpSeed {
    /// A new random seed.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SEED_BYTES];
        rand::fill(bytes.as_mut_slice());
        Self(bytes)
    }

    /// A seed from stored bytes (16 to 64).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, AuthError> {
        if (16..=64).contains(&bytes.len()) { Ok(Self(bytes)) } else { Err(AuthError::Malformed("TOTP seed")) }
    }

    /// The raw bytes, for sealing.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }

    /// RFC 4648 base32 without padding, for typing into an app.
    pub fn base32(&self) -> String {
        base32(&self.0)
    }
}

/// RFC 4648 base32, no padding.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let symbol = |v: u32| ALPHABET.get((v & 31) as usize).map_or('A', |b| char::from(*b));
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(symbol(buffer >> bits));
        }
    }
    if bits > 0 {
        out.push(symbol(buffer << (5 - bits)));
    }
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `otpauth://` URI an app reads from the QR code.
pub fn otpauth_uri(seed: &TotpSeed, issuer: &str, account: &str) -> String {
    let (issuer, account) = (percent(issuer), percent(account));
    format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        seed.base32()
    )
}

fn step_of(unix_seconds: i64) -> u64 {
    u64::try_from(unix_seconds.div_euclid(STEP_SECONDS)).unwrap_or(0)
}

/// The HOTP value (RFC 4226) of `counter` with `digits` digits.
fn code_with_digits(seed: &TotpSeed, counter: u64, digits: u32) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(&seed.0) else { return String::new() };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last().copied().unwrap_or(0) & 0x0f);
    let word = digest
        .get(offset..offset + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, |w| u32::from_be_bytes(w) & 0x7fff_ffff);
    let modulus = 10u32.pow(digits);
    format!("{:0width$}", word % modulus, width = digits as usize)
}

/// The code an app shows at `unix_seconds`.
pub fn code_at(seed: &TotpSeed, unix_seconds: i64) -> String {
    code_with_digits(seed, step_of(unix_seconds), DIGITS)
}

/// Checks `code` at `unix_seconds`: returns the matching step when it is the current one or one either
/// side, and newer than `last_used_step`.
pub fn verify(seed: &TotpSeed, code: &str, unix_seconds: i64, last_used_step: Option<u64>) -> Option<u64> {
    let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_seconds);
    let mut matched = None;
    for step in [now.saturating_sub(1), now, now + 1] {
        let expected = code_with_digits(seed, step, DIGITS);
        // Compare every candidate, so timing does not tell which step matched.
        if bool::from(expected.as_bytes().ct_eq(typed.as_bytes())) {
            matched = Some(step);
        }
    }
    matched.filter(|step| last_used_step.is_none_or(|last| *step > last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_seed() -> TotpSeed {
        TotpSeed::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    #[test]
    fn rfc_6238_sha1_vectors() {
        let seed = rfc_seed();
        for (t, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_with_digits(&seed, step_of(t), 8), expected, "t = {t}");
            assert_eq!(code_at(&seed, t), expected[2..], "t = {t}");
        }
    }

    #[test]
    fn codes_are_accepted_in_a_three_step_window_and_only_once() {
        let seed = rfc_seed();
        let t = 1_234_567_890;
        let code = code_at(&seed, t);
        let step = step_of(t);
        assert_eq!(verify(&seed, &code, t, None), Some(step));
        assert_eq!(verify(&seed, &format!("{} {}", &code[..3], &code[3..]), t, None), Some(step));
        assert_eq!(verify(&seed, &code, t + 30, None), Some(step), "one step late");
        assert_eq!(verify(&seed, &code, t - 30, None), Some(step), "one step early");
        assert_eq!(verify(&seed, &code, t + 60, None), None, "two steps late");
        assert_eq!(verify(&seed, &code, t, Some(step)), None, "replayed");
        assert_eq!(verify(&seed, &code, t, Some(step + 1)), None, "older than the last accepted");
        assert_eq!(verify(&seed, &code, t, Some(step - 1)), Some(step));
    }

    #[test]
    fn the_window_is_exactly_one_step_either_side() {
        let seed = rfc_seed();
        // 1_234_567_890 is the first second of its step.
        let t = 1_234_567_890;
        assert_eq!(t % STEP_SECONDS, 0);
        let (code, step) = (code_at(&seed, t), step_of(t));
        assert_eq!(verify(&seed, &code, t + 59, None), Some(step), "last second of the next step");
        assert_eq!(verify(&seed, &code, t + 60, None), None, "first second two steps later");
        assert_eq!(verify(&seed, &code, t - 30, None), Some(step), "first second of the previous step");
        assert_eq!(verify(&seed, &code, t - 31, None), None, "last second two steps earlier");
        // The step matched is the code's, not the clock's, so replay protection holds across the window.
        assert_eq!(verify(&seed, &code, t + 45, Some(step - 1)), Some(step));
        let next = code_at(&seed, t + STEP_SECONDS);
        assert_eq!(verify(&seed, &next, t, Some(step)), Some(step + 1), "a code from a fast phone");
    }

    #[test]
    fn codes_are_zero_padded_to_six_digits() {
        let seed = rfc_seed();
        let mut padded = 0;
        for step in 0..2000 {
            let t = step * STEP_SECONDS;
            let code = code_at(&seed, t);
            assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
            if code.starts_with('0') {
                padded += 1;
                assert!(verify(&seed, &code, t, None).is_some(), "{code}");
            }
        }
        // About one code in ten starts with a zero.
        assert!(padded > 100, "{padded}");
    }

    #[test]
    fn malformed_codes_and_seeds_are_refused() {
        let seed = rfc_seed();
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６", "-12345"] {
            assert_eq!(verify(&seed, bad, 59, None), None, "{bad}");
        }
        assert!(TotpSeed::from_bytes(vec![1; 8]).is_err());
        assert!(!format!("{seed:?}").contains("123"));
    }

    #[test]
    fn base32_and_the_uri_follow_rfc_4648_and_the_key_uri_format() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(rfc_seed().base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let uri = otpauth_uri(&rfc_seed(), "Bonafide", "erin walsh@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/Bonafide:erin%20walsh%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Bonafide&algorithm=SHA1&digits=6&period=30"
        );
    }
}
