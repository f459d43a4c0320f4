//! The QPQ analyzer for signed-in people, with `bonafide scan`'s shapes: one message or transcript, or
//! a batch as JSON lines.

use crate::access::EVERYONE;
use crate::{App, AppError, Caller};
use bonafide_analyzer::Analyzer;
use bonafide_analyzer::input::{Input, error_line};

/// Analyses one input object (`{"id"?, "text"}` or `{"id"?, "messages": [...]}`) and answers with its
/// analysis as JSON text. An input of the wrong shape is `Invalid` (field `body`); one with nothing to read
/// (an empty text, or only whitespace and invisible characters) is `Invalid` too (field `text` or
/// `messages`), not a verdict about nothing.
pub async fn one(app: &App, who: &Caller, input: &[u8]) -> Result<String, AppError> {
    app.authorize(who, EVERYONE, "analyze").await?;
    let input = Input::parse(input).map_err(|e| AppError::field(e.field(), e.to_string()))?;
    Ok(input.answer(&input.analyze(Analyzer::english())).to_string())
}

/// Analyses JSON lines, one answer line per input line in order (an error object for a line that
/// cannot be read or has nothing to read); blank lines are skipped.
pub async fn lines(app: &App, who: &Caller, input: &[u8]) -> Result<String, AppError> {
    app.authorize(who, EVERYONE, "analyze").await?;
    let mut out = String::new();
    for (i, line) in input.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value = match Input::parse(line) {
            Ok(input) => input.answer(&input.analyze(Analyzer::english())),
            Err(e) => error_line(line, i + 1, &e.to_string()),
        };
        out.push_str(&value.to_string());
        out.push('\n');
    }
    Ok(out)
}
