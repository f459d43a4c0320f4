//! The lexicon: which phrases mark which stage, kept as data (`data/en.lex`) so other languages can be
//! added without code.

use crate::{RequestKind, Stage};

/// One stage's phrases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The stage.
    pub stage: Stage,
    /// For a sensitive request, what is asked; for an authority claim, `it` or `organisation`.
    pub kind: Option<String>,
    /// What this stage means, for a non-expert.
    pub explanation: String,
    /// The phrases, lower-case.
    pub phrases: Vec<String>,
}

/// A lexicon line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexiconError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for LexiconError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for LexiconError {}

/// Reads a lexicon: `@stage NAME [KIND] "explanation"` headers, then one phrase per line; `#` comments.
pub fn parse(text: &str) -> Result<Vec<Entry>, LexiconError> {
    let mut entries: Vec<Entry> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let err = |message: String| LexiconError { line: i + 1, message };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_prefix("@stage ") {
            let (head, explanation) =
                header.split_once('"').ok_or_else(|| err("a stage header ends with a quoted explanation".into()))?;
            let explanation = explanation.strip_suffix('"').ok_or_else(|| err("unterminated explanation".into()))?;
            let mut words = head.split_whitespace();
            let name = words.next().ok_or_else(|| err("a stage header names its stage".into()))?;
            let stage = Stage::parse(name).ok_or_else(|| err(format!("unknown stage `{name}`")))?;
            let kind = words.next().map(str::to_owned);
            if let Some(k) = &kind
                && stage == Stage::SensitiveRequest
                && RequestKind::parse(k).is_none()
            {
                return Err(err(format!("unknown request kind `{k}`")));
            }
            if words.next().is_some() {
                return Err(err("too many words before the explanation".into()));
            }
            entries.push(Entry { stage, kind, explanation: explanation.to_owned(), phrases: vec![] });
            continue;
        }
        let entry = entries.last_mut().ok_or_else(|| err("a phrase before any @stage header".into()))?;
        entry.phrases.push(line.to_lowercase());
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_english_lexicon_reads_and_bad_lines_are_named() {
        let entries = parse(include_str!("../data/en.lex")).unwrap();
        assert!(entries.iter().any(|e| e.stage == Stage::SensitiveRequest && e.kind.as_deref() == Some("mfa_code")));
        assert!(entries.iter().all(|e| !e.phrases.is_empty() && !e.explanation.is_empty()));
        assert_eq!(parse("orphan\n").unwrap_err().line, 1);
        assert_eq!(parse("# c\n@stage nonsense \"x\"\n").unwrap_err().line, 2);
        assert_eq!(parse("@stage sensitive_request telepathy \"x\"\n").unwrap_err().line, 1);
        assert_eq!(parse("@stage urgency \"x\n").unwrap_err().line, 1);
    }
}
