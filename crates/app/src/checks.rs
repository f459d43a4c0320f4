//! Contact verification: the employee enters what the caller claims and gets a verdict; the caller reads
//! out the code on their console and the employee types it in. Only the employee who opened a check sees
//! or answers it; anyone else gets `NotFound`.
//!
//! This is the hot path: a check is one statement of facts, the pure verification engine and one insert.

use crate::access::EVERYONE;
use crate::policy::PolicyVersion;
use crate::{App, AppError, Caller, FieldError};
use bonafide_domain::verification::{self, CallerNumber, ChallengeState, RequestFacts, StaffFacts};
use bonafide_domain::{
    Ask, Assessment, Authority, ChallengeSubject, Channel, CheckId, Claim, FAILURE_WINDOW_SECONDS, Facts, GuardScope,
    MAX_CHALLENGE_ATTEMPTS, MAX_FAILURES_ACROSS_CHECKS, PersonId, PhoneNumber, Reason, RequestKey, StaffId,
    VERIFICATION_LOCK_SECONDS, Verdict,
};
use bonafide_store::{AcrossChecks, CheckFacts, CheckRecord, FactsQuery, NewCheck};
use std::collections::BTreeSet;
use std::sync::Arc;

/// What the employee says about the caller, as typed.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// How they are contacting the employee.
    pub channel: Channel,
    /// The staff id they gave.
    pub claimed_staff_id: Option<String>,
    /// The name they gave.
    pub claimed_name: Option<String>,
    /// The number on the employee's screen.
    pub caller_number: Option<String>,
    /// The sender's address.
    pub caller_address: Option<String>,
    /// The request number they mention.
    pub request_key: Option<String>,
    /// What they ask for.
    pub asked_for: BTreeSet<Ask>,
}

/// The staffer a check resolved to, as the employee is shown them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffShown {
    /// Staff id.
    pub staff_id: StaffId,
    /// Name.
    pub display_name: String,
    /// Team.
    pub team: String,
    /// The stored photo address, if any (otherwise adapters show the generated avatar).
    pub photo_url: Option<String>,
}

/// A check's verdict with what the employee is shown.
#[derive(Debug, Clone)]
pub struct CheckView {
    /// The check's id.
    pub id: CheckId,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, machine-readable.
    pub reasons: Vec<Reason>,
    /// The staffer the claim resolved to, when one did.
    pub staff: Option<StaffShown>,
    /// The request that authorises the contact, with its summary.
    pub request: Option<(RequestKey, String)>,
    /// Codes the employee may still try.
    pub attempts_left: u32,
    /// What was entered.
    pub input: NewCheck,
    /// The contact policy version the check was judged by (0: the built-in default).
    pub policy_version: u32,
    /// The policy's rules the contact broke, in words.
    pub broken_rules: Vec<BrokenRule>,
}

/// A contact policy rule a contact broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenRule {
    /// The rule's field in the policy (`categories`, `contact_hours`).
    pub rule: &'static str,
    /// What it says and what happened: "Password reset requests are handled only on video or in person.
    /// This was a phone call."
    pub sentence: String,
}

/// What answering a code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// The verdict now.
    pub verdict: Verdict,
    /// Why.
    pub reasons: Vec<Reason>,
    /// Codes the employee may still try.
    pub attempts_left: u32,
    /// The contact policy version it was judged by.
    pub policy_version: u32,
}

/// What to tell the employee about a verdict, in one sentence.
pub fn advice(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Verified => {
            "The caller proved they are the staffer working on your request. Still never share a password or code."
        }
        Verdict::ChallengeRequired => {
            "Ask the caller to read out the code shown on their Bonafide console, and type it in."
        }
        Verdict::Unverified => {
            "Not verified: hang up, call IT back on the number in the directory, and report this contact."
        }
    }
}

fn trimmed(field: &'static str, value: Option<String>, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())?;
    if v.chars().count() > max || v.chars().any(char::is_control) {
        errors.push(FieldError::new(field, format!("at most {max} printable characters")));
        return None;
    }
    Some(v)
}

