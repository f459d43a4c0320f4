//! What a drill's target meets: the landing page behind their link, which imitates an IT portal, and
//! the two-minute lesson it becomes after a mistake; and the recognition of a report of the drill.
//!
//! The link token is the only credential (the target is not signed in). A GET records `opened` only:
//! mail scanners and link previews fetch links too. A click needs a button press, which is a POST; a
//! submission records only how many characters were typed, never the text.

use crate::{App, AppError, Caller};
use bonafide_analyzer::{Analyzer, Stage};
use bonafide_auth::drill::token_hash;
use bonafide_domain::drill::{Outcome, grade, mistake_at};
use bonafide_domain::{Ask, DrillChannel, DrillId, DrillStatus, PhoneNumber, ReportId, Scenario};
use bonafide_store::{Actor, AuditEvent, DrillRecord, Mark, Outcome as AuditOutcome, TargetRecord};

/// The landing page: the persona's portal, or the lesson after a mistake.
#[derive(Debug, Clone, PartialEq)]
pub struct Landing {
    /// The drill.
    pub drill: DrillId,
    /// The persona's name.
    pub sender_name: String,
    /// The subject of the message.
    pub subject: String,
    /// What the scenario asks for (the form asks for it too).
    pub ask: Ask,
    /// The staff id the persona claims.
    pub claimed_staff_id: Option<String>,
    /// The number the persona gives.
    pub caller_number: Option<String>,
    /// How the message came.
    pub channel: DrillChannel,
    /// The lesson, once a mistake was made.
    pub lesson: Option<Lesson>,
}

/// The lesson shown right after a mistake.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesson {
    /// The grade so far (`clicked` or `complied`).
    pub outcome: Outcome,
    /// The message as it was sent, with the link written as `[link]`.
    pub message: String,
    /// The analyzer's evidence in `message`: byte ranges with what each shows, in order, not overlapping.
    pub marks: Vec<Evidence>,
    /// The first three rules of the contact policy in force, in everyday words.
    pub rules: Vec<String>,
    /// The service desk's number, to call when a contact is not verified.
    pub desk_number: Option<PhoneNumber>,
    /// Whether the lesson was marked read.
    pub read: bool,
}

/// One piece of evidence the analyzer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Where it starts (bytes into the message).
    pub start: usize,
    /// Where it ends.
    pub end: usize,
    /// What it shows ("authority claim", "favour offered", "the ask", …).
    pub label: &'static str,
}

/// How the lesson names a stage of the script; stages that argue for the message are not marked.
fn label(stage: Stage) -> Option<&'static str> {
    Some(match stage {
        Stage::AuthorityClaim => "authority claim",
        Stage::FavourOffer => "favour offered",
        Stage::SensitiveRequest => "the ask",
        Stage::ProblemProbe => "a problem named for you",
        Stage::SocialProof => "others have it too",
        Stage::Rapport => "friendliness",
        Stage::Urgency => "urgency",
        Stage::Secrecy => "secrecy",
        Stage::ChannelSwitch => "a link or a number to use",
        Stage::ScamCue => "a scam's mark",
        Stage::PriorRequest | Stage::OfficialChannel => return None,
    })
}

/// What the target at `token` may see: none for an unknown token or a drill that was never launched.
async fn find(app: &App, token: &str) -> Result<(DrillRecord, TargetRecord), AppError> {
    if token.len() != 43 || !token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(AppError::NotFound);
    }
    match app.store().drill_target_by_token(&token_hash(token)).await? {
        Some((d, t)) if d.status != DrillStatus::Draft => Ok((d, t)),
        _ => Err(AppError::NotFound),
    }
}

fn actor(t: &TargetRecord, client: &str) -> Actor {
    Actor { id: Some(t.person), label: t.email.clone(), client: client.to_owned() }
}

fn event(t: &TargetRecord, client: &str, action: &'static str) -> AuditEvent {
    AuditEvent::new(&actor(t, client), action, t.drill.to_string(), AuditOutcome::Ok)
        .with(serde_json::json!({ "target": t.id }))
}

fn scenario(d: &DrillRecord) -> Result<Scenario, AppError> {
    serde_json::from_str(&d.drill.scenario)
        .map_err(|_| AppError::Internal(bonafide_store::StoreError::Corrupt("drill scenario".into())))
}

async fn landing(app: &App, d: &DrillRecord, t: &TargetRecord) -> Result<Landing, AppError> {
    let s = scenario(d)?;
    let lesson = match mistake_at(&t.signals) {
        None => None,
        Some(_) => Some(lesson(app, &s, t).await?),
    };
    Ok(Landing {
        drill: d.drill.id,
        sender_name: s.sender_name.clone(),
        subject: s.subject_line().to_owned(),
        ask: s.ask,
        claimed_staff_id: s.claimed_staff_id.clone(),
        caller_number: s.caller_number.clone(),
        channel: d.drill.channel,
        lesson,
    })
}

