//! Server settings. Every key is read the same way, highest precedence first: its command-line flag (where
//! one exists), its `BONAFIDE_<KEY>` environment variable, the TOML file, the default. A bad value is an
//! [`InvalidInputError`] (exit code 3) naming the key, the value and where it came from; nothing is
//! clamped, every bounded key has a documented range (README.md, "The command line").

mod drills;
mod layers;
mod sso;

use crate::InvalidInputError;
use anyhow::Context;
use bonafide_app::Settings as AppSettings;
use bonafide_auth::ChallengeSecret;
use bonafide_domain::PhoneRegion;
use bonafide_web::WebConfig;
use layers::{Layers, Raw, boolean, list, path, text, whole, whole_as};
use secrecy::{ExposeSecret, SecretString};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every key of the settings file; each is also `BONAFIDE_<KEY>` in the environment. A key the file
/// holds that is not here is refused.
pub const KEYS: &[&str] = &[
    "db",
    "listen",
    "metrics_listen",
    "secret_file",
    "default_region",
    "staff_lookups_per_minute",
    "checks_per_minute",
    "body_limit_bytes",
    "log_json",
    "secure_cookies",
    "session_idle_minutes",
    "session_absolute_hours",
    "public_url",
    "company_name",
    "company_domains",
    "campaign_window_days",
    "campaign_min_reports",
    "campaign_min_people",
    "campaign_within_hours",
    "campaign_min_departments",
    "webhook_allowed_hosts",
    "webhook_allow_private",
    "trusted_proxies",
    "header_read_timeout_seconds",
    "body_read_timeout_seconds",
    "idle_timeout_seconds",
    "max_connections",
    "scim_groups",
];

/// Every key, the single sign-on and drill delivery keys included.
fn keys() -> Vec<&'static str> {
    KEYS.iter().chain(sso::KEYS).chain(drills::KEYS).copied().collect()
}

/// The database when nothing names one.
const DEFAULT_DB: &str = "sqlite://bonafide.db";
/// The listen address when nothing names one.
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The longest `company_name`, in characters: exports carry it in fields that readers show on one line.
const COMPANY_NAME_MAX: usize = 120;

/// Values given on the command line; they win over the environment and the file.
#[derive(Debug, Default)]
pub struct Overrides {
    /// `--db`.
    pub db: Option<String>,
    /// `--listen`.
    pub listen: Option<String>,
    /// `--secret-file`.
    pub secret_file: Option<PathBuf>,
    /// `--log-json`: `Some(true)` when the switch is given, `None` to leave it to the other layers.
    pub log_json: Option<bool>,
}

/// Effective settings.
#[derive(Debug)]
pub struct Settings {
    /// Database URL.
    pub db: String,
    /// Listen address.
    pub listen: String,
    /// A second listen address serving only `GET /metrics`, without a token (none by default).
    pub metrics_listen: Option<String>,
    /// Where the challenge secret is read from, when not in `BONAFIDE_SECRET`.
    pub secret_file: Option<PathBuf>,
    /// API settings.
    pub app: AppSettings,
    /// HTTP settings.
    pub web: WebConfig,
    /// Log as JSON lines.
    pub log_json: bool,
    /// `BONAFIDE_SECRET` as the environment gave it; read at load so the loader alone sees the environment.
    secret: Option<SecretString>,
}