/// Reads what was typed into the check it describes, naming each field that is wrong.
fn parse(who: &Caller, claimed: Claimed) -> Result<NewCheck, AppError> {
    let mut errors = Vec::new();
    // Name the input's field, not the domain's (`staff_id`), so the client knows which input to fix.
    let claimed_staff_id = trimmed("claimed_staff_id", claimed.claimed_staff_id, 32, &mut errors).and_then(|s| {
        s.parse::<StaffId>().map_err(|e| errors.push(FieldError::new("claimed_staff_id", e.message))).ok()
    });
    let request_key = trimmed("request_key", claimed.request_key, 32, &mut errors)
        .and_then(|s| s.parse::<RequestKey>().map_err(|e| errors.push(FieldError::new(e.field, e.message))).ok());
    let check = NewCheck {
        employee: who.person.id,
        channel: claimed.channel,
        claimed_staff_id,
        claimed_name: trimmed("claimed_name", claimed.claimed_name, 120, &mut errors),
        caller_number: trimmed("caller_number", claimed.caller_number, 64, &mut errors),
        caller_address: trimmed("caller_address", claimed.caller_address, 254, &mut errors).map(|a| a.to_lowercase()),
        request_key,
        asked_for: claimed.asked_for,
    };
    if errors.is_empty() { Ok(check) } else { Err(AppError::Invalid(errors)) }
}

/// A check judged: the engine's answer, the facts it was given and the policy version it applied.
struct Judged {
    assessment: Assessment,
    found: CheckFacts,
    policy: Arc<PolicyVersion>,
}

/// Gathers the facts for `input` (one statement) and runs the verification engine with the contact
/// policy in force now, or with version `pinned` (what a stored check was judged by).
async fn assess(
    app: &App,
    input: &NewCheck,
    challenge: ChallengeState,
    pinned: Option<u32>,
) -> Result<Judged, AppError> {
    let now = app.now();
    let settings = app.settings();
    let caller_number = input.caller_number.as_deref().map(|raw| {
        PhoneNumber::normalize(raw, settings.default_region)
            .map_or_else(|_| CallerNumber::Unparsed(raw.to_owned()), CallerNumber::Parsed)
    });
    let number = match &caller_number {
        Some(CallerNumber::Parsed(n)) => Some(n),
        _ => None,
    };
    // Campaigns index numbers as E.164, or as digits when a number cannot be read.
    let campaign_number = match &caller_number {
        Some(CallerNumber::Parsed(n)) => Some(n.as_str().to_owned()),
        Some(CallerNumber::Unparsed(raw)) => {
            Some(bonafide_correlate::indicator::phone(raw, settings.default_region).value)
        }
        None => None,
    };
    let campaign_domain = input
        .caller_address
        .as_deref()
        .and_then(|a| bonafide_correlate::indicator::sender_domain(a, &settings.company_domains));
    let query = FactsQuery {
        employee: input.employee,
        staff_id: input.claimed_staff_id.as_ref(),
        claimed_name: input.claimed_name.as_deref(),
        number,
        address: input.caller_address.as_deref(),
        request_key: input.request_key,
        now,
        checks_since: now - time::Duration::minutes(1),
        count_up_to: settings.checks_per_minute,
        campaign_number: campaign_number.as_deref(),
        campaign_domain: campaign_domain.as_deref(),
    };
    let found = app.store().check_facts(&query).await?;
    let policy = match app.policy_numbered(pinned.unwrap_or(found.policy_version)).await? {
        Some(p) => p,
        None => app.policy_at(now).await?,
    };
    let candidates: Vec<StaffFacts> = found.candidates.iter().map(|c| c.facts.clone()).collect();
    let requests: Vec<RequestFacts> = found.requests.iter().map(|(r, _)| r.clone()).collect();
    let claim = Claim {
        channel: input.channel,
        claimed_staff_id: input.claimed_staff_id.clone(),
        claimed_name: input.claimed_name.clone(),
        caller_number,
        caller_address: input.caller_address.clone(),
        request_key: input.request_key,
        asked_for: input.asked_for.clone(),
    };
    let facts = Facts {
        candidates: &candidates,
        requests: &requests,
        outreach: &found.outreach,
        policy: &policy.rules,
        campaign_match: found.campaign_match,
        challenge,
    };
    let assessment = verification::assess(&claim, &facts, now);
    // Verification locked across checks (for the employee, or for the request or outreach this claim
    // rests on) is a locked challenge, whatever this check's own count.
    if !challenge.locked && scope_locked(&assessment, input.employee, &found) {
        let facts = Facts { challenge: ChallengeState { locked: true, ..challenge }, ..facts };
        let assessment = verification::assess(&claim, &facts, now);
        return Ok(Judged { assessment, found, policy });
    }
    Ok(Judged { assessment, found, policy })
}

