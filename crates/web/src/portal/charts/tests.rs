//! Every chart kind, with data, with none and with tiny groups, parsed as XML: one `<svg>` root that is
//! an image with its title and description, a `viewBox` and width 100%, and its axes labelled.

use super::*;
use quick_xml::events::Event;

/// An element as parsed: its name, attributes, children and the text directly in it.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
    text: String,
}

impl Node {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every element below this one (and itself), depth first.
    fn all(&self) -> Vec<&Node> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.all());
        }
        out
    }

    /// The text of this element and every element below it.
    fn deep_text(&self) -> String {
        let mut out = self.text.clone();
        for c in &self.children {
            out.push_str(&c.deep_text());
        }
        out
    }

    fn named(&self, name: &str) -> Vec<&Node> {
        self.all().into_iter().filter(|n| n.name == name).collect()
    }
}

fn start(e: &quick_xml::events::BytesStart) -> Node {
    let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
    let attributes = e
        .attributes()
        .map(|a| {
            let a = a.expect("a well-formed attribute, not repeated");
            (
                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap().into_owned(),
            )
        })
        .collect();
    Node { name, attributes, ..Node::default() }
}

/// `markup` parsed as a standalone XML document with one root element; panics on anything that is not
/// well-formed (an unclosed or mismatched tag, a bare `&`, an unknown entity, a repeated attribute).
fn parse(markup: &Markup) -> Node {
    let xml = markup.clone().into_string();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("not XML ({e}): {xml}")) {
            Event::Start(e) => stack.push(start(&e)),
            Event::Empty(e) => stack.last_mut().unwrap().children.push(start(&e)),
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().unwrap() {
                    Some(c) => c,
                    None => match &*r.decode().unwrap() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("an entity XML does not define: {other}"),
                    },
                };
                stack.last_mut().unwrap().text.push(c);
            }
            Event::Eof => break,
            other => panic!("unexpected {other:?} in {xml}"),
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements: {xml}");
    let mut document = stack.pop().unwrap();
    assert!(document.text.trim().is_empty(), "text outside the root: {xml}");
    assert_eq!(document.children.len(), 1, "one root element: {xml}");
    document.children.pop().unwrap()
}

/// What every chart must be: an `<svg>` image titled and described by its own elements, scaling to its
/// container, with both axes titled (`x_title` and `y_title` among its texts). Returns its texts.
fn a_good_chart(markup: &Markup, id: &str, x_title: &str, y_title: &str) -> Vec<String> {
    let svg = parse(markup);
    assert_eq!(svg.name, "svg");
    assert_eq!(svg.attr("xmlns"), Some("http://www.w3.org/2000/svg"));
    assert_eq!(svg.attr("role"), Some("img"));
    assert_eq!(svg.attr("width"), Some("100%"));
    let view: Vec<f64> = svg.attr("viewBox").unwrap().split(' ').map(|n| n.parse().unwrap()).collect();
    assert!(view.len() == 4 && view[2] > 0.0 && view[3] > 0.0, "{view:?}");
    assert_eq!(svg.attr("aria-labelledby"), Some(format!("{id}-title {id}-desc").as_str()));
    let title = svg.children.first().unwrap();
    assert_eq!((title.name.as_str(), title.attr("id")), ("title", Some(format!("{id}-title").as_str())));
    assert!(!title.text.trim().is_empty(), "a title in words");
    assert_eq!(svg.named("desc").first().and_then(|d| d.attr("id")), Some(format!("{id}-desc").as_str()));
    let texts: Vec<String> = svg.named("text").iter().map(|t| t.deep_text()).collect();
    for axis in [x_title, y_title] {
        assert!(texts.iter().any(|t| t == axis), "the axis {axis:?} is labelled: {texts:?}");
    }
    // Everything drawn stays within the picture.
    for n in svg.all() {
        for k in ["x", "x1", "x2", "cx"] {
            if let Some(v) = n.attr(k).and_then(|v| v.parse::<f64>().ok())
                && n.attr("transform").is_none()
            {
                assert!((0.0..=view[2]).contains(&v), "{k}={v} of <{}> outside 0–{}", n.name, view[2]);
            }
        }
    }
    texts
}

