//! A drill's results: every target graded, counts by outcome, per department and over the window; and
//! each person's history across drills, with repeated mistakes flagged.
//!
//! Privacy: who did what is shown to security admins only, and to nobody while the company's switch
//! makes results anonymous; auditors (and admins under the switch) see departments of at least the
//! risk settings' `min_group` people.

use super::{DrillView, anonymous, normal_number, normal_staff_id, record};
use crate::access::{SECURITY_ADMINS, SECURITY_READERS};
use crate::{App, AppError, Caller};
use bonafide_domain::drill::{Outcome, grade, mistake_at};
use bonafide_domain::{DrillId, Email, Role, SendStatus};
use bonafide_store::{DrillRecord, TargetCheck, TargetRecord};
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;

/// Counts by outcome, every outcome present (best first).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    /// How many targets.
    pub targets: i64,
    /// How many by outcome.
    pub outcomes: BTreeMap<String, i64>,
    /// How many opened the link (people and scanners alike).
    pub opened: i64,
    /// How many read the lesson after a mistake.
    pub lessons_read: i64,
}

impl Counts {
    fn new() -> Self {
        Self {
            targets: 0,
            outcomes: Outcome::ALL.iter().map(|o| (o.as_str().to_owned(), 0)).collect(),
            opened: 0,
            lessons_read: 0,
        }
    }

    fn add(&mut self, g: &Graded) {
        self.targets += 1;
        *self.outcomes.entry(g.outcome.as_str().to_owned()).or_default() += 1;
        self.opened += i64::from(g.target.signals.opened.is_some());
        self.lessons_read += i64::from(g.target.lesson_read_at.is_some());
    }

    /// How many have `outcome`.
    pub fn of(&self, outcome: Outcome) -> i64 {
        self.outcomes.get(outcome.as_str()).copied().unwrap_or(0)
    }
}

/// A department's results; no counts when it is smaller than the minimum group this viewer may see.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepartmentResult {
    /// The department.
    pub department: String,
    /// How many of its people were targets.
    pub targets: i64,
    /// Its counts, unless hidden.
    pub counts: Option<Counts>,
}

/// What happened in one stretch of the window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bucket {
    /// When it starts.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start: OffsetDateTime,
    /// Messages sent.
    pub sent: i64,
    /// Links opened.
    pub opened: i64,
    /// First mistakes.
    pub mistakes: i64,
    /// Reports of the drill.
    pub reported: i64,
    /// Checks about the persona.
    pub verified: i64,
}

/// One target's result (security admins only).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonResult {
    /// Their email.
    pub email: String,
    /// Their name.
    pub display_name: String,
    /// Their department at launch.
    pub department: String,
    /// The grade.
    pub outcome: Outcome,
    /// The message's state.
    pub send_status: SendStatus,
    /// The server's last reply.
    pub last_reply: Option<String>,
    /// When it was accepted.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub sent_at: Option<OffsetDateTime>,
    /// When the link was fetched.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub opened_at: Option<OffsetDateTime>,
    /// When a button was pressed.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub clicked_at: Option<OffsetDateTime>,
    /// When the form was submitted.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub submitted_at: Option<OffsetDateTime>,
    /// How many characters were typed (never what).
    pub typed_chars: Option<i64>,
    /// When they reported it.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub reported_at: Option<OffsetDateTime>,
    /// When they checked the persona and were told it was not verified.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub verified_at: Option<OffsetDateTime>,
    /// When they read the lesson.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub lesson_read_at: Option<OffsetDateTime>,
}

/// A drill's results.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Results {
    /// The drill.
    pub drill: DrillView,
    /// Whether results are anonymous (no people, departments only at the minimum size).
    pub anonymous: bool,
    /// The smallest department whose counts this viewer sees.
    pub min_group: usize,
    /// Everyone's counts.
    pub totals: Counts,
    /// Per department, by name.
    pub departments: Vec<DepartmentResult>,
    /// Over the window, in hours (days for windows over two days).
    pub timeline: Vec<Bucket>,
    /// Each target, for security admins while results are not anonymous.
    pub people: Option<Vec<PersonResult>>,
}

/// A target with its grade.
struct Graded {
    target: TargetRecord,
    outcome: Outcome,
}