/// Whether a scope the assessment's codes would count against is locked.
fn scope_locked(a: &Assessment, employee: PersonId, found: &CheckFacts) -> bool {
    if found.locked_scopes.is_empty() {
        return false;
    }
    let mut scopes = vec![GuardScope::Employee(employee)];
    if let (Some(authority), Some(staffer)) = (a.authority, a.staffer) {
        scopes.extend(GuardScope::of(&ChallengeSubject { authority, staffer, employee }));
    }
    scopes.iter().any(|s| found.locked_scopes.contains(&s.key()))
}

fn attempts_left(c: ChallengeState, a: &Assessment) -> u32 {
    if c.locked || a.reasons.contains(&Reason::ChallengeLocked) {
        0
    } else {
        MAX_CHALLENGE_ATTEMPTS.saturating_sub(c.failures)
    }
}

/// The view of a check; staff and request details come from the facts already read.
fn view(id: CheckId, input: NewCheck, judged: &Judged, challenge: ChallengeState) -> CheckView {
    let (a, found) = (&judged.assessment, &judged.found);
    let staff =
        a.staffer.and_then(|person| found.candidates.iter().find(|c| c.facts.person == person)).map(|c| StaffShown {
            staff_id: c.facts.staff_id.clone(),
            display_name: c.facts.display_name.to_string(),
            team: c.team.clone(),
            photo_url: c.photo_url.clone(),
        });
    let request = match a.authority {
        Some(Authority::Request { key }) => {
            found.requests.iter().find(|(r, _)| r.key == key).map(|(_, summary)| (key, summary.clone()))
        }
        _ => None,
    };
    CheckView {
        id,
        verdict: a.verdict,
        reasons: a.reasons.clone(),
        staff,
        request,
        attempts_left: attempts_left(challenge, a),
        broken_rules: a
            .breaches
            .iter()
            .map(|b| BrokenRule { rule: b.rule(), sentence: b.sentence(&judged.policy.rules, input.channel) })
            .collect(),
        policy_version: judged.policy.version,
        input,
    }
}

/// Assesses and records a check by the caller (every signed-in person) of what `claimed` says.
pub async fn open(app: &App, who: &Caller, claimed: Claimed) -> Result<CheckView, AppError> {
    app.authorize(who, EVERYONE, "checks.open").await?;
    let input = parse(who, claimed)?;
    let judged = assess(app, &input, ChallengeState::default(), None).await?;
    // The rate limit is the employee's own checks in the last minute, counted in the database (so it
    // holds across instances) by the same statement that read the facts.
    if judged.found.recent_checks >= app.settings().checks_per_minute {
        return Err(AppError::RateLimited { retry_after: 60 });
    }
    let a = &judged.assessment;
    let id = app.store().create_check(&input, a, judged.policy.version, &who.actor(), app.now()).await?;
    tracing::info!(check = %id, verdict = a.verdict.as_str(), policy = judged.policy.version, "contact check");
    app.metrics().check(a.verdict, &a.reasons);
    Ok(view(id, input, &judged, ChallengeState::default()))
}

/// The caller's own check `id`, as stored.
pub async fn own(app: &App, who: &Caller, id: &str) -> Result<CheckRecord, AppError> {
    app.authorize(who, EVERYONE, "checks.get").await?;
    let id: CheckId = id.parse().map_err(|_| AppError::NotFound)?;
    match app.store().check(id).await? {
        Some(c) if c.input.employee == who.person.id => Ok(c),
        _ => Err(AppError::NotFound),
    }
}

/// The caller's own check `id`: what was decided, with today's staff and request details.
pub async fn get(app: &App, who: &Caller, id: &str) -> Result<CheckView, AppError> {
    let check = own(app, who, id).await?;
    let mut judged = assess(app, &check.input, check.challenge, Some(check.policy_version)).await?;
    // What was decided stands, unless verification is locked now (across checks).
    let a = &mut judged.assessment;
    if !a.reasons.contains(&Reason::ChallengeLocked) {
        a.verdict = check.verdict;
        a.reasons = check.reasons.clone();
    }
    Ok(view(check.id, check.input, &judged, check.challenge))
}

