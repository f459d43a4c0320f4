//! Everything the verification engine needs for one check, read in a single statement.
//!
//! A check is the hot path: a person on the phone is waiting. One `UNION ALL` returns the candidate
//! staffers (with their official contacts), the employee's requests, their announced outreach and how
//! many checks they opened recently (the rate limit), instead of four round trips.

use crate::codec::{channels, from_millis, millis, parse, parse_opt};
use crate::{Store, StoreError};
use bonafide_domain::verification::{OutreachFacts, RequestFacts, StaffFacts};
use bonafide_domain::{OutreachWindow, PersonId, PersonStatus, PhoneNumber, RequestKey, Role, Roles, StaffId};
use sqlx::Row;
use time::OffsetDateTime;

/// What a check claims, as far as the store needs it to find facts.
#[derive(Debug, Clone, Copy)]
pub struct FactsQuery<'a> {
    /// The employee being contacted.
    pub employee: PersonId,
    /// Claimed staff id.
    pub staff_id: Option<&'a StaffId>,
    /// Claimed name; its first word finds candidates.
    pub claimed_name: Option<&'a str>,
    /// Calling number, normalised.
    pub number: Option<&'a PhoneNumber>,
    /// Sending address, lower-cased.
    pub address: Option<&'a str>,
    /// The request the caller named.
    pub request_key: Option<RequestKey>,
    /// Now: outreach that ended before is ignored.
    pub now: OffsetDateTime,
    /// Checks the employee opened since this instant are counted...
    pub checks_since: OffsetDateTime,
    /// ...up to this many: the count is only compared with the rate limit, so it stops there.
    pub count_up_to: i64,
}

/// A candidate staffer with what the employee is shown of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCandidate {
    /// What the engine decides on.
    pub facts: StaffFacts,
    /// IT team.
    pub team: String,
    /// Photo address.
    pub photo_url: Option<String>,
}

/// The facts for one check.
#[derive(Debug, Clone, Default)]
pub struct CheckFacts {
    /// Staffers the claim might designate.
    pub candidates: Vec<StaffCandidate>,
    /// The employee's active requests, plus the named one if it is theirs; with their summaries.
    pub requests: Vec<(RequestFacts, String)>,
    /// Approved outreach naming the employee that has not ended.
    pub outreach: Vec<OutreachFacts>,
    /// Checks the employee opened since `checks_since`, at most `count_up_to`.
    pub recent_checks: i64,
}

const FACTS_SQL: &str = "\
SELECT 'staff' AS kind, p.id AS a, p.staff_id AS b, p.display_name AS c, p.roles AS d, p.status AS e, \
       ct.kind AS f, ct.value AS g, p.team AS h, p.photo_url AS i, CAST(NULL AS BIGINT) AS n1, CAST(NULL AS BIGINT) AS n2 \
  FROM people p LEFT JOIN person_contacts ct ON ct.person_id = p.id \
       AND ct.kind IN ('official_phone', 'official_address') \
 WHERE p.staff_id IS NOT NULL AND (p.staff_id = $2 OR p.name_key = $3 OR p.id IN \
       (SELECT person_id FROM person_contacts WHERE value IN ($4, $5) AND kind IN ('official_phone', 'official_address'))) \
UNION ALL \
SELECT 'request', r.status, r.assignee_id, r.channels, r.summary, NULL, NULL, NULL, NULL, NULL, r.number, NULL \
  FROM support_requests r \
 WHERE r.requester_id = $1 AND (r.status IN ('open', 'assigned') OR r.number = $6) \
UNION ALL \
SELECT 'outreach', o.id, o.staffer_id, o.channels, NULL, NULL, NULL, NULL, NULL, NULL, o.starts_at, o.ends_at \
  FROM outreach o \
 WHERE o.employee_id = $1 AND o.status = 'approved' AND o.ends_at > $7 \
UNION ALL \
SELECT 'recent_checks', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, COUNT(*), NULL \
  FROM (SELECT 1 AS one FROM contact_checks WHERE employee_id = $1 AND created_at >= $8 LIMIT $9) recent";

