//! Text a person typed that others will read as a name or a label: characters that render as nothing,
//! or that reorder what follows them, let two different strings look the same (`Omar\u{200B} Far\u{202E}ouk`
//! shows a reversed surname no claim matches), so names, summaries and reasons refuse them.

/// Whether `c` is a bidirectional control or an invisible format character (Unicode's `Cf` category),
/// or a variation selector.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
            | 0xE0100..=0xE01EF
    )
}

/// The first character of `s` a reader would not see, if any. The zero-width joiner and non-joiner are
/// kept between two letters of a script that writes with them (Persian, the Indic scripts): there they
/// shape the word. Everywhere else, and every other invisible character, is refused.
pub fn first_invisible(s: &str) -> Option<char> {
    let chars: Vec<char> = s.chars().collect();
    chars.iter().enumerate().find_map(|(i, &c)| {
        if !is_invisible(c) {
            return None;
        }
        let joiner = matches!(c, '\u{200C}' | '\u{200D}');
        // Before it a letter or a combining sign (a virama) of a non-Latin script; after it a letter.
        let before = i
            .checked_sub(1)
            .and_then(|b| chars.get(b))
            .is_some_and(|l| !l.is_ascii() && !l.is_whitespace() && !is_invisible(*l) && !l.is_ascii_punctuation());
        let after = chars.get(i + 1).is_some_and(|l| l.is_alphabetic() && !l.is_ascii());
        let shaping = joiner && before && after;
        (!shaping).then_some(c)
    })
}

/// The message for a refused character, naming its code point.
pub fn invisible_message(c: char) -> String {
    format!("holds an invisible or direction-changing character (U+{:04X}); type it without", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_and_zero_width_characters_are_found_where_they_hide() {
        assert_eq!(first_invisible("Omar\u{200B} Far\u{202E}ouk"), Some('\u{200B}'));
        assert_eq!(first_invisible("Far\u{202E}ouk"), Some('\u{202E}'));
        assert_eq!(first_invisible("Sam\u{FEFF}"), Some('\u{FEFF}'));
        assert_eq!(first_invisible("Sam\u{2066}Carter\u{2069}"), Some('\u{2066}'));
        assert_eq!(first_invisible("Sam Carter"), None);
        assert_eq!(first_invisible("José Müller-Łukasz 李雷"), None);
    }

    #[test]
    fn joiners_shape_persian_and_indic_words_but_not_latin_ones() {
        assert_eq!(first_invisible("می\u{200C}خواهم"), None, "Persian ZWNJ between letters");
        assert_eq!(first_invisible("क्\u{200D}ष"), None, "after a virama, asking for a half form");
        assert_eq!(first_invisible("Sa\u{200D}m"), Some('\u{200D}'), "Latin has no use for it");
        assert_eq!(first_invisible("\u{200C}خ"), Some('\u{200C}'), "not between two letters");
    }
}
