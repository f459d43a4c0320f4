//! `bonafide policy show` and `bonafide policy set RULES --text TEXT.md`: the contact policy from the
//! command line, so a company can keep it in version control and apply it from its deploy pipeline.
//!
//! The rules file is TOML or JSON (by its extension; TOML unless it ends in `.json`), in the API's
//! form. Every bad field is named with the line of the file it is on, and nothing is written (exit 3).

use crate::InvalidInputError;
use anyhow::Context;
use bonafide_app::policy::{self, Draft, PolicyVersion};
use bonafide_app::{Acting, App, AppError, FieldError};
use std::path::Path;

fn version_json(v: &PolicyVersion) -> serde_json::Value {
    let at = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    serde_json::json!({
        "version": v.version, "effective_at": at(v.effective_at), "rules": v.rules.to_json(), "text": v.text,
        "rules_in_words": v.rules.in_words(), "ack_due_at": at(v.due_at()),
    })
}

fn print_version(v: &PolicyVersion) {
    if v.version == 0 {
        outln!("No version has been published: the built-in default is in force.");
    } else {
        outln!("Version {}, in force from {}", v.version, v.effective_at);
    }
    for rule in v.rules.in_words() {
        outln!("  - {rule}");
    }
}

/// `bonafide policy show`: the version in force, and the newest when it is scheduled for later.
pub async fn show(app: &App, json: bool) -> Result<(), AppError> {
    let (in_force, newest) = policy::in_force_and_newest(app).await?;
    let scheduled = newest.filter(|n| n.version > in_force.version);
    if json {
        let mut out = version_json(&in_force);
        if let (Some(s), Some(fields)) = (&scheduled, out.as_object_mut()) {
            fields.insert("scheduled".into(), version_json(s));
        }
        outln!("{out}");
    } else {
        print_version(&in_force);
        if let Some(s) = scheduled {
            outln!("Scheduled:");
            print_version(&s);
        }
    }
    Ok(())
}

/// `bonafide policy set RULES --text TEXT`: publishes a version; bad fields are named with their line.
pub async fn set(
    app: &App,
    rules_file: &Path,
    text_file: &Path,
    effective_at: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let source = std::fs::read_to_string(rules_file).with_context(|| format!("reading {}", rules_file.display()))?;
    let text = std::fs::read_to_string(text_file).with_context(|| format!("reading {}", text_file.display()))?;
    let name = rules_file.display().to_string();
    let rules = read_rules(rules_file, &source)?;
    let effective_at = match effective_at {
        None => None,
        Some(t) => Some(
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|_| InvalidInputError(format!("--effective-at: `{t}` is not a time as RFC 3339")))?,
        ),
    };
    let v = match policy::publish(app, Acting::Operator, Draft { rules, text, effective_at }).await {
        Ok(v) => v,
        Err(AppError::Invalid(errors)) => return Err(InvalidInputError(located(&name, &source, &errors)).into()),
        Err(AppError::Conflict(why)) => return Err(InvalidInputError(why).into()),
        Err(e) => return Err(e.into()),
    };
    if json {
        outln!("{}", version_json(&v));
    } else {
        outln!("published contact policy version {}, in force from {}", v.version, v.effective_at);
    }
    Ok(())
}

/// The rules file as the API's JSON form.
fn read_rules(path: &Path, source: &str) -> anyhow::Result<serde_json::Value> {
    let name = path.display();
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        serde_json::from_str(source)
            .map_err(|e| InvalidInputError(format!("{name}:{}: not valid JSON: {e}", e.line())).into())
    } else {
        let table: toml::Table = source.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map_or(1, |s| line_of(source, s.start));
            InvalidInputError(format!("{name}:{line}: not valid TOML: {}", e.message()))
        })?;
        serde_json::to_value(table).context("reading the TOML rules")
    }
}

/// The 1-based line of byte `at`.
fn line_of(source: &str, at: usize) -> usize {
    source.get(..at).map_or(1, |s| s.matches('\n').count() + 1)
}

/// Each error with the line of the file its field is written on (`rules.contact_hours.zone` is the line
/// naming `zone`, after the line naming `contact_hours`), one per line.
fn located(name: &str, source: &str, errors: &[FieldError]) -> String {
    let mut lines: Vec<(Option<usize>, String)> = errors
        .iter()
        .map(|e| {
            let field = e.field.strip_prefix("rules.").unwrap_or(&e.field);
            let line = field_line(source, field);
            let text = match line {
                Some(line) => format!("{name}:{line}: {}: {}", e.field, e.message),
                None => format!("{name}: {}: {}", e.field, e.message),
            };
            (line, text)
        })
        .collect();
    // In the file's order; errors with no line (a text or a time given by flag) last.
    lines.sort_by_key(|(line, _)| line.unwrap_or(usize::MAX));
    lines.into_iter().map(|(_, text)| text).collect::<Vec<_>>().join("\n")
}

