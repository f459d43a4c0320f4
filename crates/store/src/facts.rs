//! Everything the verification engine needs for one check, read in a single statement.
//!
//! A check is the hot path: a person on the phone is waiting. One `UNION ALL` returns the candidate
//! staffers (with their official contacts), the employee's requests, their announced outreach, whether the
//! caller matches an active campaign, which of the employee's verification is locked, how many checks
//! they opened recently (the rate limit) and which contact policy version is in force, instead of seven
//! round trips.

use crate::codec::{Columns, channels, from_millis, millis, parse, parse_opt};
use crate::correlation::ClusterStatus;
use crate::params::{self, Param};
use crate::{HotPath, Store, StoreError, lite};
use bonafide_domain::verification::{OutreachFacts, RequestFacts, StaffFacts};
use bonafide_domain::{OutreachWindow, PersonId, PersonStatus, PhoneNumber, RequestKey, Role, Roles, StaffId};
use std::sync::LazyLock;
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
    /// The calling number as campaigns index it (E.164, or the digits of a number that could not be read).
    pub campaign_number: Option<&'a str>,
    /// The sender's domain, when it is one that ties reports together (not free mail, not the company's).
    pub campaign_domain: Option<&'a str>,
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
    /// Whether the number, address, domain or claimed staff id is an indicator of an active campaign (one
    /// of the directory's own only when security confirmed the campaign covers them).
    pub campaign_match: bool,
    /// The scopes of the employee's verification locked now, by their keys ([`GuardScope::key`]).
    ///
    /// [`GuardScope::key`]: bonafide_domain::GuardScope::key
    pub locked_scopes: Vec<String>,
    /// The contact policy version in force at `now` (0 when none was written: the built-in default).
    pub policy_version: u32,
}

// The staffers come from four branches, one per way a claim can name them, each an exact index lookup;
// a staffer named twice appears twice and `add_fact` folds the rows. (`OR` or `IN (SELECT …)` would make
// SQLite build temporary tables on every check.) Contacts other than official ones are skipped there too.
const STAFF_COLUMNS: &str = "'staff' AS kind, p.id AS a, p.staff_id AS b, p.display_name AS c, p.roles AS d, \
       p.status AS e, ct.kind AS f, ct.value AS g, p.team AS h, p.photo_url AS i, CAST(NULL AS BIGINT) AS n1, \
       CAST(NULL AS BIGINT) AS n2";

pub(crate) static FACTS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {STAFF_COLUMNS} FROM people p LEFT JOIN person_contacts ct ON ct.person_id = p.id \
      WHERE p.staff_id = $2 \
     UNION ALL \
     SELECT {STAFF_COLUMNS} FROM people p LEFT JOIN person_contacts ct ON ct.person_id = p.id \
      WHERE p.name_key = $3 AND p.staff_id IS NOT NULL \
     UNION ALL \
     SELECT {STAFF_COLUMNS} FROM person_contacts m JOIN people p ON p.id = m.person_id \
            LEFT JOIN person_contacts ct ON ct.person_id = p.id \
      WHERE m.value = $4 AND m.kind = 'official_phone' AND p.staff_id IS NOT NULL \
     UNION ALL \
     SELECT {STAFF_COLUMNS} FROM person_contacts m JOIN people p ON p.id = m.person_id \
            LEFT JOIN person_contacts ct ON ct.person_id = p.id \
      WHERE m.value = $5 AND m.kind = 'official_address' AND p.staff_id IS NOT NULL \
UNION ALL \
SELECT 'request', r.status, r.assignee_id, r.channels, r.summary, r.category, NULL, NULL, NULL, NULL, r.number, NULL \
  FROM support_requests r \
 WHERE r.requester_id = $1 AND (r.status IN ('open', 'assigned') OR r.number = $6) \
UNION ALL \
SELECT 'outreach', o.id, o.staffer_id, o.channels, NULL, NULL, NULL, NULL, NULL, NULL, o.starts_at, o.ends_at \
  FROM outreach o \
 WHERE o.employee_id = $1 AND o.status = 'approved' AND o.ends_at > $7 \
