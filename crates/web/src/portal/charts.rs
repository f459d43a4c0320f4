//! Charts drawn on the server as SVG, with no script: pure functions from numbers to markup. Every chart
//! is an image with a title and a description (`role="img"`, `aria-labelledby`), labelled axes, and a
//! `viewBox` at width 100% about a phone wide, so its 12-unit text reads at about 12 px on a phone and it
//! scales down rather than overflowing. Text goes through maud, which escapes it, and [`label`] drops
//! the characters XML cannot hold: a department's name cannot break the document. Pages show the same
//! numbers as text beside each chart.

use maud::{Markup, html};

mod drills;
pub(crate) use drills::{OutcomeBar, Stretch, outcomes, timeline};

/// Every chart's width in user units (about a phone's).
const WIDTH: f64 = 360.0;

/// Text size in user units.
const FONT: &str = "12";

/// The levels' names, lowest first (the domain's `Level::ALL` order).
pub(crate) const LEVELS: [&str; 4] = ["Low", "Medium", "High", "Critical"];

/// The levels' colours.
const LEVEL_FILLS: [&str; 4] = ["#2e7d32", "#9a6700", "#c62828", "#6d0a0a"];

/// The ink of axes, reference lines and text.
const INK: &str = "#1a1a1a";

/// What a chart says about itself.
pub(crate) struct Caption<'a> {
    /// Unique on the page: the title is `{id}-title` and the description `{id}-desc`.
    pub id: &'a str,
    /// Its title (also read out first by screen readers).
    pub title: &'a str,
    /// What it shows, in words, with its numbers.
    pub desc: String,
}

/// A share (0–1) as people read it: "10%", "12.5%".
pub(crate) fn percent(share: f64) -> String {
    let p = clamp(share) * 100.0;
    if (p - p.round()).abs() < 0.05 { format!("{:.0}%", p.round()) } else { format!("{p:.1}%") }
}

/// `share` within 0–1 (NaN is 0).
fn clamp(share: f64) -> f64 {
    if share.is_nan() { 0.0 } else { share.clamp(0.0, 1.0) }
}

/// A number for an attribute, to one decimal.
fn at(x: f64) -> String {
    format!("{x:.1}")
}

