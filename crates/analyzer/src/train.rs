//! Learning the weights: a class-balanced, L2-regularised logistic regression over the stage features and
//! the words of labelled examples, each word scaled by its naive-Bayes log-count ratio (NBSVM: Wang and
//! Manning, 2012; the ratio is folded into the written weight, so scoring needs nothing more), fitted by
//! full-batch gradient descent (AdaGrad steps) in a fixed order, so the same examples always give the
//! same weights file. `bonafide train` runs it on the team-written
//! text in `crates/analyzer/train/`.

use crate::input::{Body, Input};
use crate::{Analyzer, Message, STAGE_FEATURES, stage_features, words};
use std::collections::HashMap;
use std::fmt::Write as _;

/// How the fit runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// A word or pair is learned only if at least this many examples contain it.
    pub min_examples: usize,
    /// A word or pair in more than this share of the examples is not learned (too common to tell).
    pub max_share: f64,
    /// Words not learned alone (function words, number shapes): they say how a text is written, not what
    /// it asks. Pairs that contain them are still learned.
    pub common: Vec<String>,
    /// Word features are scaled by their naive-Bayes log-count ratio (NBSVM), smoothed by this count.
    pub nb_alpha: f64,
    /// L2 penalty on every weight but the bias.
    pub l2: f64,
    /// Gradient steps.
    pub steps: usize,
    /// AdaGrad's base step.
    pub rate: f64,
    /// Weights smaller than this are left out of the file.
    pub keep_above: f64,
    /// The word sum is divided by the number of distinct words raised to this power.
    pub word_power: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            min_examples: 2,
            max_share: 1.0,
            common: vec![],
            nb_alpha: 0.25,
            l2: 7e-5,
            steps: 1500,
            rate: 0.5,
            keep_above: 0.005,
            word_power: 0.45,
        }
    }
}

/// What a training run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Trained {
    /// The weights file.
    pub weights: String,
    /// Examples used, scams among them.
    pub examples: usize,
    /// Scams among the examples.
    pub scams: usize,
    /// Features learned (stages, words and pairs), before leaving out the small ones.
    pub features: usize,
    /// Training-set accuracy at a score of 0.5.
    pub accuracy: f64,
    /// Final mean (class-weighted) log loss.
    pub loss: f64,
}

/// A training example could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainError(pub String);

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TrainError {}

