//! One-time recovery codes for a lost authenticator: ten codes of 10 characters (about 50 bits each),
//! stored as SHA-256 of their normalised form. They are random, so a fast hash is enough.

use sha2::{Digest, Sha256};

/// Letters and digits that cannot be mistaken for one another (no 0/o, 1/l/i).
const ALPHABET: &[u8; 31] = b"abcdefghjkmnpqrstuvwxyz23456789";
const LENGTH: usize = 10;

/// A recovery code, shown once as `xxxxx-xxxxx`.
pub struct RecoveryCode(String);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode([REDACTED])")
    }
}

impl RecoveryCode {
    /// The code as shown to the person.
    pub fn reveal(&self) -> String {
        let (a, b) = self.0.split_at(LENGTH / 2);
        format!("{a}-{b}")
    }

    /// What is stored.
    pub fn hash(&self) -> String {
        digest(&self.0)
    }
}

fn digest(normalised: &str) -> String {
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

/// `n` fresh codes.
pub fn generate_recovery_codes(n: usize) -> Vec<RecoveryCode> {
    (0..n).map(|_| RecoveryCode(random_chars(LENGTH))).collect()
}

/// `n` characters drawn uniformly from [`ALPHABET`] (also used for generated passwords).
pub(crate) fn random_chars(n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut bytes = [0u8; 16];
        rand::fill(&mut bytes);
        // 256 is not a multiple of 31: values from 248 up are dropped so that no symbol is favoured.
        for b in bytes.iter().filter(|b| **b < 248).take(n - out.len()) {
            out.push(ALPHABET.get(usize::from(*b) % ALPHABET.len()).map_or('a', |c| char::from(*c)));
        }
    }
    out
}

/// Normalises what a person typed (case, spaces, dashes) and hashes it; `None` when it cannot be a code.
pub fn hash_recovery_input(input: &str) -> Option<String> {
    let normalised: String =
        input.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_lowercase()).collect();
    let valid = normalised.len() == LENGTH && normalised.bytes().all(|b| ALPHABET.contains(&b));
    valid.then(|| digest(&normalised))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_well_formed_and_match_what_people_type() {
        let codes = generate_recovery_codes(500);
        let hashes: HashSet<String> = codes.iter().map(RecoveryCode::hash).collect();
        assert_eq!(hashes.len(), 500);
        let shown = codes[0].reveal();
        assert_eq!((shown.len(), shown.chars().nth(5)), (11, Some('-')));
        assert!(shown.chars().all(|c| c == '-' || ALPHABET.contains(&(c as u8))));
        assert_eq!(hash_recovery_input(&shown), Some(codes[0].hash()));
        let sloppy = format!("  {} ", shown.to_uppercase().replace('-', " "));
        assert_eq!(hash_recovery_input(&sloppy), Some(codes[0].hash()));
        assert!(!format!("{:?}", codes[0]).contains(&shown[..5]));
    }

    #[test]
    fn the_alphabet_has_no_lookalikes_and_every_symbol_is_drawn() {
        for ambiguous in b"0o1li" {
            assert!(!ALPHABET.contains(ambiguous), "{}", char::from(*ambiguous));
        }
        let drawn: HashSet<char> =
            generate_recovery_codes(300).iter().flat_map(|c| c.reveal().chars().collect::<Vec<_>>()).collect();
        // 3,000 draws from 31 symbols: a symbol that never occurs means a broken mapping.
        assert_eq!(drawn.len(), ALPHABET.len() + 1, "31 symbols and the dash");
    }

    #[test]
    fn what_cannot_be_a_code_is_refused() {
        for bad in ["", "abcde", "abcde-fghjk-m", "abcde-fghj0", "abcde-fghjl", "ééééé-ééééé"] {
            assert_eq!(hash_recovery_input(bad), None, "{bad}");
        }
    }
}
