//! The risk settings editor (security admins): the settings in force as JSON, "Preview" to see the
//! company and its departments under a proposed text beside how they stand now (nothing saved), and
//! "Save" to publish it as the next version; a refused text is kept with each bad field named, and the
//! version in force stays.

use super::groups::{self, against, fewer_than, name, tolerated};
use crate::portal::charts::percent;
use crate::portal::forms::{TextForm, problems, text_form};
use crate::portal::html::notice;
use bonafide_app::risk::{self, GroupRisk};
use bonafide_app::{App, AppError, Caller, FieldError};
use maud::{Markup, html};
use serde::Deserialize;

/// The settings form as submitted.
#[derive(Deserialize)]
pub(in crate::portal) struct SettingsForm {
    #[serde(default)]
    intent: String,
    #[serde(default)]
    settings: String,
}

/// What the settings editor shows.
pub(in crate::portal) enum Editor {
    /// The version in force; a notice when it is `saved`, the version just saved.
    InForce { saved: Option<u32> },
    /// A proposed text and the groups as they would be under it (nothing saved).
    Previewed { text: String, groups: Vec<GroupRisk> },
    /// A text refused by a preview or a save, with its errors.
    Refused { text: String, errors: Vec<FieldError>, saving: bool },
}

/// What a submitted form comes to: a version saved, or the editor to show.
pub(in crate::portal) enum Submitted {
    /// Saved as this version.
    Saved(u32),
    /// Shown again.
    Shown(Editor),
}

/// `text` read as JSON; a syntax error is the `settings` field's, at its line and column.
fn json(text: &str) -> Result<serde_json::Value, Vec<FieldError>> {
    serde_json::from_str(text).map_err(|e| {
        let message = format!("not JSON (line {}, column {}): {e}", e.line(), e.column());
        vec![FieldError::at("settings", e.line(), e.column(), message)]
    })
}

/// Previews or saves `form` as `who`; only errors other than the text's are `Err`.
pub(in crate::portal) async fn submit(app: &App, who: &Caller, form: SettingsForm) -> Result<Submitted, AppError> {
    let text = form.settings;
    let saving = match form.intent.as_str() {
        "preview" => false,
        "save" => true,
        _ => {
            let errors = vec![FieldError::new("intent", "preview or save")];
            return Ok(Submitted::Shown(Editor::Refused { text, errors, saving: false }));
        }
    };
    let value = match json(&text) {
        Ok(v) => v,
        Err(errors) => return Ok(Submitted::Shown(Editor::Refused { text, errors, saving })),
    };
    let done = if saving {
        risk::put_settings(app, who, &value).await.map(Submitted::Saved)
    } else {
        risk::preview(app, who, &value)
            .await
            .map(|groups| Submitted::Shown(Editor::Previewed { text: text.clone(), groups }))
    };
    match done {
        Err(AppError::Invalid(errors)) => Ok(Submitted::Shown(Editor::Refused { text, errors, saving })),
        other => other,
    }
}

/// The settings section: the version in force, the editor with its notices, and a preview's comparison.
pub(in crate::portal) fn section(
    csrf: &str,
    version: u32,
    in_force: &serde_json::Value,
    now: &[GroupRisk],
    editor: &Editor,
) -> Markup {
    let current = serde_json::to_string_pretty(in_force).unwrap_or_default();
    let text = match editor {
        Editor::InForce { .. } => current.as_str(),
        Editor::Previewed { text, .. } | Editor::Refused { text, .. } => text.as_str(),
    };
    let stays = if version == 0 {
        "the defaults stay in force".to_owned()
    } else {
        format!("version {version} stays in force")
    };
    html! {
        h2 #settings { "Settings" }
        p.meta {
            @if version == 0 { "The defaults are in force: no version has been saved yet." }
            @else { "Version " (version) " is in force." }
        }
        @match editor {
            Editor::InForce { saved: Some(n) } if *n == version => { (notice(&format!("Saved: version {n} is in force."), false)) }
            Editor::InForce { .. } => {}
            Editor::Previewed { .. } => { (notice("A preview: nothing was saved.", false)) }
            Editor::Refused { errors, saving: true, .. } => {
                (problems(&format!("These settings were not saved; {stays}:"), errors))
            }
            Editor::Refused { errors, saving: false, .. } => { (problems("These settings cannot be previewed:", errors)) }
        }
        (text_form(csrf, &TextForm {
            action: "/security/risk/settings",
            id: "risk-settings",
            field: "settings",
            label: "Risk settings (JSON)",
            hint: "base, weights, caps and decay_days per factor, tolerance (company and departments), min_group. A field left out takes its default.",
            rows: 18,
            text,
            look: ("preview", "Preview"),
            change: ("save", "Save"),
        }))
        @if let Editor::Previewed { groups, .. } = editor { (comparison(now, groups)) }
    }
}

/// A group's standing in one cell: its share at high or above and where that is against its tolerance,
/// or only that it is too small to show.
fn standing(g: Option<&GroupRisk>) -> Markup {
    match g {
        None => html! { "—" },
        Some(g) => match &g.profile {
            None => html! { (fewer_than(g.min_group)) },
            Some(p) => html! {
                (percent(p.high_or_above)) " (tolerated " (tolerated(&g.tolerance)) ", " (against(&g.tolerance, p)) ")"
                @if !g.breaches.is_empty() { br; strong { "over tolerance" } }
            },
        },
    }
}

/// The group called `n` among `gs`.
fn find<'a>(gs: &'a [GroupRisk], n: &str) -> Option<&'a GroupRisk> {
    gs.iter().find(|g| name(g) == n)
}

/// The company now and under the proposed settings side by side, then every group in a table.
fn comparison(now: &[GroupRisk], proposed: &[GroupRisk]) -> Markup {
    let chart = |gs: &[GroupRisk], id: &str, title: &str| match gs.first() {
        Some(g) => match &g.profile {
            Some(p) => groups::distribution_chart(g, p, id, title),
            None => html! { p { "The company has " (fewer_than(g.min_group)) ": no figures are shown." } },
        },
        None => html! { p { "Nobody is scored yet." } },
    };
    let mut names: Vec<&str> = now.iter().chain(proposed).map(name).collect();
    names.sort_unstable();
    names.dedup();
    if let Some(i) = names.iter().position(|n| *n == "The company") {
        let company = names.remove(i);
        names.insert(0, company);
    }
    html! {
        section.preview #preview aria-labelledby="preview-title" {
            h3 #preview-title { "Preview: the company now and with these settings" }
            div.compare {
                figure { figcaption { "Now" } (chart(now, "preview-now", "Now: people at each level, company-wide")) }
                figure { figcaption { "With these settings" } (chart(proposed, "preview-new", "With these settings: people at each level, company-wide")) }
            }
            div.table-wrap { table.stack {
                caption.visually-hidden { "Each group now and with these settings" }
                thead { tr { th scope="col" { "Group" } th scope="col" { "Now" } th scope="col" { "With these settings" } } }
                tbody {
                    @for n in &names {
                        tr {
                            td data-label="Group" { (n) }
                            td data-label="Now" { (standing(find(now, n))) }
                            td data-label="With these settings" { (standing(find(proposed, n))) }
                        }
                    }
                }
            } }
        }
    }
}
