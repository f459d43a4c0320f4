//! `bonafide scan` and `bonafide eval`: the analyzer on files.
//!
//! `scan` reads one text (a file, `-` for standard input, an `.eml` email) or, with `--format ndjson`, one
//! JSON object per line (`{"id", "text"}` or `{"id", "messages": [{"from", "text"}]}`) and writes one result
//! per input, in order; a malformed line gets an error object and the stream goes on, and the exit code is
//! 3 at the end if any line failed. A text with nothing to read (empty, or only whitespace and invisible
//! characters) is such a failure, or exit code 3 for one text. `eval` scores labelled NDJSON (`label`:
//! `scam` | `benign`): a `qpq` or `suspicious` verdict counts as flagging a scam; an item with nothing to
//! read is skipped and counted.

use crate::InvalidInputError;
use anyhow::Context;
use bonafide_analyzer::input::{Body, Input, InputError, error_line};
use bonafide_analyzer::{Analyzer, MAX_FINDINGS, Verdict};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable report with the evidence marked.
    Text,
    /// One JSON object.
    Json,
    /// JSON lines in, JSON lines out.
    Ndjson,
}

/// Options of `bonafide scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The input: a text file, an .eml email, NDJSON with --format ndjson, or - for standard input.
    #[arg(default_value = "-")]
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    model: ModelArgs,
}

/// Which lexicon and weights score the text.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Score with this weights file instead of the built-in one.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Score with this lexicon instead of the built-in one.
    #[arg(long)]
    lexicon: Option<PathBuf>,
}

impl ModelArgs {
    /// The analyzer these options name, or `None` for the built-in English one.
    fn load(&self) -> anyhow::Result<Option<Analyzer>> {
        if self.weights.is_none() && self.lexicon.is_none() {
            return Ok(None);
        }
        let read = |p: &Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
        let lexicon = match &self.lexicon {
            Some(p) => read(p)?,
            None => include_str!("../crates/analyzer/data/en.lex").to_owned(),
        };
        let weights = match &self.weights {
            Some(p) => read(p)?,
            None => include_str!("../crates/analyzer/data/en.weights").to_owned(),
        };
        Ok(Some(Analyzer::new(&lexicon, &weights).map_err(|e| InvalidInputError(format!("lexicon or weights: {e}")))?))
    }
}

/// Options of `bonafide eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labelled NDJSON files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelArgs,
    /// A sentence-embedding model folder (config.json, tokenizer.json, model.safetensors) for weights trained
    /// with one (`bonafide train --embeddings`); needs a build with `--features embeddings`.
    #[arg(long)]
    embeddings: Option<PathBuf>,
    /// Remove dataset artefacts before scoring: `[Company]`-style placeholders and robocall boilerplate
    /// ("press 1", "press 9 to be removed", "I repeat"), to show the score does not rest on them.
    #[arg(long)]
    strip_artefacts: bool,
}

/// Robocall boilerplate removed by `eval --strip-artefacts` (after any `press <digit>`).
const BOILERPLATE: [&str; 6] =
    ["to be removed", "i repeat", "once again", "to speak with", "to speak to", "to connect"];

/// `text` without `[...]` placeholders, "press N" and [`BOILERPLATE`] phrases (case-insensitive).
fn strip_artefacts(text: &str) -> String {
    const NUMBERS: [&str; 10] = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "zero"];
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(rest) = lower.get(i..) {
        let Some(c) = rest.chars().next() else { break };
        let skip = if c == '[' {
            rest.find(']').filter(|&end| end <= 40).map(|end| end + 1)
        } else if let Some(after) = rest.strip_prefix("press ") {
            let digit = after.chars().next().filter(char::is_ascii_digit).map(|_| 1);
            let word = NUMBERS.iter().find(|n| after.starts_with(*n)).map(|n| n.len());
            digit.or(word).map(|n| "press ".len() + n)
        } else {
            BOILERPLATE.iter().find(|b| rest.starts_with(*b)).map(|b| b.len())
        };
        let at_word_start = i == 0 || !lower[..i].ends_with(|c: char| c.is_alphanumeric());
        match skip {
            Some(n) if at_word_start || c == '[' => i += n,
            _ => {
                out.push_str(&text[i..i + c.len_utf8()]);
                i += c.len_utf8();
            }
        }
    }
    out
}

fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("reading standard input")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(bytes)
}

/// Runs `bonafide scan`.
pub fn run_scan(args: ScanArgs) -> anyhow::Result<()> {
    let custom = args.model.load()?;
    let analyzer = custom.as_ref().unwrap_or_else(|| Analyzer::english());
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.format == Format::Ndjson {
        let reader: Box<dyn BufRead> = if args.file.as_os_str() == "-" {
            Box::new(std::io::BufReader::new(std::io::stdin()))
        } else {
            let file = std::fs::File::open(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
            Box::new(std::io::BufReader::new(file))
        };
        let mut failed = 0usize;
        for (i, line) in reader.split(b'\n').enumerate() {
            let line = line.context("reading the input")?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match Input::parse(&line) {
                Ok(input) => serde_json::to_writer(&mut out, &input.answer(&input.analyze(analyzer)))?,
                Err(e) => {
                    failed += 1;
                    serde_json::to_writer(&mut out, &error_line(&line, i + 1, &e.to_string()))?;
                }
            }
            out.write_all(b"\n")?;
        }
        out.flush()?;
        if failed > 0 {
            return Err(InvalidInputError(format!("{failed} input line(s) could not be analysed")).into());
        }
        return Ok(());
    }
    let bytes = read_input(&args.file)?;
    let is_email = args.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"));
    let text = if is_email {
        bonafide_analyzer::email::text_of(&bytes)
            .ok_or_else(|| InvalidInputError(format!("{}: not an email", args.file.display())))?
    } else {
        String::from_utf8(bytes).map_err(|_| InvalidInputError(format!("{}: not UTF-8 text", args.file.display())))?
    };
    let input = Input { id: Some(args.file.display().to_string().into()), body: Body::Text(text.clone()), label: None };
    input.check_not_blank().map_err(|e| InvalidInputError(format!("{}: {e}", args.file.display())))?;
    let a = input.analyze(analyzer);
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &input.answer(&a))?;
            writeln!(out)?;
        }
        _ => {
            writeln!(out, "verdict: {} (score {:.2})", a.verdict.as_str(), a.score)?;
            for f in &a.stages {
                let kind = f.kind.map(|k| format!(" ({})", k.as_str())).unwrap_or_default();
                let before = text.get(f.start.saturating_sub(40)..f.start).unwrap_or("").replace('\n', " ");
                let after = text.get(f.end..(f.end + 40).min(text.len())).unwrap_or("").replace('\n', " ");
                writeln!(out, "  {}{kind}: …{before}»{}«{after}…", f.stage.as_str(), f.evidence)?;
                writeln!(out, "      {}", f.explanation)?;
            }
            if a.stages_truncated {
                writeln!(out, "  (more stages were found: the first {MAX_FINDINGS} are shown)")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

#[derive(Debug, Default, Serialize)]
struct Scores {
    file: String,
    items: usize,
    true_positives: usize,
    false_negatives: usize,
    false_positives: usize,
    true_negatives: usize,
    precision: f64,
    recall: f64,
    f1: f64,
    false_positive_rate: f64,
    /// Items given the `qpq` verdict (the IT-support script), whatever their label.
    qpq: usize,
    /// Items with nothing to read (an empty text, or empty once stripped of artefacts), not scored.
    skipped_empty: usize,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Runs `bonafide eval`.
pub fn run_eval(args: EvalArgs) -> anyhow::Result<()> {
    let custom = args.model.load()?;
    let analyzer = custom.as_ref().unwrap_or_else(|| Analyzer::english());
    let mut all = Vec::new();
    for path in &args.files {
        let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
        let lines = std::io::BufReader::new(file).lines().count();
        let bar = crate::progress::bar(Some(lines as u64), "items", args.json);
        let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
        let mut s = Scores { file: path.display().to_string(), ..Scores::default() };
        let mut labelled: Vec<(Input, bool)> = Vec::with_capacity(lines);
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.with_context(|| format!("{}:{}", path.display(), i + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let mut input = match Input::parse(line.as_bytes()) {
                Ok(input) => input,
                Err(InputError::Empty(_)) => {
                    s.skipped_empty += 1;
                    continue;
                }
                Err(e) => return Err(InvalidInputError(format!("{}:{}: {e}", path.display(), i + 1)).into()),
            };
            if args.strip_artefacts {
                input.body = match input.body {
                    Body::Text(t) => Body::Text(strip_artefacts(&t)),
                    Body::Messages(ms) => {
                        Body::Messages(ms.into_iter().map(|(f, t)| (f, strip_artefacts(&t))).collect())
                    }
                };
                if input.check_not_blank().is_err() {
                    s.skipped_empty += 1;
                    continue;
                }
            }
            let scam = match input.label.as_deref() {
                Some("scam") => true,
                Some("benign") => false,
                _ => {
                    return Err(InvalidInputError(format!(
                        "{}:{}: label must be scam or benign",
                        path.display(),
                        i + 1
                    ))
                    .into());
                }
            };
            labelled.push((input, scam));
        }
        let embeddings = match &args.embeddings {
            Some(model) => {
                let inputs: Vec<&Input> = labelled.iter().map(|(input, _)| input).collect();
                crate::embed::embed_all(model, &inputs, &bar)?
            }
            None => vec![],
        };
        for (i, (input, scam)) in labelled.iter().enumerate() {
            bar.inc(1);
            let a = match embeddings.get(i) {
                Some(embedding) => input.analyze_embedded(analyzer, embedding),
                None => input.analyze(analyzer),
            };
            let flagged = a.verdict != Verdict::Benign;
            s.items += 1;
            if a.verdict == Verdict::Qpq {
                s.qpq += 1;
            }
            match (*scam, flagged) {
                (true, true) => s.true_positives += 1,
                (true, false) => s.false_negatives += 1,
                (false, true) => s.false_positives += 1,
                (false, false) => s.true_negatives += 1,
            }
        }
        bar.finish_and_clear();
        s.precision = ratio(s.true_positives, s.true_positives + s.false_positives);
        s.recall = ratio(s.true_positives, s.true_positives + s.false_negatives);
        s.f1 = if s.precision + s.recall > 0.0 { 2.0 * s.precision * s.recall / (s.precision + s.recall) } else { 0.0 };
        s.false_positive_rate = ratio(s.false_positives, s.false_positives + s.true_negatives);
        all.push(s);
    }
    // Written, not printed: a closed pipe (`| head`) ends the output without a panic.
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
    } else {
        for s in &all {
            writeln!(out, "{} ({} items)", s.file, s.items)?;
            writeln!(
                out,
                "  precision {:.3}  recall {:.3}  F1 {:.3}  false-positive rate {:.3}",
                s.precision, s.recall, s.f1, s.false_positive_rate
            )?;
            writeln!(out, "                 flagged   not flagged")?;
            writeln!(out, "  scam        {:>10} {:>13}", s.true_positives, s.false_negatives)?;
            writeln!(out, "  benign      {:>10} {:>13}", s.false_positives, s.true_negatives)?;
            writeln!(out, "  {} flagged as the IT-support script (qpq)", s.qpq)?;
            if s.skipped_empty > 0 {
                writeln!(out, "  {} item(s) with nothing to read skipped", s.skipped_empty)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::strip_artefacts;

    #[test]
    fn artefacts_are_stripped_and_nothing_else() {
        assert_eq!(strip_artefacts("[Greetings], this is [Company] HR."), ", this is  HR.");
        assert_eq!(strip_artefacts("Kindly Press 1 now. I repeat, press one."), "Kindly  now. , .");
        assert_eq!(strip_artefacts("Call 1-800-555-0100 to be removed"), "Call 1-800-555-0100 ");
        // Whole words only, and a long bracketed passage is text, not a placeholder.
        assert_eq!(strip_artefacts("express 1 day"), "express 1 day");
        let long = format!("[{}]", "x".repeat(60));
        assert_eq!(strip_artefacts(&long), long);
        assert_eq!(strip_artefacts("café [x] ü"), "café  ü");
    }
}
