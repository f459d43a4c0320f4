//! The home page: the warnings of active campaigns, the way to check a contact, one's QPQ risk with
//! what lowers it, one's requests and the outreach announced to one.

use crate::AppState;
use crate::portal::forms::failed;
use crate::portal::html::{page, respond, when};
use crate::portal::session::Page;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use bonafide_app::access::Everyone;
use bonafide_app::outreach;
use bonafide_app::requests::{self, View};
use bonafide_app::risk::PersonRisk;
use maud::{Markup, html};

/// Points as people read them: "+10", "−5".
pub(super) fn signed(points: f64) -> String {
    if points < 0.0 { format!("\u{2212}{}", -points) } else { format!("+{points}") }
}

/// The `n` factors that weigh most in `r`'s score, in words, with their points.
pub(super) fn weighing(r: &PersonRisk, n: usize) -> Vec<(&'static str, f64)> {
    r.score.contributions.iter().take(n).map(|c| (c.factor.in_words(), c.points)).collect()
}

/// The first `n` steps that lower `r`'s score, with how much each lowers it.
pub(super) fn steps(r: &PersonRisk, n: usize) -> Vec<(&'static str, f64)> {
    r.advice.iter().filter_map(|(f, p)| f.step().map(|s| (s, *p))).take(n).collect()
}

/// One's own risk: the level, the two factors that weigh most and the steps that lower it.
fn risk_section(r: &PersonRisk) -> Markup {
    let level = r.score.level.as_str();
    html! {
        section.risk aria-labelledby="risk-title" {
            h2 #risk-title { "Your QPQ risk" }
            p { span class=(format!("badge risk-{level}")) { (level) } " · " (r.score.score) " out of 100" }
            @let top = weighing(r, 2);
            @if !top.is_empty() {
                ul.plain { @for (words, points) in top { li { (words) ": " (signed(points)) } } }
            }
            @let steps = steps(r, 3);
            @if !steps.is_empty() {
                p { "What lowers it:" }
                ul { @for (step, points) in steps { li { (step) ": " (signed(points)) } } }
            }
        }
    }
}

pub(super) async fn home(p: Page<Everyone>, State(state): State<AppState>) -> Response {
    let me = &p.viewer.me;
    let who = p.viewer.caller();
    let requests = match requests::list(&state.app, who, View::Mine, 20).await {
        Ok(r) => r,
        Err(e) => return failed(e, &p.viewer),
    };
    let outreach = outreach::list(&state.app, who, outreach::View::Mine, 10).await.unwrap_or_default();
    let warnings = super::campaigns::warnings(&state, who).await;
    // The home page still shows when the risk cannot be read.
    let risk = bonafide_app::risk::me(&state.app, who).await.ok();
    let body = html! {
        (warnings)
        h1 { "Hello, " (me.display_name) }
        a.button.big href="/contact" { "Someone is contacting me" }
        p.muted { "Got a call, message or visit from someone who says they are IT? Check them here before you do anything they ask." }
        p { a.button.secondary href="/report" { "Report a suspicious contact" } }
        @if let Some(r) = &risk { (risk_section(r)) }
        h2 { "My support requests" }
        @if requests.is_empty() {
            p { "You have no requests. IT only contacts you about a request you opened." }
        } @else {
            ul.plain {
                @for r in &requests {
                    li {
                        strong { (r.key) } " · " (r.summary) " · " span.badge { (r.status.as_str()) }
                        @if let (Some(name), Some(id)) = (&r.assignee_name, &r.assignee_staff_id) {
                            br; span.muted { "Assigned to " (name) " (" (id) ")" }
                        }
                    }
                }
            }
        }
        p { a.button.secondary href="/requests/new" { "Open a request" } }
        h2 { "Announced contacts from IT" }
        @if outreach.is_empty() {
            p { "None. If someone says IT planned to contact you, check them anyway." }
        } @else {
            ul.plain {
                @for o in &outreach {
                    li { (o.reason) " · " (when(o.window.starts_at)) " to " (when(o.window.ends_at)) }
                }
            }
        }
    };
    respond(StatusCode::OK, page("Home", Some(&p.viewer), body))
}
