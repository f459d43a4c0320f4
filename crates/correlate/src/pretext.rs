//! A fingerprint of the words a fraudster used: a bottom-k sketch of the text's word pairs. The k smallest
//! hashes of a text's word pairs are a uniform sample of them, so two texts share each one with a chance
//! equal to how many word pairs they share (their Jaccard similarity): two tellings of the same script
//! share several, unrelated texts none. Each sampled hash is an index key; [`SAME_PRETEXT`] of them in
//! common make two texts the same pretext.
//!
//! One pass, no allocation per word, linear in the text; only the first [`MAX_BYTES`] are read.

/// The most text read for a fingerprint.
pub const MAX_BYTES: usize = 64 * 1024;
/// Fewer words than this say too little to fingerprint.
pub const MIN_WORDS: usize = 8;
/// Hashes kept per text.
pub const K: usize = 6;
/// Shared hashes that make two texts the same pretext.
pub const SAME_PRETEXT: usize = 2;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Words too common to make a pair worth sampling on their own.
const STOP: &[&str] = &[
    "a", "an", "the", "and", "or", "to", "of", "in", "on", "at", "for", "is", "it", "i", "you", "we", "me", "my",
    "your", "this", "that", "be", "are", "was", "with", "if", "so", "do", "can", "just", "now", "have", "has",
];

fn mix(mut x: u64) -> u64 {
    // SplitMix64's finaliser: spreads a word pair's bits over all 64.
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn stop_hashes() -> [u64; 33] {
    let mut out = [0u64; 33];
    for (slot, word) in out.iter_mut().zip(STOP) {
        *slot = word.bytes().fold(FNV_OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME));
    }
    out
}

/// The [`K`] smallest distinct hashes of `text`'s word pairs (ascending), or `None` for fewer than
/// [`MIN_WORDS`] words.
pub fn fingerprint(text: &str) -> Option<Vec<u64>> {
    let mut end = text.len().min(MAX_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = text.get(..end).unwrap_or("");
    let stops = stop_hashes();
    let mut smallest: Vec<u64> = Vec::with_capacity(K + 1);
    let (mut words, mut previous) = (0usize, None::<(u64, bool)>);
    let mut current = FNV_OFFSET;
    let mut in_word = false;
    let mut finish = |hash: u64, previous: &mut Option<(u64, bool)>, words: &mut usize| {
        *words += 1;
        let stop = stops.contains(&hash);
        if let Some((before, before_stop)) = *previous
            && !(stop && before_stop)
        {
            let pair = mix(before ^ hash.rotate_left(29));
            if let Err(at) = smallest.binary_search(&pair)
                && at < K
            {
                smallest.insert(at, pair);
                smallest.truncate(K);
            }
        }
        *previous = Some((hash, stop));
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                let mut buf = [0u8; 4];
                for b in l.encode_utf8(&mut buf).bytes() {
                    current = (current ^ u64::from(b)).wrapping_mul(FNV_PRIME);
                }
            }
            in_word = true;
        } else if c != '\'' && in_word {
            finish(current, &mut previous, &mut words);
            current = FNV_OFFSET;
            in_word = false;
        }
    }
    if in_word {
        finish(current, &mut previous, &mut words);
    }
    (words >= MIN_WORDS && smallest.len() >= SAME_PRETEXT).then_some(smallest)
}

/// How many hashes two fingerprints share.
pub fn shared(a: &[u64], b: &[u64]) -> usize {
    a.iter().filter(|h| b.contains(h)).count()
}

/// A fingerprint as indicator text (hex hashes joined by `.`), and back.
pub fn to_text(hashes: &[u64]) -> String {
    hashes.iter().map(|h| format!("{h:016x}")).collect::<Vec<_>>().join(".")
}

/// Reads [`to_text`]'s form; anything else gives no hashes.
pub fn from_text(text: &str) -> Vec<u64> {
    text.split('.').filter_map(|h| u64::from_str_radix(h, 16).ok()).take(K).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "Hi, this is Mike from the IT help desk. We are seeing problems with your mailbox and a \
        lot of people in your office have had the same issue. I can fix it for you right now if you read me \
        the code we just sent to your phone.";

    #[test]
    fn retellings_share_hashes_and_other_texts_do_not() {
        let a = fingerprint(SCRIPT).unwrap();
        assert_eq!(a.len(), K);
        let retold = SCRIPT.replace("Mike", "Michael").replace("right now", "straight away").to_uppercase();
        let b = fingerprint(&retold).unwrap();
        assert!(shared(&a, &b) >= SAME_PRETEXT, "{}", shared(&a, &b));
        let other = fingerprint(
            "Your parcel could not be delivered because the address was incomplete; pay the fee of two \
             dollars at the link below within a day or it is returned to the sender.",
        )
        .unwrap();
        assert_eq!(shared(&a, &other), 0);
        assert_eq!(from_text(&to_text(&a)), a);
    }

    #[test]
    fn short_texts_have_no_fingerprint() {
        assert_eq!(fingerprint("call me back"), None);
        assert_eq!(fingerprint(""), None);
    }

    #[test]
    fn huge_texts_are_read_only_up_to_the_limit() {
        let huge = "é word ".repeat(MAX_BYTES);
        assert!(fingerprint(&huge).is_some());
    }
}
