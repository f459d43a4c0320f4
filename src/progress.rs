//! Progress bars for long commands: drawn on a terminal's stderr, hidden for `--json` or when piped.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar counting `unit`s up to `len` (a spinner with a count when the total is unknown).
pub fn bar(len: Option<u64>, unit: &str, json: bool) -> ProgressBar {
    let target = if json || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(len, target);
    let template = if len.is_some() {
        format!("{{bar:40}} {{pos}}/{{len}} {unit}")
    } else {
        format!("{{spinner}} {{pos}} {unit}")
    };
    bar.set_style(ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}
