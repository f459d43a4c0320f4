//! `/d/{token}`: a drill's landing page, which looks like the IT portal the message pretends to come
//! from, and the lesson it becomes after a mistake. No session: the link token is the credential. A
//! GET records only that the link was opened; the form's button is what counts as a click, and a
//! submission keeps only how many characters were typed: the text is counted here and dropped.

use crate::AppState;
use crate::extract::ClientAddr;
use crate::portal::html::{message, phone_link, respond};
use crate::portal::input::{PagePath, PlainForm};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use bonafide_app::AppError;
use bonafide_app::drills::landing::{self, Landing, Lesson};
use bonafide_domain::Ask;
use bonafide_domain::drill::Outcome;
use maud::{DOCTYPE, Markup, html};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/d/{token}", get(open).post(press)).route("/d/{token}/read", post(read))
}

/// What the imitation portal's form asks for, by the scenario's ask.
fn asked(ask: Ask) -> (&'static str, &'static str) {
    match ask {
        Ask::MfaCode => ("Verification code", "one-time-code"),
        Ask::RemoteAccess => ("Support session PIN", "off"),
        _ => ("Password", "off"),
    }
}

fn shell(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex, nofollow";
                title { (title) }
                link rel="stylesheet" href="/assets/app.css";
            }
            body { main id="main" { (body) } }
        }
    }
}

fn portal(token: &str, l: &Landing) -> Markup {
    let (secret_label, autocomplete) = asked(l.ask);
    shell(
        &format!("{} · Self-service", l.sender_name),
        html! {
            div.panel {
                h1 { (l.sender_name) }
                p.lead { (l.subject) }
                p { "Sign in to continue. This takes under a minute." }
                form.stack method="post" action=(format!("/d/{token}")) autocomplete="off" {
                    div {
                        label for="username" { "Work email or user name" }
                        input #username type="text" name="username" autocomplete="off" maxlength="200";
                    }
                    div {
                        label for="secret" { (secret_label) }
                        input #secret type="password" name="secret" autocomplete=(autocomplete) maxlength="200";
                    }
                    button.big type="submit" { "Continue" }
                }
            }
        },
    )
}

/// The message with the analyzer's evidence marked and labelled.
fn marked(l: &Lesson) -> Markup {
    let mut parts: Vec<(&str, Option<&str>)> = Vec::new();
    let mut at = 0;
    for e in &l.marks {
        parts.push((l.message.get(at..e.start).unwrap_or(""), None));
        parts.push((l.message.get(e.start..e.end).unwrap_or(""), Some(e.label)));
        at = e.end;
    }
    parts.push((l.message.get(at..).unwrap_or(""), None));
    html! {
        @for (text, label) in parts {
            @if let Some(label) = label { mark title=(label) { (text) } sup.tag { (label) } } @else { (text) }
        }
    }
}

fn lesson(token: &str, l: &Landing, lesson: &Lesson) -> Markup {
    shell(
        "A practice drill · Bonafide",
        html! {
            div.panel.warn role="alert" {
                h1 { "This was a practice drill" }
                p.lead {
                    @if lesson.outcome == Outcome::Complied {
                        "You typed into a page that a message from \"" (l.sender_name) "\" sent you to. Nothing you typed was kept. A real attacker would now have it."
                    } @else {
                        "You followed a link from \"" (l.sender_name) "\" and pressed its button. Nothing happened, because this was a practice run."
                    }
                }
                p { "Two minutes: this is what gave it away, and what to do next time." }
            }
            h2 { "The message, with the signs marked" }
            div.panel { p.message style="white-space: pre-wrap" { (marked(lesson)) } }
            h2 { "The company's rules for IT contacts" }
            ol { @for r in &lesson.rules { li { (r) } } }
            @if let Some(n) = &lesson.desk_number {
                p { "Not sure? Call the service desk on " (phone_link(n)) ", the number in the directory." }
            }
            p {
                a.button.big href=(practice_link(l)) { "Run a practice check" }
            }
            @if lesson.read {
                p role="status" { "Thank you: the lesson is marked read." }
            } @else {
                form method="post" action=(format!("/d/{token}/read")) {
                    button type="submit" { "I have read this" }
                }
            }
        },
    )
}

/// The portal's check form, with the drill's persona filled in.
fn practice_link(l: &Landing) -> String {
    let claimed = l.claimed_staff_id.as_deref().unwrap_or(&l.sender_name);
    match &l.caller_number {
        Some(n) => format!("/contact?claimed={}&from={}", form_urlencoded(claimed), form_urlencoded(n)),
        None => format!("/contact?claimed={}", form_urlencoded(claimed)),
    }
}

fn form_urlencoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn render(token: &str, l: &Landing) -> Response {
    match &l.lesson {
        Some(lesson_view) => respond(StatusCode::OK, lesson(token, l, lesson_view)),
        None => respond(StatusCode::OK, portal(token, l)),
    }
}

fn failed(e: AppError) -> Response {
    match e {
        AppError::NotFound => message(StatusCode::NOT_FOUND, "Not found", "This link is not valid.", None),
        e => {
            tracing::error!(error = ?e, "drill landing page failed");
            message(StatusCode::SERVICE_UNAVAILABLE, "Try again", "This page could not be shown just now.", None)
        }
    }
}

/// `GET /d/{token}`: records that the link was opened (people, scanners and previews alike).
async fn open(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    PagePath(token): PagePath<String>,
) -> Response {
    match landing::open(&state.app, &token, &client).await {
        Ok(l) => render(&token, &l),
        Err(e) => failed(e),
    }
}

/// `POST /d/{token}`: the button. Only the number of characters typed is passed on.
async fn press(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    PagePath(token): PagePath<String>,
    PlainForm(fields): PlainForm<Vec<(String, String)>>,
) -> Response {
    let typed: usize =
        fields.iter().filter(|(k, _)| k == "username" || k == "secret").map(|(_, v)| v.trim().chars().count()).sum();
    drop(fields);
    match landing::press(&state.app, &token, typed, &client).await {
        Ok(l) => render(&token, &l),
        Err(e) => failed(e),
    }
}

/// `POST /d/{token}/read`: the lesson was read.
async fn read(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    PagePath(token): PagePath<String>,
) -> Response {
    match landing::lesson_read(&state.app, &token, &client).await {
        Ok(l) => render(&token, &l),
        Err(e) => failed(e),
    }
}