/// `text` as a chart label: control characters dropped (most cannot be held by XML 1.0, and a label
/// needs none), and cut to `max` characters with an ellipsis.
pub(crate) fn label(text: &str, max: usize) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() <= max {
        clean
    } else {
        let cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

/// The `<svg>` element every chart shares, `height` user units tall, around `body`.
fn frame(c: &Caption, class: &str, height: f64, body: Markup) -> Markup {
    let (title_id, desc_id) = (format!("{}-title", c.id), format!("{}-desc", c.id));
    html! {
        svg id=(c.id) class=(format!("chart {class}")) xmlns="http://www.w3.org/2000/svg" role="img"
            viewBox=(format!("0 0 {WIDTH} {}", at(height))) width="100%" preserveAspectRatio="xMinYMin meet"
            aria-labelledby=(format!("{title_id} {desc_id}")) font-size=(FONT) font-family="system-ui, sans-serif" {
            title id=(title_id) { (label(c.title, 200)) }
            desc id=(desc_id) { (label(&c.desc, 2000)) }
            (body)
        }
    }
}

/// A text element.
fn text(x: f64, y: f64, anchor: &str, content: &str) -> Markup {
    html! { text x=(at(x)) y=(at(y)) text-anchor=(anchor) fill=(INK) { (content) } }
}

/// A message in the plot (there is nothing to draw), centred at (`x`, `y`), outlined in white so a
/// line behind it does not cross it out.
fn note(x: f64, y: f64, content: &str) -> Markup {
    html! {
        text x=(at(x)) y=(at(y)) text-anchor="middle" fill=(INK) stroke="#ffffff" stroke-width="4" paint-order="stroke" {
            (content)
        }
    }
}

/// A dashed reference line from (`x1`, `y1`) to (`x2`, `y2`).
fn dashed(x1: f64, y1: f64, x2: f64, y2: f64) -> Markup {
    html! {
        line x1=(at(x1)) y1=(at(y1)) x2=(at(x2)) y2=(at(y2)) stroke=(INK) stroke-width="2" stroke-dasharray="6 3" {}
    }
}

/// A legend entry at the top: a dashed sample line and `words`.
fn legend(x: f64, words: &str) -> Markup {
    html! { (dashed(x, 12.0, x + 22.0, 12.0)) (text(x + 28.0, 16.0, "start", words)) }
}

/// The y axis of a vertical chart: its line, ticks at each share of `ticks` (of `max`) with grid lines,
/// and its title turned along it.
fn y_axis(left: f64, top: f64, plot: (f64, f64), max: f64, ticks: &[f64], title: &str) -> Markup {
    let (w, h) = plot;
    html! {
        @for t in ticks {
            @let y = top + h * (1.0 - t / max);
            line x1=(at(left)) y1=(at(y)) x2=(at(left + w)) y2=(at(y)) stroke="#d0d0d0" stroke-width="1" {}
            (text(left - 4.0, y + 4.0, "end", &percent(*t)))
        }
        line x1=(at(left)) y1=(at(top)) x2=(at(left)) y2=(at(top + h)) stroke=(INK) stroke-width="1" {}
        text transform="rotate(-90)" x=(at(-(top + h / 2.0))) y="11" text-anchor="middle" fill=(INK) { (title) }
    }
}

/// The x axis's line along the bottom of the plot and its title under it.
fn x_axis(left: f64, bottom: f64, width: f64, title_y: f64, title: &str) -> Markup {
    html! {
        line x1=(at(left)) y1=(at(bottom)) x2=(at(left + width)) y2=(at(bottom)) stroke=(INK) stroke-width="1" {}
        (text(left + width / 2.0, title_y, "middle", title))
    }
}

/// A group's people at each level (low, medium, high, critical) as shares, then the share at high or
/// above beside them, with the tolerated share (when there is a limit) drawn as a dashed line across
/// that last bar.
pub(crate) fn distribution(c: &Caption, by_level: [usize; 4], max_high_share: Option<f64>) -> Markup {
    let (left, top, bottom) = (50.0, 26.0, 56.0);
    let (w, h) = (WIDTH - left - 8.0, 170.0);
    let people: usize = by_level.iter().sum();
    let share = |n: usize| if people == 0 { 0.0 } else { n as f64 / people as f64 };
    let [_, _, high, critical] = by_level;
    let mut bars: Vec<(&str, f64, &str)> =
        LEVELS.iter().zip(by_level).zip(LEVEL_FILLS).map(|((name, n), fill)| (*name, share(n), fill)).collect();
    bars.push(("High or above", share(high + critical), "none"));
    let slot = w / bars.len() as f64;
    let y = |s: f64| top + h * (1.0 - clamp(s));
    let base = top + h;
    let body = html! {
        @if let Some(max) = max_high_share {
            (legend(left, &format!("Tolerated at high or above: {}", percent(max))))
        }
        (y_axis(left, top, (w, h), 1.0, &[0.0, 0.25, 0.5, 0.75, 1.0], "People (%)"))
        @for (i, (name, s, fill)) in bars.iter().enumerate() {
            @let x = left + slot * i as f64;
            @let bar = slot * 0.6;
            @let bx = x + (slot - bar) / 2.0;
            @let top_of_bar = y(*s);
            g {
                title { (name) ": " (percent(*s)) }
                @if *fill == "none" {
                    rect x=(at(bx)) y=(at(top_of_bar)) width=(at(bar)) height=(at(base - top_of_bar)) fill="#f3d6d6"
                        stroke="#a40000" stroke-width="2" {}
                } @else {
                    rect x=(at(bx)) y=(at(top_of_bar)) width=(at(bar)) height=(at(base - top_of_bar)) fill=(fill) {}
                }
                (text(x + slot / 2.0, top_of_bar - 4.0, "middle", &percent(*s)))
                @if let Some((first, second)) = name.split_once(" or ") {
                    (text(x + slot / 2.0, base + 15.0, "middle", &format!("{first} or")))
                    (text(x + slot / 2.0, base + 28.0, "middle", second))
                } @else {
                    (text(x + slot / 2.0, base + 15.0, "middle", name))
                }
            }
        }
        @if let Some(max) = max_high_share {
            @let x = left + slot * (bars.len() - 1) as f64;
            (dashed(x + 2.0, y(max), x + slot - 2.0, y(max)))
        }
        @if people == 0 { (note(left + w / 2.0, top + h / 2.0, "Nobody is scored yet")) }
        (x_axis(left, base, w, base + 46.0, "Risk level"))
    };
    frame(c, "distribution", top + h + bottom, body)
}

/// How a bar reads against what is wanted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Tone {
    /// Where it should be.
    Good,
    /// Nearly.
    Fair,
    /// Not.
    Poor,
}

impl Tone {
    fn fill(self) -> &'static str {
        match self {
            Tone::Good => "#2e7d32",
            Tone::Fair => "#9a6700",
            Tone::Poor => "#c62828",
        }
    }
}

/// One bar of [`share_bars`].
pub(crate) struct ShareBar<'a> {
    /// Whose bar (a department).
    pub label: &'a str,
    /// Its share, 0–1.
    pub share: f64,
    /// The words at the bar's end ("35%", "93% (14/15)").
    pub note: String,
    /// A mark across the bar at this share (a tolerance), if any.
    pub marker: Option<f64>,
    /// Its colour's meaning.
    pub tone: Tone,
}

