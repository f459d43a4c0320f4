//! The directory as a CSV file: header-driven parsing into people to import, with every bad row named by
//! its line. Shared by `bonafide import` and the security portal's upload.
//!
//! Columns are found by header name (any order, case-insensitive); `email` and `display_name` (or
//! `name`) are required. Lists (`roles`, `phones`, `official_phones`, ...) are separated by `;`.
#![deny(missing_docs)]

use bonafide_domain::{Email, InvalidInput, NewPerson, PersonStatus, PhoneNumber, PhoneRegion, Roles};

use serde::Serialize;
use std::collections::BTreeMap;

mod lines;
mod managers;

pub use managers::refuse_unknown_managers;

/// A CSV row that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// The column at fault, or `row`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

const COLUMNS: [&str; 18] = [
    "email",
    "display_name",
    "department",
    "title",
    "location",
    "remote",
    "privileged",
    "manager_email",
    "roles",
    "status",
    "photo_url",
    "staff_id",
    "team",
    "on_duty",
    "phones",
    "emails",
    "official_phones",
    "official_addresses",
];

fn canonical(header: &str) -> String {
    let h = header.trim().trim_start_matches('\u{feff}').to_ascii_lowercase().replace([' ', '-'], "_");
    match h.as_str() {
        "name" | "full_name" => "display_name".to_owned(),
        "manager" => "manager_email".to_owned(),
        "phone" => "phones".to_owned(),
        _ => h,
    }
}

/// The rows of a file: valid people with their line numbers, and the invalid rows.
pub type Parsed = (Vec<(u64, NewPerson)>, Vec<RowError>);

/// The header's columns by canonical name: every one known, none given twice, the required ones there.
fn columns(header: &csv::StringRecord, line: u64) -> Result<Vec<String>, RowError> {
    let header_error = |message: String| RowError { line, field: "header".into(), message };
    let names: Vec<String> = header.iter().map(canonical).collect();
    let unknown: Vec<&str> = names.iter().map(String::as_str).filter(|h| !COLUMNS.contains(h)).collect();
    if !unknown.is_empty() {
        return Err(header_error(format!("unknown columns: {} (known: {})", unknown.join(", "), COLUMNS.join(", "))));
    }
    // A column given twice would leave one of its cells unread: refuse it rather than guess which.
    let mut seen = BTreeMap::new();
    for (n, (name, given)) in names.iter().zip(header.iter()).enumerate() {
        let given = given.trim().trim_start_matches('\u{feff}');
        if let Some((first, first_given)) = seen.insert(name.as_str(), (n, given)) {
            return Err(header_error(format!(
                "column {} `{first_given}` and column {} `{given}` both give {name}",
                first + 1,
                n + 1
            )));
        }
    }
    for required in ["email", "display_name"] {
        if !seen.contains_key(required) {
            return Err(header_error(format!("missing required column `{required}`")));
        }
    }
    Ok(names)
}

/// Parses the whole file into people and row errors. A row is named by the line it starts on, counted
/// the same for LF, CRLF and CR line ends; a leading byte order mark is ignored.
pub fn parse(text: &[u8], region: PhoneRegion) -> Result<Parsed, RowError> {
    let text = lines::unix_lines(text);
    let lines = lines::Lines::new(&text);
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(&*text);
    let header = reader.headers().map_err(|e| RowError {
        line: lines.of(e.position()),
        field: "header".into(),
        message: e.to_string(),
    })?;
    let headers = columns(header, lines.of(header.position()))?;
    let mut people = Vec::new();
    let mut errors = Vec::new();
    let (mut emails, mut staff_ids) = (BTreeMap::new(), BTreeMap::new());
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError { line: lines.of(e.position()), field: "row".into(), message: e.to_string() });
                continue;
            }
        };
        let line = lines.of(record.position());
        let row: BTreeMap<&str, &str> = headers.iter().map(String::as_str).zip(record.iter()).collect();
        match person_from_row(&row, region) {
            Ok(p) => {
                if let Some(first) = emails.insert(p.email.clone(), line) {
                    errors.push(RowError {
                        line,
                        field: "email".into(),
                        message: format!("{} already on line {first}", p.email),
                    });
                    continue;
                }
                if let Some(id) = &p.staff_id
                    && let Some(first) = staff_ids.insert(id.clone(), line)
                {
                    errors.push(RowError {
                        line,
                        field: "staff_id".into(),
                        message: format!("{id} already on line {first}"),
                    });
                    continue;
                }
                people.push((line, p));
            }
            Err(e) => errors.push(RowError { line, field: e.field.to_owned(), message: e.message }),
        }
    }
    Ok((people, errors))
}