impl Settings {
    /// The settings from `overrides` (flags), then `env` (production passes `std::env::vars_os()`; tests
    /// their own list, so they never change the process environment), then `file` (if any), then the
    /// defaults.
    pub fn load(
        file: Option<&Path>,
        overrides: Overrides,
        env: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> anyhow::Result<Self> {
        let file = match file {
            Some(path) => Some((path.to_owned(), read_file(path)?)),
            None => None,
        };
        let layers = Layers::new(flags(overrides), env, file, &keys())?;
        let (app, web) = app_and_web(&layers)?;
        Ok(Self {
            db: layers.get("db", text)?.unwrap_or_else(|| DEFAULT_DB.to_owned()),
            listen: layers.get("listen", text)?.unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            metrics_listen: layers.get("metrics_listen", text)?,
            secret_file: layers.get("secret_file", path)?,
            app,
            web,
            log_json: layers.get("log_json", boolean)?.unwrap_or(false),
            // A value that is not UTF-8 cannot be hex either; lossy text makes `challenge_secret` say so.
            secret: layers.var("BONAFIDE_SECRET").map(|v| SecretString::from(v.to_string_lossy().into_owned())),
        })
    }

    /// The database URL with any password hidden, for messages.
    pub fn redacted_db(&self) -> String {
        redact(&self.db)
    }

    /// The challenge secret: `BONAFIDE_SECRET` (hex), else the secret file. Never logged.
    pub fn challenge_secret(&self) -> anyhow::Result<ChallengeSecret> {
        if let Some(hex) = &self.secret {
            return ChallengeSecret::from_hex(hex.expose_secret())
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

/// The settings file as a table; its keys are checked by [`Layers::new`], its values as each key is read.
fn read_file(path: &Path) -> anyhow::Result<toml::Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str::<toml::Table>(&text)
        .map_err(|e| InvalidInputError(format!("{}: {}", path.display(), e.to_string().trim())).into())
}

/// The flags that were given, as (key, flag, value).
fn flags(o: Overrides) -> Vec<(&'static str, &'static str, OsString)> {
    let mut given = Vec::new();
    if let Some(db) = o.db {
        given.push(("db", "--db", db.into()));
    }
    if let Some(listen) = o.listen {
        given.push(("listen", "--listen", listen.into()));
    }
    if let Some(file) = o.secret_file {
        given.push(("secret_file", "--secret-file", file.into_os_string()));
    }
    if let Some(json) = o.log_json {
        given.push(("log_json", "--log-json", json.to_string().into()));
    }
    given
}

/// Overwrites `into` when a layer set the key.
fn set<T>(into: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *into = value;
    }
}

/// The use cases' and the HTTP adapter's settings: every key but `db`, `listen`, `metrics_listen`,
/// `secret_file` and `log_json`.
fn app_and_web(layers: &Layers) -> Result<(AppSettings, WebConfig), InvalidInputError> {
    let mut web = WebConfig::default();
    let mut app = AppSettings::default();
    set(&mut app.default_region, layers.get("default_region", region)?);
    set(&mut app.staff_lookups_per_minute, layers.get("staff_lookups_per_minute", whole(1, None))?);
    set(&mut app.checks_per_minute, layers.get("checks_per_minute", whole(1, None))?);
    // Below 1 KiB no ordinary form fits; above 16 MiB one request could hold a worker's memory.
    set(&mut web.body_limit, layers.get("body_limit_bytes", whole_as(1024, 16 * 1024 * 1024))?);
    set(&mut web.secure_cookies, layers.get("secure_cookies", boolean)?);
    set(&mut web.trusted_proxies, layers.get("trusted_proxies", proxies)?);
    // Slow clients: each timeout is whole seconds, at most an hour (a head or body that takes longer is
    // an attack or a broken client); the cap at most a million connections.
    let seconds = |key| layers.get(key, whole(1, Some(3600))).map(|s| s.map(|s| Duration::from_secs(s.unsigned_abs())));
    set(&mut web.header_read_timeout, seconds("header_read_timeout_seconds")?);
    set(&mut web.body_read_timeout, seconds("body_read_timeout_seconds")?);
    set(&mut web.idle_timeout, seconds("idle_timeout_seconds")?);
    set(&mut web.max_connections, layers.get("max_connections", whole_as(1, 1_000_000))?);
    let idle = layers.get("session_idle_minutes", whole(1, Some(24 * 60)))?;
    set(&mut app.session_idle, idle.map(time::Duration::minutes));
    let absolute = layers.get("session_absolute_hours", whole(1, Some(24 * 30)))?;
    set(&mut app.session_absolute, absolute.map(time::Duration::hours));
    set(&mut app.public_url, layers.get("public_url", public_url)?.map(Some));
    set(&mut app.company_name, layers.get("company_name", company_name)?);
    set(&mut app.company_domains, layers.get("company_domains", company_domains)?);
    let rules = &mut app.correlation.config;
    let window = layers.get("campaign_window_days", whole(1, Some(365)))?;
    set(&mut rules.window_secs, window.map(|days| days * 86_400));
    set(&mut rules.campaign.min_reports, layers.get("campaign_min_reports", whole_as(1, 1000))?);
    set(&mut rules.campaign.min_people, layers.get("campaign_min_people", whole_as(1, 1000))?);
    set(&mut rules.campaign.min_departments, layers.get("campaign_min_departments", whole_as(1, 1000))?);
    let within = layers.get("campaign_within_hours", whole(1, Some(24 * 365)))?;
    set(&mut rules.campaign.within_secs, within.map(|hours| hours * 3600));
    set(&mut app.webhooks.allowed_hosts, layers.get("webhook_allowed_hosts", hosts)?);
    set(&mut app.webhooks.allow_private, layers.get("webhook_allow_private", boolean)?);
    set(&mut app.scim_groups, layers.get("scim_groups", scim_groups)?);
    (app.sso, app.local_passwords) = sso::read(layers)?;
    app.drills = drills::read(layers)?;
    Ok((app, web))
}

/// SCIM group mappings (`<group>=department:<name>,role:<role>`): a list of strings in the file, entries
/// separated by `;` in the environment. A group named twice is refused.
fn scim_groups(raw: &Raw) -> Result<Vec<bonafide_app::scim::groups::GroupMapping>, String> {
    let entries = match raw {
        Raw::Text(_) => text(raw)?.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        Raw::Toml(_) => list(raw)?,
    };
    let mut mappings: Vec<bonafide_app::scim::groups::GroupMapping> = Vec::new();
    for entry in entries {
        let m = bonafide_app::scim::groups::GroupMapping::parse(&entry)?;
        if mappings.iter().any(|o| o.name.eq_ignore_ascii_case(&m.name)) {
            return Err(format!("the group `{}` is mapped twice", m.name));
        }
        mappings.push(m);
    }
    Ok(mappings)
}

/// An ISO 3166 region code such as `US` or `de`.
fn region(raw: &Raw) -> Result<PhoneRegion, String> {
    text(raw)?.parse::<PhoneRegion>().map_err(|e| e.message)
}

/// The portal's address, without a trailing slash; it must make a WebAuthn relying party.
fn public_url(raw: &Raw) -> Result<String, String> {
    let url = text(raw)?.trim().trim_end_matches('/').to_owned();
    match bonafide_auth::passkey::RelyingParty::new(&url, "Bonafide") {
        Ok(_) => Ok(url),
        // The message repeats "public_url URL: ", which ours already says.
        Err(e) => {
            let message = e.to_string();
            Err(message.strip_prefix(&format!("public_url {url}: ")).map_or(message.clone(), str::to_owned))
        }
    }
}

/// 1 to [`COMPANY_NAME_MAX`] characters, trimmed.
fn company_name(raw: &Raw) -> Result<String, String> {
    let name = text(raw)?.trim().to_owned();
    let chars = name.chars().count();
    if (1..=COMPANY_NAME_MAX).contains(&chars) {
        Ok(name)
    } else {
        Err(format!("must be 1 to {COMPANY_NAME_MAX} characters (it has {chars})"))
    }
}

/// Email domains, lower-case, a leading `@` dropped.
fn company_domains(raw: &Raw) -> Result<Vec<String>, String> {
    let domains: Vec<String> = list(raw)?.iter().map(|d| d.trim().trim_start_matches('@').to_lowercase()).collect();
    match domains.iter().find(|d| !d.contains('.') || d.contains(['@', '/', ' '])) {
        Some(bad) => Err(format!("`{bad}` is not a domain")),
        None => Ok(domains),
    }
}

/// Host names (or `*.example.com`), lower-case, empty ones dropped.
/// Reverse proxies, as addresses or networks (`10.0.0.0/8`, `fd00::/8`).
fn proxies(raw: &Raw) -> Result<Vec<bonafide_web::proxy::Cidr>, String> {
    list(raw)?.iter().map(|c| c.parse()).collect()
}

fn hosts(raw: &Raw) -> Result<Vec<String>, String> {
    Ok(list(raw)?.iter().map(|h| h.trim().to_lowercase()).filter(|h| !h.is_empty()).collect())
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

    /// An environment of exactly `vars`.
    fn env(vars: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        vars.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect()
    }

    /// Loads with `file` (written to a temporary `bonafide.toml`), `overrides` and `vars`; an error is
    /// its message with the file's path written `FILE`.
    fn load(file: Option<&str>, overrides: Overrides, vars: &[(&str, &str)]) -> Result<Settings, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bonafide.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).unwrap();
        }
        Settings::load(file.map(|_| path.as_path()), overrides, env(vars)).map_err(|e| {
            assert!(e.downcast_ref::<InvalidInputError>().is_some(), "exit code 3: {e:#}");
            e.to_string().replace(&path.display().to_string(), "FILE")
        })
    }

    fn flags() -> Overrides {
        Overrides {
            db: Some("sqlite://flag.db".into()),
            listen: Some("127.0.0.1:3".into()),
            secret_file: Some("flag.secret".into()),
            log_json: Some(true),
        }
    }

    const FILE: &str = "db = \"sqlite://file.db\"\nlisten = \"127.0.0.1:1\"\nsecret_file = \"file.secret\"\n\
                        log_json = false\nchecks_per_minute = 5\ncompany_domains = [\"file.com\"]\n\
                        webhook_allow_private = true\n";
    const ENV: &[(&str, &str)] = &[
        ("BONAFIDE_DB", "sqlite://env.db"),
        ("BONAFIDE_LISTEN", "127.0.0.1:2"),
        ("BONAFIDE_SECRET_FILE", "env.secret"),
        ("BONAFIDE_LOG_JSON", "false"),
        ("BONAFIDE_CHECKS_PER_MINUTE", "7"),
        ("BONAFIDE_COMPANY_DOMAINS", "env.com, @Env.ORG"),
        ("BONAFIDE_WEBHOOK_ALLOW_PRIVATE", "false"),
    ];

    #[test]
    fn scim_groups_are_a_list_in_the_file_and_separated_by_semicolons_in_the_environment() {
        let file = "scim_groups = [\"IT Helpdesk=department:IT,role:it_staff\", \"Audit=role:auditor\"]\n";
        let s = load(Some(file), Overrides::default(), &[]).unwrap();
        let names: Vec<&str> = s.app.scim_groups.iter().map(|m| m.name.as_str()).collect();
        assert_eq!((names, s.app.scim_groups[0].department.as_deref()), (vec!["IT Helpdesk", "Audit"], Some("IT")));
        let vars = [("BONAFIDE_SCIM_GROUPS", "A=role:auditor; B=department:Sales,role:it_staff")];
        assert_eq!(load(None, Overrides::default(), &vars).unwrap().app.scim_groups.len(), 2);
        for bad in ["A", "A=role:root", "A=team:x", "A=role:employee", "=role:auditor", "A=role:auditor;a=role:auditor"]
        {
            let e = load(None, Overrides::default(), &[("BONAFIDE_SCIM_GROUPS", bad)]).unwrap_err();
            assert!(e.contains("scim_groups"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_flag_wins_over_the_environment_which_wins_over_the_file_which_wins_over_the_default() {
        let view = |s: Settings| {
            let secret = s.secret_file.map(|p| p.display().to_string());
            let w = s.app;
            (s.db, s.listen, secret, s.log_json, w.checks_per_minute, w.company_domains, w.webhooks.allow_private)
        };
        let s = load(None, Overrides::default(), &[]).unwrap();
        assert_eq!(view(s), ("sqlite://bonafide.db".into(), "127.0.0.1:8080".into(), None, false, 30, vec![], false));
        let s = load(Some(FILE), Overrides::default(), &[]).unwrap();
        let file = ("sqlite://file.db".into(), "127.0.0.1:1".into(), Some("file.secret".into()), false, 5);
        assert_eq!(view(s), (file.0, file.1, file.2, file.3, file.4, vec!["file.com".into()], true));
        let s = load(Some(FILE), Overrides::default(), ENV).unwrap();
        let from_env = ("sqlite://env.db".into(), "127.0.0.1:2".into(), Some("env.secret".into()), false, 7);
        let domains = vec!["env.com".to_owned(), "env.org".to_owned()];
        assert_eq!(view(s), (from_env.0, from_env.1, from_env.2, from_env.3, from_env.4, domains.clone(), false));
        let s = load(Some(FILE), flags(), ENV).unwrap();
        let flag = ("sqlite://flag.db".into(), "127.0.0.1:3".into(), Some("flag.secret".into()), true, 7);
        assert_eq!(view(s), (flag.0, flag.1, flag.2, flag.3, flag.4, domains, false));
    }

    #[test]
    fn every_key_is_read_from_the_file_and_from_its_variable() {
        let file = "default_region = \"de\"\nstaff_lookups_per_minute = 9\nbody_limit_bytes = 2048\n\
                    secure_cookies = true\nsession_idle_minutes = 1440\nsession_absolute_hours = 720\n\
                    public_url = \"https://bonafide.example.com/\"\ncompany_name = \" Example Corp \"\n\
                    campaign_window_days = 365\ncampaign_min_reports = 1000\ncampaign_min_people = 1\n\
                    campaign_within_hours = 8760\ncampaign_min_departments = 4\n\
                    webhook_allowed_hosts = [\"*.Example.com\", \" \"]\n\
                    trusted_proxies = [\"10.0.0.0/8\", \"fd00::1\"]\n\
                    header_read_timeout_seconds = 5\nbody_read_timeout_seconds = 60\n\
                    idle_timeout_seconds = 120\nmax_connections = 4096\n";
        let s = load(Some(&format!("{FILE}{file}")), Overrides::default(), &[]).unwrap();
        let (w, web) = (&s.app, &s.web);
        assert_eq!((w.default_region.code(), w.staff_lookups_per_minute, web.body_limit), ("DE", 9, 2048));
        assert!(web.secure_cookies);
        assert_eq!((w.session_idle.whole_minutes(), w.session_absolute.whole_hours()), (1440, 720));
        assert_eq!(w.public_url.as_deref(), Some("https://bonafide.example.com"));
        assert_eq!(w.company_name, "Example Corp");
        let c = &w.correlation.config;
        assert_eq!((c.window_secs, c.campaign.within_secs), (365 * 86_400, 8760 * 3600));
        assert_eq!((c.campaign.min_reports, c.campaign.min_people, c.campaign.min_departments), (1000, 1, 4));
        assert_eq!(w.webhooks.allowed_hosts, vec!["*.example.com".to_owned()]);
        assert_eq!(web.trusted_proxies, vec!["10.0.0.0/8".parse().unwrap(), "fd00::1".parse().unwrap()]);
        let slow = (web.header_read_timeout.as_secs(), web.body_read_timeout.as_secs(), web.idle_timeout.as_secs());
        assert_eq!((slow, web.max_connections), ((5, 60, 120), 4096));

        // The variables every release has documented, and one for each of the keys that used to be file-only.
        let vars = [
            ("BONAFIDE_DEFAULT_REGION", "GB"),
            ("BONAFIDE_SECURE_COOKIES", "1"),
            ("BONAFIDE_PUBLIC_URL", "http://localhost:8080/"),
            ("BONAFIDE_STAFF_LOOKUPS_PER_MINUTE", "11"),
            ("BONAFIDE_BODY_LIMIT_BYTES", "4096"),
            ("BONAFIDE_SESSION_IDLE_MINUTES", "5"),
            ("BONAFIDE_SESSION_ABSOLUTE_HOURS", "6"),
            ("BONAFIDE_COMPANY_NAME", "Env Corp"),
            ("BONAFIDE_CAMPAIGN_WINDOW_DAYS", "2"),
            ("BONAFIDE_CAMPAIGN_MIN_REPORTS", "4"),
            ("BONAFIDE_CAMPAIGN_MIN_PEOPLE", "3"),
            ("BONAFIDE_CAMPAIGN_WITHIN_HOURS", "1"),
            ("BONAFIDE_CAMPAIGN_MIN_DEPARTMENTS", "5"),
            ("BONAFIDE_WEBHOOK_ALLOWED_HOSTS", "siem.corp,hooks.example.com"),
            ("BONAFIDE_TRUSTED_PROXIES", "192.0.2.0/24"),
            ("BONAFIDE_HEADER_READ_TIMEOUT_SECONDS", "2"),
            ("BONAFIDE_BODY_READ_TIMEOUT_SECONDS", "3"),
            ("BONAFIDE_IDLE_TIMEOUT_SECONDS", "4"),
            ("BONAFIDE_MAX_CONNECTIONS", "16"),
        ];
        let s = load(Some(file), Overrides::default(), &vars).unwrap();
        let (w, web) = (&s.app, &s.web);
        assert_eq!((w.default_region.code(), w.staff_lookups_per_minute, web.body_limit), ("GB", 11, 4096));
        assert!(web.secure_cookies);
        assert_eq!((w.session_idle.whole_minutes(), w.session_absolute.whole_hours()), (5, 6));
        assert_eq!((w.public_url.as_deref(), w.company_name.as_str()), (Some("http://localhost:8080"), "Env Corp"));
        let c = &w.correlation.config;
        assert_eq!((c.window_secs, c.campaign.within_secs), (2 * 86_400, 3600));
        assert_eq!((c.campaign.min_reports, c.campaign.min_people, c.campaign.min_departments), (4, 3, 5));
        assert_eq!(w.webhooks.allowed_hosts, vec!["siem.corp".to_owned(), "hooks.example.com".to_owned()]);
        assert_eq!(web.trusted_proxies, vec!["192.0.2.0/24".parse().unwrap()]);
        let slow = (web.header_read_timeout.as_secs(), web.body_read_timeout.as_secs(), web.idle_timeout.as_secs());
        assert_eq!((slow, web.max_connections), ((2, 3, 4), 16));
        let bad = load(Some(FILE), Overrides::default(), &[("BONAFIDE_TRUSTED_PROXIES", "10.0.0.0/40")]).unwrap_err();
        assert!(bad.to_string().contains("trusted_proxies") && bad.to_string().contains("0 to 32"), "{bad}");
    }

    #[test]
    fn other_and_empty_variables_are_ignored() {
        let vars = [("BONAFIDE_DB", ""), ("DB", "sqlite://other.db"), ("BONAFIDE_SHARED_DATA", "x")];
        assert_eq!(load(Some(FILE), Overrides::default(), &vars).unwrap().db, "sqlite://file.db");
    }

    /// Every bounded key, just outside its range at each end that has one.
    const OUT_OF_RANGE: &[(&str, &str, &str)] = &[
        ("staff_lookups_per_minute", "0", "must be at least 1"),
        ("checks_per_minute", "0", "must be at least 1"),
        ("body_limit_bytes", "1023", "must be from 1024 to 16777216"),
        ("body_limit_bytes", "16777217", "must be from 1024 to 16777216"),
        ("session_idle_minutes", "0", "must be from 1 to 1440"),
        ("session_idle_minutes", "1441", "must be from 1 to 1440"),
        ("session_absolute_hours", "0", "must be from 1 to 720"),
        ("session_absolute_hours", "721", "must be from 1 to 720"),
        ("campaign_window_days", "0", "must be from 1 to 365"),
        ("campaign_window_days", "366", "must be from 1 to 365"),
        ("campaign_min_reports", "0", "must be from 1 to 1000"),
        ("campaign_min_reports", "1001", "must be from 1 to 1000"),
        ("campaign_min_people", "0", "must be from 1 to 1000"),
        ("campaign_min_people", "1001", "must be from 1 to 1000"),
        ("campaign_within_hours", "0", "must be from 1 to 8760"),
        ("campaign_within_hours", "8761", "must be from 1 to 8760"),
        ("campaign_min_departments", "0", "must be from 1 to 1000"),
        ("campaign_min_departments", "1001", "must be from 1 to 1000"),
        ("header_read_timeout_seconds", "0", "must be from 1 to 3600"),
        ("body_read_timeout_seconds", "3601", "must be from 1 to 3600"),
        ("idle_timeout_seconds", "0", "must be from 1 to 3600"),
        ("max_connections", "0", "must be from 1 to 1000000"),
        ("max_connections", "1000001", "must be from 1 to 1000000"),
    ];

    #[test]
    fn a_value_out_of_range_is_refused_naming_the_key_its_source_and_the_range() {
        for (key, value, problem) in OUT_OF_RANGE {
            let var = layers::env_var(key);
            let err = load(None, Overrides::default(), &[(&var, value)]).map(drop).unwrap_err();
            assert_eq!(err, format!("{key} = {value} (from {var}): {problem}"));
            let err = load(Some(&format!("{key} = {value}\n")), Overrides::default(), &[]).map(drop).unwrap_err();
            assert_eq!(err, format!("{key} = {value} (from FILE): {problem}"));
        }
    }

    #[test]
    fn a_value_of_the_wrong_shape_is_refused_naming_the_key_and_its_source() {
        let long = "x".repeat(121);
        let cases: &[(&str, &str, &str)] = &[
            (
                "checks_per_minute = \"5\"",
                "checks_per_minute = \"5\" (from FILE)",
                "must be a whole number (at least 1)",
            ),
            ("db = 5", "db = 5 (from FILE)", "must be a string"),
            ("log_json = \"yes\"", "log_json = \"yes\" (from FILE)", "must be true or false"),
            ("company_name = \"  \"", "company_name = \"  \" (from FILE)", "must be 1 to 120 characters (it has 0)"),
            ("company_domains = \"a.com\"", "company_domains = \"a.com\" (from FILE)", "must be a list of strings"),
            (
                "company_domains = [\"a.com\", \"nodot\"]",
                "company_domains = [\"a.com\", \"nodot\"] (from FILE)",
                "`nodot` is not a domain",
            ),
            ("default_region = \"XX\"", "default_region = \"XX\" (from FILE)", "`XX` is not an ISO 3166 region code"),
        ];
        for (file, place, problem) in cases {
            let err = load(Some(&format!("{file}\n")), Overrides::default(), &[]).map(drop).unwrap_err();
            assert_eq!(err, format!("{place}: {problem}"));
        }
        let cases: &[(&str, &str, &str)] = &[
            ("BONAFIDE_CHECKS_PER_MINUTE", "lots", "must be a whole number (at least 1)"),
            ("BONAFIDE_WEBHOOK_ALLOW_PRIVATE", "sometimes", "must be true or false"),
            ("BONAFIDE_SECURE_COOKIES", "on-ish", "must be true or false"),
            ("BONAFIDE_COMPANY_NAME", &long, "must be 1 to 120 characters (it has 121)"),
            ("BONAFIDE_COMPANY_DOMAINS", "example.com, a/b.com", "`a/b.com` is not a domain"),
            (
                "BONAFIDE_PUBLIC_URL",
                "http://bonafide.example.com",
                "passkeys need https (plain http works only for localhost)",
            ),
        ];
        for (var, value, problem) in cases {
            let key = var.trim_start_matches("BONAFIDE_").to_lowercase();
            let err = load(None, Overrides::default(), &[(var, value)]).map(drop).unwrap_err();
            assert_eq!(err, format!("{key} = {value} (from {var}): {problem}"));
        }
    }

    #[test]
    fn an_unknown_key_in_the_file_is_refused() {
        let err = load(Some("lisen = \"x\"\n[server]\nport = 1\n"), Overrides::default(), &[]).map(drop).unwrap_err();
        assert!(err.starts_with("FILE: unknown keys `lisen`, `server`; the keys are db, listen, "), "{err}");
        let err = load(Some("db = \n"), Overrides::default(), &[]).map(drop).unwrap_err();
        assert!(err.starts_with("FILE: "), "a syntax error names the file: {err}");
    }

    #[test]
    fn the_secret_comes_from_the_given_environment_before_the_file() {
        let hex = "ab".repeat(32);
        let s = load(None, flags(), &[("BONAFIDE_SECRET", &hex)]).unwrap();
        assert!(s.challenge_secret().is_ok(), "the flag's secret file does not exist, so the variable was used");
        let s = load(None, Overrides::default(), &[("BONAFIDE_SECRET", "not hex")]).unwrap();
        let err = s.challenge_secret().unwrap_err();
        assert!(err.downcast_ref::<InvalidInputError>().is_some() && err.to_string().starts_with("BONAFIDE_SECRET: "));
        assert!(!format!("{s:?}").contains("not hex"), "Debug hides the secret");
    }

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
        let s = Settings::load(
            Some(&path),
            Overrides { db: Some("sqlite://flag.db".into()), ..Overrides::default() },
            env(&[]),
        )
        .unwrap();
        assert_eq!((s.db.as_str(), s.listen.as_str(), s.app.checks_per_minute), ("sqlite://flag.db", "0.0.0.0:1", 5));
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        let err = Settings::load(Some(&path), Overrides::default(), env(&[])).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
        std::fs::write(&path, "checks_per_minute = 0\n").unwrap();
        assert!(Settings::load(Some(&path), Overrides::default(), env(&[])).is_err());
    }

    #[test]
    fn metrics_are_served_on_a_second_address_only_when_one_is_given() {
        assert_eq!(load(None, Overrides::default(), &[]).unwrap().metrics_listen, None);
        let s = load(Some("metrics_listen = \"127.0.0.1:9464\"\n"), Overrides::default(), &[]).unwrap();
        assert_eq!(s.metrics_listen.as_deref(), Some("127.0.0.1:9464"));
        let s = load(None, Overrides::default(), &[("BONAFIDE_METRICS_LISTEN", "0.0.0.0:9464")]).unwrap();
        assert_eq!(s.metrics_listen.as_deref(), Some("0.0.0.0:9464"));
    }
}
