//! `bonafide demo`: an example company on the embedded SQLite default, served at once.

use crate::demo_history;
use crate::operator::open_store;
use crate::serve;
use anyhow::Context;
use bonafide_app::records::NewPerson;
use bonafide_app::{Acting, App, Caller, Settings as AppSettings};
use bonafide_auth::ChallengeSecret;
use bonafide_domain::{
    Ask, Channel, DisplayName, Email, ManualClock, PersonStatus, PhoneNumber, PhoneRegion, Role, Roles, StaffId,
};
use bonafide_store::Store;
use bonafide_web::WebConfig;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// The departments of the example company's 40 employees, with their sizes: uneven, as in a real company,
/// and People small enough that its risk profile is hidden (fewer than 5 people).
const DEPARTMENTS: [(&str, usize); 5] =
    [("Finance", 10), ("Sales", 12), ("Engineering", 8), ("Operations", 6), ("People", 4)];
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

/// The department of each of the 40 employees in turn: round the departments, skipping those full.
fn departments() -> Vec<&'static str> {
    let mut left: Vec<(&str, usize)> = DEPARTMENTS.to_vec();
    let mut out = Vec::new();
    while left.iter().any(|(_, n)| *n > 0) {
        for (name, n) in left.iter_mut().filter(|(_, n)| *n > 0) {
            *n -= 1;
            out.push(*name);
        }
    }
    out
}

/// The people of the example company: 40 employees in 5 departments, 6 IT staff, a security admin
/// and an auditor. The whole sales team works remotely; elsewhere one in four does.
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
    let mut in_department: std::collections::BTreeMap<&str, usize> = Default::default();
    for (i, department) in (0u32..).zip(departments()) {
        let first = FIRST.get(usize::try_from(i % 20)?).copied().unwrap_or("Alex");
        let last = LAST.get(usize::try_from((i * 7 + i / 20) % 10)?).copied().unwrap_or("Smith");
        let mut p = base(&format!("{first} {last}"), department, Roles::new([]))?;
        let nth = in_department.entry(department).or_default();
        p.remote = department == "Sales" || (*nth).is_multiple_of(4);
        *nth += 1;
        p.phones = vec![phone(60 + i)?];
        p.title = format!("{department} associate");
        out.push(p);
    }
    Ok(out)
}

/// The demo person `name`, acting through the command line.
pub(crate) async fn caller(app: &App, name: &str) -> anyhow::Result<Caller> {
    demo_history::caller_by_email(app, email_of(name)?.as_str()).await
}

/// Seeds the example company into an empty store, without its drills (benchmarks and backup tests need
/// none): [`seed_with`].
pub async fn seed(store: &Store, now: OffsetDateTime) -> anyhow::Result<()> {
    seed_with(store, now, None).await
}