fn caption<'a>(id: &'a str, title: &'a str) -> Caption<'a> {
    Caption { id, title, desc: format!("What {title} shows") }
}

#[test]
fn the_distribution_shows_each_level_and_the_tolerance_line() {
    let chart = distribution(&caption("company", "The company"), [30, 10, 4, 1], Some(0.1));
    let texts = a_good_chart(&chart, "company", "Risk level", "People (%)");
    for shown in
        ["Low", "Medium", "High", "Critical", "66.7%", "22.2%", "8.9%", "11.1%", "Tolerated at high or above: 10%"]
    {
        assert!(texts.iter().any(|t| t == shown), "{shown}: {texts:?}");
    }
    let svg = parse(&chart);
    let dashed: Vec<_> = svg.named("line").into_iter().filter(|l| l.attr("stroke-dasharray").is_some()).collect();
    assert_eq!(dashed.len(), 2, "the legend's sample and the line itself");
    // The line is at 10% of the plot's height above its base (170 high from 26 to 196).
    assert_eq!(dashed[1].attr("y1"), Some("179.0"));
    assert_eq!(svg.named("rect").len(), 5, "four levels and high or above");
}

#[test]
fn a_distribution_of_nobody_or_with_no_limit_draws_no_line_and_divides_by_nothing() {
    let empty = distribution(&caption("e", "Nobody"), [0, 0, 0, 0], None);
    let texts = a_good_chart(&empty, "e", "Risk level", "People (%)");
    assert!(texts.iter().any(|t| t == "Nobody is scored yet"), "{texts:?}");
    let xml = empty.into_string();
    assert!(!xml.contains("NaN") && !xml.contains("inf") && !xml.contains("stroke-dasharray"), "{xml}");
    let one = distribution(&caption("one", "One person"), [0, 0, 0, 1], Some(0.0));
    let texts = a_good_chart(&one, "one", "Risk level", "People (%)");
    assert_eq!(texts.iter().filter(|t| *t == "100%").count(), 3, "the axis, critical and high or above: {texts:?}");
}

#[test]
fn share_bars_mark_each_tolerance_and_keep_a_hostile_name_as_text() {
    let name = "R&D <\"Labs\"> \u{7}Ünïcødé and a name far too long to fit";
    let bars = [
        ShareBar { label: name, share: 0.35, note: "35%".into(), marker: Some(0.1), tone: Tone::Poor },
        ShareBar { label: "Finance", share: 0.0, note: "0%".into(), marker: Some(0.2), tone: Tone::Good },
        ShareBar { label: "Sales", share: 1.7, note: "over".into(), marker: None, tone: Tone::Fair },
    ];
    let chart = share_bars(&caption("ranked", "Departments"), "High or above (%)", "Department", "Tolerance", &bars);
    let texts = a_good_chart(&chart, "ranked", "High or above (%)", "Department");
    assert!(texts.iter().any(|t| t == "R&D <\"Labs\"> Ünïcødé and…"), "escaped, cleaned and cut: {texts:?}");
    let svg = parse(&chart);
    let groups = svg.named("g");
    assert_eq!(groups.len(), 3);
    assert_eq!(groups[0].children[0].deep_text(), "R&D <\"Labs\"> Ünïcødé and a name far too long to fit: 35%");
    let marks = svg.named("line").into_iter().filter(|l| l.attr("stroke-width") == Some("3")).count();
    assert_eq!(marks, 3, "the legend's and two bars' marks");
    let widths: Vec<&str> = groups.iter().map(|g| g.named("rect")[1].attr("width").unwrap()).collect();
    assert_eq!(widths, ["114.8", "0.0", "328.0"], "a share over 1 fills the bar and no more");
}

