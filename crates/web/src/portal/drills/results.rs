//! A drill's results as its page shows them ([`bonafide_app::drills::results::Results`]): the totals by
//! outcome as a chart with the same numbers in a table beside it, each department (a small one only
//! named, "fewer than N people"), the window's timeline as a chart with its table, and for security
//! admins while results are not anonymous each person with what they did and when.

use crate::portal::charts::{self, Caption, OutcomeBar, Stretch, Tone, percent};
use crate::portal::html::when;
use bonafide_app::drills::results::{Bucket, Counts, PersonResult, Results};
use bonafide_domain::SendStatus;
use bonafide_domain::drill::Outcome;
use maud::{Markup, html};

/// An outcome in everyday words.
pub(super) fn outcome_words(o: Outcome) -> &'static str {
    match o {
        Outcome::Reported => "Reported it",
        Outcome::VerifiedFirst => "Checked first",
        Outcome::Ignored => "Ignored it",
        Outcome::Clicked => "Clicked",
        Outcome::Complied => "Complied",
    }
}

/// An outcome in a table's heading: one short word.
fn outcome_short(o: Outcome) -> &'static str {
    match o {
        Outcome::Reported => "Reported",
        Outcome::VerifiedFirst => "Checked",
        Outcome::Ignored => "Ignored",
        Outcome::Clicked => "Clicked",
        Outcome::Complied => "Complied",
    }
}

/// How an outcome reads: the procedure followed, nothing done, or the mistake made.
fn tone(o: Outcome) -> Tone {
    match o {
        Outcome::Reported | Outcome::VerifiedFirst => Tone::Good,
        Outcome::Ignored => Tone::Fair,
        Outcome::Clicked | Outcome::Complied => Tone::Poor,
    }
}

/// An outcome as a badge: its name (the API's and the CSV's) and its words.
pub(super) fn outcome_badge(o: Outcome) -> Markup {
    let class = match tone(o) {
        Tone::Good => "badge risk-low",
        Tone::Fair => "badge risk-medium",
        Tone::Poor => "badge risk-high",
    };
    html! { span class=(class) data-outcome=(o.as_str()) title=(outcome_words(o)) { (o.as_str()) } }
}

/// `n` of `of` as a share.
fn share(n: i64, of: i64) -> f64 {
    if of <= 0 { 0.0 } else { n as f64 / of as f64 }
}

