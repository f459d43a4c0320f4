//! `bonafide bench analyze`: the analyzer's throughput against the reference baseline (scikit-learn TF-IDF
//! + logistic regression, `../shared/bench/sklearn_baseline.py`) on the same input, in the same run.
//!
//! Both are timed on texts already in memory, one message per call, on one core: the way a streaming
//! analyzer works. The end-to-end figure (reading JSON lines, analysing, writing JSON lines, as `bonafide
//! scan --format ndjson` does) is reported too, with the process's peak memory; and `bonafide scan --format
//! ndjson` itself is run as a child process on the repeated input, timed from start to exit, its peak
//! memory sampled from `/proc` while it runs.

use anyhow::Context;
use bonafide_analyzer::Analyzer;
use bonafide_analyzer::input::{Body, Input};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Options of `bonafide bench analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeBenchArgs {
    /// Labelled or unlabelled NDJSON messages to analyse.
    #[arg(long, default_value = "../shared/data/vishing_transcripts.dev.ndjson")]
    input: PathBuf,
    /// Times the input is repeated, for a longer measurement.
    #[arg(long, default_value_t = 50)]
    repeat: usize,
    /// The Python with scikit-learn that runs the baseline (`--baseline none` skips it).
    #[arg(long, env = "BONAFIDE_SKLEARN_PYTHON", default_value = "~/.cache/skl/bin/python")]
    python: String,
    /// The baseline script.
    #[arg(long, default_value = "../shared/bench/sklearn_baseline.py")]
    baseline: String,
    /// Training files for the baseline.
    #[arg(long, default_values = ["../shared/data/vishing_transcripts.dev.ndjson", "../shared/data/sms_scam.dev.ndjson"])]
    train: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Deserialize, Serialize)]
struct Baseline {
    messages: usize,
    batch_msgs_per_s: f64,
    one_by_one_msgs_per_s: f64,
}

#[derive(Serialize)]
struct Figures {
    messages: usize,
    mean_chars: f64,
    analyzer_msgs_per_s: f64,
    analyzer_end_to_end_msgs_per_s: f64,
    /// `bonafide scan --format ndjson` as its own process, start to exit.
    scan_process_msgs_per_s: f64,
    scan_process_peak_rss_mib: f64,
    baseline: Option<Baseline>,
    ratio_to_baseline_one_by_one: Option<f64>,
    scan_process_ratio_to_baseline_one_by_one: Option<f64>,
    peak_rss_mib: f64,
}

/// A process's peak resident memory (`VmHWM`) from its `/proc/…/status`.
fn peak_rss_of(status_file: &str) -> Option<f64> {
    let status = std::fs::read_to_string(status_file).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn peak_rss_mib() -> f64 {
    peak_rss_of("/proc/self/status").unwrap_or(0.0)
}

/// Runs `bonafide scan --format ndjson` (this executable) on `lines` repeated `repeat` times, its output
/// read through a pipe: messages per second from start to exit, and its peak memory in MiB, sampled every
/// few milliseconds while it runs.
fn time_scan_process(lines: &[&str], repeat: usize) -> anyhow::Result<(f64, f64)> {
    let mut input = tempfile::NamedTempFile::new().context("creating the scan input")?;
    {
        let mut w = std::io::BufWriter::new(input.as_file_mut());
        for _ in 0..repeat {
            for line in lines {
                w.write_all(line.as_bytes())?;
                w.write_all(b"\n")?;
            }
        }
        w.flush()?;
    }
    let exe = std::env::current_exe().context("finding this executable")?;
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args(["scan", "--format", "ndjson"])
        .arg(input.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting bonafide scan")?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut stdout = child.stdout.take().context("the scan's output")?;
    let counter = std::thread::spawn(move || -> std::io::Result<usize> {
        let mut buf = vec![0u8; 1 << 16];
        let mut lines = 0;
        loop {
            let n = stdout.read(&mut buf)?;
            if n == 0 {
                return Ok(lines);
            }
            lines += buf.iter().take(n).filter(|&&b| b == b'\n').count();
        }
    });
    let mut peak = 0.0f64;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        peak = peak.max(peak_rss_of(&status_file).unwrap_or(0.0));
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    let written = counter.join().map_err(|_| anyhow::anyhow!("the output reader failed"))??;
    anyhow::ensure!(status.success(), "bonafide scan failed ({status})");
    let expected = lines.len() * repeat;
    anyhow::ensure!(written == expected, "bonafide scan wrote {written} lines for {expected}");
    Ok((written as f64 / elapsed, peak))
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_owned(),
    }
}

/// Runs `bonafide bench analyze`.
pub fn run_analyze(args: AnalyzeBenchArgs) -> anyhow::Result<()> {
    let raw = std::fs::read_to_string(&args.input).with_context(|| format!("reading {}", args.input.display()))?;
    let lines: Vec<&str> = raw.lines().filter(|l| !l.trim().is_empty()).collect();
    let items: Vec<Input> = lines.iter().filter_map(|l| Input::parse(l.as_bytes()).ok()).collect();
    anyhow::ensure!(!items.is_empty(), "{} has no messages", args.input.display());
    let analyzer = Analyzer::english();
    let repeat = args.repeat.max(1);
    let chars: usize = items
        .iter()
        .map(|i| match &i.body {
            Body::Text(t) => t.len(),
            Body::Messages(ms) => ms.iter().map(|(_, t)| t.len()).sum(),
        })
        .sum();

    // In memory, one message per call.
    let started = Instant::now();
    let mut flagged = 0usize;
    for _ in 0..repeat {
        for item in &items {
            let a = item.analyze(analyzer);
            flagged += usize::from(a.verdict != bonafide_analyzer::Verdict::Benign);
        }
    }
    let in_memory = (items.len() * repeat) as f64 / started.elapsed().as_secs_f64().max(1e-9);
    std::hint::black_box(flagged);

    // End to end: JSON lines in, JSON lines out (to a sink).
    let started = Instant::now();
    let mut sink = std::io::sink();
    for _ in 0..repeat {
        for line in &lines {
            let Ok(item) = Input::parse(line.as_bytes()) else { continue };
            let a = item.analyze(analyzer);
            serde_json::to_writer(&mut sink, &item.answer(&a))?;
            sink.write_all(b"\n")?;
        }
    }
    let end_to_end = (lines.len() * repeat) as f64 / started.elapsed().as_secs_f64().max(1e-9);

    // The command itself, as a user runs it.
    let (scan_process, scan_peak) = time_scan_process(&lines, repeat)?;

    let baseline = if args.baseline == "none" {
        None
    } else {
        let mut command = std::process::Command::new(expand_home(&args.python));
        command.arg(&args.baseline);
        for t in &args.train {
            command.arg("--train").arg(t);
        }
        let out = command
            .arg("--input")
            .arg(&args.input)
            .arg("--json")
            .output()
            .with_context(|| format!("running the baseline with {}", args.python))?;
        anyhow::ensure!(out.status.success(), "the baseline failed: {}", String::from_utf8_lossy(&out.stderr));
        Some(serde_json::from_slice::<Baseline>(&out.stdout).context("reading the baseline's JSON")?)
    };
    let figures = Figures {
        messages: items.len(),
        mean_chars: chars as f64 / items.len() as f64,
        analyzer_msgs_per_s: in_memory,
        analyzer_end_to_end_msgs_per_s: end_to_end,
        scan_process_msgs_per_s: scan_process,
        scan_process_peak_rss_mib: scan_peak,
        ratio_to_baseline_one_by_one: baseline.as_ref().map(|b| in_memory / b.one_by_one_msgs_per_s.max(1e-9)),
        scan_process_ratio_to_baseline_one_by_one: baseline
            .as_ref()
            .map(|b| scan_process / b.one_by_one_msgs_per_s.max(1e-9)),
        baseline,
        peak_rss_mib: peak_rss_mib(),
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        outln!(
            "{} messages of {:.0} characters on average, one core, {repeat} passes",
            figures.messages,
            figures.mean_chars
        );
        outln!("  analyzer, one message per call      {:>10.0} msg/s", figures.analyzer_msgs_per_s);
        outln!("  analyzer, JSON lines in and out     {:>10.0} msg/s", figures.analyzer_end_to_end_msgs_per_s);
        outln!(
            "  bonafide scan --format ndjson       {:>10.0} msg/s (its own process, peak memory {:.0} MiB)",
            figures.scan_process_msgs_per_s,
            figures.scan_process_peak_rss_mib
        );
        if let (Some(b), Some(r)) = (&figures.baseline, figures.ratio_to_baseline_one_by_one) {
            outln!("  baseline (sklearn), one per call    {:>10.0} msg/s", b.one_by_one_msgs_per_s);
            outln!("  baseline (sklearn), one batch       {:>10.0} msg/s", b.batch_msgs_per_s);
            outln!("  analyzer / baseline one per call:   {r:.0}x");
            if let Some(r) = figures.scan_process_ratio_to_baseline_one_by_one {
                outln!("  scan process / baseline one per call: {r:.0}x");
            }
        }
        outln!("  peak memory of this benchmark {:.0} MiB", figures.peak_rss_mib);
    }
    Ok(())
}