/// An example's words and pairs (each by its `words::relative_count`), its distinct-word count, its stage
/// features and whether it is a scam.
type Counted = (HashMap<String, f64>, usize, [(&'static str, f64); STAGE_FEATURES], bool);

struct Row {
    features: Vec<(usize, f64)>,
    scam: bool,
    /// The row's share of the loss: each class weighs half.
    weight: f64,
}

/// Fits weights for `lexicon` on labelled `examples` (`label` is `scam` or `benign`); `provenance` heads the
/// file as comment lines.
///
/// `embeddings`, when not empty, holds each example's sentence embedding: its dimensions become features
/// too (`e:N` weights), and scoring then needs the same embedding ([`Analyzer::analyze_embedded`]).
pub fn train(
    lexicon: &str,
    examples: &[Input],
    embeddings: &[Vec<f32>],
    options: &Options,
    provenance: &str,
) -> Result<Trained, TrainError> {
    let analyzer = Analyzer::new(lexicon, "").map_err(|e| TrainError(format!("lexicon {e}")))?;
    let mut names: Vec<String> = stage_features(&Default::default()).iter().map(|(n, _)| (*n).to_owned()).collect();
    let dimension = embeddings.first().map_or(0, Vec::len);
    if !embeddings.is_empty() && (embeddings.len() != examples.len() || embeddings.iter().any(|e| e.len() != dimension))
    {
        return Err(TrainError("one embedding of the same dimension is needed per example".into()));
    }
    names.extend((0..dimension).map(|d| format!("e:{d}")));
    let learned_from = names.len();
    let mut index: HashMap<String, usize> = names.iter().enumerate().map(|(i, n)| (n.clone(), i)).collect();

    // Words and pairs per example, counted; then only those in enough examples become features.
    let mut per_example: Vec<Counted> = vec![];
    let mut document_frequency: HashMap<String, usize> = HashMap::new();
    for (i, example) in examples.iter().enumerate() {
        let scam = match example.label.as_deref() {
            Some("scam") => true,
            Some("benign") => false,
            other => return Err(TrainError(format!("example {}: label {other:?} is not `scam` or `benign`", i + 1))),
        };
        let messages: Vec<Message<'_>> = match &example.body {
            Body::Text(t) => vec![Message { from: "", text: t }],
            Body::Messages(ms) => ms.iter().map(|(from, text)| Message { from, text }).collect(),
        };
        let judged: Vec<&str> = messages.iter().map(|m| words::said_once(m.text)).collect();
        let (seen, ..) = analyzer.stages(&messages, &judged, false);
        // As scoring counts them (`words::Tally`): each word and pair by its count relative to the
        // text's mean count per distinct word, so a text repeated is the same example.
        let mut counts: HashMap<String, f64> = HashMap::new();
        let (mut distinct, mut tokens) = (0usize, 0usize);
        for text in judged {
            words::names(text, |name| {
                let word = name.starts_with("u:");
                let count = counts.entry(name).or_default();
                if word {
                    tokens += 1;
                    distinct += usize::from(*count == 0.0);
                }
                *count += 1.0;
            });
        }
        let distinct = distinct.min(words::MAX_DISTINCT);
        for count in counts.values_mut() {
            *count = words::relative_count(*count, distinct, tokens);
        }
        let word_count = distinct;
        for name in counts.keys() {
            *document_frequency.entry(name.clone()).or_default() += 1;
        }
        per_example.push((counts, word_count, stage_features(&seen), scam));
    }
    let most = (options.max_share * examples.len() as f64).floor() as usize;
    let mut vocabulary: Vec<&String> = document_frequency
        .iter()
        .filter(|(n, df)| **df >= options.min_examples && **df <= most && !is_common(n, &options.common))
        .map(|(n, _)| n)
        .collect();
    vocabulary.sort();
    for name in vocabulary {
        index.insert(name.clone(), names.len());
        names.push(name.clone());
    }

    // Naive-Bayes log-count ratios: a word's feature is scaled by how much more often scam examples hold it
    // than benign ones (NBSVM), a prior that keeps weights on words seen in one class only modest.
    let mut ratio = vec![1.0f64; names.len()];
    {
        let alpha = options.nb_alpha.max(1e-3);
        let (mut in_scam, mut in_benign) = (vec![alpha; names.len()], vec![alpha; names.len()]);
        for (counts, _, _, scam) in &per_example {
            for name in counts.keys() {
                if let Some(&i) = index.get(name) {
                    let slot = if *scam { in_scam.get_mut(i) } else { in_benign.get_mut(i) };
                    if let Some(c) = slot {
                        *c += 1.0;
                    }
                }
            }
        }
        let (total_scam, total_benign): (f64, f64) = (in_scam.iter().sum(), in_benign.iter().sum());
        for (i, r) in ratio.iter_mut().enumerate().skip(learned_from) {
            let (s, b) = (in_scam.get(i).copied().unwrap_or(alpha), in_benign.get(i).copied().unwrap_or(alpha));
            *r = ((s / total_scam) / (b / total_benign)).ln();
        }
    }
    let mut rows: Vec<Row> = Vec::with_capacity(per_example.len());
    for (e, (counts, word_count, stages, scam)) in per_example.iter().enumerate() {
        let mut features: Vec<(usize, f64)> =
            stages.iter().enumerate().filter(|(_, (_, v))| *v != 0.0).map(|(i, (_, v))| (i, *v)).collect();
        if let Some(embedding) = embeddings.get(e) {
            features.extend(embedding.iter().enumerate().map(|(d, v)| (STAGE_FEATURES + d, f64::from(*v))));
        }
        let scale = if *word_count == 0 { 0.0 } else { 1.0 / (*word_count as f64).powf(options.word_power) };
        let mut word_features: Vec<(usize, f64)> = counts
            .iter()
            .filter_map(|(n, c)| index.get(n).map(|&i| (i, c * scale * ratio.get(i).copied().unwrap_or(1.0))))
            .collect();
        word_features.sort_by_key(|(i, _)| *i);
        features.extend(word_features);
        rows.push(Row { features, scam: *scam, weight: 0.0 });
    }
    let scams = rows.iter().filter(|r| r.scam).count();
    if scams == 0 || scams == rows.len() {
        return Err(TrainError("training needs both scam and benign examples".into()));
    }

    balance(&mut rows);
    let (mut weights, bias, loss) = fit(&rows, names.len(), options);
    let correct = rows.iter().filter(|r| (bias + dot(&weights, &r.features) >= 0.0) == r.scam).count();
    for (w, r) in weights.iter_mut().zip(&ratio) {
        *w *= r;
    }

    let mut out = String::new();
    for line in provenance.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "bias {bias:.4}");
    let _ = writeln!(out, "word_power {}", options.word_power);
    for (name, w) in names.iter().zip(&weights).take(STAGE_FEATURES) {
        let _ = writeln!(out, "{name} {w:.4}");
    }
    let mut learned: Vec<(&String, f64)> = names
        .iter()
        .zip(&weights)
        .skip(STAGE_FEATURES)
        .filter(|(_, w)| w.abs() >= options.keep_above)
        .map(|(n, w)| (n, *w))
        .collect();
    learned.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(b.0)));
    for (name, w) in learned {
        let _ = writeln!(out, "{name} {w:.4}");
    }
    Ok(Trained {
        weights: out,
        examples: rows.len(),
        scams,
        features: names.len(),
        accuracy: correct as f64 / rows.len() as f64,
        loss,
    })
}