/// Horizontal bars of a share per group, in the order given, each labelled above its bar with its note
/// at the end; `marker` names what the marks across the bars are.
pub(crate) fn share_bars(c: &Caption, x_title: &str, y_title: &str, marker: &str, bars: &[ShareBar]) -> Markup {
    const ROW: f64 = 38.0;
    let marked = bars.iter().any(|b| b.marker.is_some());
    let (left, top) = (24.0, if marked { 26.0 } else { 6.0 });
    let w = WIDTH - left - 8.0;
    let rows = bars.len().max(1) as f64;
    let base = top + ROW * rows;
    let x = |s: f64| left + w * clamp(s);
    let body = html! {
        @if marked {
            line x1=(at(left)) y1="6" x2=(at(left)) y2="18" stroke=(INK) stroke-width="3" {}
            (text(left + 8.0, 16.0, "start", marker))
        }
        text transform="rotate(-90)" x=(at(-(top + ROW * rows / 2.0))) y="11" text-anchor="middle" fill=(INK) { (y_title) }
        @for (i, b) in bars.iter().enumerate() {
            @let y = top + ROW * i as f64;
            g {
                title { (label(b.label, 200)) ": " (b.note) }
                (text(left, y + 13.0, "start", &label(b.label, 26)))
                (text(left + w, y + 13.0, "end", &b.note))
                rect x=(at(left)) y=(at(y + 18.0)) width=(at(w)) height="14" fill="#e5e7eb" {}
                rect x=(at(left)) y=(at(y + 18.0)) width=(at(x(b.share) - left)) height="14" fill=(b.tone.fill()) {}
                @if let Some(m) = b.marker {
                    line x1=(at(x(m))) y1=(at(y + 15.0)) x2=(at(x(m))) y2=(at(y + 35.0)) stroke=(INK) stroke-width="3" {}
                }
            }
        }
        @if bars.is_empty() { (note(left + w / 2.0, top + 22.0, "Nothing to show")) }
        @for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
            line x1=(at(x(t))) y1=(at(base)) x2=(at(x(t))) y2=(at(base + 4.0)) stroke=(INK) stroke-width="1" {}
            (text(x(t), base + 16.0, if t == 0.0 { "start" } else if t == 1.0 { "end" } else { "middle" }, &percent(t)))
        }
        (x_axis(left, base, w, base + 32.0, x_title))
    };
    frame(c, "bars", base + 40.0, body)
}

/// One day of a [`trend`].
pub(crate) struct Day<'a> {
    /// Days since the window's first day.
    pub offset: u16,
    /// The day as people read it (`2026-11-28`).
    pub label: &'a str,
    /// The share at high or above that day, 0–1.
    pub share: f64,
}

/// A window of `days` days from `first` to `last` (labels of its ends) and the days in it that have a
/// figure.
pub(crate) struct Series<'a> {
    /// The window's length in days.
    pub days: u16,
    /// Its first day.
    pub first: &'a str,
    /// Its last day (today).
    pub last: &'a str,
    /// The days with a figure, oldest first.
    pub points: &'a [Day<'a>],
    /// The tolerated share, drawn as a dashed line.
    pub tolerance: Option<f64>,
}

/// The smallest of 10%, 20%, 25%, 50% and 100% at or above `top`: the y axis's reach.
fn reach(top: f64) -> f64 {
    [0.1, 0.2, 0.25, 0.5, 1.0].into_iter().find(|r| *r >= top - 1e-9).unwrap_or(1.0)
}

/// The x axis's title of a window of `days` days.
fn window(days: u16) -> String {
    if days == 1 { "Day (today)".to_owned() } else { format!("Day (the last {days} days)") }
}

/// The share at high or above day by day as a line, with the tolerance as a dashed line; a window
/// with no days yet says so.
pub(crate) fn trend(c: &Caption, s: &Series) -> Markup {
    let (left, top, bottom) = (50.0, 26.0, 48.0);
    let (w, h) = (WIDTH - left - 14.0, 130.0);
    let highest = s.points.iter().map(|d| clamp(d.share)).fold(0.0, f64::max);
    let max = reach(highest.max(s.tolerance.map_or(0.0, |t| clamp(t) * 1.25)));
    let span = f64::from(s.days.saturating_sub(1).max(1));
    let x = |offset: u16| left + w * (f64::from(offset) / span).min(1.0);
    let y = |share: f64| top + h * (1.0 - clamp(share).min(max) / max);
    let line: Vec<String> = s.points.iter().map(|d| format!("{},{}", at(x(d.offset)), at(y(d.share)))).collect();
    let base = top + h;
    let body = html! {
        @if let Some(t) = s.tolerance { (legend(left, &format!("Tolerance: {}", percent(t)))) }
        (y_axis(left, top, (w, h), max, &[0.0, max / 2.0, max], "High or above (%)"))
        @if let Some(t) = s.tolerance { (dashed(left, y(t), left + w, y(t))) }
        @if s.points.len() > 1 {
            polyline points=(line.join(" ")) fill="none" stroke="#0b4f8a" stroke-width="2" {}
        }
        @for d in s.points {
            circle cx=(at(x(d.offset))) cy=(at(y(d.share))) r="2.5" fill="#0b4f8a" { title { (d.label) ": " (percent(d.share)) } }
        }
        @if s.points.is_empty() { (note(left + w / 2.0, top + h / 4.0, "No history yet")) }
        (text(left, base + 16.0, "start", s.first))
        (text(left + w, base + 16.0, "end", s.last))
        (x_axis(left, base, w, base + 36.0, &window(s.days)))
    };
    frame(c, "trend", top + h + bottom, body)
}

#[cfg(test)]
mod tests;
