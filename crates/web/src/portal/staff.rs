//! The staff directory: look up IT staff during a call (name, staff id, official numbers and addresses).

use crate::AppState;
use crate::portal::forms::failed;
use crate::portal::html::{page, phone_link, respond};
use crate::portal::input::{PagePath, PageQuery};
use crate::portal::session::Page;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bonafide_app::access::Everyone;
use bonafide_app::directory;
use maud::{Markup, html};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/staff", get(staff_search)).route("/staff/{staff_id}/photo", get(staff_photo))
}

/// Where the portal shows a staffer's photo: the stored address, or the generated avatar (served to
/// signed-in people by the portal, since an `img` cannot send a bearer token).
/// A staffer's card: photo, name, staff id, team, and `more` facts.
pub(super) fn staff_card(photo: Option<&str>, name: &str, staff_id: &str, team: &str, more: Markup) -> Markup {
    html! {
        div.staffcard {
            img src=(photo_url(photo, staff_id)) alt=(format!("Photo of {name}"));
            dl.facts {
                dt { "Name" } dd { (name) }
                dt { "Staff id" } dd { (staff_id) }
                dt { "Team" } dd { (team) }
                (more)
            }
        }
    }
}

pub(super) fn photo_url(stored: Option<&str>, staff_id: &str) -> String {
    stored.map_or_else(|| format!("/staff/{staff_id}/photo"), str::to_owned)
}

async fn staff_photo(
    p: Page<Everyone>,
    State(state): State<AppState>,
    PagePath(staff_id): PagePath<String>,
) -> Response {
    match directory::avatar(&state.app, p.viewer.caller(), &staff_id).await {
        Ok(svg) => crate::routes::svg_response(svg).into_response(),
        Err(e) => failed(e, &p.viewer),
    }
}

#[derive(Deserialize)]
struct StaffQuery {
    query: Option<String>,
}

async fn staff_search(
    p: Page<Everyone>,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<StaffQuery>,
) -> Response {
    let query = q.query.unwrap_or_default().trim().chars().take(directory::MAX_QUERY).collect::<String>();
    // One letter matches half the directory: the page searches from two.
    let results = if query.chars().count() >= 2 {
        match directory::search_staff(&state.app, p.viewer.caller(), &query).await {
            Ok(r) => Some(r),
            Err(e) => return failed(e, &p.viewer),
        }
    } else {
        None
    };
    let body = html! {
        h1 { "Staff directory" }
        form method="get" action="/staff" role="search" {
            label for="query" { "Name or staff id" }
            div.row { input #query type="search" name="query" value=(query) minlength="2"; button type="submit" { "Search" } }
        }
        @if let Some(results) = &results {
            @if results.is_empty() { p { "No IT staff match." } }
            @for c in results {
                div.panel {
                    (staff_card(c.photo_url.as_deref(), c.display_name.as_str(), c.staff_id.as_str(), &c.team, html! {
                        dt { "Official numbers" } dd { @for n in &c.official_numbers { (phone_link(n)) " " } }
                        dt { "Official addresses" } dd { @for a in &c.official_addresses { (a) " " } }
                    }))
                }
            }
        }
    };
    respond(StatusCode::OK, page("Staff directory", Some(&p.viewer), body))
}