/// Whether check `c` is about drill `d`'s persona and did not verify it.
fn about_persona(app: &App, d: &DrillRecord, c: &TargetCheck) -> bool {
    if c.verdict == "verified" {
        return false;
    }
    let staff = d.drill.claimed_staff_id.as_deref().zip(c.claimed_staff_id.as_deref());
    let number = d.drill.caller_number.as_deref().zip(c.caller_number.as_deref());
    let address = d.drill.sender_address.as_deref().zip(c.caller_address.as_deref());
    staff.is_some_and(|(d, c)| normal_staff_id(c) == d)
        || number.is_some_and(|(d, c)| normal_number(app, c) == d)
        || address.is_some_and(|(d, c)| bonafide_store::normal_address(c).as_deref() == Some(d))
}

/// Every target of `d`, graded: the checks about its persona since it was sent filled in.
async fn graded(app: &App, d: &DrillRecord) -> Result<Vec<Graded>, AppError> {
    let mut targets = app.store().drill_targets(d.drill.id).await?;
    if let Some(launched) = d.launched_at {
        let checks = app.store().drill_checks(d.drill.id, launched).await?;
        let mut first: HashMap<_, OffsetDateTime> = HashMap::new();
        for c in checks.iter().filter(|c| about_persona(app, d, c)) {
            first.entry(c.person).or_insert(c.at);
        }
        for t in &mut targets {
            let since = t.sent_at.or(d.launched_at);
            t.signals.verified = first.get(&t.person).copied().filter(|at| since.is_none_or(|s| *at >= s));
        }
    }
    Ok(targets.into_iter().map(|t| Graded { outcome: grade(&t.signals), target: t }).collect())
}

fn timeline(d: &DrillRecord, graded: &[Graded], now: OffsetDateTime) -> Vec<Bucket> {
    let Some(start) = d.launched_at else { return Vec::new() };
    let end = d.ends_at.unwrap_or(start).max(d.stopped_at.unwrap_or(now).min(now)).max(start);
    let step = if d.drill.window_hours > 48 { time::Duration::days(1) } else { time::Duration::hours(1) };
    let count = usize::try_from(((end - start).whole_seconds() / step.whole_seconds()).clamp(0, 400)).unwrap_or(0) + 1;
    let mut buckets: Vec<Bucket> = (0..count)
        .map(|i| Bucket {
            start: start + step * i32::try_from(i).unwrap_or(0),
            sent: 0,
            opened: 0,
            mistakes: 0,
            reported: 0,
            verified: 0,
        })
        .collect();
    let index = |at: OffsetDateTime| {
        usize::try_from(((at - start).whole_seconds() / step.whole_seconds()).max(0)).unwrap_or(0).min(count - 1)
    };
    for g in graded {
        let s = &g.target.signals;
        let mut put = |at: Option<OffsetDateTime>, f: fn(&mut Bucket) -> &mut i64| {
            if let Some(b) = at.and_then(|at| buckets.get_mut(index(at))) {
                *f(b) += 1;
            }
        };
        put(g.target.sent_at, |b| &mut b.sent);
        put(s.opened, |b| &mut b.opened);
        put(mistake_at(s), |b| &mut b.mistakes);
        put(s.reported, |b| &mut b.reported);
        put(s.verified, |b| &mut b.verified);
    }
    buckets
}

fn person_result(g: &Graded) -> PersonResult {
    let (t, s) = (&g.target, &g.target.signals);
    PersonResult {
        email: t.email.clone(),
        display_name: t.display_name.clone(),
        department: t.department.clone(),
        outcome: g.outcome,
        send_status: t.send_status,
        last_reply: t.last_reply.clone(),
        sent_at: t.sent_at,
        opened_at: s.opened,
        clicked_at: s.clicked,
        submitted_at: s.submitted,
        typed_chars: t.typed_chars,
        reported_at: s.reported,
        verified_at: s.verified,
        lesson_read_at: t.lesson_read_at,
    }
}

/// Drill `id`'s results: security admins (with each person, unless results are anonymous) and auditors
/// (departments of at least the minimum size).
pub async fn results(app: &App, who: &Caller, id: &str) -> Result<Results, AppError> {
    app.authorize(who, SECURITY_READERS, "drills.results").await?;
    let d = record(app, id).await?;
    let now = app.now();
    let graded = graded(app, &d).await?;
    let anonymous = anonymous(app).await?;
    let named = who.has(Role::SecurityAdmin) && !anonymous;
    let min_group = if named { 1 } else { crate::risk::min_group(app).await? };
    let mut totals = Counts::new();
    let mut by_department: BTreeMap<&str, Counts> = BTreeMap::new();
    for g in &graded {
        totals.add(g);
        by_department.entry(g.target.department.as_str()).or_insert_with(Counts::new).add(g);
    }
    let departments = by_department
        .into_iter()
        .map(|(department, counts)| DepartmentResult {
            department: department.to_owned(),
            targets: counts.targets,
            counts: (usize::try_from(counts.targets).unwrap_or(0) >= min_group).then_some(counts),
        })
        .collect();
    Ok(Results {
        drill: DrillView::of(&d, now)?,
        anonymous,
        min_group,
        timeline: timeline(&d, &graded, now),
        people: named.then(|| graded.iter().map(person_result).collect()),
        totals,
        departments,
    })
}

