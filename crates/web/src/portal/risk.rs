//! The QPQ risk dashboard, `/security/risk` ([`bonafide_app::risk`]): the company's distribution against
//! its tolerance, the departments ranked by how far they are over theirs, a 90-day trend per group, and
//! for security admins the people at high or critical with what makes their score, and the settings
//! with a preview. Auditors read the groups' figures only: no person is named to them. A group under
//! the settings' `min_group` shows no figure. Every chart is SVG drawn on the server (`charts.rs`), its
//! numbers beside it as text.

mod groups;
mod settings;

use crate::AppState;
use crate::portal::charts::{self, Caption, Day, Series, percent};
use crate::portal::forms::failed;
use crate::portal::home::{signed, steps, weighing};
use crate::portal::html::{page, respond};
use crate::portal::input::PageQuery;
use crate::portal::session::{CsrfForm, Page, Viewer};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bonafide_app::access::{SECURITY_ADMINS, SecurityAdmins, SecurityReaders};
use bonafide_app::records::GroupSnapshot;
use bonafide_app::risk::{self, GroupRisk, PersonRisk};
use bonafide_app::{App, AppError, Caller};
use bonafide_domain::risk::Level;
use maud::{Markup, html};
use serde::Deserialize;
use settings::{Editor, SettingsForm, Submitted};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/security/risk", get(risk_page)).route("/security/risk/settings", post(settings_submit))
}

/// The most people at high or critical listed (the highest scores); the API's CSV export has them all.
const PEOPLE_SHOWN: usize = 50;

/// The days each trend covers, today included.
const TREND_DAYS: u16 = 90;

/// The page's query string: `saved`, the version a save just put in force.
#[derive(Deserialize, Default)]
struct RiskQuery {
    saved: Option<String>,
}

async fn risk_page(
    p: Page<SecurityReaders>,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<RiskQuery>,
) -> Response {
    let saved = q.saved.as_deref().and_then(|v| v.trim().parse().ok());
    render(&p.viewer, &state, StatusCode::OK, Editor::InForce { saved }).await
}

async fn settings_submit(
    p: Page<SecurityAdmins>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Response {
    match settings::submit(&state.app, p.viewer.caller(), form).await {
        Ok(Submitted::Saved(version)) => {
            Redirect::to(&format!("/security/risk?saved={version}#settings")).into_response()
        }
        Ok(Submitted::Shown(editor)) => {
            let refused = matches!(editor, Editor::Refused { .. });
            let status = if refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            render(&p.viewer, &state, status, editor).await
        }
        Err(e) => failed(e, &p.viewer),
    }
}

/// Each group with figures (the company first) and its daily rows over [`TREND_DAYS`]. A department
/// without a name is left out: the trend reads "no department" as the company.
async fn trends<'a>(
    app: &App,
    who: &Caller,
    groups: &'a [GroupRisk],
) -> Result<Vec<(&'a GroupRisk, Vec<GroupSnapshot>)>, AppError> {
    let mut out = Vec::new();
    for g in groups.iter().filter(|g| g.profile.is_some() && g.department.as_deref() != Some("")) {
        out.push((g, risk::trend(app, who, g.department.as_deref(), TREND_DAYS).await?));
    }
    Ok(out)
}

/// The whole page for `viewer`, with the settings `editor` for a security admin.
async fn render(viewer: &Viewer, state: &AppState, status: StatusCode, editor: Editor) -> Response {
    let (app, who) = (&state.app, viewer.caller());
    let admin = SECURITY_ADMINS.allows(&viewer.me);
    let groups = match risk::departments(app, who).await {
        Ok(g) => g,
        Err(e) => return failed(e, viewer),
    };
    let trends = match trends(app, who, &groups).await {
        Ok(t) => t,
        Err(e) => return failed(e, viewer),
    };
    let named = if admin {
        match tokio::join!(risk::people(app, who, None, None), risk::settings(app, who)) {
            (Ok(people), Ok(settings)) => Some((people, settings)),
            (Err(e), _) | (_, Err(e)) => return failed(e, viewer),
        }
    } else {
        None
    };
    let body = html! {
        h1 { "QPQ risk" }
        p.lead { "How exposed the company is to quid-pro-quo social engineering: each person's score from their own facts, summed up per department and held against the tolerance security sets." }
        p { a href="#company" { "The company" } " · " a href="#departments" { "Departments" } " · " a href="#trend" { "Trend" }
            @if admin { " · " a href="#people" { "People at high or critical" } " · " a href="#settings" { "Settings" } } }
        h2 #company { "The company" }
        (groups::company(&groups, "company-levels"))
        h2 #departments { "Departments" }
        p.hint { "Ranked by how far each department's share of people at high or critical is over its tolerance (the mark across its bar)." }
        (groups::departments(&groups, "departments-ranked"))
        h2 #trend { "The last " (TREND_DAYS) " days" }
        (trend_section(&trends, app.now()))
        @match &named {
            Some((people, (version, in_force))) => {
                h2 #people { "People at high or critical" }
                (people_section(people))
                (settings::section(&viewer.csrf, *version, in_force, &groups, &editor))
            }
            None => p.muted { "Named people and the settings are for security admins: auditors see the groups' figures only." },
        }
    };
    respond(status, page("QPQ risk", Some(viewer), body))
}

