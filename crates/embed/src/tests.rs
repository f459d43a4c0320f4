//! A tiny random BERT (hidden 16, 2 layers, 2 heads, 40-token vocabulary) and a WordPiece
//! tokenizer built here stand in for the real model, so these tests need no download.

use super::*;
use candle_nn::VarMap;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;

const WORDS: [&str; 40] = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "i", "forgot", "my", "password", "can", "'", "t", "remember", "login", "the",
    "weather", "is", "lovely", "today", "please", "reset", "account", "call", "me", "back", "bank", "urgent", "gift",
    "card", "help", "desk", "it", "support", ".", ",", "!", "?", "##s", "##ed", "##ing", "a",
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
