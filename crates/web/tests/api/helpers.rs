//! `spawn_app`: a small seeded company, one API token per person, a manual clock and the real
//! application served on 127.0.0.1:0; plus a client that checks what every answer must satisfy.

use bonafide_app::webhooks::HostLookup;
use bonafide_app::{App, Settings};
use bonafide_auth::{ApiToken, ChallengeSecret};
use bonafide_domain::{ManualClock, PersonStatus, PhoneNumber, PhoneRegion, Role, Roles};
use bonafide_store::testing::TestDb;
use bonafide_store::{Actor, AuditEvent, Backend, NewPerson, Outcome, Store};
use bonafide_web::{AppState, Application, WebConfig};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};
use tokio::sync::oneshot;

/// One bearer token per seeded person.
pub struct Tokens {
    /// Erin Walsh, a plain employee.
    pub erin: String,
    /// Finn Hale, a plain employee.
    pub finn: String,
    /// Sam Carter, IT-0042.
    pub sam: String,
    /// Kim Novak, IT-0007.
    pub kim: String,
    /// Ada Reyes, security_admin.
    pub admin: String,
    /// Gus Ortiz, auditor.
    pub auditor: String,
    /// Pat Doyle, IT-0099, suspended.
    pub suspended: String,
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// The body as JSON, or `Null` when it is not JSON.
    pub body: Value,
    /// The body as text.
    pub text: String,
    /// Response headers.
    pub headers: HeaderMap,
}

impl Reply {
    /// The value of header `name`, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The problem `type`, e.g. `urn:bonafide:problem:forbidden`.
    pub fn problem(&self) -> &str {
        self.body["type"].as_str().unwrap_or("")
    }

    /// The `errors[].field` of a 422.
    pub fn fields(&self) -> Vec<&str> {
        self.body["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect())
            .unwrap_or_default()
    }

    /// `body[key]` as text, or "" when it is not text.
    pub fn str(&self, key: &str) -> &str {
        self.body[key].as_str().unwrap_or("")
    }
}

/// A request body.
pub enum Body {
    /// None.
    Empty,
    /// JSON, sent as `application/json`.
    Json(Value),
    /// Bytes sent with the given content type.
    Raw(&'static str, Vec<u8>),
}

/// A client for one running server instance. Clones talk to the same instance.
#[derive(Clone)]
pub struct Api {
    /// The instance's base URL.
    pub base: String,
    client: reqwest::Client,
    // Dropping the last clone of the sender resolves the server's shutdown future.
    _shutdown: Arc<oneshot::Sender<()>>,
}

impl Api {
    /// Sends one request and checks what every answer must satisfy: never a 500, and every error is
    /// RFC 9457 problem details with the status repeated in the body.
    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Body) -> Reply {
        let mut request = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request = match body {
            Body::Empty => request,
            Body::Json(v) => request.json(&v),
            Body::Raw(content_type, bytes) => request.header(CONTENT_TYPE, content_type).body(bytes),
        };
        self.exchange(method, path, request).await
    }

    /// `GET path` with `authorization` sent verbatim as the `Authorization` header.
    pub async fn get_authorized(&self, path: &str, authorization: &str) -> Reply {
        let request =
            self.client.get(format!("{}{path}", self.base)).header(reqwest::header::AUTHORIZATION, authorization);
        self.exchange(Method::GET, path, request).await
    }

    async fn exchange(&self, method: Method, path: &str, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let reply = Reply { status, body, text, headers };
        assert_ne!(status, 500, "{method} {path} answered 500: {}", reply.text);
        if status >= 400 {
            assert_eq!(reply.header("content-type"), "application/problem+json", "{method} {path}: {}", reply.text);
            assert_eq!(reply.body["status"], json!(status), "{method} {path}: {}", reply.text);
            assert!(reply.problem().starts_with("urn:bonafide:problem:"), "{method} {path}: {}", reply.text);
        }
        reply
    }

