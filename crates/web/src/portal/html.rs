//! The page layout and small shared pieces of markup. Every value is escaped by `maud`; no inline script
//! or style, so the Content-Security-Policy can forbid both.

use crate::portal::viewer::Viewer;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bonafide_domain::Role;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// A whole page: `title` in the tab and as the heading's context, the navigation for `viewer` (none on
/// the sign-in pages) and `body`.
pub(crate) fn page(title: &str, viewer: Option<&Viewer>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Bonafide" }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "Bonafide" }
                    @if let Some(v) = viewer {
                        nav.main aria-label="Main" {
                            ul {
                                li { a href="/" { "Home" } }
                                li { a href="/contact" { "Someone is contacting me" } }
                                li { a href="/staff" { "Staff directory" } }
                                li { a href="/policy" { "Contact policy" } }
                                @if v.me.roles.has(Role::ItStaff) { li { a href="/console" { "IT console" } } }
                                @if v.me.roles.has(Role::SecurityAdmin) { li { a href="/security" { "Security" } } }
                                @if v.me.roles.has(Role::SecurityAdmin) || v.me.roles.has(Role::Auditor) {
                                    li { a href="/security/campaigns" { "Campaigns" } }
                                    li { a href="/security/audit" { "Audit log" } }
                                    li { a href="/security/access" { "Access" } }
                                    li { a href="/security/risk" { "Risk" } }
                                    li { a href="/security/drills" { "Drills" } }
                                }
                                li { a href="/account" { "My account" } }
                            }
                        }
                        form method="post" action="/signout" {
                            (csrf_field(&v.csrf))
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                @if let Some(version) = viewer.and_then(|v| v.policy_due) {
                    div.banner role="region" aria-label="Contact policy" {
                        "The company's IT contact policy has changed (version " (version) "). "
                        a href="/policy" { "Read it and confirm" }
                    }
                }
                main id="main" { (body) }
                footer { "Bonafide never asks for your password or codes. IT only contacts you about requests you opened." }
            }
        }
    }
}

/// The hidden field every state-changing form carries.
pub(crate) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A notice box; `error` styles it as a problem and announces it to screen readers.
pub(crate) fn notice(text: &str, error: bool) -> Markup {
    html! {
        @if error { div.notice.error role="alert" { (text) } } @else { div.notice role="status" { (text) } }
    }
}

/// Renders `markup` as an HTML response with `status`.
pub(crate) fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup).into_response();
    // Pages show personal data: never keep them in shared or browser caches.
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    response
}

/// A plain page with a heading and a paragraph.
pub(crate) fn message(status: StatusCode, title: &str, text: &str, viewer: Option<&Viewer>) -> Response {
    respond(
        status,
        page(title, viewer, html! { h1 { (title) } p { (text) } p { a href="/" { "Back to the home page" } } }),
    )
}

/// A phone number as people read it (`+1 201-555-0100`), as a link that dials it.
pub(crate) fn phone_link(number: &bonafide_domain::PhoneNumber) -> Markup {
    html! { a.nowrap href=(number.tel_uri()) { (number.readable()) } }
}

/// `text` with the readable form of `number` in it made a link that dials it.
pub(crate) fn with_phone_link(text: &str, number: Option<&bonafide_domain::PhoneNumber>) -> Markup {
    match number.and_then(|n| text.split_once(n.readable().as_str()).map(|parts| (n, parts))) {
        Some((n, (before, after))) => html! { (before) (phone_link(n)) (after) },
        None => html! { (text) },
    }
}

/// `text` with its first `needle` made a link to `href` (the text as it is when `needle` is not in it).
pub(crate) fn with_link(text: &str, needle: &str, href: &str) -> Markup {
    match text.split_once(needle).filter(|_| !needle.is_empty()) {
        Some((before, after)) => html! { (before) a href=(href) { (needle) } (after) },
        None => html! { (text) },
    }
}

/// A six-digit code as a staffer reads it aloud: one unbreakable group, spaced `123 456`; the screen
/// reader gets the digits one by one.
pub(crate) fn live_code(code: &str) -> Markup {
    let (first, second) = code.split_at_checked(code.len() / 2).unwrap_or((code, ""));
    let spoken = code.chars().map(String::from).collect::<Vec<_>>().join(" ");
    html! { span.code-live data-code=(code) aria-label=(spoken) { (first) " " (second) } }
}

/// Formats an instant for people: `2026-11-28 14:05 UTC`.
pub(crate) fn when(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_default()
}

/// Text kept as evidence (what a reporter or a caller wrote), with every invisible or direction-changing
/// character shown as a marked `U+XXXX` instead of acting on what follows it: a reversed or padded name
/// is then seen for what it is.
pub(crate) fn evidence(text: &str) -> Markup {
    let mut plain = String::new();
    let mut parts: Vec<(String, Option<char>)> = Vec::new();
    for c in text.chars() {
        if bonafide_domain::text::is_invisible(c) {
            parts.push((std::mem::take(&mut plain), Some(c)));
        } else {
            plain.push(c);
        }
    }
    parts.push((plain, None));
    maud::html! {
        @for (before, hidden) in &parts {
            (before)
            @if let Some(c) = hidden {
                mark.hidden-char title="an invisible or direction-changing character" { (format!("U+{:04X}", *c as u32)) }
            }
        }
    }
}

/// Trusted markup written in this crate (an SVG we generated).
pub(crate) fn trusted(svg: String) -> PreEscaped<String> {
    PreEscaped(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14, point 7: a report keeps invisible characters, and shows each one marked.
    #[test]
    fn regression_14_7_evidence_shows_invisible_characters_marked() {
        let shown = evidence("Sam\u{200B} Car\u{202E}ter <b>").into_string();
        let mark = |code: &str| {
            format!("<mark class=\"hidden-char\" title=\"an invisible or direction-changing character\">{code}</mark>")
        };
        assert_eq!(shown, format!("Sam{} Car{}ter &lt;b&gt;", mark("U+200B"), mark("U+202E")));
        assert_eq!(evidence("plain").into_string(), "plain");
    }
}