/// Seeds the example company into an empty store, through the same use cases as the portal and the API
/// (each step by the person who would take it, at a moment of its own): people, a few open and assigned
/// requests, one approved outreach, a campaign under way against the sales team, and 90 days of history
/// (the contact policy, checks, a complied contact and a risk snapshot each day: `demo_history`), and,
/// when `drills` says how their messages go out, two drills (`demo_drills`).
pub async fn seed_with(store: &Store, now: OffsetDateTime, drills: Option<DemoDrills>) -> anyhow::Result<()> {
    use bonafide_app::{directory, outreach, reports, requests, security};
    // The company was set up when its history starts.
    let clock = Arc::new(ManualClock::new(now - Duration::days(demo_history::DAYS)));
    // Seeding derives no challenge codes, but drill links: the server's secret, so the links work.
    let (secret, public_url, outbox) = match drills {
        Some(DemoDrills { secret, public_url, outbox }) => (secret, Some(public_url), Some(outbox)),
        None => (ChallengeSecret::generate().0, None, None),
    };
    let with_drills = outbox.is_some();
    let settings = AppSettings {
        company_domains: vec!["example.com".to_owned()],
        public_url,
        drills: outbox.map(crate::demo_drills::delivery).unwrap_or_default(),
        ..AppSettings::default()
    };
    let app = App::new(store.clone(), clock.clone(), Arc::new(secret), settings);
    let people = people()?;
    directory::import_records(&app, Acting::Operator, "demo", &people, |_| {}).await.context("seeding people")?;
    // What the red "not verified" page tells people to call.
    let admin = caller(&app, "Rhea Grant").await?;
    security::set_company(&app, &admin, false).await.context("seeding settings")?;
    seed_access(&app, &admin).await.context("seeding the access policies")?;
    demo_history::seed(&app, &clock, &admin, &people, now).await.context("seeding the last 90 days")?;
    let sam = caller(&app, "Sam Carter").await?;
    let kim = caller(&app, "Kim Novak").await?;
    let staff = [sam.clone(), kim.clone(), caller(&app, "Luis Ortega").await?];
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
        let requester = caller(&app, employee.display_name.as_str()).await?;
        let (summary, category) = summaries.get(i % summaries.len()).copied().unwrap_or(("Help", "other"));
        let input = requests::OpenRequest {
            summary: summary.to_owned(),
            category: Some(category.to_owned()),
            // The first request is the README's story (Sam takes Ana's call by phone), so it allows every channel.
            channels: if i % 4 == 1 { [Channel::Chat, Channel::Video].into() } else { Default::default() },
        };
        clock.set(now - Duration::minutes(i64::try_from(i)? * 7));
        let r = requests::open(&app, &requester, input).await?;
        clock.set(now);
        if i % 3 != 2 {
            let assignee = staff.get(i % staff.len()).unwrap_or(&sam);
            let staff_id = assignee.person.staff_id.as_ref().context("a demo staffer without a staff id")?;
            requests::assign(&app, assignee, &r.key.to_string(), staff_id.as_str()).await?;
        }
    }
    let recall_for = employees.get(1).context("no employees")?;
    let proposal = outreach::Proposal {
        employee_email: recall_for.email.to_string(),
        reason: "Laptop battery recall: we will arrange a swap".into(),
        channels: [Channel::Phone, Channel::Email].into(),
        starts_at: now - Duration::hours(1),
        ends_at: now + Duration::days(3),
    };
    let o = outreach::propose(&app, &kim, proposal).await?;
    outreach::approve(&app, &sam, &o.id.to_string()).await?;

    // A campaign under way against the remote sales team: three salespeople reported the same caller this
    // morning, the number written three ways. Every employee sees its warning on the home page.
    let sales = employees.iter().filter(|p| p.department == "Sales").skip(1);
    for (i, (p, number)) in sales.zip(["(555) 010-9999", "+1 555 010 9999", "555.010.9999"]).enumerate() {
        let reporter = caller(&app, p.display_name.as_str()).await?;
        let report = reports::Report {
            channel: Some(Channel::Phone),
            occurred_at: Some(now - Duration::hours(3 - i64::try_from(i)?)),
            caller_number: Some(number.to_owned()),
            claimed_name: Some("Mike from IT".to_owned()),
            asked_for: Some([Ask::MfaCode].into()),
            ..reports::Report::default()
        };
        reports::file(&app, &reporter, report, None).await?;
    }
    if with_drills {
        crate::demo_drills::seed(&app, &clock, &admin, now).await.context("seeding the drills")?;
    }
    // Today's risk snapshot, after the 89 days before it.
    bonafide_app::risk::snapshot(&app).await.context("taking today's risk snapshot")?;
    Ok(())
}

/// What the demo's drills need: the server's secret (their links are derived from it), the address the
/// links point to, and the outbox their messages are written to.
pub struct DemoDrills {
    /// The secret the server runs with.
    pub secret: ChallengeSecret,
    /// The server's base URL.
    pub public_url: String,
    /// Where drill messages are written instead of sent.
    pub outbox: PathBuf,
}

/// Where the demo writes drill messages: `BONAFIDE_DRILL_OUTBOX_DIR`, else `bonafide-demo-outbox` beside
/// the SQLite file (in the current directory for PostgreSQL).
fn demo_outbox(db: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("BONAFIDE_DRILL_OUTBOX_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    match db.strip_prefix("sqlite://").map(|p| p.split('?').next().unwrap_or(p)) {
        Some(file) => Path::new(file).parent().unwrap_or(Path::new("")).join("bonafide-demo-outbox"),
        None => PathBuf::from("bonafide-demo-outbox"),
    }
}

