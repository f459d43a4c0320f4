//! The analyzer's line format, shared by `bonafide scan`, `bonafide eval`, the API and the benchmark:
//! `{"id": …, "text": "…"}` or `{"id": …, "messages": [{"from": "…", "text": "…"}]}` (and `label` in
//! evaluation files), answered with `{"id", "score", "verdict", "stages": […], "stages_truncated"}`. A line
//! with nothing to read (an empty text, or only whitespace and invisible characters) is refused: a score for
//! it would be the bias alone, a verdict about nothing.

use crate::{Analysis, Analyzer, Message, words};
use serde::Deserialize;

#[derive(Deserialize)]
struct RawMessage {
    #[serde(default)]
    from: String,
    text: String,
}

#[derive(Deserialize)]
struct Raw {
    id: Option<serde_json::Value>,
    text: Option<String>,
    messages: Option<Vec<RawMessage>>,
    label: Option<String>,
}

/// What to analyse.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// One text.
    Text(String),
    /// A conversation: (from, text) pairs.
    Messages(Vec<(String, String)>),
}

/// One input line, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The caller's id for it, echoed back.
    pub id: Option<serde_json::Value>,
    /// The text or conversation.
    pub body: Body,
    /// The label, in evaluation files.
    pub label: Option<String>,
}

/// Why an input line cannot be analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// Not a JSON object of the expected shape; the reason.
    Shape(String),
    /// Nothing to read: the text, or every message's text, is empty or only whitespace and invisible
    /// characters. The field: `text` or `messages`.
    Empty(&'static str),
}

impl InputError {
    /// The input field at fault: `body` for the shape, else `text` or `messages`.
    pub fn field(&self) -> &'static str {
        match self {
            InputError::Shape(_) => "body",
            InputError::Empty(field) => field,
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::Shape(why) => f.write_str(why),
            InputError::Empty("messages") => f.write_str("the messages hold no text: nothing to analyse"),
            InputError::Empty(field) => write!(f, "`{field}` is empty: nothing to analyse"),
        }
    }
}

impl std::error::Error for InputError {}

impl Input {
    /// Reads one JSON line; the error says what is wrong, for an error object. A line with nothing to
    /// read is [`InputError::Empty`].
    pub fn parse(line: &[u8]) -> Result<Input, InputError> {
        let shape = |why: &str| InputError::Shape(why.to_owned());
        let raw: Raw = serde_json::from_slice(line)
            .map_err(|e| InputError::Shape(format!("not a JSON object of the expected shape: {e}")))?;
        let body = match (raw.text, raw.messages) {
            (Some(text), None) => Body::Text(text),
            (None, Some(messages)) => Body::Messages(messages.into_iter().map(|m| (m.from, m.text)).collect()),
            (Some(_), Some(_)) => return Err(shape("give either `text` or `messages`, not both")),
            (None, None) => return Err(shape("missing `text` or `messages`")),
        };
        let input = Input { id: raw.id, body, label: raw.label };
        input.check_not_blank()?;
        Ok(input)
    }

    /// [`InputError::Empty`] if there is nothing to read: the text, or every message, is blank.
    pub fn check_not_blank(&self) -> Result<(), InputError> {
        match &self.body {
            Body::Text(t) if words::is_blank(t) => Err(InputError::Empty("text")),
            Body::Messages(ms) if ms.iter().all(|(_, t)| words::is_blank(t)) => Err(InputError::Empty("messages")),
            _ => Ok(()),
        }
    }

    /// Analyses it.
    pub fn analyze(&self, analyzer: &Analyzer) -> Analysis {
        self.analyze_embedded(analyzer, &[])
    }

    /// Analyses it with its sentence embedding (see [`Analyzer::analyze_embedded`]; empty for none).
    pub fn analyze_embedded(&self, analyzer: &Analyzer, embedding: &[f32]) -> Analysis {
        match &self.body {
            Body::Text(t) => analyzer.analyze_embedded(&[Message { from: "", text: t }], false, embedding),
            Body::Messages(ms) => {
                let ms: Vec<Message<'_>> = ms.iter().map(|(from, text)| Message { from, text }).collect();
                analyzer.analyze_embedded(&ms, true, embedding)
            }
        }
    }

    /// The text a sentence embedding is computed on: the text, or the messages one per line.
    pub fn embedding_text(&self) -> std::borrow::Cow<'_, str> {
        match &self.body {
            Body::Text(t) => t.as_str().into(),
            Body::Messages(ms) => ms.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join("\n").into(),
        }
    }

    /// The answer line for `a`.
    pub fn answer(&self, a: &Analysis) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "score": a.score,
            "verdict": a.verdict,
            "stages": a.stages,
            "stages_truncated": a.stages_truncated,
        })
    }
}

/// The error line for input line `line` (1-based) that could not be read.
pub fn error_line(raw: &[u8], line: usize, error: &str) -> serde_json::Value {
    let id = serde_json::from_slice::<serde_json::Value>(raw).ok().and_then(|v| v.get("id").cloned());
    serde_json::json!({ "id": id, "line": line, "error": error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_or_refused_with_a_reason() {
        let text = Input::parse(br#"{"id": "a", "text": "hi", "label": "benign"}"#).unwrap();
        assert_eq!((text.body, text.label.as_deref()), (Body::Text("hi".into()), Some("benign")));
        let chat = Input::parse(br#"{"id": 2, "messages": [{"from": "x", "text": "hi"}]}"#).unwrap();
        assert_eq!(chat.body, Body::Messages(vec![("x".into(), "hi".into())]));
        for bad in [&b"{"[..], b"[]", br#"{"id": 1}"#, br#"{"text": "a", "messages": []}"#, br#"{"text": 5}"#] {
            assert!(Input::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(error_line(br#"{"id": 7}"#, 3, "x")["id"], 7);
    }

    /// Issue 15, point 14: an empty text was scored (`benign`, 0.19: the bias alone).
    #[test]
    fn regression_15_14_a_line_with_nothing_to_read_is_refused() {
        for (line, field) in [
            (&br#"{"text": ""}"#[..], "text"),
            (br#"{"id": 1, "text": " \n\t\u200b\ufeff "}"#, "text"),
            (br#"{"messages": []}"#, "messages"),
            (br#"{"messages": [{"from": "x", "text": ""}, {"from": "y", "text": "\u2060 "}]}"#, "messages"),
        ] {
            let err = Input::parse(line).unwrap_err();
            assert_eq!(err, InputError::Empty(field), "{}", String::from_utf8_lossy(line));
            assert_eq!(err.field(), field);
            assert!(err.to_string().contains("nothing to analyse"), "{err}");
        }
        // One message with text is enough; a shape error is still a shape error.
        assert!(Input::parse(br#"{"messages": [{"text": ""}, {"text": "hi"}]}"#).is_ok());
        assert!(Input::parse(br#"{"text": "?"}"#).is_ok());
        assert_eq!(Input::parse(br#"{"text": 5}"#).unwrap_err().field(), "body");
    }
}
