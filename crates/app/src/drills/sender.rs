//! Sending drill messages: any number of instances take due messages from the database, each by one
//! conditional `UPDATE`, so no message is taken twice; a taken message is leased, and one whose sender
//! died before recording the outcome is taken again when the lease runs out (with the same
//! `Message-ID`, so the one duplicate a crash can cause is recognisable). The rate is capped across
//! instances by a per-minute counter in the database, and each instance spaces its sends within the
//! minute.

use super::{Courier, Outgoing, SendError};
use crate::{App, AppError};
use bonafide_domain::{DrillId, Scenario};
use bonafide_store::{DueSend, SendResult};
use std::collections::HashMap;
use std::time::Duration;

/// Attempts before a message is given up.
const MAX_ATTEMPTS: i64 = 6;

/// How long a sender holds a message it took.
const LEASE: time::Duration = time::Duration::minutes(5);

/// The wait before attempt `n + 1` after `n` failed ones: 1 min, 5 min, 15 min, 1 h, 2 h.
fn backoff(attempts: i64) -> time::Duration {
    let minutes = [1, 5, 15, 60, 120];
    time::Duration::minutes(*minutes.get(usize::try_from(attempts).unwrap_or(0)).unwrap_or(&120))
}

/// The rate limit's bucket, shared by every instance.
const BUCKET: &str = "drill-sends";

/// The messages per minute in force.
fn per_minute(app: &App) -> u32 {
    match app.settings().drills.sends_per_minute {
        0 => 60,
        n => n,
    }
}

/// Waits until the company-wide rate allows one more send in this minute, and takes it.
async fn take_turn(app: &App) -> Result<(), AppError> {
    let limit = i64::from(per_minute(app));
    loop {
        let now = app.now().unix_timestamp();
        if app.store().hit_rate_limit(BUCKET, now.div_euclid(60)).await? <= limit {
            return Ok(());
        }
        let wait = u64::try_from(60 - now.rem_euclid(60)).unwrap_or(1).max(1);
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

/// The message for one due send.
fn outgoing(
    app: &App,
    drill: DrillId,
    scenario: &Scenario,
    due: &DueSend,
    channel: bonafide_domain::DrillChannel,
) -> Outgoing {
    let t = &due.target;
    let base = app.settings().public_url.as_deref().unwrap_or("").trim_end_matches('/');
    let token = app.secret().drill_key().token(&t.id.to_string());
    let link = format!("{base}/d/{token}");
    let host = reqwest::Url::parse(base).ok().and_then(|u| u.host_str().map(str::to_owned));
    Outgoing {
        channel,
        to_email: t.email.clone(),
        to_name: t.display_name.clone(),
        to_phone: t.phone.clone(),
        from_name: scenario.sender_name.clone(),
        from_address: scenario.sender_address.clone(),
        subject: scenario.subject_line().to_owned(),
        text: scenario.render(&t.display_name, &link),
        message_id: format!("drill-{}@{}", t.id, host.as_deref().unwrap_or("bonafide.invalid")),
        drill_header: super::header(app, drill, &t.email),
    }
}

/// Messages handed over at once: a mail server answers each message after a round trip (and lettre's
/// connections wait out the peer's delayed acknowledgement), so one connection alone would cap the rate.
pub const IN_FLIGHT: usize = 8;

/// How many messages one claim takes: about five seconds' worth at the rate in force, 1 to 20, so that a
/// claim is sent long before its lease ends even when many instances share a low rate.
fn batch(app: &App) -> i64 {
    i64::from(per_minute(app) / 12).clamp(1, 20)
}

/// Hands one claimed message over and records how it went.
async fn attempt(app: App, courier: Courier, due: DueSend, message: Outgoing) {
    if due.interrupted {
        tracing::warn!(target = %due.target.id, "sending again a drill message whose earlier attempt was interrupted");
    }
    let result = match courier.send(&message).await {
        Ok(reply) => SendResult::Sent(reply),
        Err(SendError::Transient(why)) if due.attempts + 1 < MAX_ATTEMPTS => {
            SendResult::Retry(why, app.now() + backoff(due.attempts))
        }
        Err(SendError::Transient(why) | SendError::Permanent(why)) => SendResult::Failed(why),
    };
    if !matches!(result, SendResult::Sent(_)) {
        tracing::warn!(target = %due.target.id, attempt = due.attempts + 1, result = ?result, "drill message not sent");
    }
    if let Err(e) = app.store().record_send(due.target.id, &result, app.now()).await {
        // The lease runs out and the message is taken again (with the same Message-ID).
        tracing::error!(target = %due.target.id, error = %e, "a drill message's outcome could not be recorded");
    }
    app.metrics().drill_send(match result {
        SendResult::Sent(_) => "sent",
        SendResult::Retry(..) => "retry",
        SendResult::Failed(_) => "failed",
    });
}

/// Sends every message due now, once each, at the rate in force, up to [`IN_FLIGHT`] at a time; how many
/// were attempted. Returns once every attempt is recorded.
pub async fn send_due(app: &App, courier: &Courier) -> Result<usize, AppError> {
    let now = app.now();
    let due = app.store().claim_due_sends(now, now + LEASE, batch(app)).await?;
    let count = due.len();
    let spacing = Duration::from_secs_f64(60.0 / f64::from(per_minute(app)));
    let mut drills: HashMap<DrillId, Option<(Scenario, bonafide_domain::DrillChannel)>> = HashMap::new();
    let mut flying = tokio::task::JoinSet::new();
    for d in due {
        let started = std::time::Instant::now();
        let drill = d.target.drill;
        if let std::collections::hash_map::Entry::Vacant(slot) = drills.entry(drill) {
            let found = app.store().drill(drill).await?;
            slot.insert(found.and_then(|r| serde_json::from_str(&r.drill.scenario).ok().map(|s| (s, r.drill.channel))));
        }
        let Some(Some((scenario, channel))) = drills.get(&drill) else {
            let failed = SendResult::Failed("the drill's scenario cannot be read".into());
            app.store().record_send(d.target.id, &failed, app.now()).await?;
            continue;
        };
        let message = outgoing(app, drill, scenario, &d, *channel);
        take_turn(app).await?;
        while flying.len() >= IN_FLIGHT {
            flying.join_next().await;
        }
        flying.spawn(attempt(app.clone(), courier.clone(), d, message));
        if let Some(rest) = spacing.checked_sub(started.elapsed()) {
            tokio::time::sleep(rest).await;
        }
    }
    while flying.join_next().await.is_some() {}
    Ok(count)
}

/// Sends drill messages until the process ends.
pub async fn send_loop(app: App) {
    let courier = match Courier::new(&app.settings().drills) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "drill messages are not sent");
            return;
        }
    };
    loop {
        match send_due(&app, &courier).await {
            Ok(0) => tokio::time::sleep(Duration::from_millis(500)).await,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "drill messages could not be read");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}