impl Store {
    /// Reads the facts for one check in one statement.
    pub async fn check_facts(&self, q: &FactsQuery<'_>) -> Result<CheckFacts, StoreError> {
        let first_word = q.claimed_name.and_then(|n| n.split_whitespace().next()).map(str::to_lowercase);
        let rows = sqlx::query(FACTS_SQL)
            .bind(q.employee.to_string())
            .bind(q.staff_id.map(StaffId::as_str))
            .bind(first_word)
            .bind(q.number.map(PhoneNumber::as_str))
            .bind(q.address)
            .bind(q.request_key.and_then(|k| i64::try_from(k.number()).ok()))
            .bind(millis(q.now))
            .bind(millis(q.checks_since))
            .bind(q.count_up_to)
            .fetch_all(&self.read)
            .await?;
        let mut facts = CheckFacts::default();
        for row in &rows {
            let text = |col: &str| row.try_get::<Option<String>, _>(col);
            let number = |col: &str| row.try_get::<Option<i64>, _>(col);
            let required = |v: Option<String>| v.ok_or_else(|| StoreError::Corrupt("missing fact column".into()));
            match row.try_get::<String, _>("kind")?.as_str() {
                "staff" => {
                    let person: PersonId = parse("person id", &required(text("a")?)?)?;
                    let index = match facts.candidates.iter().position(|s| s.facts.person == person) {
                        Some(i) => i,
                        None => {
                            let roles = Roles::parse_list(&required(text("d")?)?)
                                .map_err(|e| StoreError::Corrupt(e.message))?;
                            facts.candidates.push(StaffCandidate {
                                facts: StaffFacts {
                                    person,
                                    staff_id: parse("staff id", &required(text("b")?)?)?,
                                    display_name: parse("name", &required(text("c")?)?)?,
                                    is_it_staff: roles.has(Role::ItStaff),
                                    active: required(text("e")?)? == PersonStatus::Active.as_str(),
                                    official_numbers: vec![],
                                    official_addresses: vec![],
                                },
                                team: text("h")?.unwrap_or_default(),
                                photo_url: text("i")?,
                            });
                            facts.candidates.len() - 1
                        }
                    };
                    if let (Some(kind), Some(value), Some(s)) =
                        (text("f")?, text("g")?, facts.candidates.get_mut(index))
                    {
                        if kind == "official_phone" {
                            s.facts.official_numbers.push(PhoneNumber::from_e164_unchecked(value));
                        } else {
                            s.facts.official_addresses.push(value);
                        }
                    }
                }
                "request" => {
                    let n = number("n1")?.and_then(|n| u64::try_from(n).ok());
                    let n = n.ok_or_else(|| StoreError::Corrupt("request number".into()))?;
                    facts.requests.push((
                        RequestFacts {
                            key: RequestKey::from_number(n),
                            status: parse("request status", &required(text("a")?)?)?,
                            assignee: parse_opt("person id", text("b")?)?,
                            channels: channels(&text("c")?.unwrap_or_default())?,
                        },
                        text("d")?.unwrap_or_default(),
                    ));
                }
                "outreach" => facts.outreach.push(OutreachFacts {
                    id: parse("outreach id", &required(text("a")?)?)?,
                    staffer: parse("person id", &required(text("b")?)?)?,
                    window: OutreachWindow {
                        starts_at: from_millis(number("n1")?.unwrap_or_default())?,
                        ends_at: from_millis(number("n2")?.unwrap_or_default())?,
                    },
                    channels: channels(&text("c")?.unwrap_or_default())?,
                }),
                _ => facts.recent_checks = number("n1")?.unwrap_or_default(),
            }
        }
        // The UNION has no overall order: sort for deterministic answers.
        facts.candidates.sort_by(|a, b| a.facts.staff_id.cmp(&b.facts.staff_id));
        facts.requests.sort_by_key(|r| std::cmp::Reverse(r.0.key));
        Ok(facts)
    }
}
