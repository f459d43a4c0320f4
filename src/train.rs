//! `bonafide train`: fits the analyzer's weights (`crates/analyzer/data/en.weights`) on the team-written,
//! labelled text in `crates/analyzer/train/en/*.ndjson`; `--check` fails if the committed file is not what
//! the committed text trains to.

use crate::InvalidInputError;
use anyhow::Context;
use bonafide_analyzer::input::Input;
use bonafide_analyzer::train::{Options, train};
use clap::Args;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Options of `bonafide train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Directory of labelled NDJSON files (`label`: scam | benign), read in name order.
    #[arg(long, default_value = "crates/analyzer/train/en")]
    data: PathBuf,
    /// The lexicon whose stages are features.
    #[arg(long, default_value = "crates/analyzer/data/en.lex")]
    lexicon: PathBuf,
    /// Words not learned alone, whitespace-separated (`#` comments); by default `common_words.txt` in
    /// `--data`, if there is one.
    #[arg(long)]
    common: Option<PathBuf>,
    /// Where to write the weights.
    #[arg(long, default_value = "crates/analyzer/data/en.weights")]
    out: PathBuf,
    /// Do not write: fail (exit 1) if `--out` differs from what training gives.
    #[arg(long)]
    check: bool,
    /// L2 penalty.
    #[arg(long, default_value_t = Options::default().l2)]
    l2: f64,
    /// Least number of examples a word must appear in to be learned.
    #[arg(long, default_value_t = Options::default().min_examples)]
    min_examples: usize,
    /// A word in more than this share of the examples is not learned.
    #[arg(long, default_value_t = Options::default().max_share)]
    max_share: f64,
    /// Gradient steps.
    #[arg(long, default_value_t = Options::default().steps)]
    steps: usize,
    /// The word sum is divided by the number of distinct words raised to this power (1: the mean).
    #[arg(long, default_value_t = Options::default().word_power)]
    word_power: f64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Also learn from sentence embeddings computed with this model folder (config.json, tokenizer.json,
    /// model.safetensors); needs a build with `--features embeddings`. Write such weights elsewhere than
    /// the built-in file: scoring with them needs the same model (`eval --embeddings`).
    #[arg(long)]
    embeddings: Option<PathBuf>,
    /// Smoothing count of the naive-Bayes ratios that scale word features.
    #[arg(long, default_value_t = Options::default().nb_alpha)]
    nb_alpha: f64,
}

/// Reads every labelled line of the `.ndjson` files in `dir`, in file-name order.
pub fn read_examples(dir: &Path) -> anyhow::Result<(Vec<Input>, Vec<String>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(InvalidInputError(format!("{}: no .ndjson files", dir.display())).into());
    }
    let mut examples = Vec::new();
    let mut summary = Vec::new();
    for path in &files {
        let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
        let before = examples.len();
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.with_context(|| format!("{}:{}", path.display(), i + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let input = Input::parse(line.as_bytes())
                .map_err(|e| InvalidInputError(format!("{}:{}: {e}", path.display(), i + 1)))?;
            if !matches!(input.label.as_deref(), Some("scam" | "benign")) {
                return Err(
                    InvalidInputError(format!("{}:{}: label must be scam or benign", path.display(), i + 1)).into()
                );
            }
            examples.push(input);
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        summary.push(format!("{name} ({} items)", examples.len() - before));
    }
    Ok((examples, summary))
}

/// The words of a common-words file: whitespace-separated, lower-cased, `#` starting a comment.
fn common_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .lines()
        .flat_map(|l| l.split('#').next().unwrap_or("").split_whitespace())
        .map(str::to_lowercase)
        .collect();
    words.sort();
    words.dedup();
    words
}

/// Runs `bonafide train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let (examples, files) = read_examples(&args.data)?;
    let lexicon =
        std::fs::read_to_string(&args.lexicon).with_context(|| format!("reading {}", args.lexicon.display()))?;
    let common_path = args.common.clone().unwrap_or_else(|| args.data.join("common_words.txt"));
    let common = match std::fs::read_to_string(&common_path) {
        Ok(text) => common_words(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && args.common.is_none() => vec![],
        Err(e) => return Err(anyhow::Error::new(e).context(format!("reading {}", common_path.display()))),
    };
    let options = Options {
        common,
        l2: args.l2,
        min_examples: args.min_examples,
        max_share: args.max_share,
        nb_alpha: args.nb_alpha,
        steps: args.steps,
        word_power: args.word_power,
        ..Options::default()
    };
    let provenance = format!(
        "Weights of the analyzer's score, learned by `bonafide train` (do not edit by hand): a class-balanced\n\
         logistic regression over naive-Bayes-scaled words (NBSVM, smoothing {}; L2 {}; words in at least {}\n\
         and at most a share {} of the examples; {} common words not learned alone; each word and pair by\n\
         its count over the mean count per distinct word, at most {}; their sum over distinct words^{};\n\
         {} steps){} over the stages of\n\
         {} and the words of the team-written examples in {}:\n{}\n\
         Stage features first, then words (`u:`) and word pairs (`b:`), largest first.",
        options.nb_alpha,
        options.l2,
        options.min_examples,
        options.max_share,
        options.common.len(),
        bonafide_analyzer::words::MAX_RELATIVE_COUNT,
        options.word_power,
        options.steps,
        args.embeddings
            .as_ref()
            .map(|m| format!(" and the sentence embeddings of {}", m.display()))
            .unwrap_or_default(),
        args.lexicon.display(),
        args.data.display(),
        files.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n"),
    );
    let embeddings = match &args.embeddings {
        Some(model) => {
            let bar = crate::progress::bar(Some(examples.len() as u64), "examples embedded", args.json);
            let inputs: Vec<&Input> = examples.iter().collect();
            let embedded = crate::embed::embed_all(model, &inputs, &bar)?;
            bar.finish_and_clear();
            embedded
        }
        None => vec![],
    };
    let spinner = crate::progress::bar(None, "examples", args.json);
    spinner.set_position(examples.len() as u64);
    let trained =
        train(&lexicon, &examples, &embeddings, &options, &provenance).map_err(|e| InvalidInputError(e.to_string()))?;
    spinner.finish_and_clear();
    let kept = trained.weights.lines().filter(|l| !l.starts_with('#')).count();
    let summary = serde_json::json!({
        "examples": trained.examples,
        "scams": trained.scams,
        "features": trained.features,
        "kept": kept,
        "training_accuracy": trained.accuracy,
        "loss": trained.loss,
        "out": args.out.display().to_string(),
    });
    if args.check {
        let current = std::fs::read_to_string(&args.out).with_context(|| format!("reading {}", args.out.display()))?;
        if current != trained.weights {
            anyhow::bail!("{} is not what the training text gives: run `bonafide train`", args.out.display());
        }
    } else {
        std::fs::write(&args.out, &trained.weights).with_context(|| format!("writing {}", args.out.display()))?;
    }
    if args.json {
        outln!("{summary}");
    } else {
        outln!(
            "{} examples ({} scams), {} features, {} weights kept; training accuracy {:.3}, loss {:.4}; {} {}",
            trained.examples,
            trained.scams,
            trained.features,
            kept,
            trained.accuracy,
            trained.loss,
            if args.check { "up to date:" } else { "wrote" },
            args.out.display()
        );
    }
    Ok(())
}
