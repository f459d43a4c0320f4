//! Opening a support request: the only thing that authorises IT to contact an employee.

use crate::AppState;
use crate::portal::forms::{failed, messages};
use crate::portal::html::{csrf_field, notice, page, respond};
use crate::portal::session::{CsrfForm, Page};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use bonafide_app::access::Everyone;
use bonafide_app::requests::{self, OpenRequest};
use maud::{Markup, html};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/requests/new", get(request_form).post(request_submit))
}

fn request_markup(csrf: &str, problem: Option<&str>) -> Markup {
    html! {
        h1 { "Open a support request" }
        @if let Some(p) = problem { (notice(p, true)) }
        form.stack method="post" action="/requests/new" {
            (csrf_field(csrf))
            div {
                label for="summary" { "What do you need help with?" }
                textarea #summary name="summary" rows="3" maxlength="500" required {}
            }
            button.big type="submit" { "Open request" }
        }
    }
}

async fn request_form(p: Page<Everyone>) -> Response {
    respond(StatusCode::OK, page("Open a request", Some(&p.viewer), request_markup(&p.viewer.csrf, None)))
}

#[derive(Deserialize)]
struct RequestForm {
    summary: String,
}

async fn request_submit(
    p: Page<Everyone>,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> Response {
    let input = OpenRequest { summary: form.summary, ..OpenRequest::default() };
    match requests::open(&state.app, p.viewer.caller(), input).await {
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => match messages(&e) {
            Some(problem) => {
                let markup = page("Open a request", Some(&p.viewer), request_markup(&p.viewer.csrf, Some(&problem)));
                respond(StatusCode::UNPROCESSABLE_ENTITY, markup)
            }
            None => failed(e, &p.viewer),
        },
    }
}