#[test]
fn share_bars_with_nothing_to_show_say_so() {
    let chart = share_bars(&caption("none", "Departments"), "Share (%)", "Department", "Tolerance", &[]);
    let texts = a_good_chart(&chart, "none", "Share (%)", "Department");
    assert!(texts.iter().any(|t| t == "Nothing to show"), "{texts:?}");
}

#[test]
fn a_trend_draws_its_days_and_the_tolerance() {
    let days = [
        Day { offset: 0, label: "2026-09-01", share: 0.05 },
        Day { offset: 45, label: "2026-10-16", share: 0.3 },
        Day { offset: 89, label: "2026-11-29", share: 0.12 },
    ];
    let s = Series { days: 90, first: "2026-09-01", last: "2026-11-29", points: &days, tolerance: Some(0.1) };
    let chart = trend(&caption("trend-0", "The company"), &s);
    let texts = a_good_chart(&chart, "trend-0", "Day (the last 90 days)", "High or above (%)");
    for shown in ["2026-09-01", "2026-11-29", "Tolerance: 10%", "50%", "25%"] {
        assert!(texts.iter().any(|t| t == shown), "{shown}: {texts:?}");
    }
    let svg = parse(&chart);
    let points = svg.named("polyline")[0].attr("points").unwrap().split(' ').count();
    assert_eq!(points, 3);
    let circles = svg.named("circle");
    assert_eq!(circles[1].children[0].deep_text(), "2026-10-16: 30%");
    assert_eq!(circles[2].attr("cx"), Some("346.0"), "the last day at the right end");
}

#[test]
fn a_trend_with_no_history_or_one_day_is_honest() {
    let s = Series { days: 90, first: "2026-09-01", last: "2026-11-29", points: &[], tolerance: None };
    let chart = trend(&caption("t", "Nothing yet"), &s);
    let texts = a_good_chart(&chart, "t", "Day (the last 90 days)", "High or above (%)");
    assert!(texts.iter().any(|t| t == "No history yet"), "{texts:?}");
    assert!(parse(&chart).named("polyline").is_empty() && parse(&chart).named("circle").is_empty());
    let today = [Day { offset: 0, label: "2026-11-29", share: 0.0 }];
    let s = Series { days: 1, first: "2026-11-29", last: "2026-11-29", points: &today, tolerance: Some(0.0) };
    let chart = trend(&caption("t1", "One day"), &s);
    a_good_chart(&chart, "t1", "Day (today)", "High or above (%)");
    assert_eq!(parse(&chart).named("circle").len(), 1, "one dot, no line");
    assert!(!chart.into_string().contains("NaN"));
}

#[test]
fn shares_read_as_whole_percents_unless_they_are_not() {
    assert_eq!(
        [percent(0.1), percent(0.125), percent(1.0 / 3.0), percent(f64::NAN), percent(2.0)],
        ["10%", "12.5%", "33.3%", "0%", "100%"]
    );
    assert_eq!(label("a\u{0}b\u{1b}[31m", 10), "ab[31m");
}

#[test]
fn a_drills_outcomes_are_bars_with_their_count_and_share_coloured_by_tone() {
    let bars = [
        OutcomeBar { label: "Reported", count: 3, tone: Tone::Good },
        OutcomeBar { label: "Checked first", count: 1, tone: Tone::Good },
        OutcomeBar { label: "Ignored", count: 4, tone: Tone::Fair },
        OutcomeBar { label: "Clicked", count: 0, tone: Tone::Poor },
        OutcomeBar { label: "Complied", count: 4, tone: Tone::Poor },
    ];
    let chart = outcomes(&caption("outcomes", "Outcomes"), 12, &bars);
    let texts = a_good_chart(&chart, "outcomes", "Share of the drill's targets", "Outcome");
    for shown in ["Reported", "3 (25%)", "1 (8.3%)", "4 (33.3%)", "0 (0%)", "Complied"] {
        assert!(texts.iter().any(|t| t == shown), "{shown}: {texts:?}");
    }
    let svg = parse(&chart);
    let groups = svg.named("g");
    assert_eq!(groups.len(), 5, "one bar each");
    let fills: Vec<&str> = groups.iter().map(|g| g.named("rect")[1].attr("fill").unwrap()).collect();
    assert_eq!(fills, ["#2e7d32", "#2e7d32", "#9a6700", "#c62828", "#c62828"], "good, fair and poor");
    let widths: Vec<&str> = groups.iter().map(|g| g.named("rect")[1].attr("width").unwrap()).collect();
    assert_eq!(widths, ["82.0", "27.3", "109.3", "0.0", "109.3"]);
    assert_eq!(groups[4].children[0].deep_text(), "Complied: 4 (33.3%)");
}

