//! `bonafide import people.csv`: header-driven CSV import of the directory.
//!
//! Columns are found by header name (any order, case-insensitive); `email` and `display_name` (or
//! `name`) are required. Lists (`roles`, `phones`, `official_phones`, ...) are separated by `;`. Every
//! bad row is reported with its line number; nothing is imported when any row is bad, unless
//! `--skip-invalid`.

use crate::InvalidInputError;
use crate::cli::open_store;
use crate::settings::Settings;
use anyhow::Context;
use bonafide_directory::{RowError, parse};
use bonafide_store::{Actor, AuditEvent, NewPerson, Outcome};
use serde::Serialize;
use std::path::Path;

#[derive(Serialize)]
struct Report<'a> {
    file: String,
    valid_rows: usize,
    invalid_rows: usize,
    created: usize,
    updated: usize,
    imported: bool,
    errors: &'a [RowError],
}

/// Runs `bonafide import`.
pub async fn run(settings: &Settings, file: &Path, skip_invalid: bool, json: bool) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.display().to_string();
    let (people, errors) = match parse(&bytes, settings.web.default_region) {
        Ok(parsed) => parsed,
        Err(e) => return Err(InvalidInputError(format!("{name}:{}: {}: {}", e.line, e.field, e.message)).into()),
    };
    let mut report = Report {
        file: name.clone(),
        valid_rows: people.len(),
        invalid_rows: errors.len(),
        created: 0,
        updated: 0,
        imported: false,
        errors: &errors,
    };
    if errors.is_empty() || skip_invalid {
        let store = open_store(&settings.db).await?;
        let bar = crate::progress::bar(Some(u64::try_from(people.len()).unwrap_or(0)), "people", json);
        let rows: Vec<NewPerson> = people.into_iter().map(|(_, p)| p).collect();
        let now = time::OffsetDateTime::now_utc();
        let (created, updated) = store
            .import_people(&rows, now, |n| bar.set_position(u64::try_from(n).unwrap_or(0)))
            .await
            .map_err(|e| match e {
                bonafide_store::StoreError::Conflict(m) => {
                    anyhow::Error::from(InvalidInputError(format!("{name}: {m}; nothing imported")))
                }
                other => anyhow::Error::from(other),
            })?;
        bar.finish_and_clear();
        let detail = serde_json::json!({ "file": name, "created": created, "updated": updated, "via": "cli" });
        let event = AuditEvent::new(&Actor::system(), "directory.imported", name.to_string(), Outcome::Ok);
        store.audit(&[event.with(detail)], now).await?;
        report.created = created;
        report.updated = updated;
        report.imported = true;
    }
    if json {
        outln!("{}", serde_json::to_string(&report)?);
    } else {
        for e in &errors {
            eprintln!("{name}:{}: {}: {}", e.line, e.field, e.message);
        }
        if report.imported {
            outln!(
                "imported {} people ({} created, {} updated){}",
                report.created + report.updated,
                report.created,
                report.updated,
                if errors.is_empty() { String::new() } else { format!(", skipped {} invalid rows", errors.len()) }
            );
        } else {
            outln!("nothing imported: {} invalid rows (fix them, or pass --skip-invalid)", errors.len());
        }
    }
    if !errors.is_empty() && !skip_invalid {
        return Err(InvalidInputError(format!("{} invalid rows in {name}", errors.len())).into());
    }
    Ok(())
}
