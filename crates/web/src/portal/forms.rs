//! What every page's form handling shares: reading repeated fields, the empty (button-only) form, the
//! choice lists, and a use case's error shown as a page.

use crate::portal::html::{csrf_field, message};
use crate::portal::session::Viewer;
use axum::http::StatusCode;
use axum::response::Response;
use bonafide_app::{AppError, FieldError};
use bonafide_domain::{Ask, Channel};
use maud::{Markup, html};
use serde::Deserialize;

/// A form as its fields, repeated names kept (checkboxes).
pub(super) type Fields = [(String, String)];

/// The trimmed value of field `name`, or "" when the form lacks it.
pub(super) fn field(fields: &Fields, name: &str) -> String {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

/// Every value of a repeated field (checkboxes), parsed; `problem` names a value that does not parse.
pub(super) fn repeated<T: std::str::FromStr>(fields: &Fields, name: &str, problem: &str) -> Result<Vec<T>, String> {
    fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.parse().map_err(|_| problem.to_owned())).collect()
}

/// A form with nothing but its CSRF token (a button).
#[derive(Deserialize)]
pub(super) struct EmptyForm {}

/// A form with one code (a challenge code read out, an authenticator code).
#[derive(Deserialize)]
pub(super) struct CodeForm {
    pub(super) code: String,
}

/// The channels, as the forms offer them.
pub(super) const CHANNELS: [(Channel, &str); 6] = [
    (Channel::Phone, "Phone call"),
    (Channel::Sms, "Text message"),
    (Channel::Chat, "Chat (Teams, Slack…)"),
    (Channel::Email, "Email"),
    (Channel::Video, "Video call"),
    (Channel::InPerson, "In person"),
];

/// What a caller may ask for, in everyday words.
pub(super) const ASKS: [(Ask, &str); 7] = [
    (Ask::Password, "My password"),
    (Ask::MfaCode, "A code sent to my phone or app"),
    (Ask::RemoteAccess, "To connect to my computer remotely"),
    (Ask::SoftwareInstall, "To install or run something"),
    (Ask::LoginWalkthrough, "To walk through my sign-in with them"),
    (Ask::PersonalInfo, "Personal or company information"),
    (Ask::Payment, "A payment, gift card or bank details"),
];

/// A use case's error shown as a page, with the status the API would answer.
pub(super) fn failed(e: AppError, viewer: &Viewer) -> Response {
    let (status, text) = match &e {
        AppError::NotFound => (StatusCode::NOT_FOUND, "There is nothing here, or it is not yours to see.".to_owned()),
        AppError::RateLimited { .. } => {
            (StatusCode::TOO_MANY_REQUESTS, "Too many tries in a minute. Wait a moment.".into())
        }
        AppError::Invalid(fields) => (StatusCode::UNPROCESSABLE_ENTITY, AppError::fields_text(fields)),
        AppError::Forbidden(why) => (StatusCode::FORBIDDEN, sentence(why)),
        AppError::Conflict(why) => (StatusCode::CONFLICT, sentence(why)),
        AppError::Unavailable(_) | AppError::Internal(_) => {
            tracing::error!(error = ?e, "portal request failed");
            (StatusCode::SERVICE_UNAVAILABLE, "Bonafide could not complete this just now. Try again.".into())
        }
    };
    let mut page = message(status, "That did not work", &text, Some(viewer));
    if matches!(e, AppError::Unavailable(_)) {
        crate::error::mark_unavailable(&mut page);
    }
    page
}

/// A form that posts a text (Cedar policies, JSON settings) to `action`, with two buttons that each send
/// their `intent`: the first only looks at the text (a check, a preview), the second puts it in force.
pub(super) struct TextForm<'a> {
    /// Where it posts.
    pub action: &'a str,
    /// The text field's id (not its section's heading's: one id names one element).
    pub id: &'a str,
    /// The text field's name.
    pub field: &'a str,
    /// Its label.
    pub label: &'a str,
    /// The hint under the label.
    pub hint: &'a str,
    /// Its height in lines.
    pub rows: u8,
    /// What it holds.
    pub text: &'a str,
    /// The intent and words of the button that looks.
    pub look: (&'a str, &'a str),
    /// The intent and words of the button that puts the text in force.
    pub change: (&'a str, &'a str),
}

/// The form `f`, carrying the session's `csrf` token.
pub(super) fn text_form(csrf: &str, f: &TextForm) -> Markup {
    html! {
        form.stack method="post" action=(f.action) {
            (csrf_field(csrf))
            div {
                label for=(f.id) { (f.label) span.hint { (f.hint) } }
                // A leading newline after <textarea> is dropped by the parser: this one keeps the text's own.
                textarea.source-text id=(f.id) name=(f.field) rows=(f.rows) spellcheck="false" { "\n" (f.text) }
            }
            div.actions {
                button.secondary type="submit" name="intent" value=(f.look.0) { (f.look.1) }
                " "
                button type="submit" name="intent" value=(f.change.0) { (f.change.1) }
            }
        }
    }
}

/// A use case's field errors under `lead`, each naming its field, announced to screen readers.
pub(super) fn problems(lead: &str, errors: &[FieldError]) -> Markup {
    html! {
        div.notice.error role="alert" {
            p { (lead) }
            ul.errors { @for e in errors { li { code { (e.field) } ": " (e.message) } } }
        }
    }
}

/// A use case's lower-case reason as a sentence for a page.
pub(super) fn sentence(why: &str) -> String {
    let mut chars = why.chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Only the messages of a use case's field errors, for a form shown again.
pub(super) fn messages(e: &AppError) -> Option<String> {
    match e {
        AppError::Invalid(fields) => Some(fields.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join("; ")),
        _ => None,
    }
}
