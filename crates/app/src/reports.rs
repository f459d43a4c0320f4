//! Reports of suspicious contacts: filed by anyone (as typed, or a reported email), read by their
//! reporter, and by security admins and auditors for everyone.
//!
//! A report is committed, correlated and audited before the caller is told "received": an acknowledged
//! report survives a crash. An employee who did what was asked is told what to do now, and security gets
//! an urgent alert.

use crate::access::{EVERYONE, SECURITY_READERS};
use crate::{App, AppError, Caller, FieldError};
use bonafide_correlate::{Company, Sighting, indicators};
use bonafide_domain::{Ask, CampaignId, Channel, CheckId, PhoneNumber, ReportId, StaffId};
use bonafide_store::{NewReport, ReportRecord};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// The longest transcript kept, in characters.
pub const MAX_TRANSCRIPT: usize = 100_000;
/// The largest reported email kept, in bytes.
pub const MAX_EMAIL: usize = 1024 * 1024;
/// The most reports one listing shows.
pub const LIST_LIMIT: i64 = 500;

/// A report as typed (every field optional; a reported email fills what it can). Its JSON form is the
/// API's and `bonafide report`'s.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// How the contact came; an email report defaults to `email`.
    pub channel: Option<Channel>,
    /// When it happened; defaults to the email's date, else now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub occurred_at: Option<OffsetDateTime>,
    /// The caller's number.
    pub caller_number: Option<String>,
    /// The sender's address.
    pub caller_address: Option<String>,
    /// The chat handle.
    pub caller_handle: Option<String>,
    /// Who they said they were.
    pub claimed_name: Option<String>,
    /// The staff id they gave.
    pub claimed_staff_id: Option<String>,
    /// The team they named.
    pub claimed_team: Option<String>,
    /// What they asked for (a value given twice counts once).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Ask>>))]
    pub asked_for: Option<BTreeSet<Ask>>,
    /// Whether the employee did it.
    pub complied: Option<bool>,
    /// What was said or written.
    pub transcript: Option<String>,
    /// The contact check this report follows.
    pub check_id: Option<String>,
}

/// What the reporter is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The report's id.
    pub id: ReportId,
    /// The campaign it joined, if any.
    pub campaign_id: Option<CampaignId>,
    /// What to do now, when they complied.
    pub act_now: Option<Vec<String>>,
    /// The number the first step says to call (written in it as [`PhoneNumber::readable`]), so a page
    /// can make it a `tel:` link.
    pub desk_number: Option<PhoneNumber>,
    /// Set when the report was of a drill: what the reporter is told.
    pub practice: Option<String>,
}

/// What someone who reported a drill is told.
pub const PRACTICE: &str = "Well done: this was a practice run. Reporting it was exactly the right thing to do.";

/// What someone who reported a drill after doing what it asked is told.
pub const PRACTICE_COMPLIED: &str = "This was a practice run, so nothing was lost. A real caller would now have what \
     you gave them: next time, check the contact in Bonafide before doing anything, and report it.";

/// A reported email, read.
#[derive(Debug, Default)]
struct Email {
    from: Option<String>,
    name: Option<String>,
    subject: Option<String>,
    date: Option<OffsetDateTime>,
    body: Option<String>,
    original: String,
}

