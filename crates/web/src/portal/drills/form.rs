//! The new-drill form (`/security/drills/new`, security admins): the form as fields, what was typed kept
//! when it is shown again, and the fields read into [`NewDrillInput`] for [`bonafide_app::drills::create`].
//! The targets' emails come from an uploaded CSV (its `email` column, or its first column) or a pasted
//! list, every line that holds no email address named by its line number.

use crate::portal::forms::{ASKS, Fields, field, problems};
use crate::portal::html::csrf_field;
use bonafide_app::FieldError;
use bonafide_app::drills::{NewDrillInput, ScenarioChoice, Targets};
use bonafide_domain::{Ask, DrillChannel, Email, Scenario};
use maud::{Markup, html};

/// The scenario select's value for a scenario written in the form.
const CUSTOM: &str = "custom";

/// The most bad lines of an emails list named one by one.
const BAD_LINES_SHOWN: usize = 20;

/// The channels as the form offers them.
const DRILL_CHANNELS: [(DrillChannel, &str); 3] = [
    (DrillChannel::Email, "Email"),
    (DrillChannel::Chat, "Chat (the company's chat webhook)"),
    (DrillChannel::Sms, "Text message (SMS)"),
];

/// What the form needs besides what was typed.
pub(super) struct Choices<'a> {
    /// The built-in scenarios: id and title.
    pub scenarios: &'a [(&'static str, &'static str)],
    /// The departments people are in now.
    pub departments: &'a [String],
}

/// The form, holding `typed` (what was sent, when it is shown again), with `errors` above it.
pub(super) fn form(csrf: &str, choices: &Choices, typed: &Fields, errors: &[FieldError]) -> Markup {
    let value = |name: &str| field(typed, name);
    let ticked = |name: &str, v: &str| typed.iter().any(|(k, x)| k == name && x == v);
    let scenario = value("scenario");
    let channel = value("channel");
    let ask = value("ask");
    html! {
        @if !errors.is_empty() { (problems("The drill was not saved:", errors)) }
        form.stack method="post" action="/security/drills" enctype="multipart/form-data" {
            (csrf_field(csrf))
            div {
                label for="name" { "Name" span.hint { "For the results; the targets never see it." } }
                input #name type="text" name="name" required maxlength="120" value=(value("name")) aria-invalid=[invalid(errors, "name")];
                (problem(errors, "name"))
            }
            div {
                label for="scenario" { "Scenario" span.hint { "What the message says and who it pretends to be." } }
                select #scenario name="scenario" aria-invalid=[invalid(errors, "scenario")] {
                    @for (id, title) in choices.scenarios { option value=(id) selected[scenario == *id] { (title) } }
                    option value=(CUSTOM) selected[scenario == CUSTOM] { "Write my own (the fields below)" }
                }
                (problem(errors, "scenario"))
            }
            fieldset #custom {
                legend { "Write my own" }
                p.hint { "Used only when the scenario is “Write my own”. In the message, {first_name}, {name}, {link}, {sender_name}, {staff_id} and {number} are filled in." }
                @for (name, label, hint) in CUSTOM_FIELDS {
                    @let key = format!("scenario.{name}");
                    div {
                        label for=(name) { (label) span.hint { (hint) } }
                        @if name == "body" {
                            textarea id=(name) name=(name) rows="6" aria-invalid=[invalid(errors, &key)] { (value(name)) }
                        } @else {
                            input id=(name) type="text" name=(name) value=(value(name)) aria-invalid=[invalid(errors, &key)];
                        }
                        (problem(errors, &key))
                    }
                }
                div {
                    label for="ask" { "What it finally asks for" }
                    select #ask name="ask" {
                        @for (a, words) in ASKS { option value=(a.as_str()) selected[ask == a.as_str()] { (words) } }
                    }
                    (problem(errors, "scenario.ask"))
                }
            }
            fieldset.choices {
                legend { "Channel" }
                @for (i, (c, words)) in DRILL_CHANNELS.iter().enumerate() {
                    @let on = if channel.is_empty() { i == 0 } else { channel == c.as_str() };
                    label { input type="radio" name="channel" value=(c.as_str()) checked[on]; (words) }
                }
                (problem(errors, "channel"))
            }
            fieldset {
                legend { "Targets" }
                p.hint { "At least one of these; someone chosen twice gets one message." }
                (problem(errors, "targets"))
                div.choices {
                    label { input type="checkbox" name="all" value="true" checked[ticked("all", "true")]; "Everyone in the directory" }
                }
                @if !choices.departments.is_empty() {
                    fieldset.choices {
                        legend { "Departments" }
                        @for d in choices.departments {
                            label { input type="checkbox" name="departments" value=(d) checked[ticked("departments", d)]; (d) }
                        }
                    }
                }
                (problem(errors, "targets.departments"))
                div {
                    label for="sample" { "Sample size" span.hint { "A random sample of this many of the people chosen (of everyone, when nothing else is chosen); empty for all of them." } }
                    input #sample type="text" inputmode="numeric" name="sample" maxlength="6" value=(value("sample")) aria-invalid=[invalid(errors, "targets.sample")];
                    (problem(errors, "targets.sample"))
                }
                div {
                    label for="emails_file" { "People by email: a CSV file" span.hint { "Its email column (or its first column when no column is named email). A file is not kept when the form is shown again: choose it again." } }
                    input #emails_file type="file" name="emails_file" accept=".csv,text/csv,text/plain";
                }
                div {
                    label for="emails" { "…or paste the emails" span.hint { "One a line, or the CSV itself." } }
                    textarea #emails name="emails" rows="4" aria-invalid=[invalid(errors, "targets.emails")] { (value("emails")) }
                    (problem(errors, "targets.emails"))
                }
            }
            div {
                label for="window_hours" { "Sending window (hours)" span.hint { "The sends are spread across this many hours in a random order; 0 sends everything at launch." } }
                input #window_hours type="text" inputmode="numeric" name="window_hours" maxlength="4" value=(value("window_hours")) aria-invalid=[invalid(errors, "window_hours")];
                (problem(errors, "window_hours"))
            }
            button type="submit" { "Save as a draft" }
        }
    }
}

