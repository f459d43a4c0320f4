//! What every command run by the operator starts from: the database opened and migrated, the use cases
//! over it, and a use case's refusal as the binary's exit code.

use crate::InvalidInputError;
use crate::settings::Settings;
use anyhow::Context;
use bonafide_app::{App, AppError};
use bonafide_store::Store;
use std::sync::Arc;

/// Connects to the database and applies any pending migrations, with messages that say which database
/// failed. Every command that touches a database opens it here, so none runs against an old schema.
pub async fn open_store(url: &str) -> anyhow::Result<Store> {
    let name = crate::settings::redact(url);
    let store = Store::connect(url).await.with_context(|| format!("cannot open the database {name}"))?;
    store.migrate().await.with_context(|| format!("applying migrations to {name}"))?;
    Ok(store)
}

/// The use cases for a command run by the operator. Commands at the command line derive no challenge
/// codes, so a throw-away key stands in for the server's secret.
pub async fn cli_app(settings: &Settings) -> anyhow::Result<App> {
    let store = open_store(&settings.db).await?;
    let (secret, _) = bonafide_auth::ChallengeSecret::generate();
    Ok(App::new(store, Arc::new(bonafide_domain::SystemClock), Arc::new(secret), settings.app.clone()))
}

/// A use case's refusal as the binary's error: bad input exits with 3, the rest with 1.
pub fn input_error(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(errors) => InvalidInputError(AppError::fields_text(&errors)).into(),
        AppError::NotFound => InvalidInputError("not found".into()).into(),
        AppError::Conflict(why) => InvalidInputError(why).into(),
        other => anyhow::Error::from(other),
    }
}
