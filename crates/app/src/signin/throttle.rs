//! Sign-in throttling: failures counted per account (by the email typed) and per client address, in the
//! database, so the limits hold across instances.

use crate::{App, AppError};
use time::Duration;

/// Account failures before a lock.
pub(crate) const ACCOUNT_FAILURES: i64 = 5;
/// Address failures before a lock.
pub(crate) const ADDRESS_FAILURES: i64 = 30;
/// How long failures are counted.
const FAILURE_WINDOW: Duration = Duration::minutes(15);
/// How long a lock lasts.
const LOCK: Duration = Duration::minutes(15);
/// What a locked-out person is told.
pub const TRY_LATER: &str = "Too many attempts. Try again in 15 minutes, or call IT on the official number.";

/// The throttling subjects of one attempt.
pub(crate) struct Subjects {
    /// `account:<email typed>`.
    pub account: String,
    /// `address:<client>`.
    pub address: String,
}

impl Subjects {
    pub(crate) fn new(typed_email: &str, client: &str) -> Self {
        Self { account: Self::account_of(typed_email), address: Self::address_of(client) }
    }

    pub(crate) fn account_of(email: &str) -> String {
        format!("account:{email}")
    }

    pub(crate) fn address_of(client: &str) -> String {
        format!("address:{client}")
    }

    pub(crate) fn both(&self) -> [&str; 2] {
        [&self.account, &self.address]
    }

    pub(crate) fn both_with_limits(&self) -> [(&str, i64); 2] {
        [(&self.account, ACCOUNT_FAILURES), (&self.address, ADDRESS_FAILURES)]
    }
}

/// Minutes left (rounded up) of the latest lock among `subjects`, if any is locked.
pub(crate) async fn locked(app: &App, subjects: &[&str]) -> Result<Option<i64>, AppError> {
    let now = app.now();
    let until = app.store().signin_locked_until(subjects, now).await?;
    Ok(until.map(|until| ((until - now).whole_seconds() + 59) / 60))
}

/// Counts a failure against each subject, locking those that reach their limit.
pub(crate) async fn failed(app: &App, subjects: &[(&str, i64)]) -> Result<(), AppError> {
    let now = app.now();
    for (subject, limit) in subjects {
        app.store().record_signin_failure(subject, now, FAILURE_WINDOW, *limit, LOCK).await?;
    }
    Ok(())
}

/// Forgets `subject`'s failures after a success (best effort: a stale count only delays a lock).
pub(crate) async fn clear(app: &App, subject: &str) {
    if let Err(e) = app.store().clear_signin_failures(subject).await {
        tracing::warn!(error = %e, "sign-in failures could not be cleared");
    }
}