/// The fields of a scenario written in the form: name, label, hint.
const CUSTOM_FIELDS: [(&str, &str, &str); 6] = [
    ("sender_name", "Sender's name", "Who it pretends to be (“IT Service Desk”)."),
    ("sender_address", "Sender's address", "Email drills; empty for the settings' smtp_from."),
    ("claimed_staff_id", "Claimed staff id", "A check about it counts as checking first."),
    ("caller_number", "Number to call back", "Optional."),
    ("subject", "Subject", "Email drills."),
    ("body", "Message", "What the target reads."),
];

/// Whether `errors` has one about `name`, for `aria-invalid`.
fn invalid(errors: &[FieldError], name: &str) -> Option<&'static str> {
    errors.iter().any(|e| e.field == name).then_some("true")
}

/// The messages about field `name`, under it.
fn problem(errors: &[FieldError], name: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == name) { span.field-error { (e.message) } } }
}

/// `name`'s value as a whole number, none when empty; `what` names the field in an error.
fn number(fields: &Fields, name: &str, what: &str, errors: &mut Vec<FieldError>) -> Option<u32> {
    let v = field(fields, name);
    if v.is_empty() {
        return None;
    }
    match v.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FieldError::new(what, "a whole number"));
            None
        }
    }
}

/// `name`'s value, none when empty.
fn optional(fields: &Fields, name: &str) -> Option<String> {
    Some(field(fields, name)).filter(|v| !v.is_empty())
}

