//! The weights of the score, read from a weights file (`data/en.weights`, or one `bonafide train` writes):
//! `name value` lines for the stage features, the bias and the word-sum scaling; `u:word` and
//! `b:first+second` for words and word pairs; `e:N` for a sentence embedding's dimensions.

use crate::{lexicon, words};

/// The weights of the score: a logistic combination of the stages a conversation shows and of its words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Weights {
    values: Vec<(String, f64)>,
    pub(crate) words: words::WordWeights,
    /// Weights of a sentence embedding's dimensions (`e:N` lines), empty unless trained with one.
    pub(crate) embedding: Vec<f32>,
}

impl Weights {
    /// Reads `name value` lines (`#` comments).
    pub fn parse(text: &str) -> Result<Self, lexicon::LexiconError> {
        let mut values = Vec::new();
        let mut word_weights = words::WordWeights::default();
        let mut embedding: Vec<f32> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: &str| lexicon::LexiconError { line: i + 1, message: message.into() };
            let (name, value) = line.split_once(char::is_whitespace).ok_or_else(|| err("expected `name value`"))?;
            let value: f64 = value.trim().parse().map_err(|_| err("the value is not a number"))?;
            if !value.is_finite() {
                return Err(err("the value is not a finite number"));
            }
            if name.starts_with("u:") || name.starts_with("b:") {
                let key = words::key_of(name).ok_or_else(|| err("a word pair is written `b:first+second`"))?;
                word_weights.insert(key, value as f32);
            } else if let Some(dimension) = name.strip_prefix("e:") {
                let dimension: usize = dimension
                    .parse()
                    .ok()
                    .filter(|d| *d < MAX_EMBEDDING)
                    .ok_or_else(|| err("an embedding weight is written `e:N`, N a dimension under 4096"))?;
                if embedding.len() <= dimension {
                    embedding.resize(dimension + 1, 0.0);
                }
                if let Some(slot) = embedding.get_mut(dimension) {
                    *slot = value as f32;
                }
            } else {
                values.push((name.to_owned(), value));
            }
        }
        Ok(Self { values, words: word_weights, embedding })
    }

    /// How many word and word-pair weights there are.
    pub fn word_count(&self) -> usize {
        self.words.len()
    }

    /// The dimension of the sentence embedding these weights were trained with, if any.
    pub fn embedding_dimension(&self) -> Option<usize> {
        (!self.embedding.is_empty()).then_some(self.embedding.len())
    }

    /// How the word sum is scaled by length: `word_power` in the file, the square root if absent.
    pub(crate) fn word_power(&self) -> f64 {
        self.get_or("word_power", 0.5)
    }

    pub(crate) fn get(&self, name: &str) -> f64 {
        self.get_or(name, 0.0)
    }

    fn get_or(&self, name: &str, absent: f64) -> f64 {
        self.values.iter().find(|(n, _)| n == name).map_or(absent, |(_, v)| *v)
    }
}

/// The largest embedding dimension a weights file may name.
const MAX_EMBEDDING: usize = 4096;