/// The line naming the last key of `field` (`contact_hours.days[2]` → `days`), searched after the line
/// naming each key before it.
fn field_line(source: &str, field: &str) -> Option<usize> {
    let keys: Vec<&str> =
        field.split('.').map(|k| k.split('[').next().unwrap_or(k)).filter(|k| !k.is_empty()).collect();
    let lines: Vec<&str> = source.lines().collect();
    let names = |line: &str, key: &str| {
        let t = line.trim_start().trim_start_matches('[').trim_start();
        let quoted = format!("\"{key}\"");
        t.starts_with(&quoted)
            || t.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(['=', ']', ':']))
            || line.contains(&format!("{quoted}:"))
            || t.contains(&format!(".{key}]"))
    };
    let mut from = 0;
    let mut found = None;
    for key in keys {
        let at = lines.iter().enumerate().skip(from).find(|(_, l)| names(l, key)).map(|(i, _)| i)?;
        found = Some(at + 1);
        from = at;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::field_line;

    #[test]
    fn a_field_is_found_on_its_line_in_toml_and_json() {
        let toml = "channels = [\"phone\", \"fax\"]\nack_due_days = 0\n\n[categories]\npassword_reset = []\n\n[contact_hours]\nzone = \"Mars\"\nfrom = \"8am\"\n";
        assert_eq!(field_line(toml, "channels[1]"), Some(1));
        assert_eq!(field_line(toml, "ack_due_days"), Some(2));
        assert_eq!(field_line(toml, "categories.password_reset"), Some(5));
        assert_eq!(field_line(toml, "contact_hours.zone"), Some(8));
        assert_eq!(field_line(toml, "contact_hours.from"), Some(9));
        assert_eq!(field_line(toml, "nowhere"), None);
        let json = "{\n  \"channels\": [\"fax\"],\n  \"contact_hours\": {\n    \"zone\": \"Mars\"\n  }\n}";
        assert_eq!(field_line(json, "channels[0]"), Some(2));
        assert_eq!(field_line(json, "contact_hours.zone"), Some(4));
    }
}

/// One case as the file writes it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseLine {
    principal: String,
    action: String,
    resource: String,
    #[serde(default)]
    context: CaseContext,
    expect: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CaseContext {
    #[serde(default)]
    mfa: bool,
    #[serde(default)]
    device_managed: bool,
    network: Option<String>,
}

/// `bonafide policy test CASES.json [--policies FILE]`: every case against the access policies in force
/// or in `policies_file`; pass or fail per case; exit 1 when any fails (3 for a bad file).
pub async fn test(app: &App, cases_file: &Path, policies_file: Option<&Path>, json: bool) -> anyhow::Result<()> {
    use bonafide_app::decisions::{self, Ask, Case};
    let name = cases_file.display().to_string();
    let source = std::fs::read_to_string(cases_file).with_context(|| format!("reading {name}"))?;
    let mut de = serde_json::Deserializer::from_str(&source);
    let lines: Vec<CaseLine> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let line = e.inner().line();
        InvalidInputError(format!("{name}:{line}: {}: {}", e.path(), e.inner()))
    })?;
    let mut cases = Vec::with_capacity(lines.len());
    for (i, c) in lines.into_iter().enumerate() {
        let expect_allow = match c.expect.as_str() {
            "allow" => true,
            "deny" => false,
            other => {
                return Err(InvalidInputError(format!(
                    "{name}: case {}: expect is `allow` or `deny`, not `{other}`",
                    i + 1
                ))
                .into());
            }
        };
        let ask = Ask {
            principal: c.principal,
            action: c.action,
            resource: c.resource,
            mfa: c.context.mfa,
            device_managed: c.context.device_managed,
            network: c.context.network.unwrap_or_else(|| "internet".to_owned()),
        };
        cases.push(Case { ask, expect_allow });
    }
    let policies = match policies_file {
        Some(p) => Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    let results = match decisions::test_cases(app, policies.as_deref(), &cases).await {
        Ok(r) => r,
        Err(AppError::Invalid(errors)) => {
            let file = policies_file.map(|p| p.display().to_string()).unwrap_or_default();
            let text = errors
                .iter()
                .map(|e| format!("{file}:{}:{}: {}", e.line.unwrap_or(0), e.column.unwrap_or(0), e.message))
                .collect::<Vec<_>>()
                .join("\n");
            return Err(InvalidInputError(text).into());
        }
        Err(e) => return Err(e.into()),
    };
    let failed = results.iter().filter(|r| !r.passed).count();
    for (i, (case, r)) in cases.iter().zip(&results).enumerate() {
        let expected = if case.expect_allow { "allow" } else { "deny" };
        let got = match (r.allowed, &r.error) {
            (Some(true), _) => "allow".to_owned(),
            (Some(false), _) => "deny".to_owned(),
            (None, Some(e)) => format!("error: {e}"),
            (None, None) => "error".to_owned(),
        };
        if json {
            outln!(
                "{}",
                serde_json::json!({
                    "case": i + 1, "principal": case.ask.principal, "action": case.ask.action, "resource": case.ask.resource,
                    "expect": expected, "passed": r.passed, "decision": r.allowed.map(|a| if a { "allow" } else { "deny" }),
                    "policies": r.policies, "error": r.error,
                })
            );
        } else {
            let verdict = if r.passed { "pass" } else { "FAIL" };
            let by = if r.policies.is_empty() { String::new() } else { format!(" by {}", r.policies.join(", ")) };
            outln!(
                "{verdict} {}: {} {} {} expected {expected}, got {got}{by}",
                i + 1,
                case.ask.principal,
                case.ask.action,
                case.ask.resource
            );
        }
    }
    if !json {
        outln!("{} of {} cases passed", results.len() - failed, results.len());
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} cases failed", results.len());
    }
    Ok(())
}