#[test]
fn a_drill_with_no_targets_yet_divides_by_nothing() {
    let bars = [OutcomeBar { label: "Reported", count: 0, tone: Tone::Good }];
    let chart = outcomes(&caption("none", "Outcomes"), 0, &bars);
    let texts = a_good_chart(&chart, "none", "Share of the drill's targets", "Outcome");
    assert!(texts.iter().any(|t| t == "0 (0%)"), "{texts:?}");
    assert!(!chart.into_string().contains("NaN"));
}

#[test]
fn a_drills_timeline_draws_four_lines_with_a_legend_and_counts_on_its_axis() {
    let stretch = |label: &str, sent, opened, mistakes, reported| Stretch {
        label: label.into(),
        sent,
        opened,
        mistakes,
        reported,
    };
    let stretches =
        [stretch("12-08 09:00", 5, 2, 0, 0), stretch("12-08 10:00", 3, 4, 2, 1), stretch("12-08 11:00", 0, 1, 1, 3)];
    let chart = timeline(&caption("timeline", "Over the window"), "hour", &stretches);
    let texts = a_good_chart(&chart, "timeline", "Time (by hour, UTC)", "People");
    for shown in ["Sent", "Opened", "Mistakes", "Reported", "12-08 09:00", "12-08 11:00", "0", "5", "10"] {
        assert!(texts.iter().any(|t| t == shown), "{shown}: {texts:?}");
    }
    let svg = parse(&chart);
    assert_eq!(svg.named("polyline").len(), 4, "a line per series");
    let series: Vec<&str> = svg.named("g").iter().map(|g| g.attr("data-series").unwrap()).collect();
    assert_eq!(series, ["Sent", "Opened", "Mistakes", "Reported"]);
    let circles = svg.named("circle");
    assert_eq!(circles.len(), 12);
    assert_eq!(circles[0].children[0].deep_text(), "12-08 09:00: 5 sent");
    assert_eq!(circles[0].attr("cy"), Some("111.0"), "5 of 10 is half the plot's height (130 from 46)");
    assert_eq!(circles[2].attr("cx"), Some("346.0"), "the last stretch at the right end");
    let dashes: std::collections::BTreeSet<&str> =
        svg.named("polyline").iter().map(|l| l.attr("stroke-dasharray").unwrap()).collect();
    assert_eq!(dashes.len(), 4, "each line has its own dashes, read without colour");
}

#[test]
fn a_drills_timeline_before_launch_or_of_one_stretch_is_honest() {
    let chart = timeline(&caption("t", "Not yet"), "hour", &[]);
    let texts = a_good_chart(&chart, "t", "Time (by hour, UTC)", "People");
    assert!(texts.iter().any(|t| t == "Not launched yet"), "{texts:?}");
    assert!(parse(&chart).named("circle").is_empty());
    let one = [Stretch { label: "12-08 09:00".into(), sent: 1, opened: 0, mistakes: 0, reported: 0 }];
    let chart = timeline(&caption("t1", "One hour"), "hour", &one);
    a_good_chart(&chart, "t1", "Time (by hour, UTC)", "People");
    let svg = parse(&chart);
    assert!(svg.named("polyline").is_empty(), "one point per series, no line");
    assert_eq!(svg.named("circle").len(), 4);
    assert!(!chart.into_string().contains("NaN"));
}
