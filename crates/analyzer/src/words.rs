//! The learned word part of the score: a text's words and word pairs, normalised (lower case, numbers by
//! shape, currency signs as one token), each with a weight learned by `bonafide train`. The stage lexicon
//! says *why* a text looks like a script; the words catch the many ways scams are worded that no lexicon
//! lists.
//!
//! A word or pair counts by how often it is said *relative to the text's other words* (its count over the
//! mean count per distinct word, at most [`MAX_RELATIVE_COUNT`]), and the sum is divided by a power of the
//! number of distinct words: evidence is what a text says, not how often it says it, so repeating a text
//! ("hi hi hi …", or a benign message pasted a thousand times) leaves its score where it was.
//!
//! One pass over the text, a fixed-size buffer for the current word, a hash lookup per word and per pair,
//! a set of the distinct words (at most [`MAX_DISTINCT`]) and a count per weighted feature seen (at most
//! as many as there are weights): linear time and bounded memory whatever the input.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Longest word kept as itself; longer runs become one "long word" token.
const MAX_WORD: usize = 32;

/// The token for a currency sign.
pub const CURRENCY: &str = "<cur>";

/// Calls `f` with each normalised token of `text`, in order.
///
/// A token is a run of letters and digits (apostrophes inside a word are dropped, so "don't" is "dont"),
/// lower-cased. Numbers are replaced by their shape: `<n1>` (one digit, "press 1"), `<n3>` (two or three),
/// `<n4>` (four: years, PINs), `<n5>` (five or more: phone numbers, references); a word mixing letters and
/// three or more digits (a reference such as "GB7460") is `<ref>`. Currency signs are [`CURRENCY`].
pub fn for_each_token(text: &str, mut f: impl FnMut(&str)) {
    tokens_while(text, |token, _| {
        f(token);
        true
    });
}

/// [`for_each_token`], with the byte where each token starts, for as long as `f` answers true.
fn tokens_while(text: &str, mut f: impl FnMut(&str, usize) -> bool) {
    let mut word = String::with_capacity(MAX_WORD * 4);
    let mut digits = 0usize;
    let mut chars = 0usize;
    let mut start = 0usize;
    fn flush(
        word: &mut String,
        digits: &mut usize,
        chars: &mut usize,
        start: usize,
        f: &mut impl FnMut(&str, usize) -> bool,
    ) -> bool {
        let mut more = true;
        if *chars > 0 {
            let shaped = match (*digits, *chars) {
                (0, _) if *chars > MAX_WORD => "<long>",
                (0, _) => word.as_str(),
                (d, c) if d == c => match d {
                    1 => "<n1>",
                    2 | 3 => "<n3>",
                    4 => "<n4>",
                    _ => "<n5>",
                },
                (d, _) if d >= 3 => "<ref>",
                (_, c) if c > MAX_WORD => "<long>",
                _ => word.as_str(),
            };
            more = f(shaped, start);
        }
        word.clear();
        *digits = 0;
        *chars = 0;
        more
    }
    let mut previous_was_word = false;
    let mut iter = text.char_indices().peekable();
    while let Some((at, c)) = iter.next() {
        if c.is_alphanumeric() {
            if chars == 0 {
                start = at;
            }
            chars += 1;
            if c.is_ascii_digit() {
                digits += 1;
            }
            if chars <= MAX_WORD {
                if c.is_ascii() {
                    word.push(c.to_ascii_lowercase());
                } else {
                    word.extend(c.to_lowercase());
                }
            }
            previous_was_word = true;
        } else if (c == '\'' || c == '\u{2019}')
            && previous_was_word
            && iter.peek().is_some_and(|(_, n)| n.is_alphabetic())
        {
            // "don't", "it's": one word.
        } else if is_invisible(c) {
            // "Pa\u{2060}ss\u{200b}word": invisible characters hidden inside a word to dodge filters.
        } else {
            if !flush(&mut word, &mut digits, &mut chars, start, &mut f) {
                return;
            }
            previous_was_word = false;
            if matches!(c, '$' | '£' | '€' | '₹' | '¥') && !f(CURRENCY, at) {
                return;
            }
        }
    }
    flush(&mut word, &mut digits, &mut chars, start, &mut f);
}

