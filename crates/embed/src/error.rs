//! The one error type of this crate: what went wrong loading a model or embedding texts.

use std::path::PathBuf;

/// A boxed error from the `tokenizers` crate, which reports its errors this way.
type TokenizerSource = Box<dyn std::error::Error + Send + Sync>;

/// Why a model could not be loaded or texts could not be embedded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbedError {
    /// One of the model's files is not in the model folder.
    #[error("model file {path} is missing")]
    MissingFile {
        /// The file that was expected.
        path: PathBuf,
    },
    /// A model file exists but could not be read.
    #[error("cannot read model file {path}: {source}")]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying IO error.
        source: std::io::Error,
    },
    /// `config.json` is not a BERT configuration.
    #[error("bad model config {path}: {source}")]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What the JSON parser objected to.
        source: serde_json::Error,
    },
    /// `config.json` parses but describes a model that cannot be built.
    #[error("bad model config {path}: {reason}")]
    ConfigValue {
        /// The configuration file.
        path: PathBuf,
        /// Which value is wrong.
        reason: String,
    },
    /// The files load one by one but do not fit together (for example the tokenizer knows more
    /// tokens than the model has embeddings for).
    #[error("model files do not fit together: {0}")]
    Mismatch(String),
    /// `tokenizer.json` could not be loaded or configured.
    #[error("bad tokenizer {path}: {source}")]
    TokenizerLoad {
        /// The tokenizer file.
        path: PathBuf,
        /// What the tokenizer library objected to.
        source: TokenizerSource,
    },
    /// The tokenizer failed on the input texts.
    #[error("tokenization failed: {0}")]
    Tokenize(#[source] TokenizerSource),
    /// `model.safetensors` could not be loaded into a BERT model (missing or misshapen tensors).
    #[error("bad model weights {path}: {source}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What candle objected to.
        source: candle_core::Error,
    },
    /// A tensor operation failed while embedding.
    #[error("tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
}
