//! Groups' profiles as the risk dashboard shows them (and its preview of other settings): the company's
//! distribution against its tolerance, and the departments ranked by how far their share at high or
//! above is over theirs. Each chart has its numbers beside it as text. A group under the smallest size
//! shown is only named, "fewer than N people", with no figure at all.

use crate::portal::charts::{self, Caption, ShareBar, Tone, percent};
use bonafide_app::risk::GroupRisk;
use bonafide_domain::risk::{Profile, Tolerance, ToleranceBreach};
use maud::{Markup, html};

/// A group's name as people read it.
pub(super) fn name(g: &GroupRisk) -> &str {
    match g.department.as_deref() {
        None => "The company",
        Some("") => "(no department)",
        Some(d) => d,
    }
}

/// What a hidden group shows instead of figures, with the settings' actual minimum (`min_group`).
pub(super) fn fewer_than(min_group: usize) -> String {
    format!("fewer than {min_group} people")
}

/// A tolerated share in words.
pub(super) fn tolerated(t: &Tolerance) -> String {
    t.max_high_share.map_or_else(|| "any share".to_owned(), percent)
}

/// Percentage points, one decimal when not whole: "25", "2.5".
fn points(share: f64) -> String {
    let p = (share * 100.0).abs();
    if (p - p.round()).abs() < 0.05 { format!("{:.0}", p.round()) } else { format!("{p:.1}") }
}

/// Where `p` stands against `t` in words: "25 points over", "5 points under", "at the line".
pub(super) fn against(t: &Tolerance, p: &Profile) -> String {
    match t.excess(p) {
        None => "any share tolerated".to_owned(),
        Some(e) if e > 1e-9 => format!("{} points over", points(e)),
        Some(e) if e < -1e-9 => format!("{} points under", points(e)),
        Some(_) => "at the line".to_owned(),
    }
}

/// A breach in words.
fn breach_words(b: ToleranceBreach) -> &'static str {
    match b {
        ToleranceBreach::HighShare => "more people at high or critical than tolerated",
        ToleranceBreach::PrivilegedCritical => "a privileged person is at critical",
    }
}

/// Whether the group is within its tolerance, in words.
pub(super) fn verdict(g: &GroupRisk) -> String {
    if g.breaches.is_empty() {
        "Within tolerance".to_owned()
    } else {
        let words: Vec<&str> = g.breaches.iter().map(|b| breach_words(*b)).collect();
        format!("Over tolerance: {}", words.join("; "))
    }
}

/// The company's distribution chart for `g` (its profile), `id` unique on the page.
pub(super) fn distribution_chart(g: &GroupRisk, p: &Profile, id: &str, title: &str) -> Markup {
    let levels: Vec<String> = charts::LEVELS.iter().zip(p.by_level).map(|(l, n)| format!("{l} {n}")).collect();
    let desc = format!(
        "{} people: {}. {} at high or above; tolerated: {}. {}.",
        p.people,
        levels.join(", "),
        percent(p.high_or_above),
        tolerated(&g.tolerance),
        verdict(g)
    );
    charts::distribution(&Caption { id, title, desc }, p.by_level, g.tolerance.max_high_share)
}

/// The company (the first group): its distribution chart, the same numbers as a table, and whether it
/// is within its tolerance.
pub(super) fn company(groups: &[GroupRisk], id: &str) -> Markup {
    let Some(g) = groups.first() else {
        return html! { p { "Nobody is scored yet." } };
    };
    let Some(p) = &g.profile else {
        return html! { p.notice { "The company has " (fewer_than(g.min_group)) ": no figures are shown." } };
    };
    let share = |n: usize| if p.people == 0 { 0.0 } else { n as f64 / p.people as f64 };
    let [_, _, high, critical] = p.by_level;
    html! {
        (distribution_chart(g, p, id, "People at each QPQ risk level, company-wide"))
        p class=(if g.breaches.is_empty() { "notice" } else { "notice error" }) { (verdict(g)) "." }
        div.table-wrap { table {
            caption.visually-hidden { "The company's people at each level" }
            thead { tr { th scope="col" { "Level" } th scope="col" { "People" } th scope="col" { "Share" } } }
            tbody {
                @for (level, n) in charts::LEVELS.iter().zip(p.by_level) {
                    tr { td data-label="Level" { (level) } td data-label="People" { (n) } td data-label="Share" { (percent(share(n))) } }
                }
                tr {
                    td data-label="Level" { strong { "High or above" } }
                    td data-label="People" { (high + critical) }
                    td data-label="Share" { strong { (percent(p.high_or_above)) } " (tolerated: " (tolerated(&g.tolerance)) ")" }
                }
            }
        } }
        p.muted { (p.people) " people · mean score " (p.mean) " · privileged people at critical: " (p.privileged_critical) }
    }
}

