//! `bonafide import people.csv`: header-driven CSV import of the directory.
//!
//! Columns are found by header name (any order, case-insensitive); `email` and `display_name` (or
//! `name`) are required. Lists (`roles`, `phones`, `official_phones`, ...) are separated by `;`. Every
//! bad row is reported with its line number; nothing is imported when any row is bad, unless
//! `--skip-invalid`.

use crate::InvalidInputError;
use crate::operator::{cli_app, input_error};
use crate::settings::Settings;
use anyhow::Context;
use bonafide_app::Acting;
use bonafide_app::directory::{self, Imported};
use bonafide_directory::RowError;
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
    // Read the rows before opening the database: a file with bad rows touches nothing.
    let (people, row_errors) = match bonafide_directory::parse(&bytes, settings.app.default_region) {
        Ok(parsed) => parsed,
        Err(e) => return Err(InvalidInputError(format!("{name}:{}: {}: {}", e.line, e.field, e.message)).into()),
    };
    let mut done = Imported { valid_rows: people.len(), errors: row_errors, imported: false, created: 0, updated: 0 };
    if done.errors.is_empty() || skip_invalid {
        let app = cli_app(settings).await?;
        let bar = crate::progress::bar(Some(u64::try_from(people.len()).unwrap_or(0)), "people", json);
        let progress = |n: usize| bar.set_position(u64::try_from(n).unwrap_or(0));
        done =
            directory::import(&app, Acting::Operator, &name, &bytes, skip_invalid, progress).await.map_err(
                |e| match e {
                    bonafide_app::AppError::Conflict(m) => {
                        InvalidInputError(format!("{name}: {m}; nothing imported")).into()
                    }
                    other => input_error(other),
                },
            )?;
        bar.finish_and_clear();
    }
    let errors = &done.errors;
    let report = Report {
        file: name.clone(),
        valid_rows: done.valid_rows,
        invalid_rows: errors.len(),
        created: done.created,
        updated: done.updated,
        imported: done.imported,
        errors,
    };
    if json {
        outln!("{}", serde_json::to_string(&report)?);
    } else {
        for e in errors {
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
