//! `bonafide demo`: an example company on the embedded SQLite default, served at once.

use crate::cli::connect;
use crate::serve;
use anyhow::Context;
use bonafide_auth::{ApiToken, ChallengeSecret};
use bonafide_domain::{
    Ask, Channel, DisplayName, Email, OutreachWindow, PersonStatus, PhoneNumber, PhoneRegion, RequestStatus, Role,
    Roles, StaffId,
};
use bonafide_store::{NewOutreach, NewPerson, NewRequest, Store};
use bonafide_web::WebConfig;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};

const DEPARTMENTS: [&str; 5] = ["Finance", "Sales", "Engineering", "Operations", "People"];
const FIRST: [&str; 20] = [
    "Ana", "Ben", "Chloe", "Dev", "Erin", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi", "Liam", "Maya", "Noah",
    "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tara",
];
const LAST: [&str; 10] = ["Lopez", "Okafor", "Novak", "Chen", "Walsh", "Haddad", "Silva", "Berg", "Kaur", "Moreau"];
const IT_STAFF: [(&str, &str, &str); 6] = [
    ("IT-0042", "Sam Carter", "Service Desk"),
    ("IT-0007", "Kim Novak", "Service Desk"),
    ("IT-0013", "Luis Ortega", "Endpoint"),
    ("IT-0021", "Hana Sato", "Identity & Access"),
    ("IT-0034", "Omar Farouk", "Network"),
    ("IT-0055", "Beth Jones", "Endpoint"),
];

fn email_of(name: &str) -> anyhow::Result<Email> {
    let local = name.to_lowercase().replace(' ', ".");
    Ok(format!("{local}@example.com").parse()?)
}

fn phone(n: u32) -> anyhow::Result<PhoneNumber> {
    // 555-01xx is reserved for fiction in the North American plan.
    Ok(PhoneNumber::parse(&format!("201-555-{:04}", 100 + n % 100), PhoneRegion::default())?)
}

fn base(name: &str, department: &str, roles: Roles) -> anyhow::Result<NewPerson> {
    let mut p = NewPerson::new(email_of(name)?, name.parse::<DisplayName>()?, roles);
    p.department = department.to_owned();
    p.location = "Boston".to_owned();
    Ok(p)
}

/// The people of the example company: 40 employees in 5 departments, 6 IT staff, a security admin
/// and an auditor.
pub fn people() -> anyhow::Result<Vec<NewPerson>> {
    let mut out = Vec::new();
    for (i, (staff_id, name, team)) in IT_STAFF.iter().enumerate() {
        let mut p = base(name, "IT", Roles::new([Role::ItStaff]))?;
        p.staff_id = Some(staff_id.parse::<StaffId>()?);
        p.team = Some((*team).to_owned());
        p.title = format!("{team} engineer");
        p.on_duty = i % 2 == 0;
        p.privileged = true;
        p.official_phones = vec![phone(40 + u32::try_from(i)?)?];
        p.official_addresses = vec![p.email.clone()];
        out.push(p);
    }
    let mut admin = base("Rhea Grant", "Security", Roles::new([Role::SecurityAdmin]))?;
    admin.title = "Security lead".into();
    out.push(admin);
    out.push(base("Audra Mills", "Internal Audit", Roles::new([Role::Auditor]))?);
    for i in 0..40u32 {
        let first = FIRST.get(usize::try_from(i % 20)?).copied().unwrap_or("Alex");
        let last = LAST.get(usize::try_from((i * 7 + i / 20) % 10)?).copied().unwrap_or("Smith");
        let department = DEPARTMENTS.get(usize::try_from(i % 5)?).copied().unwrap_or("Finance");
        let mut p = base(&format!("{first} {last}"), department, Roles::new([]))?;
        p.remote = i % 3 == 0;
        p.phones = vec![phone(60 + i)?];
        p.title = format!("{department} associate");
        out.push(p);
    }
    Ok(out)
}