/// The departments with figures, most over their tolerance first (those tolerating any share last, by
/// their share), then those hidden for their size.
pub(super) fn ranked(groups: &[GroupRisk]) -> (Vec<(&GroupRisk, &Profile)>, Vec<&GroupRisk>) {
    let departments = groups.iter().filter(|g| g.department.is_some());
    let mut shown: Vec<(&GroupRisk, &Profile)> =
        departments.clone().filter_map(|g| g.profile.as_ref().map(|p| (g, p))).collect();
    shown.sort_by(|(ga, pa), (gb, pb)| {
        let (ea, eb) = (ga.tolerance.excess(pa), gb.tolerance.excess(pb));
        eb.is_some()
            .cmp(&ea.is_some())
            .then(eb.unwrap_or(0.0).total_cmp(&ea.unwrap_or(0.0)))
            .then(pb.high_or_above.total_cmp(&pa.high_or_above))
            .then_with(|| name(ga).cmp(name(gb)))
    });
    let hidden = departments.filter(|g| g.profile.is_none()).collect();
    (shown, hidden)
}

/// The departments ranked: a bar each with its tolerance marked, a table of the same numbers, and the
/// names of those too small to show.
pub(super) fn departments(groups: &[GroupRisk], id: &str) -> Markup {
    let (shown, hidden) = ranked(groups);
    let bars: Vec<ShareBar> = shown
        .iter()
        .map(|(g, p)| ShareBar {
            label: name(g),
            share: p.high_or_above,
            note: percent(p.high_or_above),
            marker: g.tolerance.max_high_share,
            tone: if g.breaches.is_empty() { Tone::Good } else { Tone::Poor },
        })
        .collect();
    let each: Vec<String> = shown
        .iter()
        .map(|(g, p)| {
            format!(
                "{} {} (tolerated {}, {})",
                name(g),
                percent(p.high_or_above),
                tolerated(&g.tolerance),
                against(&g.tolerance, p)
            )
        })
        .collect();
    let desc = format!("Share at high or above per department, most over tolerance first: {}.", each.join("; "));
    let caption = Caption { id, title: "Departments ranked by share at high or above against tolerance", desc };
    let min = groups.first().map_or(5, |g| g.min_group);
    html! {
        @if shown.is_empty() {
            p { "No department has " (min) " people or more, so none is shown." }
        } @else {
            (charts::share_bars(&caption, "High or above (%)", "Department", "Tolerance", &bars))
            div.table-wrap { table.stack {
                caption.visually-hidden { "Departments ranked against their tolerance" }
                thead { tr {
                    th scope="col" { "Department" } th scope="col" { "People" } th scope="col" { "High or above" }
                    th scope="col" { "Tolerated" } th scope="col" { "Against tolerance" } th scope="col" { "Mean score" }
                } }
                tbody {
                    @for (g, p) in &shown {
                        tr class=(if g.breaches.is_empty() { "within" } else { "over" }) {
                            td data-label="Department" { (name(g)) }
                            td data-label="People" { (p.people) }
                            td data-label="High or above" { (percent(p.high_or_above)) }
                            td data-label="Tolerated" { (tolerated(&g.tolerance)) }
                            td data-label="Against tolerance" {
                                @if g.breaches.contains(&ToleranceBreach::HighShare) { strong { (against(&g.tolerance, p)) } }
                                @else { (against(&g.tolerance, p)) }
                                @if g.breaches.contains(&ToleranceBreach::PrivilegedCritical) {
                                    br; strong { (breach_words(ToleranceBreach::PrivilegedCritical)) }
                                }
                            }
                            td data-label="Mean score" { (p.mean) }
                        }
                    }
                }
            } }
        }
        @if !hidden.is_empty() {
            p { "Not shown, each has " (fewer_than(min)) ":" }
            ul.names { @for g in &hidden { li { (name(g)) } } }
        }
    }
}