/// The most tokens a repeated passage may have to be found ([`said_once`]); it bounds the memory the
/// search takes (24 bytes a token).
pub const MAX_PASSAGE: usize = 1 << 15;

/// The part of `text` that is judged: its first copy when the text is one passage said two or more times
/// over (its tokens, as [`for_each_token`] gives them, repeat with a period, the last copy perhaps cut
/// short), else the whole text. A copy ends where the next one starts, so the first keeps its closing
/// punctuation.
///
/// A text pasted a thousand times says what it said once; judging the whole would add what only the
/// seams say (a pair of the last word and the first, a claim from the end of one copy before an ask at
/// the start of the next). Linear time: the prefix function (Knuth–Morris–Pratt) over token hashes, for
/// at most [`MAX_PASSAGE`] tokens, then only the period found is checked; the search stops as soon as no
/// second copy could fit in the rest of the text.
pub fn said_once(text: &str) -> &str {
    #[derive(Default)]
    struct Search {
        /// Each token kept: its hash, where it starts, and the prefix function (the longest proper
        /// prefix of the tokens so far that is also their suffix).
        kept: Vec<(u64, usize, usize)>,
        tokens: usize,
        /// The shortest period of the tokens so far.
        period: usize,
        given_up: bool,
    }
    // About one token in six bytes of ordinary text, and no more than half are read before giving up.
    let expected = (text.len() / 10 + 1).min(MAX_PASSAGE);
    let mut s = Search { kept: Vec::with_capacity(expected), ..Search::default() };
    // No second copy fits once the first would take more than about half the text (shaped numbers,
    // separators and letter cases can make copies differ a little in length).
    let half = text.len() / 2 + text.len() / 16 + 8;
    tokens_while(text, |token, at| {
        let h = hash(token);
        let i = s.tokens;
        s.tokens += 1;
        if i < MAX_PASSAGE {
            let hash_at = |k: usize| s.kept.get(k).map(|t| t.0);
            let mut k = s.kept.last().map_or(0, |t| t.2);
            while k > 0 && hash_at(k) != Some(h) {
                k = s.kept.get(k - 1).map_or(0, |t| t.2);
            }
            if i > 0 && hash_at(k) == Some(h) {
                k += 1;
            }
            s.kept.push((h, at, k));
            s.period = i + 1 - k;
            // A period as long as the text so far: the first copy, if any, has not ended yet.
            s.given_up = s.period == i + 1 && at > half;
        } else {
            // Beyond the tokens kept, the text repeats the period found or is not a repetition.
            s.given_up = s.period * 2 > MAX_PASSAGE || s.kept.get(i % s.period).map(|t| t.0) != Some(h);
        }
        !s.given_up
    });
    if s.given_up || s.period == 0 || s.period * 2 > s.tokens {
        return text;
    }
    s.kept.get(s.period).and_then(|t| text.get(..t.1)).unwrap_or(text)
}

/// Whether `text` holds nothing to read: it is empty, or only whitespace, control and invisible
/// characters.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || c.is_control() || is_invisible(c))
}

/// Characters that print as nothing: zero-width spaces and joiners, direction marks, soft hyphens.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// A text without its invisible characters, and where each of its bytes was in the original. Texts
/// with none (nearly all) are borrowed as they are, with no copy and no map.
pub struct Visible<'a> {
    text: std::borrow::Cow<'a, str>,
    /// For each byte of `text` (and its end), the byte in the original; empty when nothing was removed.
    offsets: Vec<usize>,
}

