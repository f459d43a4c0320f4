//! Managers an import refers to: each must be on a row of the file that is imported, or already in the
//! directory, and a row naming one who is not is named by its line.

use crate::RowError;
use bonafide_domain::{Email, NewPerson};
use std::collections::BTreeMap;

/// Takes out of `people` each row whose manager is neither on a row that stays in `people` nor
/// `in_directory` (primary emails), and returns their errors in line order. A row whose manager's row
/// is taken out goes too, unless that manager is in the directory already: the import writes every
/// row it keeps, so each kept manager can be found.
pub fn refuse_unknown_managers(
    people: &mut Vec<(u64, NewPerson)>,
    in_directory: impl Fn(&Email) -> bool,
) -> Vec<RowError> {
    let rows: BTreeMap<&Email, u64> = people.iter().map(|(line, p)| (&p.email, *line)).collect();
    let mut reports: BTreeMap<&Email, Vec<(u64, &Email)>> = BTreeMap::new();
    for (line, p) in people.iter() {
        if let Some(manager) = &p.manager_email {
            reports.entry(manager).or_default().push((*line, &p.email));
        }
    }
    // Managers found nowhere in the file, then managers whose own row was refused (with its line).
    let mut queue: Vec<(&Email, Option<u64>)> =
        reports.keys().filter(|m| !rows.contains_key(*m)).map(|m| (*m, None)).collect();
    let mut refused: BTreeMap<u64, RowError> = BTreeMap::new();
    while let Some((manager, line_of_manager)) = queue.pop() {
        if in_directory(manager) {
            continue;
        }
        let message = match line_of_manager {
            None => format!("manager {manager} is not in the directory, nor on a valid row of this file"),
            Some(l) => format!("manager {manager} is on line {l}, which has an error"),
        };
        for (line, email) in reports.get(manager).into_iter().flatten() {
            if refused.contains_key(line) {
                continue;
            }
            let error = RowError { line: *line, field: "manager_email".into(), message: message.clone() };
            refused.insert(*line, error);
            queue.push((email, Some(*line)));
        }
    }
    people.retain(|(line, _)| !refused.contains_key(line));
    refused.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bonafide_domain::PhoneRegion;

    #[test]
    fn regression_15_11_a_missing_manager_is_named_by_its_line() {
        let csv = "email,name,manager\n\
                   boss@example.com,Boss,\n\
                   a@example.com,A,gone@example.com\n\
                   b@example.com,B,a@example.com\n\
                   c@example.com,C,boss@example.com\n\
                   d@example.com,D,old@example.com\n\
                   e@example.com,E,\"b@example.com\"\n";
        let (mut people, errors) = crate::parse(csv.as_bytes(), PhoneRegion::default()).unwrap();
        assert_eq!(errors, vec![]);
        let old: Email = "old@example.com".parse().unwrap();
        let refused = refuse_unknown_managers(&mut people, |m| *m == old);
        let got: Vec<(u64, &str, &str)> =
            refused.iter().map(|e| (e.line, e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (
                    3,
                    "manager_email",
                    "manager gone@example.com is not in the directory, nor on a valid row of this file"
                ),
                (4, "manager_email", "manager a@example.com is on line 3, which has an error"),
                (7, "manager_email", "manager b@example.com is on line 4, which has an error"),
            ]
        );
        let kept: Vec<u64> = people.iter().map(|(line, _)| *line).collect();
        assert_eq!(kept, vec![2, 5, 6], "the boss, a row naming them, and a manager already in the directory");
    }
}
