//! Fuzzes the analyzer and its readers: any bytes as an NDJSON line, as an email, and (when UTF-8) as a
//! text and as a conversation split on newlines. Nothing may panic; every finding's span must lie in its
//! message and hold its evidence.
#![no_main]

use bonafide_analyzer::input::Input;
use bonafide_analyzer::{Analyzer, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let analyzer = Analyzer::english();
    if let Ok(input) = Input::parse(data) {
        let _ = input.answer(&input.analyze(analyzer));
    }
    if let Some(text) = bonafide_analyzer::email::text_of(data) {
        let _ = analyzer.analyze_text(&text);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let a = analyzer.analyze_text(text);
        for f in &a.stages {
            assert_eq!(text.get(f.start..f.end), Some(f.evidence.as_str()));
        }
        let messages: Vec<Message<'_>> = text.split('\n').map(|t| Message { from: "x", text: t }).collect();
        let c = analyzer.analyze_conversation(&messages);
        assert!((0.0..=1.0).contains(&c.score));
    }
});