impl<'a> Visible<'a> {
    /// `original` without its invisible characters.
    pub fn of(original: &'a str) -> Self {
        if !original.chars().any(is_invisible) {
            return Self { text: original.into(), offsets: vec![] };
        }
        let mut text = String::with_capacity(original.len());
        let mut offsets = Vec::with_capacity(original.len() + 1);
        for (at, c) in original.char_indices() {
            if !is_invisible(c) {
                text.push(c);
                offsets.extend((0..c.len_utf8()).map(|i| at + i));
            }
        }
        offsets.push(original.len());
        Self { text: text.into(), offsets }
    }

    /// The text to search.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The original byte offset of byte `at` of [`Self::text`].
    pub fn original(&self, at: usize) -> usize {
        if self.offsets.is_empty() { at } else { self.offsets.get(at).copied().unwrap_or(at) }
    }
}

/// FNV-1a of a token: the key of its weight.
pub fn hash(token: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in token.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The key of a word pair, from its words' keys.
pub fn pair(first: u64, second: u64) -> u64 {
    first.rotate_left(23) ^ second.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Word and word-pair weights by key.
pub type WordWeights = HashMap<u64, f32, BuildHasherDefault<KeyHasher>>;

/// The key of a weight's name in the weights file: `u:word` for a word, `b:first+second` for a pair.
pub fn key_of(name: &str) -> Option<u64> {
    if let Some(word) = name.strip_prefix("u:") {
        return Some(hash(word));
    }
    let (first, second) = name.strip_prefix("b:")?.split_once('+')?;
    Some(pair(hash(first), hash(second)))
}

/// A set of keys that are already hashes.
type KeySet = HashSet<u64, BuildHasherDefault<KeyHasher>>;

/// Distinct words counted for the length normaliser. Beyond it (a text of book length) a new word no
/// longer dilutes the score; it keeps the set's memory bounded. Training counts the same way.
pub const MAX_DISTINCT: usize = 1 << 16;

/// The most a word or pair counts for, in units of the text's mean count per distinct word: a word said
/// ten times as often as the text's others says no more than that.
pub const MAX_RELATIVE_COUNT: f64 = 10.0;

/// What a word or pair seen `count` times counts for in a text of `tokens` words, `distinct` of them
/// different: its count relative to the mean count per distinct word (1 for a word said once in a text
/// that repeats nothing), at most [`MAX_RELATIVE_COUNT`]. Repeating a whole text multiplies `count` and
/// `tokens` alike, so it changes nothing. Scoring ([`Tally`]) and training both use it.
pub fn relative_count(count: f64, distinct: usize, tokens: usize) -> f64 {
    if tokens == 0 { 0.0 } else { (count * distinct as f64 / tokens as f64).min(MAX_RELATIVE_COUNT) }
}

/// Sums the weights of a text's words and pairs, each by its [`relative_count`], and divides by a power
/// of the number of distinct words; messages are kept apart (no pair spans two messages).
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// The distinct words (at most [`MAX_DISTINCT`]).
    words: KeySet,
    /// How many words, repeats included.
    tokens: usize,
    /// Each weighted word and pair seen, with its weight and count (at most as many as there are
    /// weights).
    seen: HashMap<u64, (f32, u32), BuildHasherDefault<KeyHasher>>,
}

impl Tally {
    /// Adds one message.
    pub fn add(&mut self, weights: &WordWeights, text: &str) {
        let mut previous: Option<u64> = None;
        for_each_token(text, |token| {
            let h = hash(token);
            self.tokens = self.tokens.saturating_add(1);
            if self.words.len() < MAX_DISTINCT {
                self.words.insert(h);
            }
            self.count(weights, h);
            // A word said twice in a row ("hello hello", "hi hi") is a stutter or an echo, not a phrase.
            if let Some(p) = previous.filter(|p| *p != h) {
                self.count(weights, pair(p, h));
            }
            previous = Some(h);
        });
    }

    /// Counts feature `key` if it has a weight.
    fn count(&mut self, weights: &WordWeights, key: u64) {
        if let Some(&w) = weights.get(&key) {
            let (_, count) = self.seen.entry(key).or_insert((w, 0));
            *count = count.saturating_add(1);
        }
    }

    /// How many distinct words (at most [`MAX_DISTINCT`]).
    pub fn words(&self) -> usize {
        self.words.len()
    }

    /// The weights of the words and pairs seen, each by its [`relative_count`].
    pub fn sum(&self) -> f64 {
        let (distinct, tokens) = (self.words.len(), self.tokens);
        self.seen.values().map(|(w, c)| f64::from(*w) * relative_count(f64::from(*c), distinct, tokens)).sum()
    }

    /// The words' contribution to the score: [`Self::sum`] divided by the number of distinct words raised
    /// to `power` (1 is the mean weight, so a long text is not condemned by the number of its words alone).
    pub fn value(&self, power: f64) -> f64 {
        if self.words.is_empty() { 0.0 } else { self.sum() / (self.words.len() as f64).powf(power) }
    }
}

/// Each token and each pair of a message as names (`u:…`, `b:…+…`), for training.
pub fn names(text: &str, mut f: impl FnMut(String)) {
    let mut previous: Option<String> = None;
    for_each_token(text, |token| {
        f(format!("u:{token}"));
        if let Some(p) = previous.as_deref().filter(|p| *p != token) {
            f(format!("b:{p}+{token}"));
        }
        previous = Some(token.to_owned());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut out = vec![];
        for_each_token(text, |t| out.push(t.to_owned()));
        out
    }

    #[test]
    fn words_are_normalised_by_shape() {
        assert_eq!(
            tokens("Press 1 NOW! Call 0906-170 or win £1,000 (ref GB7460). Don't."),
            [
                "press", "<n1>", "now", "call", "<n4>", "<n3>", "or", "win", "<cur>", "<n1>", "<n3>", "ref", "<ref>",
                "dont"
            ]
        );
        assert_eq!(tokens("it’s ÉTÉ b4 2moro"), ["its", "été", "b4", "2moro"]);
        assert_eq!(tokens(&"a".repeat(100)), ["<long>"]);
        assert_eq!(tokens(" ' ’ "), Vec::<String>::new());
        assert_eq!(tokens("Pa\u{2060}ss\u{200b}word, re\u{00ad}set"), ["password", "reset"]);
    }

    #[test]
    fn names_and_keys_agree() {
        let mut weights = WordWeights::default();
        let mut all = vec![];
        names("Read me the code", |n| all.push(n));
        assert_eq!(all, ["u:read", "u:me", "b:read+me", "u:the", "b:me+the", "u:code", "b:the+code"]);
        let mut echoed = vec![];
        names("hello hello you", |n| echoed.push(n));
        assert_eq!(echoed, ["u:hello", "u:hello", "u:you", "b:hello+you"]);
        weights.insert(key_of("u:code").unwrap(), 1.0);
        weights.insert(key_of("b:the+code").unwrap(), 2.0);
        let mut tally = Tally::default();
        tally.add(&weights, "read me THE code");
        assert_eq!((tally.sum(), tally.words()), (3.0, 4));
        assert_eq!(tally.value(0.5), 1.5);
        assert_eq!(key_of("x:y"), None);
    }

    /// Issue 15, point 15: each word and pair counted at every occurrence, so a repeated word raised the
    /// sum faster than the length normaliser.
    #[test]
    fn regression_15_15_repeating_a_text_leaves_its_word_part_unchanged() {
        let mut weights = WordWeights::default();
        weights.insert(key_of("u:hi").unwrap(), 0.5);
        weights.insert(key_of("b:hi+hi").unwrap(), 0.25);
        weights.insert(key_of("u:there").unwrap(), -0.5);
        weights.insert(key_of("b:hi+there").unwrap(), 1.0);
        let tally = |messages: &[&str]| {
            let mut t = Tally::default();
            for m in messages {
                t.add(&weights, m);
            }
            t
        };
        let hi = tally(&["hi"]);
        assert_eq!((hi.sum(), hi.words(), hi.value(0.5)), (0.5, 1, 0.5));
        for n in [2, 1_000, 10_000] {
            // One word, said n times: the mean count, so it counts once; "hi hi" is no pair (a stutter or
            // an echo, whatever its weight).
            let t = tally(&["hi ".repeat(n).as_str()]);
            assert_eq!((t.words(), t.sum()), (1, 0.5), "hi × {n}");
        }
        // A text repeated, in one message or in many, says what it said once.
        let once = tally(&["hi there"]);
        assert_eq!((once.sum(), once.words()), (1.0, 2));
        let many = tally(&["hi there"; 50]);
        assert_eq!((many.sum(), many.value(0.5)), (once.sum(), once.value(0.5)));
        // A word said more often than the others counts more, but at most MAX_RELATIVE_COUNT times.
        let stressed = tally(&["hi hi hi there"]);
        assert_eq!((stressed.words(), stressed.sum()), (2, 0.75 - 0.25 + 0.5));
        let others: String = (0..100).map(|i| format!("w{i} ")).collect();
        let shouted = tally(&[format!("{others}{}", "hi ".repeat(10_000)).as_str()]);
        assert_eq!(shouted.sum(), 0.5 * MAX_RELATIVE_COUNT);
        assert_eq!(relative_count(1.0, 0, 0), 0.0);
    }

    #[test]
    fn a_passage_said_over_and_over_is_judged_once() {
        let text = "Hi there, it's IT. Read me the code.";
        assert_eq!(said_once(text), text);
        for (copies, separator) in [(2, " "), (3, "\n\n"), (50, ". "), (1_000, "\n")] {
            let repeated = vec![text; copies].join(separator);
            assert_eq!(said_once(&repeated), format!("{text}{separator}"), "{copies} × {separator:?}");
        }
        // Copies may differ in case, spacing, punctuation and the digits of a number: they say the same.
        let loose = "Call 0800 123456 now! call 0800 654321 NOW";
        assert_eq!(said_once(loose), "Call 0800 123456 now! ");
        // The last copy may be cut short; two whole copies are needed.
        assert_eq!(said_once("a b c a b c a"), "a b c ");
        assert_eq!(said_once("a b c a b"), "a b c a b");
        assert_eq!(said_once("hi hi hi"), "hi ");
        assert_eq!(said_once("hi"), "hi");
        // A text that repeats a passage and then says something else is not a repetition.
        assert_eq!(said_once("a b a b c"), "a b a b c");
        assert_eq!(said_once(""), "");
        assert_eq!(said_once(" ,. "), " ,. ");
        // Longer than the tokens searched: a passage repeated stays found, anything else ends the search.
        let long = "read me the code. ".repeat(MAX_PASSAGE);
        assert_eq!(said_once(&long), "read me the code. ");
        let broken = format!("{long}and then something else");
        assert_eq!(said_once(&broken), broken);
        let word =
            |i: usize| -> String { (0..4).map(|d| char::from(b'a' + (i / 26usize.pow(d) % 26) as u8)).collect() };
        let distinct: String = (0..MAX_PASSAGE).map(|i| word(i) + " ").collect();
        let twice = format!("{distinct}{distinct}");
        assert_eq!(said_once(&twice), twice, "a passage longer than MAX_PASSAGE / 2 is not looked for");
    }

    #[test]
    fn blank_texts_are_whitespace_control_and_invisible_characters_only() {
        for blank in ["", " ", "\n\t\r ", "\u{200b}\u{feff}\u{2060}", " \u{00ad} \u{0} "] {
            assert!(is_blank(blank), "{blank:?}");
        }
        for text in ["a", " ? ", "\u{200b}x", "١"] {
            assert!(!is_blank(text), "{text:?}");
        }
    }
}