async fn lesson(app: &App, s: &Scenario, t: &TargetRecord) -> Result<Lesson, AppError> {
    let message = s.render(&t.display_name, "[link]");
    let analysis = Analyzer::english().analyze_text(&message);
    let mut marks: Vec<Evidence> = analysis
        .stages
        .iter()
        .filter(|f| f.message_index.unwrap_or(0) == 0)
        .filter_map(|f| label(f.stage).map(|label| Evidence { start: f.start, end: f.end, label }))
        .filter(|e| e.start < e.end && message.is_char_boundary(e.start) && message.is_char_boundary(e.end))
        .filter(|e| e.end <= message.len())
        .collect();
    marks.sort_by_key(|e| (e.start, std::cmp::Reverse(e.end)));
    let mut kept: Vec<Evidence> = Vec::with_capacity(marks.len());
    for m in marks {
        if kept.last().is_none_or(|k| m.start >= k.end) {
            kept.push(m);
        }
    }
    let policy = app.policy_at(app.now()).await?;
    Ok(Lesson {
        outcome: grade(&t.signals),
        message,
        marks: kept,
        rules: policy.rules.in_words().into_iter().take(3).collect(),
        desk_number: crate::security::service_desk_number(app).await,
        read: t.lesson_read_at.is_some(),
    })
}

/// The landing page behind `token`, recording the first open. `client` is the client's address.
pub async fn open(app: &App, token: &str, client: &str) -> Result<Landing, AppError> {
    let (d, t) = find(app, token).await?;
    let now = app.now();
    if t.signals.opened.is_none() {
        app.store().mark_drill_target(t.id, Mark::Opened, &event(&t, client, "drill.opened"), now).await?;
    }
    landing(app, &d, &t).await
}

/// A button press on the landing page: a click, or a submission when something was typed (only the
/// number of characters is kept). Answers the lesson.
pub async fn press(app: &App, token: &str, typed_chars: usize, client: &str) -> Result<Landing, AppError> {
    let (d, t) = find(app, token).await?;
    let now = app.now();
    let (mark, action) = if typed_chars > 0 {
        (Mark::Submitted(i64::try_from(typed_chars).unwrap_or(i64::MAX)), "drill.submitted")
    } else {
        (Mark::Clicked, "drill.clicked")
    };
    app.store().mark_drill_target(t.id, mark, &event(&t, client, action), now).await?;
    let (d, t) = app.store().drill_target_by_token(&token_hash(token)).await?.unwrap_or((d, t));
    landing(app, &d, &t).await
}

/// Marks the lesson behind `token` read; refused (404) before a mistake, when there is no lesson.
pub async fn lesson_read(app: &App, token: &str, client: &str) -> Result<Landing, AppError> {
    let (d, t) = find(app, token).await?;
    if mistake_at(&t.signals).is_none() {
        return Err(AppError::NotFound);
    }
    app.store().mark_drill_target(t.id, Mark::LessonRead, &event(&t, client, "drill.lesson_read"), app.now()).await?;
    let (d, t) = app.store().drill_target_by_token(&token_hash(token)).await?.unwrap_or((d, t));
    landing(app, &d, &t).await
}

/// A report the reporter's drill explains: the drill's own link in the text, or its persona (sender
/// address, number, staff id) in a drill the reporter was sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Recognised {
    pub(crate) drill: DrillId,
    pub(crate) target: TargetRecord,
}

/// The persona a report names, normalised as drills store theirs.
pub(crate) struct Named<'a> {
    pub(crate) address: Option<&'a str>,
    pub(crate) number: Option<&'a str>,
    pub(crate) staff_id: Option<&'a str>,
    pub(crate) text: Option<&'a str>,
}

/// The link tokens in `text` (after `/d/`).
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("/d/").filter_map(|(i, _)| {
        let rest = text.get(i + 3..)?;
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(rest.len());
        (end == 43).then(|| &rest[..end])
    })
}

/// Whether a report by `who` is of one of the drills they were sent: only the drill's own link, sender,
/// number or staff id match, and only in a drill sent to the reporter, so a real report that shares an
/// indicator with a drill is never swallowed.
pub(crate) async fn recognise(app: &App, who: &Caller, named: &Named<'_>) -> Result<Option<Recognised>, AppError> {
    if let Some(text) = named.text {
        for token in tokens(text).take(10) {
            if let Some((d, t)) = app.store().drill_target_by_token(&token_hash(token)).await?
                && t.person == who.person.id
                && d.status != DrillStatus::Draft
            {
                return Ok(Some(Recognised { drill: d.drill.id, target: t }));
            }
        }
    }
    let address = named.address.and_then(bonafide_store::normal_address);
    let number = named.number.map(|n| super::normal_number(app, n));
    let staff_id = named.staff_id.map(super::normal_staff_id);
    if address.is_none() && number.is_none() && staff_id.is_none() {
        return Ok(None);
    }
    let found =
        app.store().drills_matching(who.person.id, address.as_deref(), number.as_deref(), staff_id.as_deref()).await?;
    Ok(found.into_iter().next().map(|(d, t)| Recognised { drill: d.drill.id, target: t }))
}

/// Keeps a recognised report as the drill's result; its id, which no real report has.
pub(crate) async fn record_report(
    app: &App,
    who: &Caller,
    found: &Recognised,
    complied: bool,
) -> Result<ReportId, AppError> {
    let id = ReportId::new();
    let event = who.event("drill.reported", found.drill.to_string()).with(serde_json::json!({
        "target": found.target.id, "report": id, "complied": complied, "via": who.via.as_str(),
    }));
    app.store().record_drill_report(found.target.id, id, complied, &event, app.now()).await?;
    tracing::info!(drill = %found.drill, "a drill was reported");
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::tokens;

    #[test]
    fn only_whole_tokens_after_the_landing_path_are_read() {
        let t = "A".repeat(43);
        let text = format!("see https://x.example/d/{t}. and /d/short and /d/{t}B");
        assert_eq!(tokens(&text).collect::<Vec<_>>(), vec![t.as_str()]);
        assert_eq!(tokens("/d/").count(), 0);
        assert_eq!(tokens("é/d/é").count(), 0);
    }
}
