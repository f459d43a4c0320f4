//! The small Markdown subset a contact policy's text is written in: paragraphs (separated by a blank
//! line), lists (lines starting `- `, `* ` or `1. `), `**bold**` and `[links](https://…)`.
//!
//! Rendered safely: every character of the text is escaped by maud, only the tags above are produced,
//! and a link's address must be `https:`, `http:` or `mailto:` (anything else, `javascript:` included,
//! is shown as plain text).

use maud::{Markup, html};

/// A block of the text.
enum Block<'a> {
    Paragraph(Vec<&'a str>),
    Bullets(Vec<&'a str>),
    Numbered(Vec<&'a str>),
}

/// The item text of a list line, and whether the list is numbered.
fn list_item(line: &str) -> Option<(bool, &str)> {
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
        return Some((false, rest));
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && digits <= 3 {
        return t.get(digits..).and_then(|r| r.strip_prefix(". ")).map(|r| (true, r));
    }
    None
}

fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut out: Vec<Block<'_>> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            out.push(Block::Paragraph(vec![]));
            continue;
        }
        match (list_item(line), out.last_mut()) {
            (Some((false, item)), Some(Block::Bullets(items))) => items.push(item),
            (Some((true, item)), Some(Block::Numbered(items))) => items.push(item),
            (Some((false, item)), _) => out.push(Block::Bullets(vec![item])),
            (Some((true, item)), _) => out.push(Block::Numbered(vec![item])),
            (None, Some(Block::Paragraph(lines))) => lines.push(line.trim()),
            (None, _) => out.push(Block::Paragraph(vec![line.trim()])),
        }
    }
    out.retain(|b| !matches!(b, Block::Paragraph(lines) if lines.is_empty()));
    out
}

/// `text` as HTML.
pub(crate) fn render(text: &str) -> Markup {
    html! {
        @for block in blocks(text) {
            @match block {
                Block::Paragraph(lines) => p { (inline(&lines.join(" "))) },
                Block::Bullets(items) => ul { @for i in items { li { (inline(i)) } } },
                Block::Numbered(items) => ol { @for i in items { li { (inline(i)) } } },
            }
        }
    }
}

/// Whether a link may point at `href`.
fn safe_href(href: &str) -> bool {
    let lower = href.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:"))
        && !href.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
}

/// One line's bold and links.
fn inline(text: &str) -> Markup {
    let mut parts: Vec<Markup> = Vec::new();
    let mut rest = text;
    let mut plain = String::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("**")
            && let Some(end) = after.find("**")
            && end > 0
        {
            parts.push(html! { (plain) });
            plain = String::new();
            let inner = after.get(..end).unwrap_or_default();
            parts.push(html! { strong { (inner) } });
            rest = after.get(end + 2..).unwrap_or_default();
            continue;
        }
        if let Some(after) = rest.strip_prefix('[')
            && let Some(close) = after.find("](")
            && let Some(end) = after.get(close + 2..).and_then(|s| s.find(')'))
        {
            let label = after.get(..close).unwrap_or_default();
            let href = after.get(close + 2..close + 2 + end).unwrap_or_default();
            if !label.is_empty() && safe_href(href) {
                parts.push(html! { (plain) });
                plain = String::new();
                parts.push(html! { a href=(href.trim()) rel="noopener noreferrer" { (label) } });
                rest = after.get(close + 3 + end..).unwrap_or_default();
                continue;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            plain.push(c);
        }
        rest = chars.as_str();
    }
    html! { @for p in parts { (p) } (plain) }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn paragraphs_lists_bold_and_links_are_rendered_and_everything_else_escaped() {
        let text = "Our **IT desk** never asks for codes.\nIt says so twice.\n\n- Call [the desk](https://intranet.example/desk)\n- Or write\n\n1. First\n2. Second\n\nEnd.";
        assert_eq!(
            render(text).into_string(),
            "<p>Our <strong>IT desk</strong> never asks for codes. It says so twice.</p>\
             <ul><li>Call <a href=\"https://intranet.example/desk\" rel=\"noopener noreferrer\">the desk</a></li><li>Or write</li></ul>\
             <ol><li>First</li><li>Second</li></ol><p>End.</p>"
        );
        let hostile = "<script>alert(1)</script> [x](javascript:alert(1)) [y](https://a.example/\"onclick=x) **<b>**";
        let html = render(hostile).into_string();
        assert!(!html.contains("<script") && !html.contains("<b>") && !html.contains("href=\"javascript"), "{html}");
        assert!(html.contains("&lt;script&gt;") && html.contains("[x](javascript:alert(1))"), "{html}");
        assert!(html.contains("<strong>&lt;b&gt;</strong>"), "{html}");
        // Unclosed markers are text; an empty text renders nothing.
        assert_eq!(render("a ** b [c](").into_string(), "<p>a ** b [c](</p>");
        assert_eq!(render("\n\n").into_string(), "");
        assert_eq!(render("-not a list").into_string(), "<p>-not a list</p>");
    }
}