/// The results' sections.
pub(super) fn sections(r: &Results) -> Markup {
    html! {
        h2 #outcomes { "Outcomes" }
        (totals(&r.totals))
        h2 #departments { "Departments" }
        (departments(r))
        h2 #timeline { "Over the window" }
        (timeline(&r.timeline))
        @match &r.people {
            Some(people) => { h2 #people { "People" } (people_table(people)) }
            None if r.anonymous => p.muted { "Results are anonymous: nobody is named, and departments are shown from " (r.min_group) " people." },
            None => p.muted { "People are named to security admins only: auditors see the counts of departments of at least " (r.min_group) " people." },
        }
    }
}

/// The totals: a bar per outcome, and the same numbers as a table beside it.
fn totals(c: &Counts) -> Markup {
    let bars: Vec<OutcomeBar> =
        Outcome::ALL.iter().map(|o| OutcomeBar { label: outcome_words(*o), count: c.of(*o), tone: tone(*o) }).collect();
    let words: Vec<String> = Outcome::ALL
        .iter()
        .map(|o| format!("{}: {} ({})", outcome_words(*o), c.of(*o), percent(share(c.of(*o), c.targets))))
        .collect();
    let desc = format!("{} targets. {}.", c.targets, words.join("; "));
    let caption = Caption { id: "outcomes-chart", title: "The targets by outcome, best first", desc };
    html! {
        div.compare {
            figure.drill-chart { (charts::outcomes(&caption, c.targets, &bars)) }
            div.table-wrap { table.totals {
                caption.visually-hidden { "The targets by outcome" }
                thead { tr { th scope="col" { "Outcome" } th scope="col" { "People" } th scope="col" { "Share" } } }
                tbody {
                    @for o in Outcome::ALL {
                        tr { th scope="row" { (outcome_words(o)) }
                             td data-outcome=(o.as_str()) { (c.of(o)) } td { (percent(share(c.of(o), c.targets))) } }
                    }
                    tr { th scope="row" { "Targets" } td.targets { (c.targets) } td {} }
                    tr { th scope="row" { "Opened the link" } td { (c.opened) } td { (percent(share(c.opened, c.targets))) } }
                    tr { th scope="row" { "Read the lesson" } td { (c.lessons_read) } td {} }
                }
            } }
        }
    }
}

/// Each department's counts; one under the minimum size only named.
fn departments(r: &Results) -> Markup {
    html! {
        @if r.departments.is_empty() {
            p { "No targets yet: they are chosen at launch." }
        } @else {
            div.table-wrap { table.stack.departments {
                thead { tr {
                    th scope="col" { "Department" } th scope="col" { "Targets" }
                    @for o in Outcome::ALL { th scope="col" title=(outcome_words(o)) { (outcome_short(o)) } }
                    th scope="col" { "Opened" }
                } }
                tbody {
                    @for d in &r.departments {
                        tr {
                            td data-label="Department" { (d.department) }
                            @match &d.counts {
                                Some(c) => {
                                    td data-label="Targets" { (c.targets) }
                                    @for o in Outcome::ALL { td data-label=(outcome_words(o)) { (c.of(o)) } }
                                    td data-label="Opened" { (c.opened) }
                                }
                                None => td.hidden-group data-label="Counts" colspan=(Outcome::ALL.len() + 2) { "fewer than " (r.min_group) " people" },
                            }
                        }
                    }
                }
            } }
        }
    }
}

/// A stretch's start as people read it: the day and hour, or the day alone for daily stretches.
fn stretch_label(b: &Bucket, daily: bool) -> String {
    let f = if daily {
        time::macros::format_description!("[year]-[month]-[day]")
    } else {
        time::macros::format_description!("[month]-[day] [hour]:[minute]")
    };
    b.start.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_default()
}

/// The timeline chart, with its numbers in a table under it.
fn timeline(buckets: &[Bucket]) -> Markup {
    let daily = matches!(buckets, [a, b, ..] if b.start - a.start >= time::Duration::days(1));
    let unit = if daily { "day" } else { "hour" };
    let stretches: Vec<Stretch> = buckets
        .iter()
        .map(|b| Stretch {
            label: stretch_label(b, daily),
            sent: b.sent,
            opened: b.opened,
            mistakes: b.mistakes,
            reported: b.reported,
        })
        .collect();
    let sum = |f: fn(&Bucket) -> i64| buckets.iter().map(f).sum::<i64>();
    let desc = match (buckets.first(), buckets.last()) {
        (Some(first), Some(last)) => format!(
            "By {unit} from {} to {}: {} sent, {} opened, {} mistakes, {} reported.",
            when(first.start),
            when(last.start),
            sum(|b| b.sent),
            sum(|b| b.opened),
            sum(|b| b.mistakes),
            sum(|b| b.reported)
        ),
        _ => "Not launched yet.".to_owned(),
    };
    let caption = Caption {
        id: "timeline-chart",
        title: "Sent, opened, mistakes and reports over the window",
        desc: desc.clone(),
    };
    html! {
        figure.drill-chart {
            (charts::timeline(&caption, unit, &stretches))
            figcaption.muted { (desc) }
        }
        @if !buckets.is_empty() {
            details {
                summary { "The figures, " (unit) " by " (unit) }
                div.table-wrap { table.stack {
                    thead { tr { th scope="col" { "From (UTC)" } th scope="col" { "Sent" } th scope="col" { "Opened" }
                                 th scope="col" { "Mistakes" } th scope="col" { "Reported" } th scope="col" { "Checked" } } }
                    tbody { @for (b, s) in buckets.iter().zip(&stretches) {
                        tr {
                            td data-label="From (UTC)" { (s.label) } td data-label="Sent" { (b.sent) } td data-label="Opened" { (b.opened) }
                            td data-label="Mistakes" { (b.mistakes) } td data-label="Reported" { (b.reported) } td data-label="Checked" { (b.verified) }
                        }
                    } }
                } }
            }
        }
    }
}

/// The message's state, with the server's last reply when it failed.
fn message_state(p: &PersonResult) -> Markup {
    html! {
        span.badge { (p.send_status.as_str()) }
        @if let Some(at) = p.sent_at { br; span.muted { (when(at)) } }
        @if p.send_status == SendStatus::Failed {
            @if let Some(reply) = &p.last_reply { br; span.send-reply { (reply) } }
        }
    }
}

/// What the person did and when, in order.
fn steps(p: &PersonResult) -> Markup {
    let done: Vec<(&str, time::OffsetDateTime)> = [
        ("Opened", p.opened_at),
        ("Clicked", p.clicked_at),
        ("Submitted", p.submitted_at),
        ("Reported", p.reported_at),
        ("Checked", p.verified_at),
        ("Read the lesson", p.lesson_read_at),
    ]
    .into_iter()
    .filter_map(|(what, at)| Some((what, at?)))
    .collect();
    html! {
        @if done.is_empty() { "—" }
        ul.plain { @for (what, at) in &done { li { (what) ": " span.nowrap { (when(*at)) } } } }
    }
}

/// Each target, with a link to their history across drills.
fn people_table(people: &[PersonResult]) -> Markup {
    html! {
        @if people.is_empty() { p { "No targets yet: they are chosen at launch." } }
        @else {
            div.table-wrap { table.stack.people {
                thead { tr {
                    th scope="col" { "Person" } th scope="col" { "Outcome" }
                    th scope="col" { "Message" } th scope="col" { "What they did" } th scope="col" { "Typed" }
                } }
                tbody { @for p in people {
                    tr {
                        td data-label="Person" {
                            a href=(format!("/security/drills/people/{}", p.email)) { (p.display_name) } br; span.email { (p.email) }
                            br; span.muted.department { (p.department) }
                        }
                        td data-label="Outcome" { (outcome_badge(p.outcome)) }
                        td data-label="Message" { (message_state(p)) }
                        td data-label="What they did" { (steps(p)) }
                        td data-label="Typed" {
                            @match p.typed_chars { Some(n) => { (n) " characters" } None => "—" }
                        }
                    }
                } }
            } }
        }
    }
}