    /// `GET path` as the holder of `token`.
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), Body::Empty).await
    }

    /// `POST path` with a JSON body as the holder of `token`.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(token), Body::Json(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(token), Body::Json(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(Method::DELETE, path, Some(token), Body::Empty).await
    }

    /// Opens a request as `token`'s holder and returns its key.
    pub async fn open_request(&self, token: &str, summary: &str) -> String {
        let r = self.post("/api/v1/requests", token, json!({ "summary": summary })).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.str("key").to_owned()
    }

    /// Assigns request `key` to `staff_id`, acting as `token`'s holder; expects success.
    pub async fn assign(&self, key: &str, staff_id: &str, token: &str) {
        let r = self.post(&format!("/api/v1/requests/{key}/assign"), token, json!({ "staff_id": staff_id })).await;
        assert_eq!((r.status, r.str("status")), (200, "assigned"), "{}", r.text);
    }

    /// The code `staff_token`'s console shows for request `key`.
    pub async fn console_code(&self, staff_token: &str, key: &str) -> String {
        let r = self.get("/api/v1/console/codes", staff_token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let entry = r.body.as_array().unwrap().iter().find(|c| c["request_key"] == json!(key));
        let entry = entry.unwrap_or_else(|| panic!("no console code for {key}: {}", r.text));
        entry["code"].as_str().unwrap().to_owned()
    }

    /// Opens a check as `token`'s holder; expects 201 and returns the answer.
    pub async fn open_check(&self, token: &str, claim: Value) -> Reply {
        let r = self.post("/api/v1/checks", token, claim).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r
    }

    /// Answers check `id` with `code`; expects 200.
    pub async fn answer(&self, id: &str, token: &str, code: &str) -> Reply {
        let r = self.post(&format!("/api/v1/checks/{id}/challenge"), token, json!({ "code": code })).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r
    }
}

/// A six-digit code that is not `code`.
pub fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

/// The claim a genuine call from Sam Carter makes.
pub fn sams_call() -> Value {
    json!({ "channel": "phone", "claimed_staff_id": "IT-0042", "caller_number": "(201) 555-0142" })
}

/// The running application and what tests need to drive it.
pub struct TestApp {
    /// The first instance (also reachable through `Deref`).
    pub api: Api,
    /// The clock every instance reads.
    pub clock: Arc<ManualClock>,
    /// The store behind the first instance.
    pub store: Store,
    /// One token per seeded person.
    pub tokens: Tokens,
    config: Config,
    secret: Arc<ChallengeSecret>,
    db: TestDb,
    other_stores: Mutex<Vec<Store>>,
}

impl Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl TestApp {
    /// The first instance's base URL.
    pub fn base(&self) -> &str {
        &self.api.base
    }

    /// The test database's URL, for a store of its own (another instance's).
    pub fn db_url(&self) -> &str {
        &self.db.url
    }

    /// What the clock reads now.
    pub fn clock_now(&self) -> OffsetDateTime {
        bonafide_domain::Clock::now(&*self.clock)
    }

    /// The server secret.
    pub fn secret(&self) -> &ChallengeSecret {
        &self.secret
    }

    /// The use cases' settings every instance runs with.
    pub fn config_app(&self) -> &Settings {
        &self.config.app
    }

    /// Moves every instance's clock by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.clock.advance(Duration::seconds(seconds));
    }

    /// Starts another server instance on the same database, with its own connection pool, the same
    /// secret, clock and settings.
    pub async fn spawn_instance(&self) -> Api {
        let store = Store::connect(&self.db.url).await.expect("second instance connects");
        self.other_stores.lock().unwrap().push(store.clone());
        let app = self.config.app(store, self.clock.clone(), self.secret.clone());
        serve(AppState::new(app, self.config.web.clone())).await
    }

    /// Starts another server instance on `store` (another database), with the same secret, clock and
    /// settings.
    pub async fn spawn_on(&self, store: Store) -> Api {
        let app = self.config.app(store, self.clock.clone(), self.secret.clone());
        serve(AppState::new(app, self.config.web.clone())).await
    }

    /// Makes every later append to the audit log fail.
    pub async fn refuse_audit_appends(&self) {
        self.db.refuse_audit_appends().await.unwrap();
    }

    /// Ends every server connection of the test database (PostgreSQL); returns how many were ended.
    pub async fn cut_connections(&self) -> u64 {
        self.db.cut_connections().await.unwrap()
    }

    /// Closes every pool and removes the database.
    pub async fn drop_db(self) {
        let others = std::mem::take(&mut *self.other_stores.lock().unwrap());
        for store in others {
            store.close().await;
        }
        self.db.drop_db().await;
    }
}

/// The start of the current real minute plus 10 s: codes and rate-limit windows change on the minute,
/// so tests that move the clock know exactly which window they land in.
pub fn start_time() -> OffsetDateTime {
    let minute = OffsetDateTime::now_utc().unix_timestamp().div_euclid(60) * 60;
    OffsetDateTime::from_unix_timestamp(minute + 10).unwrap()
}

/// The settings of a test server: the use cases' and the HTTP adapter's.
#[derive(Clone, Default)]
pub struct Config {
    /// The use cases' settings.
    pub app: Settings,
    /// The HTTP adapter's.
    pub web: WebConfig,
    /// How webhook hosts resolve (a `StaticLookup` names hosts without DNS); the system resolver when
    /// `None`.
    pub host_lookup: Option<Arc<dyn HostLookup>>,
}

