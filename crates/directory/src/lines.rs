//! Line numbers the way a person counts them in an editor, for LF, CRLF and CR-only (old Mac, Excel)
//! files alike.
//!
//! The `csv` crate counts `\n` bytes and stamps a record with the count *before* it reads the line
//! breaks and blank lines that precede the record, so CRLF files were off by one, CR-only files were all
//! on line 1, and a blank line shifted every later row. Here the text is first given `\n` line ends
//! (a line break inside a field is refused anyway, so nothing that is kept changes), and a record's line
//! is found from the byte where it starts.

use std::borrow::Cow;

/// The UTF-8 byte order mark Excel puts at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `text` without a leading byte order mark, with every CRLF and lone CR made a `\n`.
pub(crate) fn unix_lines(text: &[u8]) -> Cow<'_, [u8]> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    if !text.contains(&b'\r') {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        if b == b'\r' {
            out.push(b'\n');
            bytes.next_if_eq(&b'\n');
        } else {
            out.push(b);
        }
    }
    Cow::Owned(out)
}

/// Where the lines of a `\n`-ended text break, to name a record by the line it starts on.
pub(crate) struct Lines<'a> {
    text: &'a [u8],
    /// The offset of every `\n`, in order.
    breaks: Vec<usize>,
}

impl<'a> Lines<'a> {
    /// The line breaks of `text` (as [`unix_lines`] returns it).
    pub(crate) fn new(text: &'a [u8]) -> Self {
        let breaks = text.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i).collect();
        Self { text, breaks }
    }

    /// The 1-based line of the record the reader stamped with byte offset `start`: blank lines the
    /// reader skips before a record are not part of it.
    pub(crate) fn of(&self, start: Option<&csv::Position>) -> u64 {
        let mut at = start.map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        while self.text.get(at) == Some(&b'\n') {
            at = at.saturating_add(1);
        }
        let before = self.breaks.partition_point(|&b| b < at);
        u64::try_from(before).unwrap_or(u64::MAX).saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_ending_becomes_a_newline() {
        assert_eq!(&*unix_lines(b"a\r\nb\rc\n\r\rd"), b"a\nb\nc\n\n\nd");
        assert_eq!(&*unix_lines(b"\xEF\xBB\xBFa\nb"), b"a\nb");
        assert!(matches!(unix_lines(b"a\nb"), Cow::Borrowed(_)));
    }
}
