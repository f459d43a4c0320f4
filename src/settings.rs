//! Server settings: defaults, then a TOML file, then `BONAFIDE_*` environment variables and flags.

use crate::InvalidInputError;
use anyhow::Context;
use bonafide_auth::ChallengeSecret;
use bonafide_domain::PhoneRegion;
use bonafide_web::WebConfig;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The settings file, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    db: Option<String>,
    listen: Option<String>,
    secret_file: Option<PathBuf>,
    default_region: Option<String>,
    staff_lookups_per_minute: Option<i64>,
    checks_per_minute: Option<i64>,
    body_limit_bytes: Option<usize>,
    log_json: Option<bool>,
    secure_cookies: Option<bool>,
    session_idle_minutes: Option<i64>,
    session_absolute_hours: Option<i64>,
    public_url: Option<String>,
    company_name: Option<String>,
    company_domains: Option<Vec<String>>,
    campaign_window_days: Option<i64>,
    campaign_min_reports: Option<i64>,
    campaign_min_people: Option<i64>,
    campaign_within_hours: Option<i64>,
    campaign_min_departments: Option<i64>,
    webhook_allowed_hosts: Option<Vec<String>>,
    webhook_allow_private: Option<bool>,
}

/// Values given on the command line or in the environment; they win over the file.
#[derive(Debug, Default)]
pub struct Overrides {
    /// `--db` / `BONAFIDE_DB`.
    pub db: Option<String>,
    /// `--listen` / `BONAFIDE_LISTEN`.
    pub listen: Option<String>,
    /// `--secret-file` / `BONAFIDE_SECRET_FILE`.
    pub secret_file: Option<PathBuf>,
}

/// Effective settings.
#[derive(Debug)]
pub struct Settings {
    /// Database URL.
    pub db: String,
    /// Listen address.
    pub listen: String,
    /// Where the challenge secret is read from, when not in `BONAFIDE_SECRET`.
    pub secret_file: Option<PathBuf>,
    /// API settings.
    pub web: WebConfig,
    /// Log as JSON lines.
    pub log_json: bool,
}