/// The form's fields as the use case's input, or what is wrong with them (everything the form itself
/// can tell; the use case checks the rest).
pub(super) fn read(fields: &Fields) -> Result<NewDrillInput, Vec<FieldError>> {
    let mut errors = Vec::new();
    let scenario = match field(fields, "scenario").as_str() {
        CUSTOM => {
            let ask = Ask::from_name(&field(fields, "ask"));
            if ask.is_none() {
                errors.push(FieldError::new("scenario.ask", "choose what it asks for"));
            }
            ask.map(|ask| {
                ScenarioChoice::Custom(Scenario {
                    sender_name: field(fields, "sender_name"),
                    sender_address: optional(fields, "sender_address"),
                    claimed_staff_id: optional(fields, "claimed_staff_id"),
                    caller_number: optional(fields, "caller_number"),
                    subject: optional(fields, "subject"),
                    body: field(fields, "body"),
                    ask,
                })
            })
        }
        id => Some(ScenarioChoice::BuiltIn(id.to_owned())),
    };
    let channel = DrillChannel::from_name(&field(fields, "channel"));
    if channel.is_none() {
        errors.push(FieldError::new("channel", "choose email, chat or text message"));
    }
    let sample = number(fields, "sample", "targets.sample", &mut errors);
    let window_hours = number(fields, "window_hours", "window_hours", &mut errors).unwrap_or(0);
    let mut emails = Vec::new();
    for (source, name) in [("the CSV file", "emails_file"), ("the pasted list", "emails")] {
        let list = emails_in(&field(fields, name));
        emails.extend(list.emails);
        errors.extend(bad_lines(source, &list.bad));
    }
    let targets = Targets {
        all: field(fields, "all") == "true",
        departments: fields
            .iter()
            .filter(|(k, v)| k == "departments" && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect(),
        sample,
        emails,
    };
    match (scenario, channel) {
        (Some(scenario), Some(channel)) if errors.is_empty() => {
            Ok(NewDrillInput { name: field(fields, "name"), scenario, channel, targets, window_hours })
        }
        _ => Err(errors),
    }
}

/// The bad lines of `source` as field errors, the first [`BAD_LINES_SHOWN`] by line number.
fn bad_lines(source: &str, bad: &[(usize, String)]) -> Vec<FieldError> {
    let mut out: Vec<FieldError> = bad
        .iter()
        .take(BAD_LINES_SHOWN)
        .map(|(line, why)| FieldError::new("targets.emails", format!("{source}, line {line}: {why}")))
        .collect();
    if bad.len() > BAD_LINES_SHOWN {
        let more = bad.len() - BAD_LINES_SHOWN;
        out.push(FieldError::new("targets.emails", format!("{source}: {more} more bad lines")));
    }
    out
}

/// The emails of a CSV or a plain list, and its bad lines (1-based, as an editor counts them, with why).
#[derive(Debug, Default, PartialEq)]
pub(super) struct EmailList {
    /// The emails, in the file's order, lower-cased.
    pub emails: Vec<String>,
    /// The lines that hold no email address.
    pub bad: Vec<(usize, String)>,
}

/// The cells of one CSV line (quotes around a cell removed, `""` inside one read as `"`).
fn cells(line: &str) -> Vec<String> {
    let (mut out, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    out.push(cell);
    out
}

/// The emails in `text`: with a header line that names an `email` column, that column; otherwise the
/// first column, the first line being a header when its first cell is no address (has no `@`). Blank
/// lines are skipped; LF, CRLF and CR line ends count alike and a byte order mark is dropped.
pub(super) fn emails_in(text: &str) -> EmailList {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).replace("\r\n", "\n").replace('\r', "\n");
    let mut lines = text.split('\n').enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty());
    let mut list = EmailList::default();
    let Some((first_number, first)) = lines.next() else { return list };
    let header = cells(first);
    let named = header.iter().position(|c| c.trim().eq_ignore_ascii_case("email"));
    let column = named.unwrap_or(0);
    let first_is_data = named.is_none() && header.first().is_some_and(|c| c.contains('@'));
    let data = first_is_data.then_some((first_number, first)).into_iter().chain(lines);
    for (number, line) in data {
        let cell = cells(line).get(column).map(|c| c.trim().to_lowercase()).unwrap_or_default();
        if cell.is_empty() {
            list.bad.push((number, "no email in this line".to_owned()));
        } else if cell.parse::<Email>().is_err() {
            let shown: String = cell.chars().take(80).collect();
            list.bad.push((number, format!("“{shown}” is not an email address")));
        } else {
            list.emails.push(cell);
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_with_an_email_column_gives_that_column_and_names_each_bad_line() {
        let csv = "\u{feff}name,Email,department\r\nErin,erin@example.com,Finance\r\n\r\n\"Hale, Finn\",FINN@example.com,Sales\r\nBob,not-an-email,Sales\r\nNo one,,\r\n";
        let list = emails_in(csv);
        assert_eq!(list.emails, ["erin@example.com", "finn@example.com"]);
        assert_eq!(list.bad.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [5, 6]);
        assert!(list.bad[0].1.contains("not-an-email"), "{:?}", list.bad);
    }

    #[test]
    fn a_list_without_a_header_is_read_from_its_first_line_and_a_header_of_another_name_is_skipped() {
        assert_eq!(emails_in("erin@example.com\nfinn@example.com").emails, ["erin@example.com", "finn@example.com"]);
        let list = emails_in("address,name\rerin@example.com,Erin\rfinn@,Finn");
        assert_eq!(list.emails, ["erin@example.com"]);
        assert_eq!(list.bad.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [3]);
        assert_eq!(emails_in("  \n"), EmailList::default());
    }

    #[test]
    fn cells_keep_quoted_commas_and_quotes() {
        assert_eq!(cells("a,\"b, c\",\"d \"\"e\"\"\""), ["a", "b, c", "d \"e\""]);
    }
}