/// Reads a reported email (`.eml`): sender, display name, subject, date and text body. The original is
/// kept as received (lossily as UTF-8 where it is not).
fn read_email(raw: &[u8]) -> Result<Email, AppError> {
    if raw.len() > MAX_EMAIL {
        return Err(AppError::field("email", "a reported email is at most 1 MiB"));
    }
    let parsed = bonafide_analyzer::email::parse(raw)
        .ok_or_else(|| AppError::field("email", "this is not an email: it has neither a sender nor a subject"))?;
    // The headers are the sender's words, so they are evidence, never input to refuse: what a field
    // cannot hold is cut for indexing (the original keeps all of it) and control characters are dropped.
    let evidence = |v: Option<String>, max: usize| {
        v.map(|v| v.chars().filter(|c| !c.is_control()).take(max).collect::<String>().trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    Ok(Email {
        from: evidence(parsed.from, 254),
        name: evidence(parsed.name, 120),
        subject: evidence(parsed.subject, 500),
        date: parsed.date.and_then(|d| OffsetDateTime::from_unix_timestamp(d).ok()),
        body: parsed.body.map(|b| {
            b.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t')).take(MAX_TRANSCRIPT).collect()
        }),
        // Kept as received, but as text: bytes that are not UTF-8, and NUL (which PostgreSQL's text cannot
        // hold), become U+FFFD.
        original: String::from_utf8_lossy(raw).replace('\0', "\u{FFFD}"),
    })
}

fn text(field: &'static str, v: Option<String>, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())?;
    if v.chars().count() > max {
        errors.push(FieldError::new(field, format!("at most {max} characters")));
        return None;
    }
    if v.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        errors.push(FieldError::new(field, "contains control characters"));
        return None;
    }
    Some(v)
}

/// Files a report by the caller (every signed-in person): `report` as typed, or a reported email
/// (`email`, as received) with `report` empty. Checked, normalised, correlated, committed and audited.
pub async fn file(app: &App, who: &Caller, report: Report, email: Option<&[u8]>) -> Result<Received, AppError> {
    app.authorize(who, EVERYONE, "reports.file").await?;
    let email = email.map(read_email).transpose()?;
    let mut errors = Vec::new();
    let now = app.now();
    let channel = match (report.channel, &email) {
        (Some(c), _) => c,
        (None, Some(_)) => Channel::Email,
        (None, None) => {
            errors.push(FieldError::new("channel", "required"));
            Channel::Phone
        }
    };
    let plausible = |t: OffsetDateTime| t <= now + time::Duration::minutes(5) && t >= now - time::Duration::days(366);
    // An email's `Date:` is what its sender wrote: used when plausible, else the time it was received
    // (the original keeps the claim). A date the reporter typed is theirs to correct.
    let emailed = email.as_ref().and_then(|e| e.date).filter(|d| plausible(*d));
    let occurred_at = report.occurred_at.or(emailed).unwrap_or(now);
    if !plausible(occurred_at) {
        errors.push(FieldError::new("occurred_at", "within the last year, not in the future"));
    }
    let from_email = |f: fn(&Email) -> Option<String>| email.as_ref().and_then(f);
    let caller_number = text("caller_number", report.caller_number, 64, &mut errors);
    let caller_address =
        text("caller_address", report.caller_address.or(from_email(|e| e.from.clone())), 254, &mut errors);
    let caller_handle = text("caller_handle", report.caller_handle, 120, &mut errors);
    let claimed_name = text("claimed_name", report.claimed_name.or(from_email(|e| e.name.clone())), 120, &mut errors);
    let claimed_staff_id = text("claimed_staff_id", report.claimed_staff_id, 32, &mut errors);
    let claimed_team = text("claimed_team", report.claimed_team, 120, &mut errors);
    let transcript =
        text("transcript", report.transcript.or(from_email(|e| e.body.clone())), MAX_TRANSCRIPT, &mut errors);
    let check = match report.check_id.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(id) => match id.parse::<CheckId>() {
            Ok(id) => match app.store().check(id).await? {
                Some(c) if c.input.employee == who.person.id => Some(id),
                _ => {
                    errors.push(FieldError::new("check_id", "no such check of yours"));
                    None
                }
            },
            Err(_) => {
                errors.push(FieldError::new("check_id", "not a check id"));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // A report of a drill the reporter was sent is the drill's result: it joins no campaign.
    let named = crate::drills::landing::Named {
        address: caller_address.as_deref(),
        number: caller_number.as_deref(),
        staff_id: claimed_staff_id.as_deref(),
        text: transcript.as_deref(),
    };
    if let Some(found) = crate::drills::landing::recognise(app, who, &named).await? {
        let complied = report.complied.unwrap_or(false);
        let id = crate::drills::landing::record_report(app, who, &found, complied).await?;
        let told = if complied { PRACTICE_COMPLIED } else { PRACTICE };
        return Ok(Received { id, campaign_id: None, act_now: None, desk_number: None, practice: Some(told.into()) });
    }
    let mut asked_for = report.asked_for.unwrap_or_default();
    // The analyzer reads the transcript once, here: what it finds asked counts when the reporter ticked
    // nothing, so the ask feeds correlation either way, and its reading is stored with the report.
    let analysis = transcript.as_deref().map(|t| bonafide_analyzer::Analyzer::english().analyze_text(t));
    if asked_for.is_empty()
        && let Some(found) = &analysis
    {
        asked_for.extend(found.stages.iter().filter_map(|f| f.kind).map(ask_of));
    }
    let analysis =
        analysis.map(|a| serde_json::json!({ "score": a.score, "verdict": a.verdict, "stages": a.stages }).to_string());
    let complied = report.complied.unwrap_or(false);
    // A claimed staff id is checked against the directory: ids nobody has are flagged.
    let known = match claimed_staff_id.as_deref().map(str::parse::<StaffId>) {
        Some(Ok(id)) => app.store().staff_card(&id).await?.is_some(),
        _ => false,
    };
    let asks: Vec<Ask> = asked_for.iter().copied().collect();
    let sighting = Sighting {
        channel: Some(channel),
        caller_number: caller_number.as_deref(),
        caller_address: caller_address.as_deref(),
        caller_handle: caller_handle.as_deref(),
        claimed_name: claimed_name.as_deref(),
        claimed_staff_id: claimed_staff_id.as_deref(),
        asked_for: &asks,
        transcript: transcript.as_deref(),
    };
    let staff_id_known = move |_: &str| known;
    let settings = app.settings();
    let company = Company {
        region: settings.default_region,
        domains: &settings.company_domains,
        staff_id_known: &staff_id_known,
    };
    let found = indicators(&sighting, &company);
    let person = app.store().person_record(who.person.id).await?.ok_or(AppError::NotFound)?;
    let new = NewReport {
        reporter: who.person.id,
        department: person.department,
        privileged: person.privileged,
        channel,
        occurred_at,
        caller_number,
        caller_address,
        caller_handle,
        claimed_name,
        claimed_staff_id,
        claimed_team,
        asked_for: asked_for.clone(),
        complied,
        transcript,
        email_subject: email.as_ref().and_then(|e| e.subject.clone()),
        original_email: email.map(|e| e.original),
        check,
        indicators: found,
        analysis,
    };
    let event =
        who.event("report.filed", who.person.email.as_str()).with(serde_json::json!({ "via": who.via.as_str() }));
    let filed = app.store().file_report(&new, &settings.correlation, &event, now).await?;
    tracing::info!(report = %filed.id, campaign = ?filed.campaign, started = filed.campaign_started, "report filed");
    app.metrics().report();
    let desk_number = if complied { crate::security::service_desk_number(app).await } else { None };
    let act_now = complied.then(|| act_now(desk_number.as_ref(), &asked_for));
    Ok(Received { id: filed.id, campaign_id: filed.campaign, act_now, desk_number, practice: None })
}

fn ask_of(kind: bonafide_analyzer::RequestKind) -> Ask {
    use bonafide_analyzer::RequestKind as K;
    match kind {
        K::Credential => Ask::Password,
        K::MfaCode => Ask::MfaCode,
        K::LoginWalkthrough => Ask::LoginWalkthrough,
        K::RemoteAccess => Ask::RemoteAccess,
        K::SoftwareInstall => Ask::SoftwareInstall,
        K::Payment => Ask::Payment,
        K::PersonalInfo => Ask::PersonalInfo,
    }
}

/// What someone who did what a fraudster asked must do now, most urgent first.
fn act_now(desk: Option<&PhoneNumber>, asked: &BTreeSet<Ask>) -> Vec<String> {
    let call = match desk {
        Some(n) => format!("Call IT now on {} (the official number) and say you reported this.", n.readable()),
        None => "Call IT now on the number in the staff directory and say you reported this.".to_owned(),
    };
    let mut steps = vec![call];
    if asked.contains(&Ask::RemoteAccess) || asked.contains(&Ask::SoftwareInstall) {
        steps.push(
            "Disconnect your computer from the network (unplug the cable, turn off Wi-Fi) and do not use it until \
             IT has checked it."
                .into(),
        );
    }
    if asked.contains(&Ask::Password) || asked.contains(&Ask::LoginWalkthrough) || asked.is_empty() {
        steps.push("Change your password from a device you trust, now.".into());
    }
    if asked.contains(&Ask::MfaCode) {
        steps.push(
            "Tell IT you gave away a sign-in code: they will end your sessions and reset your second factor.".into(),
        );
    }
    if asked.contains(&Ask::Payment) {
        steps.push("Call your bank or finance team to stop the payment.".into());
    }
    steps
}

/// Whose reports a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The caller's own.
    Mine,
    /// Everyone's (security admins and auditors).
    All,
}

impl View {
    /// What a person sees when they do not pick.
    pub fn default_for(who: &Caller) -> Self {
        if SECURITY_READERS.allows(&who.person) { View::All } else { View::Mine }
    }
}

/// Lists reports, newest first, at most [`LIST_LIMIT`].
pub async fn list(app: &App, who: &Caller, view: View) -> Result<Vec<ReportRecord>, AppError> {
    app.authorize(who, EVERYONE, "reports.list").await?;
    let whose = match view {
        View::Mine => Some(who.person.id),
        View::All if SECURITY_READERS.allows(&who.person) => None,
        View::All => {
            let why = "only security admins and auditors see everyone's reports";
            return Err(app.refuse(who, "reports?scope=all", why).await);
        }
    };
    Ok(app.store().list_reports(whose, LIST_LIMIT).await?)
}

/// Report `id`: the reporter's own, or any for security admins and auditors.
pub async fn get(app: &App, who: &Caller, id: &str) -> Result<ReportRecord, AppError> {
    app.authorize(who, EVERYONE, "reports.get").await?;
    let id: ReportId = id.parse().map_err(|_| AppError::NotFound)?;
    match app.store().report(id).await? {
        Some(r) if r.reporter == who.person.id || SECURITY_READERS.allows(&who.person) => Ok(r),
        _ => Err(AppError::NotFound),
    }
}
