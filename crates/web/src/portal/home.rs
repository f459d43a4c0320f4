//! The home page: the warnings of active campaigns, the way to check a contact, one's requests and the
//! outreach announced to one.

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
use maud::html;

pub(super) async fn home(p: Page<Everyone>, State(state): State<AppState>) -> Response {
    let me = &p.viewer.me;
    let who = p.viewer.caller();
    let requests = match requests::list(&state.app, who, View::Mine, 20).await {
        Ok(r) => r,
        Err(e) => return failed(e, &p.viewer),
    };
    let outreach = outreach::list(&state.app, who, outreach::View::Mine, 10).await.unwrap_or_default();
    let warnings = super::campaigns::warnings(&state, who).await;
    let body = html! {
        (warnings)
        h1 { "Hello, " (me.display_name) }
        a.button.big href="/contact" { "Someone is contacting me" }
        p.muted { "Got a call, message or visit from someone who says they are IT? Check them here before you do anything they ask." }
        p { a.button.secondary href="/report" { "Report a suspicious contact" } }
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