/// Checks the code the caller read out for the caller's own check `id`: counts a wrong one (locking at
/// the limit, which alerts security), records a right one, and stores the new assessment.
pub async fn answer(app: &App, who: &Caller, id: &str, code: &str) -> Result<Answered, AppError> {
    let check = own(app, who, id).await?;
    if code.chars().count() > 32 {
        return Err(AppError::field("code", "a code is six digits"));
    }
    app.rate_limit(&format!("checks:{}", who.person.id), app.settings().checks_per_minute).await?;
    let now = app.now();
    let actor = who.actor();
    // Re-assess with today's facts: a request resolved or reassigned since the check no longer authorises.
    let before = assess(app, &check.input, check.challenge, None).await?.assessment;
    let mut challenge = check.challenge;
    if before.awaits_code() {
        let (Some(authority), Some(staffer)) = (before.authority, before.staffer) else {
            return Err(AppError::Conflict("nothing to challenge".into()));
        };
        let subject = ChallengeSubject { authority, staffer, employee: who.person.id };
        if app.secret().accepts(&subject, code, now) {
            // Read back what the database holds, pass or lock: wrong codes counted meanwhile by other
            // answers are part of it, and the assessment stored below must be made from exactly that.
            app.store().record_challenge_pass(check.id, &actor, now).await?;
            challenge = reload(app, check.id).await?;
            app.metrics().challenge(true, false);
        } else {
            let message = lock_message(who, &check, staffer);
            let scopes = GuardScope::of(&subject);
            let scope_message = |scope: &GuardScope, failures: i64| scope_lock_message(who, scope, failures);
            let across = AcrossChecks {
                scopes: &scopes,
                max: MAX_FAILURES_ACROSS_CHECKS,
                window: time::Duration::seconds(FAILURE_WINDOW_SECONDS),
                lock_for: time::Duration::seconds(VERIFICATION_LOCK_SECONDS),
                message: &scope_message,
            };
            let counted = app
                .store()
                .record_challenge_failure(check.id, MAX_CHALLENGE_ATTEMPTS, &message, &across, &actor, now)
                .await?;
            challenge = match counted {
                Some((c, locked)) => {
                    for scope in locked {
                        tracing::warn!(scope = %scope.key(), "verification locked after wrong codes across checks");
                    }
                    c
                }
                None => reload(app, check.id).await?,
            };
            if challenge.locked {
                tracing::warn!(check = %check.id, "challenge locked after repeated wrong codes");
            }
            app.metrics().challenge(false, challenge.locked && !check.challenge.locked);
        }
    }
    let judged = assess(app, &check.input, challenge, None).await?;
    let (after, policy_version) = (judged.assessment, judged.policy.version);
    // Stored only if `challenge` is still what the database holds: a concurrent answer that moved it
    // on stores its own assessment, and a stale one must not overwrite a lock or a pass.
    let reassessed = (after.verdict != check.verdict).then(|| {
        who.event("check.reassessed", check.id.to_string()).with(serde_json::json!({
            "from": check.verdict.as_str(),
            "to": after.verdict.as_str(),
            "reasons": after.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "via": who.via.as_str(),
        }))
    });
    app.store().update_check_assessment(check.id, &after, policy_version, challenge, reassessed.as_ref(), now).await?;
    if reassessed.is_some() {
        app.metrics().check(after.verdict, &after.reasons);
    }
    let attempts_left = attempts_left(challenge, &after);
    Ok(Answered { verdict: after.verdict, reasons: after.reasons, attempts_left, policy_version })
}

fn scope_lock_message(who: &Caller, scope: &GuardScope, failures: i64) -> String {
    let minutes = FAILURE_WINDOW_SECONDS / 60;
    let hours = VERIFICATION_LOCK_SECONDS / 3600;
    format!(
        "{failures} wrong challenge codes within {minutes} minutes on {} (employee {}); verification for it is \
         locked for {hours} hour(s): someone may be guessing codes",
        scope.describe(),
        who.person.email
    )
}

async fn reload(app: &App, id: CheckId) -> Result<ChallengeState, AppError> {
    Ok(app.store().check(id).await?.ok_or(AppError::NotFound)?.challenge)
}

fn lock_message(who: &Caller, check: &CheckRecord, staffer: PersonId) -> String {
    let claimed = check
        .input
        .claimed_staff_id
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| check.input.claimed_name.clone())
        .unwrap_or_else(|| "an unnamed caller".into());
    format!(
        "{MAX_CHALLENGE_ATTEMPTS} wrong challenge codes on check {} by {} (caller claimed {claimed}, staffer {staffer}, channel {}); the check is locked",
        check.id, who.person.email, check.input.channel
    )
}
