//! A QPQ drill's charts: its targets by outcome as bars coloured by how good the outcome is, and what
//! happened over its window (messages sent, links opened, mistakes, reports) as lines. Pure functions
//! from numbers to SVG, like the rest of `charts.rs`, whose frame, text and axes they share.

use super::{Caption, INK, ShareBar, Tone, WIDTH, at, frame, label, note, percent, share_bars, text, x_axis};
use maud::{Markup, html};

/// One outcome's bar: its name, how many targets had it and its tone.
pub(crate) struct OutcomeBar<'a> {
    /// The outcome as people read it ("Reported").
    pub label: &'a str,
    /// How many targets had it.
    pub count: i64,
    /// Good (the procedure followed), fair (nothing done) or poor (a mistake).
    pub tone: Tone,
}

/// `count` of `of` as a share (0 when `of` is 0).
fn share_of(count: i64, of: i64) -> f64 {
    if of <= 0 { 0.0 } else { count.max(0) as f64 / of as f64 }
}

/// The targets by outcome, in the order given (best first), each bar labelled with its count and share
/// of `targets`.
pub(crate) fn outcomes(c: &Caption, targets: i64, bars: &[OutcomeBar]) -> Markup {
    let shares: Vec<ShareBar> = bars
        .iter()
        .map(|b| {
            let share = share_of(b.count, targets);
            ShareBar {
                label: b.label,
                share,
                note: format!("{} ({})", b.count, percent(share)),
                marker: None,
                tone: b.tone,
            }
        })
        .collect();
    share_bars(c, "Share of the drill's targets", "Outcome", "", &shares)
}

/// One stretch of a drill's window.
pub(crate) struct Stretch {
    /// When it starts, as people read it ("12-08 14:00").
    pub label: String,
    /// Messages sent in it.
    pub sent: i64,
    /// Links opened.
    pub opened: i64,
    /// First mistakes.
    pub mistakes: i64,
    /// Reports of the drill.
    pub reported: i64,
}

/// A line of the timeline: its name, colour, dashes and how to read its count from a stretch.
struct Line {
    name: &'static str,
    colour: &'static str,
    dashes: &'static str,
    count: fn(&Stretch) -> i64,
}

/// The timeline's lines; each has its own dashes as well as its colour, so they read without colour.
const LINES: [Line; 4] = [
    Line { name: "Sent", colour: "#0b4f8a", dashes: "none", count: |s| s.sent },
    Line { name: "Opened", colour: "#5b6470", dashes: "2 3", count: |s| s.opened },
    Line { name: "Mistakes", colour: "#c62828", dashes: "8 3", count: |s| s.mistakes },
    Line { name: "Reported", colour: "#2e7d32", dashes: "4 2 1 2", count: |s| s.reported },
];

/// The smallest of 1, 2, 4, 10, 20, 40, 100… at or above `top`: the y axis's reach, whose half (its
/// middle tick) is a whole number.
fn count_reach(top: i64) -> i64 {
    let mut step: i64 = 1;
    loop {
        for r in [step, step.saturating_mul(2), step.saturating_mul(4)] {
            if r >= top {
                return r;
            }
        }
        if step >= i64::MAX / 10 {
            return i64::MAX;
        }
        step *= 10;
    }
}

/// What happened in each stretch of the window (oldest first) as four lines over time, each point with
/// its count in its tooltip; `unit` names a stretch ("hour", "day"). A drill not yet launched says so.
pub(crate) fn timeline(c: &Caption, unit: &str, stretches: &[Stretch]) -> Markup {
    let (left, top, bottom) = (44.0, 46.0, 48.0);
    let (w, h) = (WIDTH - left - 14.0, 130.0);
    let highest = stretches.iter().flat_map(|s| LINES.iter().map(move |l| (l.count)(s))).max().unwrap_or(0);
    let max = count_reach(highest.max(1));
    let span = stretches.len().saturating_sub(1).max(1) as f64;
    let x = |i: usize| if stretches.len() == 1 { left + w / 2.0 } else { left + w * i as f64 / span };
    let y = |n: i64| top + h * (1.0 - n.clamp(0, max) as f64 / max as f64);
    let base = top + h;
    let ticks = if max == 1 { vec![0, 1] } else { vec![0, max / 2, max] };
    let body = html! {
        @for (i, l) in LINES.iter().enumerate() {
            @let lx = 8.0 + 176.0 * (i % 2) as f64;
            @let ly = 12.0 + 18.0 * (i / 2) as f64;
            line x1=(at(lx)) y1=(at(ly)) x2=(at(lx + 22.0)) y2=(at(ly)) stroke=(l.colour) stroke-width="2.5" stroke-dasharray=(l.dashes) {}
            (text(lx + 28.0, ly + 4.0, "start", l.name))
        }
        @for t in &ticks {
            @let ty = y(*t);
            line x1=(at(left)) y1=(at(ty)) x2=(at(left + w)) y2=(at(ty)) stroke="#d0d0d0" stroke-width="1" {}
            (text(left - 4.0, ty + 4.0, "end", &t.to_string()))
        }
        line x1=(at(left)) y1=(at(top)) x2=(at(left)) y2=(at(base)) stroke=(INK) stroke-width="1" {}
        text transform="rotate(-90)" x=(at(-(top + h / 2.0))) y="11" text-anchor="middle" fill=(INK) { "People" }
        @for l in &LINES {
            @let points: Vec<String> = stretches.iter().enumerate().map(|(i, s)| format!("{},{}", at(x(i)), at(y((l.count)(s))))).collect();
            g class="series" data-series=(l.name) {
                @if stretches.len() > 1 {
                    polyline points=(points.join(" ")) fill="none" stroke=(l.colour) stroke-width="2" stroke-dasharray=(l.dashes) {}
                }
                @for (i, s) in stretches.iter().enumerate() {
                    circle cx=(at(x(i))) cy=(at(y((l.count)(s)))) r="2.5" fill=(l.colour) {
                        title { (label(&s.label, 40)) ": " ((l.count)(s)) " " (l.name.to_lowercase()) }
                    }
                }
            }
        }
        @if stretches.is_empty() { (note(left + w / 2.0, top + h / 2.0, "Not launched yet")) }
        @if let (Some(first), Some(last)) = (stretches.first(), stretches.last()) {
            (text(left, base + 16.0, "start", &label(&first.label, 20)))
            @if stretches.len() > 1 { (text(left + w, base + 16.0, "end", &label(&last.label, 20))) }
        }
        (x_axis(left, base, w, base + 36.0, &format!("Time (by {unit}, UTC)")))
    };
    frame(c, "timeline", top + h + bottom, body)
}