impl Config {
    /// The application over `store` with these settings.
    fn app(&self, store: Store, clock: Arc<ManualClock>, secret: Arc<ChallengeSecret>) -> App {
        let app = App::new(store, clock, secret, self.app.clone());
        match &self.host_lookup {
            Some(lookup) => app.with_host_lookup(lookup.clone()),
            None => app,
        }
    }
}

/// The audit entry of a test's own seeding (setup the tests do directly on the store), recorded as
/// `test.seeded` so that tests counting the product's own entries do not count it.
pub fn seeded(what: &'static str) -> AuditEvent {
    AuditEvent::new(&Actor::system(), "test.seeded", what, Outcome::Ok)
}

/// A running app over a fresh `backend` database with the default settings.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// A running app over a fresh `backend` database, with settings changed by `configure`.
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new(backend).await.expect("a fresh test database (is PostgreSQL running?)");
    let now = start_time();
    db.store.import_people(&company(), now, |_| {}, |_, _| seeded("directory.imported")).await.unwrap();
    let token_for = |email: &'static str| {
        let store = db.store.clone();
        async move {
            let person = store.person_by_email(&email.parse().unwrap()).await.unwrap().unwrap();
            let token = ApiToken::generate();
            store.create_token(person.id, token.hash().as_str(), "test", now, &seeded("token.created")).await.unwrap();
            token.reveal().to_owned()
        }
    };
    let tokens = Tokens {
        erin: token_for("erin@example.com").await,
        finn: token_for("finn@example.com").await,
        sam: token_for("sam.carter@example.com").await,
        kim: token_for("kim.novak@example.com").await,
        admin: token_for("ada.reyes@example.com").await,
        auditor: token_for("gus.ortiz@example.com").await,
        suspended: token_for("pat.doyle@example.com").await,
    };
    let mut config = Config {
        app: Settings {
            public_url: Some(PASSKEY_ORIGIN.to_owned()),
            company_domains: vec!["example.com".to_owned()],
            ..Settings::default()
        },
        web: WebConfig::default(),
        host_lookup: None,
    };
    configure(&mut config);
    let secret = Arc::new(ChallengeSecret::from_hex(&"ab".repeat(32)).unwrap());
    let clock = Arc::new(ManualClock::new(now));
    let app = config.app(db.store.clone(), clock.clone(), secret.clone());
    let state = AppState::new(app, config.web.clone());
    let api = serve(state).await;
    TestApp { api, clock, store: db.store.clone(), tokens, config, secret, db, other_stores: Mutex::new(vec![]) }
}

/// The public URL the test server's passkeys are bound to (what a browser's `clientDataJSON` names).
pub const PASSKEY_ORIGIN: &str = "http://localhost:8080";

async fn serve(state: AppState) -> Api {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    // Webhook deliveries run as in `serve`; they read the test's clock.
    Application::start_workers(&state);
    let config = state.config.clone();
    let router = Application::build(state);
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        // The production accept loop, with the test's connection limits.
        Application::serve(listener, router, &config, shutdown).await.unwrap();
    });
    Api { base, client: reqwest::Client::new(), _shutdown: Arc::new(stop) }
}

/// A person on duty in `department` with `roles`.
pub fn person(email: &str, name: &str, department: &str, roles: &[Role]) -> NewPerson {
    let mut p = NewPerson::new(email.parse().unwrap(), name.parse().unwrap(), Roles::new(roles.iter().copied()));
    p.department = department.into();
    p.on_duty = true;
    p
}

pub fn staffer(email: &str, name: &str, staff_id: &str, team: &str, number: &str) -> NewPerson {
    NewPerson {
        staff_id: Some(staff_id.parse().unwrap()),
        team: Some(team.into()),
        official_phones: vec![PhoneNumber::parse(number, PhoneRegion::default()).unwrap()],
        official_addresses: vec![email.parse().unwrap()],
        ..person(email, name, "IT", &[Role::ItStaff])
    }
}

/// Two employees, two IT staffers, a security admin, an auditor and a suspended IT staffer.
fn company() -> Vec<NewPerson> {
    vec![
        person("erin@example.com", "Erin Walsh", "Finance", &[]),
        person("finn@example.com", "Finn Hale", "Sales", &[]),
        staffer("sam.carter@example.com", "Sam Carter", "IT-0042", "Service Desk", "201-555-0142"),
        staffer("kim.novak@example.com", "Kim Novak", "IT-0007", "Network Operations", "201-555-0107"),
        person("ada.reyes@example.com", "Ada Reyes", "Security", &[Role::SecurityAdmin]),
        person("gus.ortiz@example.com", "Gus Ortiz", "Audit", &[Role::Auditor]),
        NewPerson {
            status: PersonStatus::Suspended,
            ..staffer("pat.doyle@example.com", "Pat Doyle", "IT-0099", "Service Desk", "201-555-0199")
        },
    ]
}