fn is_common(name: &str, common: &[String]) -> bool {
    name.strip_prefix("u:").is_some_and(|w| common.iter().any(|c| c == w))
}

/// Gives each class half the weight of the loss, whatever their sizes.
fn balance(rows: &mut [Row]) {
    let n = rows.len() as f64;
    let scams = rows.iter().filter(|r| r.scam).count() as f64;
    for r in rows.iter_mut() {
        r.weight = n / 2.0 / if r.scam { scams } else { n - scams };
    }
}

/// A sparse row times the weights.
fn dot(weights: &[f64], features: &[(usize, f64)]) -> f64 {
    features.iter().map(|(i, v)| weights.get(*i).copied().unwrap_or(0.0) * v).sum()
}

/// Full-batch gradient descent with AdaGrad steps on the class-balanced log loss plus the L2 penalty.
fn fit(rows: &[Row], features: usize, options: &Options) -> (Vec<f64>, f64, f64) {
    let n = rows.len() as f64;
    let mut w = vec![0.0f64; features];
    let mut bias = 0.0f64;
    let mut squares = vec![1e-8f64; features];
    let mut bias_squares = 1e-8f64;
    let mut gradient = vec![0.0f64; features];
    let mut loss = 0.0;
    for _ in 0..options.steps {
        gradient.iter_mut().for_each(|g| *g = 0.0);
        let mut bias_gradient = 0.0;
        loss = 0.0;
        for r in rows {
            let z = bias + dot(&w, &r.features);
            let p = 1.0 / (1.0 + (-z).exp());
            let (y, weight) = (if r.scam { 1.0 } else { 0.0 }, r.weight);
            let residual = weight * (p - y) / n;
            loss += weight * -(if r.scam { p.max(1e-12).ln() } else { (1.0 - p).max(1e-12).ln() }) / n;
            bias_gradient += residual;
            for (i, v) in &r.features {
                if let Some(g) = gradient.get_mut(*i) {
                    *g += residual * v;
                }
            }
        }
        for ((g, wi), sq) in gradient.iter_mut().zip(w.iter_mut()).zip(squares.iter_mut()) {
            *g += options.l2 * *wi;
            *sq += *g * *g;
            *wi -= options.rate * *g / sq.sqrt();
        }
        bias_squares += bias_gradient * bias_gradient;
        bias -= options.rate * bias_gradient / bias_squares.sqrt();
    }
    (w, bias, loss)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(text: &str, label: &str) -> Input {
        Input { id: None, body: Body::Text(text.into()), label: Some(label.into()) }
    }

    #[test]
    fn training_learns_which_words_mark_a_scam_and_is_repeatable() {
        let lexicon = include_str!("../data/en.lex");
        let examples = vec![
            example("claim your prize now, reply to win", "scam"),
            example("you have won a prize, claim it today", "scam"),
            example("prize waiting: claim before midnight", "scam"),
            example("see you at lunch tomorrow", "benign"),
            example("lunch at noon? see you there", "benign"),
            example("running late, see you soon", "benign"),
        ];
        let options = Options { steps: 200, ..Options::default() };
        let trained = train(lexicon, &examples, &[], &options, "test data").unwrap();
        assert_eq!((trained.examples, trained.scams, trained.accuracy), (6, 3, 1.0));
        assert!(trained.weights.starts_with("# test data\nbias "));
        let analyzer = Analyzer::new(lexicon, &trained.weights).unwrap();
        assert!(analyzer.analyze_text("claim your prize").score > 0.5);
        assert!(analyzer.analyze_text("see you at lunch").score < 0.5);
        assert_eq!(train(lexicon, &examples, &[], &options, "test data").unwrap(), trained);
        let weight = |name: &str| {
            trained.weights.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
        };
        assert!(weight("u:prize").unwrap() > 0.0 && weight("u:see").unwrap() < 0.0);
        // A word in one example only is not learned.
        assert_eq!(weight("u:midnight"), None);
    }

    #[test]
    fn embedding_dimensions_are_learned_and_used_in_scoring() {
        let lexicon = include_str!("../data/en.lex");
        // The words say nothing; only the (made-up, two-dimensional) embedding tells the classes apart.
        let examples: Vec<Input> =
            (0..8).map(|i| example("same words here", if i % 2 == 0 { "scam" } else { "benign" })).collect();
        let embeddings: Vec<Vec<f32>> =
            (0..8).map(|i| if i % 2 == 0 { vec![1.0, 0.0] } else { vec![0.0, 1.0] }).collect();
        let options = Options { steps: 300, ..Options::default() };
        let trained = train(lexicon, &examples, &embeddings, &options, "").unwrap();
        assert_eq!(trained.accuracy, 1.0);
        let analyzer = Analyzer::new(lexicon, &trained.weights).unwrap();
        assert_eq!(analyzer.embedding_dimension(), Some(2));
        let message = [Message { from: "", text: "same words here" }];
        let scam = analyzer.analyze_embedded(&message, false, &[1.0, 0.0]).score;
        let benign = analyzer.analyze_embedded(&message, false, &[0.0, 1.0]).score;
        assert!(scam > 0.5 && benign < 0.5, "{scam} {benign}");
        // Embeddings that do not match the examples are refused.
        assert!(train(lexicon, &examples, &embeddings[..3], &options, "").is_err());
        // Weights without embedding dimensions ignore an embedding.
        let plain = Analyzer::new(lexicon, "bias 0.3\n").unwrap();
        assert_eq!(
            plain.analyze_embedded(&message, false, &[5.0, 5.0]).score,
            plain.analyze_text("same words here").score
        );
    }

    #[test]
    fn bad_labels_and_one_class_are_refused() {
        let lexicon = include_str!("../data/en.lex");
        let err = train(lexicon, &[example("x", "spam")], &[], &Options::default(), "").unwrap_err();
        assert!(err.0.contains("example 1"), "{err}");
        assert!(train(lexicon, &[example("x", "scam")], &[], &Options::default(), "").is_err());
    }
}
