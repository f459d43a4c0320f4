//! Passwords: Argon2id hashes in PHC form, a policy after NIST SP 800-63B, and a dummy verification so
//! that signing in as nobody costs what signing in as somebody does.

use crate::AuthError;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use secrecy::{ExposeSecret, SecretString};
use std::sync::LazyLock;

/// Memory cost in KiB: OWASP Password Storage Cheat Sheet, Argon2id, first recommended configuration
/// (m = 19 MiB, t = 2, p = 1).
pub const MEMORY_KIB: u32 = 19_456;
/// Iterations (time cost), same source.
pub const ITERATIONS: u32 = 2;
/// Parallelism, same source.
pub const PARALLELISM: u32 = 1;

/// Shortest accepted password, in characters.
pub const MIN_CHARS: usize = 12;
/// Longest accepted password, in characters (long passphrases are welcome; this bounds the work).
pub const MAX_CHARS: usize = 128;

/// Passwords that appear at the top of every leaked-password list, compared case-insensitively.
const COMMON: &[&str] = &[
    "password1234",
    "password123!",
    "passw0rd1234",
    "123456789012",
    "1234567890ab",
    "qwertyuiop12",
    "qwertyuiop123",
    "qwerty123456",
    "letmein12345",
    "welcome12345",
    "welcome123!!",
    "iloveyou1234",
    "admin1234567",
    "administrator",
    "changeme1234",
    "trustno1trustno1",
    "football1234",
    "baseball1234",
    "sunshine1234",
    "princess1234",
    "dragon123456",
    "monkey123456",
    "abc123456789",
    "abcdefghijkl",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "superman1234",
    "starwars1234",
    "summer2024!!",
    "winter2024!!",
    "spring2025!!",
    "autumn2025!!",
    "companyname1",
    "password1!password1!",
    "p@ssw0rd1234",
    "mypassword12",
    "secretpassword",
    "helpdesk1234",
    "itsupport123",
];