/// The characters that make a spreadsheet read a cell as a formula.
fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

impl Results {
    /// The results as CSV: one row per person for security admins, else one per department (hidden
    /// departments without counts).
    pub fn to_csv(&self) -> String {
        let time = |t: Option<OffsetDateTime>| {
            t.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()).unwrap_or_default()
        };
        let mut out = String::new();
        if let Some(people) = &self.people {
            out.push_str("email,name,department,outcome,send_status,sent_at,opened_at,clicked_at,submitted_at,typed_chars,reported_at,verified_at,lesson_read_at,last_reply\n");
            for p in people {
                let row = [
                    cell(&p.email),
                    cell(&p.display_name),
                    cell(&p.department),
                    p.outcome.as_str().to_owned(),
                    p.send_status.as_str().to_owned(),
                    time(p.sent_at),
                    time(p.opened_at),
                    time(p.clicked_at),
                    time(p.submitted_at),
                    p.typed_chars.map(|n| n.to_string()).unwrap_or_default(),
                    time(p.reported_at),
                    time(p.verified_at),
                    time(p.lesson_read_at),
                    cell(p.last_reply.as_deref().unwrap_or("")),
                ];
                out.push_str(&row.join(","));
                out.push('\n');
            }
            return out;
        }
        let names: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        out.push_str(&format!("department,targets,{},opened,lessons_read\n", names.join(",")));
        for d in &self.departments {
            let counts = match &d.counts {
                Some(c) => {
                    let mut v: Vec<String> = Outcome::ALL.iter().map(|o| c.of(*o).to_string()).collect();
                    v.push(c.opened.to_string());
                    v.push(c.lessons_read.to_string());
                    v.join(",")
                }
                None => vec![""; names.len() + 2].join(","),
            };
            out.push_str(&format!("{},{},{counts}\n", cell(&d.department), d.targets));
        }
        out
    }
}

/// One drill in a person's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonDrill {
    /// The drill.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub drill: DrillId,
    /// Its name.
    pub name: String,
    /// When it was launched.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub launched_at: Option<OffsetDateTime>,
    /// Their grade.
    pub outcome: Outcome,
    /// When they made the mistake, if they did.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub mistake_at: Option<OffsetDateTime>,
    /// Whether this mistake repeats one made in an earlier drill.
    pub repeat_mistake: bool,
}

/// `email`'s drills, newest first, with repeated mistakes flagged: security admins, while results are
/// not anonymous. Anyone not in the directory is 404.
pub async fn person(app: &App, who: &Caller, email: &str) -> Result<Vec<PersonDrill>, AppError> {
    app.authorize(who, SECURITY_ADMINS, "drills.person").await?;
    if anonymous(app).await? {
        return Err(app.refuse(who, "drills.person", "drill results are anonymous: nobody sees a person's").await);
    }
    let email: Email = email.trim().to_lowercase().parse().map_err(|_| AppError::NotFound)?;
    let person = app.store().person_by_email(&email).await?.ok_or(AppError::NotFound)?;
    let mut history = Vec::new();
    for (d, _) in app.store().person_drills(person.id).await? {
        let graded = graded(app, &d).await?;
        if let Some(g) = graded.into_iter().find(|g| g.target.person == person.id) {
            history.push(PersonDrill {
                drill: d.drill.id,
                name: d.drill.name.clone(),
                launched_at: d.launched_at,
                outcome: g.outcome,
                mistake_at: mistake_at(&g.target.signals),
                repeat_mistake: false,
            });
        }
    }
    // Oldest first to flag repeats, then newest first.
    history.reverse();
    let mut before = false;
    for h in &mut history {
        if h.outcome.is_mistake() {
            h.repeat_mistake = before;
            before = true;
        }
    }
    history.reverse();
    Ok(history)
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_defused_and_quoted() {
        assert_eq!(cell("Sales"), "Sales");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("a,b"), "\"a,b\"");
    }
}