UNION ALL \
SELECT 'campaign', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM ( \
  SELECT 1 AS hit FROM campaign_indicators ci JOIN campaigns c ON c.id = ci.campaign_id \
   WHERE ci.value = $10 AND ci.kind = 'phone' AND c.status IN ($12, $13) \
     AND (c.covers_official = 1 OR NOT EXISTS (SELECT 1 FROM person_contacts pc \
          WHERE pc.value = $10 AND pc.kind = 'official_phone')) \
  UNION ALL \
  SELECT 1 FROM campaign_indicators ci JOIN campaigns c ON c.id = ci.campaign_id \
   WHERE ci.value = $5 AND ci.kind = 'email' AND c.status IN ($12, $13) \
     AND (c.covers_official = 1 OR NOT EXISTS (SELECT 1 FROM person_contacts pc \
          WHERE pc.value = $5 AND pc.kind = 'official_address')) \
  UNION ALL \
  SELECT 1 FROM campaign_indicators ci JOIN campaigns c ON c.id = ci.campaign_id \
   WHERE ci.value = $11 AND ci.kind = 'domain' AND c.status IN ($12, $13) \
     AND (c.covers_official = 1 OR ci.note IS NULL OR ci.note <> 'own_domain') \
  UNION ALL \
  SELECT 1 FROM campaign_indicators ci JOIN campaigns c ON c.id = ci.campaign_id \
   WHERE ci.value = $2 AND ci.kind = 'staff_id' AND c.status IN ($12, $13) \
     AND (c.covers_official = 1 OR NOT EXISTS (SELECT 1 FROM people p WHERE p.staff_id = $2)) \
  LIMIT 1) campaign \
UNION ALL \
SELECT 'lock', g.scope, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, g.locked_until, NULL \
  FROM verification_guards g WHERE g.employee_id = $1 AND g.locked_until > $7 \
UNION ALL \
SELECT 'policy', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, MAX(version), NULL \
  FROM policy_versions WHERE effective_at <= $7 \
UNION ALL \
SELECT 'recent_checks', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, COUNT(*), NULL \
  FROM (SELECT 1 AS one FROM contact_checks WHERE employee_id = $1 AND created_at >= $8 LIMIT $9) recent"
    )
});

/// [`FACTS_SQL`]'s values, owned: on SQLite they travel to the worker thread.
#[derive(Debug, Default)]
pub(crate) struct FactsValues {
    employee: String,
    staff_id: Option<String>,
    first_word: Option<String>,
    number: Option<String>,
    address: Option<String>,
    request: Option<i64>,
    now: i64,
    since: i64,
    up_to: i64,
    campaign_number: Option<String>,
    campaign_domain: Option<String>,
}

impl FactsValues {
    fn new(q: &FactsQuery<'_>) -> Self {
        Self {
            employee: q.employee.to_string(),
            staff_id: q.staff_id.map(|s| s.as_str().to_owned()),
            first_word: q.claimed_name.and_then(|n| n.split_whitespace().next()).map(str::to_lowercase),
            number: q.number.map(|n| n.as_str().to_owned()),
            address: q.address.map(str::to_owned),
            request: q.request_key.and_then(|k| i64::try_from(k.number()).ok()),
            now: millis(q.now),
            since: millis(q.checks_since),
            up_to: q.count_up_to,
            campaign_number: q.campaign_number.map(str::to_owned),
            campaign_domain: q.campaign_domain.map(str::to_owned),
        }
    }

    /// The values in the order of [`FACTS_SQL`]'s placeholders; the last two are the states of a
    /// campaign that checks are warned about.
    pub(crate) fn params(&self) -> [Param<'_>; 13] {
        [
            Param::text(&self.employee),
            Param::opt_text(self.staff_id.as_deref()),
            Param::opt_text(self.first_word.as_deref()),
            Param::opt_text(self.number.as_deref()),
            Param::opt_text(self.address.as_deref()),
            Param::Int(self.request),
            Param::int(self.now),
            Param::int(self.since),
            Param::int(self.up_to),
            Param::opt_text(self.campaign_number.as_deref()),
            Param::opt_text(self.campaign_domain.as_deref()),
            Param::text(ClusterStatus::Active.as_str()),
            Param::text(ClusterStatus::Contained.as_str()),
        ]
    }
}

