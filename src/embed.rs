//! Sentence embeddings for `bonafide train` and `bonafide eval`, with the optional `embeddings` cargo
//! feature (all-MiniLM-L6-v2 through `bonafide-embed`). Without the feature, asking for them is a usage
//! error that says how to build with it.

use bonafide_analyzer::input::Input;
use indicatif::ProgressBar;
use std::path::Path;

/// How many texts are embedded between progress updates.
#[cfg(feature = "embeddings")]
const CHUNK: usize = 64;

/// The sentence embedding of each input, with the model in `model`.
#[cfg(feature = "embeddings")]
pub fn embed_all(model: &Path, inputs: &[&Input], bar: &ProgressBar) -> anyhow::Result<Vec<Vec<f32>>> {
    use anyhow::Context as _;
    let embedder = bonafide_embed::Embedder::load(model)
        .map_err(|e| crate::InvalidInputError(format!("{}: {e}", model.display())))?;
    bar.set_message("embedding");
    let mut out = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(CHUNK) {
        let texts: Vec<std::borrow::Cow<'_, str>> = chunk.iter().map(|i| i.embedding_text()).collect();
        let refs: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        out.extend(embedder.embed(&refs).context("embedding")?);
        bar.inc(chunk.len() as u64);
    }
    bar.set_position(0);
    bar.set_message("");
    Ok(out)
}

/// Without the `embeddings` feature: a usage error.
#[cfg(not(feature = "embeddings"))]
pub fn embed_all(model: &Path, _inputs: &[&Input], _bar: &ProgressBar) -> anyhow::Result<Vec<Vec<f32>>> {
    Err(crate::InvalidInputError(format!(
        "--embeddings {}: this build has no sentence embeddings; build with `cargo build --release --features embeddings`",
        model.display()
    ))
    .into())
}