/// `day` (`YYYY-MM-DD`) as a date.
fn date_of(day: &str) -> Option<time::Date> {
    time::Date::parse(day, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// A trend chart per group with the days kept, the figures in a table under it; a window with no days
/// yet says so.
fn trend_section(trends: &[(&GroupRisk, Vec<GroupSnapshot>)], now: time::OffsetDateTime) -> Markup {
    let start = now - time::Duration::days(i64::from(TREND_DAYS) - 1);
    let (first, last) = (risk::day_of(start), risk::day_of(now));
    let first_date = date_of(&first);
    let offset = |day: &str| {
        let days = (date_of(day)? - first_date?).whole_days();
        u16::try_from(days).ok().filter(|d| *d < TREND_DAYS)
    };
    let none_yet = trends.iter().all(|(_, rows)| rows.is_empty());
    html! {
        @if none_yet {
            p.notice { "No history yet: a snapshot of every group is taken once a day, and none has been taken so far." }
        }
        @if trends.is_empty() {
            p { "No group has enough people to show a trend." }
        }
        div.multiples {
            @for (i, (g, rows)) in trends.iter().enumerate() {
                @let points: Vec<Day> = rows.iter().filter_map(|r| Some(Day { offset: offset(&r.day)?, label: &r.day, share: r.high_or_above })).collect();
                @let series = Series { days: TREND_DAYS, first: &first, last: &last, points: &points, tolerance: g.tolerance.max_high_share };
                @let title = format!("{}: share at high or above, day by day", groups::name(g));
                @let desc = match rows.last() {
                    Some(r) => format!("{} days kept from {first} to {last}; on {} {} at high or above (tolerated: {}).", points.len(), r.day, percent(r.high_or_above), groups::tolerated(&g.tolerance)),
                    None => format!("No history yet from {first} to {last}."),
                };
                @let id = format!("trend-{i}");
                figure.trend {
                    figcaption { (groups::name(g)) }
                    (charts::trend(&Caption { id: &id, title: &title, desc: desc.clone() }, &series))
                    @if !rows.is_empty() {
                        p.muted { (desc) }
                        details {
                            summary { "The figures, day by day" }
                            div.table-wrap { table {
                                thead { tr { th scope="col" { "Day" } th scope="col" { "People" } th scope="col" { "High or above" } th scope="col" { "Mean score" } } }
                                tbody { @for r in rows.iter().rev() { tr { td { (r.day) } td { (r.people) } td { (percent(r.high_or_above)) } td { (r.mean) } } } }
                            } }
                        }
                    }
                }
            }
        }
    }
}

/// The people at high or critical, highest first (at most [`PEOPLE_SHOWN`]), each with what weighs most in their score and the
/// steps that lower it.
fn people_section(people: &[PersonRisk]) -> Markup {
    let at_risk: Vec<&PersonRisk> =
        people.iter().filter(|p| matches!(p.score.level, Level::High | Level::Critical)).collect();
    html! {
        @if at_risk.is_empty() {
            p { "Nobody is at high or critical." }
        } @else {
            p.muted {
                (at_risk.len()) " at high or critical, highest score first."
                @if at_risk.len() > PEOPLE_SHOWN {
                    " The first " (PEOPLE_SHOWN) " are listed; all of them: " code { "GET /api/v1/risk/people?format=csv" } "."
                }
            }
            div.table-wrap { table.stack.people {
                thead { tr {
                    th scope="col" { "Person" } th scope="col" { "Level" }
                    th scope="col" { "What weighs most" } th scope="col" { "What lowers it" }
                } }
                tbody {
                    @for p in at_risk.iter().take(PEOPLE_SHOWN) {
                        @let level = p.score.level.as_str();
                        tr {
                            td data-label="Person" {
                                (p.display_name) br; span.email { (p.email) } br; span.muted { (p.department) }
                            }
                            td data-label="Level" { span class=(format!("badge risk-{level}")) { (level) } " " (p.score.score) }
                            td data-label="What weighs most" {
                                ul.plain { @for (words, points) in weighing(p, 3) { li { (words) ": " (signed(points)) } } }
                            }
                            td data-label="What lowers it" {
                                @let lowering = steps(p, 2);
                                @if lowering.is_empty() { "—" }
                                ul.plain { @for (step, points) in lowering { li { (step) ": " (signed(points)) } } }
                            }
                        }
                    }
                }
            } }
        }
    }
}