impl Store {
    /// Reads the facts for one check in one statement.
    pub async fn check_facts(&self, q: &FactsQuery<'_>) -> Result<CheckFacts, StoreError> {
        let values = FactsValues::new(q);
        let mut facts = match &self.hot {
            HotPath::Sqlite(lite) => {
                lite.read(move |conn| {
                    let mut facts = CheckFacts::default();
                    lite::query_params(conn, &FACTS_SQL, &values.params(), |row| add_fact(&mut facts, row))?;
                    Ok(facts)
                })
                .await?
            }
            HotPath::Postgres(_) => {
                let rows =
                    params::bind(sqlx::query(FACTS_SQL.as_str()), &values.params()).fetch_all(&self.read).await?;
                let mut facts = CheckFacts::default();
                for row in &rows {
                    add_fact(&mut facts, row)?;
                }
                facts
            }
        };
        // The UNION has no overall order: sort for deterministic answers.
        facts.candidates.sort_by(|a, b| a.facts.staff_id.cmp(&b.facts.staff_id));
        facts.requests.sort_by_key(|r| std::cmp::Reverse(r.0.key));
        Ok(facts)
    }
}

/// Adds one row of [`FACTS_SQL`] to `facts`.
fn add_fact(facts: &mut CheckFacts, row: &dyn Columns) -> Result<(), StoreError> {
    match row.required("kind")?.as_str() {
        "staff" => {
            let person: PersonId = parse("person id", &row.required("a")?)?;
            let index = match facts.candidates.iter().position(|s| s.facts.person == person) {
                Some(i) => i,
                None => {
                    let roles = Roles::parse_list(&row.required("d")?).map_err(|e| StoreError::Corrupt(e.message))?;
                    facts.candidates.push(StaffCandidate {
                        facts: StaffFacts {
                            person,
                            staff_id: parse("staff id", &row.required("b")?)?,
                            display_name: parse("name", &row.required("c")?)?,
                            is_it_staff: roles.has(Role::ItStaff),
                            active: row.required("e")? == PersonStatus::Active.as_str(),
                            official_numbers: vec![],
                            official_addresses: vec![],
                        },
                        team: row.text("h")?.unwrap_or_default(),
                        photo_url: row.text("i")?,
                    });
                    facts.candidates.len() - 1
                }
            };
            if let (Some(kind), Some(value), Some(s)) =
                (row.text("f")?, row.text("g")?, facts.candidates.get_mut(index))
            {
                match kind.as_str() {
                    "official_phone" if !s.facts.official_numbers.iter().any(|n| n.as_str() == value) => {
                        s.facts.official_numbers.push(PhoneNumber::from_e164_unchecked(value));
                    }
                    "official_address" if !s.facts.official_addresses.contains(&value) => {
                        s.facts.official_addresses.push(value);
                    }
                    _ => {}
                }
            }
        }
        "request" => {
            let n = row.int("n1")?.and_then(|n| u64::try_from(n).ok());
            let n = n.ok_or_else(|| StoreError::Corrupt("request number".into()))?;
            facts.requests.push((
                RequestFacts {
                    key: RequestKey::from_number(n),
                    status: parse("request status", &row.required("a")?)?,
                    assignee: parse_opt("person id", row.text("b")?)?,
                    channels: channels(&row.text("c")?.unwrap_or_default())?,
                    category: row.text("e")?,
                },
                row.text("d")?.unwrap_or_default(),
            ));
        }
        "outreach" => facts.outreach.push(OutreachFacts {
            id: parse("outreach id", &row.required("a")?)?,
            staffer: parse("person id", &row.required("b")?)?,
            window: OutreachWindow {
                starts_at: from_millis(row.int("n1")?.unwrap_or_default())?,
                ends_at: from_millis(row.int("n2")?.unwrap_or_default())?,
            },
            channels: channels(&row.text("c")?.unwrap_or_default())?,
        }),
        "campaign" => facts.campaign_match = true,
        "lock" => facts.locked_scopes.push(row.required("a")?),
        "policy" => {
            let version = row.int("n1")?.map_or(Ok(0), u32::try_from);
            facts.policy_version = version.map_err(|_| StoreError::Corrupt("policy version".into()))?;
        }
        _ => facts.recent_checks = row.int("n1")?.unwrap_or_default(),
    }
    Ok(())
}