fn argon2() -> Argon2<'static> {
    // The constants are valid Argon2 parameters; `default()` is only reached if that ever changes.
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A stored password hash (PHC string: `$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

impl PasswordHash {
    /// Wraps a hash read from storage.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC text, for storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Hashes `password` with a fresh random salt.
pub fn hash_password(password: &SecretString) -> Result<PasswordHash, AuthError> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let hash = argon2()
        .hash_password_with_salt(password.expose_secret().as_bytes(), &salt)
        .map_err(|e| AuthError::Crypto(e.to_string()))?;
    Ok(PasswordHash(hash.to_string()))
}

/// Whether `password` matches `stored`. False (never a panic) for a malformed stored hash.
pub fn verify_password(stored: &PasswordHash, password: &SecretString) -> bool {
    let Ok(parsed) = argon2::PasswordHash::new(&stored.0) else { return false };
    argon2().verify_password(password.expose_secret().as_bytes(), &parsed).is_ok()
}

/// A hash made once per process with the current parameters, for [`dummy_verify`].
static DUMMY: LazyLock<Option<PasswordHash>> =
    LazyLock::new(|| hash_password(&SecretString::from("bonafide dummy password".to_owned())).ok());

/// Spends the same work as verifying a real password, for accounts that do not exist or have none.
pub fn dummy_verify(password: &SecretString) {
    if let Some(dummy) = DUMMY.as_ref() {
        let _ = verify_password(dummy, password);
    }
}

/// Whether `stored` was made with other parameters than today's and should be re-hashed at the next
/// successful sign-in.
pub fn needs_rehash(stored: &PasswordHash) -> bool {
    let Ok(parsed) = argon2::PasswordHash::new(&stored.0) else { return true };
    let param = |name: &str| parsed.params.get_decimal(name);
    parsed.algorithm.as_str() != "argon2id"
        || parsed.version != Some(u32::from(Version::V0x13))
        || param("m") != Some(MEMORY_KIB)
        || param("t") != Some(ITERATIONS)
        || param("p") != Some(PARALLELISM)
}

/// A random password that passes the policy: four groups of five characters from an unambiguous
/// alphabet (about 98 bits), for first sign-in and demos.
pub fn generate_password() -> SecretString {
    let chars = crate::recovery::random_chars(20);
    let groups: Vec<&str> = [0, 5, 10, 15].iter().filter_map(|i| chars.get(*i..i + 5)).collect();
    SecretString::from(groups.join("-"))
}

/// Checks a new password against the policy; the error is a sentence for the person choosing it.
pub fn check_password(password: &str, email: Option<&str>) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(format!("Use at least {MIN_CHARS} characters; a few unrelated words work well."));
    }
    if chars > MAX_CHARS {
        return Err(format!("Use at most {MAX_CHARS} characters."));
    }
    let mut distinct = password.chars();
    if let Some(first) = distinct.next()
        && distinct.all(|c| c == first)
    {
        return Err("Do not repeat one character.".into());
    }
    let lower = password.to_lowercase();
    if let Some(local) = email.and_then(|e| e.split('@').next()).map(str::to_lowercase)
        && local.chars().count() >= 4
        && lower.contains(&local)
    {
        return Err("Do not use your email address in your password.".into());
    }
    if COMMON.iter().any(|c| *c == lower) {
        return Err("This password is one of the most common ones; choose another.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn hashes_verify_only_their_password_and_use_the_owasp_parameters() {
        let h = hash_password(&secret("correct horse battery staple")).unwrap();
        assert!(h.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", h.as_str());
        assert!(verify_password(&h, &secret("correct horse battery staple")));
        assert!(!verify_password(&h, &secret("correct horse battery stapler")));
        let again = hash_password(&secret("correct horse battery staple")).unwrap();
        assert_ne!(h, again, "salted");
        assert!(!needs_rehash(&h));
        assert!(!format!("{h:?}").contains("argon2id"));
    }

    #[test]
    fn malformed_or_foreign_hashes_never_verify_and_ask_for_a_rehash() {
        for stored in ["", "plain text", "$argon2id$v=19$m=19456,t=2,p=1$bad", "$2b$12$abcdefghijklmnopqrstuv"] {
            let h = PasswordHash::from_stored(stored.to_owned());
            assert!(!verify_password(&h, &secret("anything at all")), "{stored}");
            assert!(needs_rehash(&h), "{stored}");
        }
        let weaker = "$argon2id$v=19$m=4096,t=1,p=1$c29tZXNhbHQ$ZmFrZWhhc2hmYWtlaGFzaA";
        assert!(needs_rehash(&PasswordHash::from_stored(weaker.into())));
        let old_version = "$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHQ$ZmFrZWhhc2hmYWtlaGFzaA";
        assert!(needs_rehash(&PasswordHash::from_stored(old_version.into())));
    }

    #[test]
    fn hashes_made_with_older_parameters_still_verify_with_their_own() {
        // Reference implementation (phc-winner-argon2) test vector: Argon2id v1.3, t=2, m=2^8 KiB, p=1,
        // password "password", salt "somesalt".
        let reference = PasswordHash::from_stored(
            "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4".into(),
        );
        assert!(verify_password(&reference, &secret("password")));
        assert!(!verify_password(&reference, &secret("passwore")));
        assert!(needs_rehash(&reference));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let dummy = DUMMY.as_ref().unwrap();
        assert!(dummy.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!needs_rehash(dummy), "same parameters as real hashes");
        assert!(!verify_password(dummy, &secret("whatever")));
        dummy_verify(&secret("whatever"));
    }

    #[test]
    fn generated_passwords_pass_the_policy_and_differ() {
        let (a, b) = (generate_password(), generate_password());
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(a.expose_secret().len(), 23);
        assert!(check_password(a.expose_secret(), Some("erin@example.com")).is_ok());
    }

    #[test]
    fn the_policy_refuses_short_repeated_personal_and_common_passwords() {
        assert!(check_password("correct horse battery staple", Some("erin@example.com")).is_ok());
        assert!(check_password("short", None).unwrap_err().contains("12"));
        assert!(check_password(&"a".repeat(129), None).is_err());
        assert!(check_password("aaaaaaaaaaaaaa", None).is_err());
        assert!(check_password("my erin.walsh password", Some("Erin.Walsh@example.com")).is_err());
        assert!(check_password("QwertyUiop12", None).unwrap_err().contains("common"));
        assert!(check_password("ééééééééééé", None).is_err(), "11 characters, counted as characters");
        assert!(check_password("éééééééééééa", None).is_ok(), "12 characters in 23 bytes");
    }

    #[test]
    fn the_length_limits_are_inclusive() {
        assert!(check_password("abcdefghijk", None).is_err());
        assert!(check_password("abcdefghijkm", None).is_ok());
        assert!(check_password(&"ab".repeat(64), None).is_ok());
        assert!(check_password(&format!("{}c", "ab".repeat(64)), None).unwrap_err().contains("128"));
    }

    #[test]
    fn the_email_local_part_counts_only_when_it_is_long_enough_to_matter() {
        let email = Some("erin@example.com");
        assert!(check_password("ERIN is great 2026", email).is_err(), "contained, any case");
        assert!(check_password("erinerinerin", email).is_err(), "made of it");
        assert!(check_password("bob likes long walks", Some("bob@example.com")).is_ok(), "3 characters");
        assert!(check_password("example.com is my home", email).is_ok(), "only the local part");
    }

    #[test]
    fn every_common_password_is_refused_as_common_whatever_its_case() {
        assert!(COMMON.len() >= 40);
        for common in COMMON {
            // An entry shorter than the minimum or not in lowercase would never be reached.
            let err = check_password(&common.to_uppercase(), None).unwrap_err();
            assert!(err.contains("common"), "{common}: {err}");
        }
    }

    #[test]
    fn policy_messages_are_sentences_for_people() {
        for bad in ["short", "aaaaaaaaaaaaaaaa", "password1234"] {
            let err = check_password(bad, None).unwrap_err();
            assert!(err.starts_with(char::is_uppercase) && err.ends_with('.'), "{err}");
        }
    }
}