/// Seeds the example company into an empty store: people, and a few open and assigned requests and
/// one approved outreach.
pub async fn seed(store: &Store, now: OffsetDateTime) -> anyhow::Result<()> {
    let people = people()?;
    store.import_people(&people, now, |_| {}).await.context("seeding people")?;
    // What the red "not verified" page tells people to call.
    store.set_setting("service_desk_phone", "+12015550100").await.context("seeding settings")?;
    let find = |name: &str| {
        let email = email_of(name);
        async move {
            let email = email?;
            store.person_by_email(&email).await?.map(|p| p.id).context("seeded person missing")
        }
    };
    let sam = find("Sam Carter").await?;
    let kim = find("Kim Novak").await?;
    let staff = [sam, kim, find("Luis Ortega").await?];
    let summaries = [
        ("VPN disconnects every hour", "network"),
        ("Outlook keeps asking for my password", "access"),
        ("Laptop fan is very loud", "hardware"),
        ("Need access to the Finance share", "access"),
        ("Printer on floor 3 jams", "hardware"),
        ("Teams camera not detected", "software"),
    ];
    let employees: Vec<&NewPerson> = people.iter().filter(|p| p.staff_id.is_none()).skip(2).collect();
    for (i, employee) in employees.iter().take(18).enumerate() {
        let requester = store.person_by_email(&employee.email).await?.context("seeded person missing")?.id;
        let (summary, category) = summaries.get(i % summaries.len()).copied().unwrap_or(("Help", "other"));
        let new = NewRequest {
            requester,
            summary: summary.parse()?,
            category: Some(category.to_owned()),
            channels: if i % 4 == 0 { [Channel::Chat, Channel::Video].into() } else { Default::default() },
        };
        let r = store.create_request(&new, now - Duration::minutes(i64::try_from(i)? * 7)).await?;
        if i % 3 != 2 {
            let assignee = staff.get(i % staff.len()).copied().unwrap_or(sam);
            store.transition_request(r.key, RequestStatus::Open, RequestStatus::Assigned, Some(assignee), now).await?;
        }
    }
    let recall_for = employees.get(1).context("no employees")?;
    let employee = store.person_by_email(&recall_for.email).await?.context("seeded person missing")?.id;
    let window = OutreachWindow::new(now - Duration::hours(1), now + Duration::days(3), now)?;
    let o = store
        .create_outreach(
            &NewOutreach {
                staffer: kim,
                employee,
                reason: "Laptop battery recall: we will arrange a swap".into(),
                channels: [Channel::Phone, Channel::Email].into(),
                window,
            },
            now,
        )
        .await?;
    store.approve_outreach(o.id, sam, now).await?;

    // A campaign under way: three people in three departments reported the same caller this morning, the
    // number written three ways. Every employee sees its warning on the home page.
    let domains = vec!["example.com".to_owned()];
    let unknown = |_: &str| false;
    let company =
        bonafide_correlate::Company { region: PhoneRegion::default(), domains: &domains, staff_id_known: &unknown };
    let asked = [Ask::MfaCode];
    for (i, (p, number)) in
        employees.iter().skip(5).zip(["(555) 010-9999", "+1 555 010 9999", "555.010.9999"]).enumerate()
    {
        let reporter = store.person_by_email(&p.email).await?.context("seeded person missing")?.id;
        let sighting = bonafide_correlate::Sighting {
            channel: Some(Channel::Phone),
            caller_number: Some(number),
            claimed_name: Some("Mike from IT"),
            asked_for: &asked,
            ..bonafide_correlate::Sighting::default()
        };
        let report = bonafide_store::NewReport {
            reporter,
            department: p.department.clone(),
            privileged: p.privileged,
            channel: Channel::Phone,
            occurred_at: now - Duration::hours(3 - i64::try_from(i)?),
            caller_number: Some(number.to_owned()),
            caller_address: None,
            caller_handle: None,
            claimed_name: Some("Mike from IT".to_owned()),
            claimed_staff_id: None,
            claimed_team: None,
            asked_for: asked.into_iter().collect(),
            complied: false,
            transcript: None,
            email_subject: None,
            original_email: None,
            check: None,
            indicators: bonafide_correlate::indicators(&sighting, &company),
            // No transcript, so nothing to analyse.
            analysis: None,
        };
        let audit = bonafide_store::AuditEvent::new(
            &bonafide_store::Actor::system(),
            "report.filed",
            p.email.as_str(),
            bonafide_store::Outcome::Ok,
        )
        .with(serde_json::json!({ "via": "demo" }));
        store.file_report(&report, &bonafide_store::CorrelationSettings::default(), &audit, now).await?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Credentials {
    base_url: String,
    people: Vec<CredentialPerson>,
}

#[derive(Serialize)]
struct CredentialPerson {
    email: String,
    display_name: String,
    roles: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    staff_id: Option<String>,
    api_token: String,
    /// The portal password for this run.
    password: String,
}

/// Runs `bonafide demo`.
pub async fn run(listen: String, db: Option<String>, credentials_out: Option<PathBuf>) -> anyhow::Result<()> {
    serve::init_logging(false);
    let db = db.unwrap_or_else(|| "sqlite://bonafide-demo.db".to_owned());
    let store = connect(&db).await?;
    store.migrate().await.context("applying migrations")?;
    let now = OffsetDateTime::now_utc();
    let fresh = store.count_people().await? == 0;
    if fresh {
        seed(&store, now).await?;
    }
    let secret = demo_secret(&db)?;
    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    // Browsers accept passkeys on `localhost`, never on an IP address: the demo is reached by name.
    let addr = listener.local_addr()?;
    let base_url = serve::local_public_url(addr).unwrap_or_else(|| format!("http://{addr}"));

    // Fresh tokens and one fresh portal password on every start: both are only ever stored hashed, so old
    // ones cannot be shown again. Every demo person gets the password (each with its own salt).
    let password = bonafide_auth::password::generate_password();
    let mut people = Vec::new();
    let active: Vec<_> = store.list_people().await?.into_iter().filter(|p| p.status == PersonStatus::Active).collect();
    let bar = crate::progress::bar(Some(u64::try_from(active.len()).unwrap_or(0)), "demo passwords", false);
    for p in active {
        let token = ApiToken::generate();
        store.create_token(p.id, token.hash().as_str(), "demo", now).await?;
        let secret = password.clone();
        let hash = tokio::task::spawn_blocking(move || bonafide_auth::password::hash_password(&secret)).await??;
        store.set_password_hash(p.id, hash.as_str(), now).await?;
        bar.inc(1);
        people.push(CredentialPerson {
            email: p.email.to_string(),
            display_name: p.display_name.to_string(),
            roles: p.roles.iter().map(|r| r.as_str()).collect(),
            staff_id: p.staff_id.map(|s| s.to_string()),
            api_token: token.reveal().to_owned(),
            password: password.expose_secret().to_owned(),
        });
    }
    bar.finish_and_clear();
    let credentials = Credentials { base_url: base_url.clone(), people };
    if let Some(path) = &credentials_out {
        write_private(path, &serde_json::to_vec_pretty(&credentials)?)?;
    }
    print_welcome(&credentials, fresh, &db, credentials_out.as_deref());
    serve::serve_on(listener, store, secret, WebConfig::default()).await
}

fn print_welcome(c: &Credentials, fresh: bool, db: &str, credentials_out: Option<&Path>) {
    let pick = |role: Role| {
        c.people.iter().find(|p| p.roles.contains(&role.as_str()) && (role != Role::Employee || p.roles.len() == 1))
    };
    outln!("Bonafide demo {} at {db}", if fresh { "company created" } else { "company reused" });
    outln!("Serving on {}  (Ctrl-C to stop)\n", c.base_url);
    if let Some(p) = c.people.first() {
        outln!("Portal: {}/signin — every demo person's password for this run: {}", c.base_url, p.password);
        outln!("(IT staff and security admins set up an authenticator app at first sign-in.)\n");
    }
    for (label, role) in
        [("employee", Role::Employee), ("IT staff", Role::ItStaff), ("security admin", Role::SecurityAdmin)]
    {
        if let Some(p) = pick(role) {
            outln!("  {label:<15} {:<28} token {}", p.email, p.api_token);
        }
    }
    if let Some(path) = credentials_out {
        outln!("\nAll {} people and their tokens: {}", c.people.len(), path.display());
    }
    if let (Some(e), Some(it)) = (pick(Role::Employee), pick(Role::ItStaff)) {
        outln!("\nTry it:");
        outln!("  curl -s -H 'Authorization: Bearer {}' {}/api/v1/me", e.api_token, c.base_url);
        outln!(
            "  curl -s -H 'Authorization: Bearer {}' -H 'content-type: application/json' \\\n    -d '{{\"channel\":\"phone\",\"claimed_staff_id\":\"IT-0042\",\"asked_for\":[\"password\"]}}' {}/api/v1/checks",
            e.api_token,
            c.base_url
        );
        outln!("  curl -s -H 'Authorization: Bearer {}' {}/api/v1/console/codes", it.api_token, c.base_url);
    }
}

/// The demo's challenge secret: kept in a private file next to the SQLite database, created once.
fn demo_secret(db: &str) -> anyhow::Result<ChallengeSecret> {
    if let Ok(hex) = std::env::var("BONAFIDE_SECRET") {
        return Ok(ChallengeSecret::from_hex(&hex)?);
    }
    let path = match db.strip_prefix("sqlite://").map(|p| p.split('?').next().unwrap_or(p)) {
        Some(file) => PathBuf::from(format!("{file}.secret")),
        None => PathBuf::from("bonafide-demo.secret"),
    };
    if let Ok(text) = std::fs::read_to_string(&path) {
        return ChallengeSecret::from_hex(&text).with_context(|| format!("reading {}", path.display()));
    }
    let (secret, text) = ChallengeSecret::generate();
    write_private(&path, text.as_bytes())?;
    Ok(secret)
}

/// Writes `bytes` to a file only the owner can read.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_company_has_what_the_tour_promises() {
        let people = people().unwrap();
        let employees: Vec<_> = people.iter().filter(|p| p.staff_id.is_none() && p.roles.iter().count() == 1).collect();
        assert!(employees.len() >= 40);
        let departments: std::collections::BTreeSet<_> = employees.iter().map(|p| p.department.as_str()).collect();
        assert_eq!(departments.len(), 5);
        assert_eq!(people.iter().filter(|p| p.roles.has(Role::ItStaff) && p.staff_id.is_some()).count(), 6);
        let emails: std::collections::BTreeSet<_> = people.iter().map(|p| p.email.clone()).collect();
        assert_eq!(emails.len(), people.len(), "emails are unique");
    }
}
