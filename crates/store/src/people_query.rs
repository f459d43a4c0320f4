//! Finding people in a directory of any size: a text search over name, email, staff id and department,
//! filters by role and status, one page at a time (ordered by email), with the count of all matches.

use crate::people::{PERSON_COLUMNS, Person, person_from};
use crate::{Store, StoreError, dynamic};
use bonafide_domain::{PersonStatus, Role};
use sqlx::Row;

/// Which people to list, and which page of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeopleQuery {
    /// Part of a name, email, staff id or department, in any case.
    pub text: Option<String>,
    /// Only people holding this role.
    pub role: Option<Role>,
    /// Only people with this status.
    pub status: Option<PersonStatus>,
    /// How many matches to skip.
    pub offset: u64,
    /// How many to return at most.
    pub limit: u64,
}

/// One page of the people a [`PeopleQuery`] matches.
#[derive(Debug, Clone)]
pub struct PeoplePage {
    /// The page, ordered by email.
    pub people: Vec<Person>,
    /// How many people match in all.
    pub total: u64,
}

/// `text` as a `LIKE` pattern matching it anywhere, with `%`, `_` and the escape character escaped.
fn contains_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    /// The page of people `query` asks for, and how many match in all.
    pub async fn find_people(&self, query: &PeopleQuery) -> Result<PeoplePage, StoreError> {
        let mut conditions = Vec::new();
        let mut values: Vec<String> = Vec::new();
        if let Some(text) = query.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            values.push(contains_pattern(text));
            let n = values.len();
            conditions.push(format!(
                "(lower(email) LIKE ${n} ESCAPE '\\' OR lower(display_name) LIKE ${n} ESCAPE '\\' \
                 OR lower(COALESCE(staff_id, '')) LIKE ${n} ESCAPE '\\' OR lower(department) LIKE ${n} ESCAPE '\\')"
            ));
        }
        if let Some(role) = query.role {
            values.push(format!("%,{},%", role.as_str()));
            conditions.push(format!("(',' || roles || ',') LIKE ${}", values.len()));
        }
        if let Some(status) = query.status {
            values.push(status.as_str().to_owned());
            conditions.push(format!("status = ${}", values.len()));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        let count_sql = format!("SELECT COUNT(*) AS n FROM people{filter}");
        let mut count = sqlx::query(dynamic(count_sql));
        for v in &values {
            count = count.bind(v.clone());
        }
        let total: i64 = count.fetch_one(&self.read).await?.try_get("n")?;
        let limit = i64::try_from(query.limit.min(1000)).unwrap_or(1000);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let page_sql =
            format!("SELECT {PERSON_COLUMNS} FROM people{filter} ORDER BY email LIMIT {limit} OFFSET {offset}");
        let mut page = sqlx::query(dynamic(page_sql));
        for v in values {
            page = page.bind(v);
        }
        let rows = page.fetch_all(&self.read).await?;
        let people = rows.iter().map(|r| person_from(r)).collect::<Result<_, _>>()?;
        Ok(PeoplePage { people, total: u64::try_from(total).unwrap_or(0) })
    }
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn search_text_is_matched_literally() {
        assert_eq!(contains_pattern("Sam"), "%sam%");
        assert_eq!(contains_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