fn flag(field: &'static str, value: &str) -> Result<bool, InvalidInput> {
    match value.to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "n" => Ok(false),
        "1" | "true" | "yes" | "y" => Ok(true),
        other => Err(InvalidInput::new(field, format!("`{other}` is not yes/no"))),
    }
}

fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(';').map(str::trim).filter(|s| !s.is_empty())
}

fn phones(field: &'static str, value: &str, region: PhoneRegion) -> Result<Vec<PhoneNumber>, InvalidInput> {
    list(value).map(|p| PhoneNumber::parse(p, region).map_err(|e| InvalidInput::new(field, e.message))).collect()
}

fn emails(field: &'static str, value: &str) -> Result<Vec<Email>, InvalidInput> {
    list(value).map(|e| e.parse::<Email>().map_err(|err| InvalidInput::new(field, err.message))).collect()
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String, InvalidInput> {
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(InvalidInput::new(field, format!("at most {max} printable characters")));
    }
    if let Some(c) = bonafide_domain::text::first_invisible(value) {
        return Err(InvalidInput::new(field, bonafide_domain::text::invisible_message(c)));
    }
    Ok(value.to_owned())
}

/// One person from a row of cells keyed by canonical column name (as a CSV row, or a form's fields).
pub fn person_from_row(row: &BTreeMap<&str, &str>, region: PhoneRegion) -> Result<NewPerson, InvalidInput> {
    // A quoted cell may span lines; no field holds a line break, so name it rather than its length.
    if let Some(field) = COLUMNS.into_iter().find(|k| row.get(k).is_some_and(|v| v.contains(['\n', '\r']))) {
        return Err(InvalidInput::new(field, format!("line breaks are not allowed in {field}")));
    }
    let get = |k: &str| row.get(k).copied().unwrap_or("");
    let optional = |k: &str| Some(get(k)).filter(|v| !v.is_empty());
    let email: Email = get("email").parse().map_err(|e: InvalidInput| InvalidInput::new("email", e.message))?;
    let staff_id = optional("staff_id").map(str::parse).transpose()?;
    let roles = Roles::parse_list(get("roles"))?;
    if staff_id.is_some() != roles.has(bonafide_domain::Role::ItStaff) {
        return Err(InvalidInput::new("staff_id", "IT staff (role it_staff) need a staff id, and only they have one"));
    }
    let photo_url = optional("photo_url").map(|u| text("photo_url", u, 500)).transpose()?;
    if photo_url.as_deref().is_some_and(|u| !(u.starts_with("https://") || u.starts_with('/'))) {
        return Err(InvalidInput::new("photo_url", "a photo address starts with https:// or /"));
    }
    Ok(NewPerson {
        email,
        display_name: get("display_name").parse()?,
        department: text("department", get("department"), 120)?,
        title: text("title", get("title"), 120)?,
        location: text("location", get("location"), 120)?,
        remote: flag("remote", get("remote"))?,
        privileged: flag("privileged", get("privileged"))?,
        manager_email: optional("manager_email")
            .map(|m| m.parse().map_err(|e: InvalidInput| InvalidInput::new("manager_email", e.message)))
            .transpose()?,
        roles,
        status: get("status").parse::<PersonStatus>()?,
        photo_url,
        staff_id,
        team: optional("team").map(|t| text("team", t, 120)).transpose()?,
        on_duty: flag("on_duty", get("on_duty"))?,
        phones: phones("phones", get("phones"), region)?,
        other_emails: emails("emails", get("emails"))?,
        official_phones: phones("official_phones", get("official_phones"), region)?,
        official_addresses: emails("official_addresses", get("official_addresses"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_parse(csv: &str) -> Parsed {
        parse(csv.as_bytes(), PhoneRegion::default()).unwrap()
    }

    #[test]
    fn columns_are_found_by_header_in_any_order() {
        let (people, errors) = run_parse(
            "Name,Email,Roles,Staff ID,Official Phones,remote\n\
             Sam Carter,SAM@example.com,it_staff,it-0042,(201) 555-0142;201-555-0143,yes\n\
             Erin Walsh,erin@example.com,,,,no\n",
        );
        assert_eq!(errors, vec![]);
        let (line, sam) = &people[0];
        assert_eq!(*line, 2);
        assert_eq!(sam.email.as_str(), "sam@example.com");
        assert_eq!(sam.staff_id.as_ref().map(|s| s.as_str()), Some("IT-0042"));
        assert_eq!(sam.official_phones.len(), 2);
        assert!(sam.remote && !people[1].1.remote);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let (people, errors) = run_parse(
            "email,display_name,phones,roles,staff_id\n\
             ok@example.com,Ok Person,,,\n\
             not-an-email,Bad Email,,,\n\
             ph@example.com,Bad Phone,call me,,\n\
             ok@example.com,Duplicate,,,\n\
             it@example.com,No Staff Id,,it_staff,\n\
             r@example.com,Bad Role,,root,\n",
        );
        assert_eq!(people.len(), 1);
        let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(got, vec![(3, "email"), (4, "phones"), (5, "email"), (6, "staff_id"), (7, "roles")]);
    }

    #[test]
    fn unknown_or_missing_columns_fail_on_line_one() {
        let e = parse(b"email,nmae\n", PhoneRegion::default()).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (1, "header"));
        assert!(e.message.contains("nmae"));
        let e = parse(b"email\n", PhoneRegion::default()).unwrap_err();
        assert!(e.message.contains("display_name"));
    }

    #[test]
    fn ragged_rows_are_errors_not_panics() {
        let (people, errors) = run_parse("email,display_name\na@example.com\nb@example.com,B,extra\n");
        assert!(people.is_empty());
        assert_eq!(errors.len(), 2);
    }

    /// The same file with every line ended by `ending`: a bad email on line 4, after a blank line.
    fn with_endings(ending: &str) -> Vec<u8> {
        ["email,display_name", "a@example.com,A", "", "not-an-email,B", "c@example.com,C", ""].join(ending).into_bytes()
    }

    #[test]
    fn regression_15_9_crlf_lf_and_cr_files_report_the_same_line() {
        for ending in ["\n", "\r\n", "\r"] {
            let (people, errors) = parse(&with_endings(ending), PhoneRegion::default()).unwrap();
            let lines: Vec<u64> = people.iter().map(|(line, _)| *line).collect();
            assert_eq!(lines, vec![2, 5], "{ending:?}");
            let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
            assert_eq!(got, vec![(4, "email")], "{ending:?}");
        }
    }

    #[test]
    fn regression_15_9_a_byte_order_mark_is_accepted() {
        for header in ["email,name", "\"email\",\"name\"", "Email , Name"] {
            let csv = format!("\u{feff}{header}\r\nbom@example.com,Bo M\r\nbad,X\r\n");
            let (people, errors) = run_parse(&csv);
            assert_eq!(people.len(), 1, "{header}: {errors:?}");
            assert_eq!(people[0].1.display_name.as_str(), "Bo M");
            assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![3], "{header}");
        }
    }

    #[test]
    fn regression_15_10_a_repeated_column_is_refused_naming_both() {
        let e = parse(b"email,name,team,department,display_name\n", PhoneRegion::default()).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (1, "header"));
        assert_eq!(e.message, "column 2 `name` and column 5 `display_name` both give display_name");
        let e = parse(b"\n\nEmail,Phone,display_name,phones \n", PhoneRegion::default()).unwrap_err();
        assert_eq!(e.line, 3, "the header's own line");
        assert_eq!(e.message, "column 2 `Phone` and column 4 `phones` both give phones");
        let e = parse(b"email,display_name,EMAIL\n", PhoneRegion::default()).unwrap_err();
        assert!(e.message.starts_with("column 1 `email` and column 3 `EMAIL`"), "{}", e.message);
    }

    #[test]
    fn regression_15_11_a_line_break_in_a_quoted_field_is_named() {
        for ending in ["\n", "\r\n", "\r"] {
            let csv = [
                "email,display_name,department",
                "a@example.com,\"Two",
                "Lines\",IT",
                "b@example.com,B,\"Fin",
                "",
                "ance\"",
                "x,C,IT",
                "",
            ]
            .join(ending);
            let (people, errors) = run_parse(&csv);
            assert!(people.is_empty(), "{ending:?}");
            let got: Vec<(u64, &str, &str)> =
                errors.iter().map(|e| (e.line, e.field.as_str(), e.message.as_str())).collect();
            assert_eq!(
                got,
                vec![
                    (2, "display_name", "line breaks are not allowed in display_name"),
                    (4, "department", "line breaks are not allowed in department"),
                    (7, "email", "`x` is not an email address"),
                ],
                "{ending:?}: a record is named by the line it starts on"
            );
        }
    }
}