/// The demo company's access policies, as the seed's advice has them.
pub(crate) const ACCESS_POLICIES: &str = r#"@id("own-department-with-mfa")
permit (principal, action == Action::"access", resource)
when { resource has owner_department && principal.department == resource.owner_department && context.mfa };

@id("high-needs-mfa-and-a-managed-device")
forbid (principal, action, resource)
when { resource.sensitivity == "high" && !(context.mfa && context.device_managed) };

@id("no-databases-from-the-internet-for-remote-workers")
forbid (principal, action, resource)
when { resource.kind == "database" && principal.remote && context.network == "internet" };

@id("it-consoles-need-it-staff-and-a-passkey")
permit (principal in Role::"it_staff", action, resource)
when { resource.tags.contains("it-console") && principal.passkey_enrolled };
"#;

/// Resources and access policies: payroll and HR only for their departments with MFA, high resources only
/// with MFA on a managed device, databases out of reach from the internet for remote workers, IT's admin
/// console for IT staff with a passkey.
async fn seed_access(app: &App, admin: &Caller) -> anyhow::Result<()> {
    use bonafide_app::resources::{self, ResourceInput};
    let resource =
        |id: &str, kind: &str, name: &str, owner: Option<&str>, sensitivity: &str, tags: &[&str]| ResourceInput {
            id: id.to_owned(),
            kind: kind.to_owned(),
            name: name.to_owned(),
            owner_department: owner.map(str::to_owned),
            sensitivity: sensitivity.to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        };
    for r in [
        resource("payroll-db", "database", "Payroll database", Some("Finance"), "high", &["pii"]),
        resource("hr-portal", "portal", "HR portal", Some("People"), "medium", &["pii"]),
        resource("sales-crm", "app", "Sales CRM", Some("Sales"), "medium", &[]),
        resource("it-admin-console", "app", "Endpoint management console", Some("IT"), "high", &["it-console"]),
    ] {
        resources::register(app, admin, r).await?;
    }
    resources::publish(app, Acting::Person(admin), ACCESS_POLICIES).await?;
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
    let store = open_store(&db).await?;
    let now = OffsetDateTime::now_utc();
    // Issuing tokens and passwords derives no challenge codes.
    let (issuer_secret, _) = ChallengeSecret::generate();
    let app = App::new(
        store.clone(),
        Arc::new(bonafide_domain::SystemClock),
        Arc::new(issuer_secret),
        AppSettings::default(),
    );
    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    // Browsers accept passkeys on `localhost`, never on an IP address: the demo is reached by name.
    let addr = listener.local_addr()?;
    let base_url = serve::local_public_url(addr).unwrap_or_else(|| format!("http://{addr}"));
    let outbox = demo_outbox(&db);
    let fresh = bonafide_app::directory::list(&app, Acting::Operator).await?.is_empty();
    if fresh {
        let drills = DemoDrills { secret: demo_secret(&db)?, public_url: base_url.clone(), outbox: outbox.clone() };
        seed_with(&store, now, Some(drills)).await?;
    }
    let secret = demo_secret(&db)?;

    // Fresh tokens and one fresh portal password on every start: both are only ever stored hashed, so old
    // ones cannot be shown again. Every demo person gets the password (each with its own salt).
    let password = bonafide_auth::password::generate_password();
    let mut people = Vec::new();
    let everyone = bonafide_app::directory::list(&app, Acting::Operator).await?;
    let active: Vec<_> = everyone.into_iter().filter(|p| p.status == PersonStatus::Active).collect();
    let bar = crate::progress::bar(Some(u64::try_from(active.len()).unwrap_or(0)), "demo passwords", false);
    for p in active {
        let token = bonafide_app::account::create_token(&app, Acting::Operator, p.email.as_str(), "demo").await?.token;
        bonafide_app::account::set_password(&app, Acting::Operator, p.email.as_str(), &password).await?;
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
    // Single sign-on can be tried on the demo: its keys (`BONAFIDE_OIDC_*`, `BONAFIDE_LOCAL_PASSWORDS`) are
    // read from the environment; every other setting stays the demo's.
    let loaded = crate::settings::Settings::load(None, crate::settings::Overrides::default(), std::env::vars_os())?;
    let settings = AppSettings {
        sso: loaded.app.sso,
        local_passwords: loaded.app.local_passwords,
        drills: crate::demo_drills::delivery(outbox),
        ..AppSettings::default()
    };
    serve::serve_on(listener, store, secret, settings, WebConfig::default()).await
}

/// The README's story in three calls (section "The story in three calls"), as `demo` prints it; the
/// test `regression_15_1_the_readme_story_is_true_for_the_people_demo_prints` holds the two equal.
const STORY: &str = r#"curl -s -H "Authorization: Bearer $EMPLOYEE" -H 'content-type: application/json' \
     -d '{"channel":"phone","claimed_staff_id":"IT-0042","caller_number":"(201) 555-0140"}' \
     http://localhost:8080/api/v1/checks                    # → challenge_required, Sam's photo; ID=its "id"
curl -s -H "Authorization: Bearer $SAM" http://localhost:8080/api/v1/console/codes
                                                        # Sam reads out the code beside Ana Lopez: CODE=it
curl -s -H "Authorization: Bearer $EMPLOYEE" -H 'content-type: application/json' \
     -d "{\"code\":\"$CODE\"}" http://localhost:8080/api/v1/checks/$ID/challenge    # → verified"#;

/// The people of the README's story and tour: the employee whose request Sam Carter works on, Sam, the
/// security admin and the auditor.
const STORY_PEOPLE: [(&str, &str); 4] = [
    ("EMPLOYEE", "ana.lopez@example.com"),
    ("SAM", "sam.carter@example.com"),
    ("SECURITY", "rhea.grant@example.com"),
    ("AUDITOR", "audra.mills@example.com"),
];

fn print_welcome(c: &Credentials, fresh: bool, db: &str, credentials_out: Option<&Path>) {
    let person = |email: &str| c.people.iter().find(|p| p.email == email);
    outln!("Bonafide demo {} at {db}", if fresh { "company created" } else { "company reused" });
    outln!("Serving on {}  (Ctrl-C to stop)\n", c.base_url);
    if let Some(p) = c.people.first() {
        outln!("Portal: {}/signin — every demo person's password for this run: {}", c.base_url, p.password);
        outln!("(IT staff and security admins set up an authenticator app at first sign-in.)\n");
    }
    outln!("The people of the story (README.md, \"The story in three calls\"), with this run's API tokens:");
    for (var, email) in STORY_PEOPLE {
        if let Some(p) = person(email) {
            let about = p.staff_id.as_deref().map_or_else(|| p.roles.join(", "), |id| format!("IT staff, {id}"));
            outln!("export {var}={}   # {} <{}>, {about}", p.api_token, p.display_name, p.email);
        }
    }
    if let Some(path) = credentials_out {
        outln!("\nAll {} people and their tokens: {}", c.people.len(), path.display());
    }
    let story = STORY.replace("http://localhost:8080", &c.base_url);
    outln!("\nThe story: Sam calls Ana about her open request, and she checks him.\n{story}");
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
    use bonafide_app::risk;

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

    #[test]
    fn the_timeline_is_in_order_and_ends_before_today() {
        let people = people().unwrap();
        let today = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let steps = demo_history::timeline(&people, today);
        assert!(steps.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(steps.iter().all(|(at, _)| *at < today && *at >= today - Duration::days(demo_history::DAYS)));
        let snapshots = steps.iter().filter(|(_, s)| matches!(s, demo_history::Step::Snapshot)).count();
        assert_eq!(snapshots, usize::try_from(demo_history::DAYS - 1).unwrap(), "one a day before today");
        // Each snapshot is of a day of its own.
        let days: std::collections::BTreeSet<_> =
            steps.iter().filter(|(_, s)| matches!(s, demo_history::Step::Snapshot)).map(|(at, _)| at.date()).collect();
        assert_eq!(days.len(), snapshots);
    }

    /// The demo's risk profile is the one the tour describes, on both databases.
    async fn the_demo_company_shows_a_real_risk_profile(backend: bonafide_store::Backend) {
        use bonafide_app::risk::GroupRisk;
        let db = bonafide_store::testing::TestDb::new(backend).await.unwrap();
        let now = OffsetDateTime::now_utc();
        let outbox = tempfile::tempdir().unwrap();
        let (secret, _) = bonafide_auth::ChallengeSecret::generate();
        let drills =
            DemoDrills { secret, public_url: "http://localhost:8080".into(), outbox: outbox.path().to_owned() };
        seed_with(&db.store, now, Some(drills)).await.unwrap();
        let (secret, _) = bonafide_auth::ChallengeSecret::generate();
        let clock = std::sync::Arc::new(ManualClock::new(now));
        let app = App::new(db.store.clone(), clock, std::sync::Arc::new(secret), Default::default());
        let admin = caller(&app, "Rhea Grant").await.unwrap();
        let groups = risk::departments(&app, &admin).await.unwrap();
        let group =
            |name: Option<&str>| -> &GroupRisk { groups.iter().find(|g| g.department.as_deref() == name).unwrap() };
        let share = |name: Option<&str>| group(name).profile.as_ref().unwrap().high_or_above;
        // The remote sales team is over tolerance, and with it the company; Finance is on the line; IT under it.
        assert!(share(Some("Sales")) > 0.5, "sales: {:?}", group(Some("Sales")));
        assert!(!group(Some("Sales")).breaches.is_empty());
        assert!(!group(None).breaches.is_empty());
        let finance = share(Some("Finance"));
        assert!(finance > 0.0 && finance <= 0.1, "finance: {finance}");
        assert!(group(Some("Finance")).breaches.is_empty());
        assert_eq!(share(Some("IT")), 0.0);
        // People has four: hidden.
        assert_eq!((group(Some("People")).people, group(Some("People")).profile.as_ref()), (4, None));
        // Ninety days of history, with a shape: Finance and IT were over tolerance before the policy.
        let days = u16::try_from(demo_history::DAYS).unwrap();
        let company = risk::trend(&app, &admin, None, days).await.unwrap();
        assert_eq!(company.len(), usize::try_from(demo_history::DAYS).unwrap());
        let it = risk::trend(&app, &admin, Some("IT"), days).await.unwrap();
        assert_eq!(it.first().map(|d| d.high_or_above), Some(1.0));
        assert_eq!(it.last().map(|d| d.high_or_above), Some(0.0));
        // One drill finished two weeks ago with every outcome, one running since this morning.
        let drills = bonafide_app::drills::list(&app, &admin).await.unwrap();
        assert_eq!(drills.len(), 2);
        let (running, finished) = (&drills[0], &drills[1]);
        assert!(running.status == bonafide_domain::DrillStatus::Running && !running.finished, "{running:?}");
        assert!(running.sent >= 1 && running.sent < running.target_count, "{running:?}");
        assert!(finished.finished && finished.sent == finished.target_count, "{finished:?}");
        let results = bonafide_app::drills::results::results(&app, &admin, &finished.id.to_string()).await.unwrap();
        for outcome in bonafide_domain::drill::Outcome::ALL {
            assert!(results.totals.of(outcome) > 0, "no {outcome} in {:?}", results.totals);
        }
        let running = bonafide_app::drills::results::results(&app, &admin, &running.id.to_string()).await.unwrap();
        assert_eq!(running.totals.of(bonafide_domain::drill::Outcome::Reported), 1);
        assert!(outbox.path().read_dir().unwrap().count() >= usize::try_from(finished.sent).unwrap());
        // Today's snapshot agrees with the live profile.
        let today = company.last().unwrap();
        assert_eq!(today.day, risk::day_of(now));
        assert!((today.high_or_above - share(None)).abs() < 1e-9);
        db.drop_db().await;
    }

    #[tokio::test]
    async fn the_demo_company_shows_a_real_risk_profile_on_sqlite() {
        the_demo_company_shows_a_real_risk_profile(bonafide_store::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn the_demo_company_shows_a_real_risk_profile_on_postgres() {
        the_demo_company_shows_a_real_risk_profile(bonafide_store::Backend::Postgres).await;
    }
}