impl Settings {
    /// Reads `file` (if any) and applies `overrides`.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> anyhow::Result<Self> {
        let from_file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                toml::from_str::<FileSettings>(&text)
                    .map_err(|e| InvalidInputError(format!("{}: {}", path.display(), e.to_string().trim())))?
            }
            None => FileSettings::default(),
        };
        let mut web = WebConfig::default();
        if let Some(region) = from_file.default_region.or_else(|| std::env::var("BONAFIDE_DEFAULT_REGION").ok()) {
            web.default_region = region
                .parse::<PhoneRegion>()
                .map_err(|e| InvalidInputError(format!("default_region: {}", e.message)))?;
        }
        if let Some(n) = from_file.staff_lookups_per_minute {
            web.staff_lookups_per_minute = positive("staff_lookups_per_minute", n)?;
        }
        if let Some(n) = from_file.checks_per_minute {
            web.checks_per_minute = positive("checks_per_minute", n)?;
        }
        if let Some(n) = from_file.body_limit_bytes {
            web.body_limit = n.clamp(1024, 16 * 1024 * 1024);
        }
        let env_flag = |name: &str| std::env::var(name).ok().map(|v| matches!(v.as_str(), "1" | "true" | "yes"));
        if let Some(secure) = env_flag("BONAFIDE_SECURE_COOKIES").or(from_file.secure_cookies) {
            web.secure_cookies = secure;
        }
        if let Some(n) = from_file.session_idle_minutes {
            web.session_idle = time::Duration::minutes(positive("session_idle_minutes", n)?.min(24 * 60));
        }
        if let Some(n) = from_file.session_absolute_hours {
            web.session_absolute = time::Duration::hours(positive("session_absolute_hours", n)?.min(24 * 30));
        }
        if let Some(url) = std::env::var("BONAFIDE_PUBLIC_URL").ok().or(from_file.public_url) {
            let url = url.trim().trim_end_matches('/').to_owned();
            bonafide_auth::passkey::RelyingParty::new(&url, "Bonafide")
                .map_err(|e| InvalidInputError(e.to_string()))?;
            web.public_url = Some(url);
        }
        if let Some(name) = from_file.company_name {
            web.company_name = name.trim().chars().take(120).collect();
        }
        if let Some(domains) = from_file.company_domains {
            web.company_domains = domains.iter().map(|d| d.trim().trim_start_matches('@').to_lowercase()).collect();
            if let Some(bad) = web.company_domains.iter().find(|d| !d.contains('.') || d.contains(['@', '/', ' '])) {
                return Err(InvalidInputError(format!("company_domains: `{bad}` is not a domain")).into());
            }
        }
        let rules = &mut web.correlation.config;
        if let Some(days) = from_file.campaign_window_days {
            rules.window_secs = positive("campaign_window_days", days)?.min(365) * 86_400;
        }
        let count = |name: &str, n: Option<i64>, into: &mut u32| -> anyhow::Result<()> {
            if let Some(n) = n {
                *into = u32::try_from(positive(name, n)?.min(1000)).unwrap_or(1000);
            }
            Ok(())
        };
        count("campaign_min_reports", from_file.campaign_min_reports, &mut rules.campaign.min_reports)?;
        count("campaign_min_people", from_file.campaign_min_people, &mut rules.campaign.min_people)?;
        count("campaign_min_departments", from_file.campaign_min_departments, &mut rules.campaign.min_departments)?;
        if let Some(hours) = from_file.campaign_within_hours {
            rules.campaign.within_secs = positive("campaign_within_hours", hours)?.min(24 * 365) * 3600;
        }
        if let Some(hosts) = from_file.webhook_allowed_hosts {
            web.webhooks.allowed_hosts =
                hosts.iter().map(|h| h.trim().to_lowercase()).filter(|h| !h.is_empty()).collect();
        }
        web.webhooks.allow_private = from_file.webhook_allow_private.unwrap_or(false);
        Ok(Self {
            db: overrides.db.or(from_file.db).unwrap_or_else(|| "sqlite://bonafide.db".to_owned()),
            listen: overrides.listen.or(from_file.listen).unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            secret_file: overrides.secret_file.or(from_file.secret_file),
            web,
            log_json: from_file.log_json.unwrap_or(false),
        })
    }

    /// The database URL with any password hidden, for messages.
    pub fn redacted_db(&self) -> String {
        redact(&self.db)
    }

    /// The challenge secret: `BONAFIDE_SECRET` (hex), else the secret file. Never logged.
    pub fn challenge_secret(&self) -> anyhow::Result<ChallengeSecret> {
        if let Ok(hex) = std::env::var("BONAFIDE_SECRET") {
            return ChallengeSecret::from_hex(&hex)
                .map_err(|e| InvalidInputError(format!("BONAFIDE_SECRET: {e}")).into());
        }
        let Some(path) = &self.secret_file else {
            return Err(InvalidInputError(
                "no challenge secret: set BONAFIDE_SECRET or secret_file (create one with `openssl rand -hex 32`); \
                 every instance sharing a database needs the same secret"
                    .into(),
            )
            .into());
        };
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        ChallengeSecret::from_hex(&text).map_err(|e| InvalidInputError(format!("{}: {e}", path.display())).into())
    }
}

fn positive(name: &str, n: i64) -> anyhow::Result<i64> {
    if n > 0 { Ok(n) } else { Err(InvalidInputError(format!("{name} must be positive")).into()) }
}

/// Hides the password part of a database URL.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_database_urls() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/b"), "postgres://app:***@db:5432/b");
        assert_eq!(redact("postgres://app@db/b"), "postgres://app@db/b");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn flags_win_over_the_file_and_bad_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.toml");
        std::fs::write(&path, "db = \"sqlite://file.db\"\nlisten = \"0.0.0.0:1\"\nchecks_per_minute = 5\n").unwrap();
        let s = Settings::load(Some(&path), Overrides { db: Some("sqlite://flag.db".into()), ..Overrides::default() })
            .unwrap();
        assert_eq!((s.db.as_str(), s.listen.as_str(), s.web.checks_per_minute), ("sqlite://flag.db", "0.0.0.0:1", 5));
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        let err = Settings::load(Some(&path), Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
        std::fs::write(&path, "checks_per_minute = 0\n").unwrap();
        assert!(Settings::load(Some(&path), Overrides::default()).is_err());
    }
}
