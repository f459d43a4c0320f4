//! Metrics for Prometheus: what this process counted (HTTP requests and their latency, checks by verdict
//! and reason, challenge failures and locks, reports, webhook deliveries) and what the database holds at
//! scrape time (active campaigns, the delivery backlog), with the store's pools and queue.
//!
//! Counters are per process (Prometheus adds instances up); gauges that describe shared state are read
//! from the store at each scrape, so every instance reports the same. No label carries personal data:
//! every label value is a name the code defines (a verdict, a reason, a severity, an outcome, a route
//! template, a method, a status code), never what a person typed, and never a raw path.

mod exposition;

use crate::{App, AppError, Caller, Via};
use bonafide_domain::{Reason, Verdict};
use bonafide_store::{Actor, AuditEvent, Outcome, ServiceRecord};
use exposition::{Counters, Histograms, Text};

/// The scope a service token needs to read metrics.
pub const SCOPE: &str = "metrics";

/// Upper bounds of the HTTP latency buckets, in seconds.
static LATENCY_BOUNDS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The HTTP methods counted by name; any other is counted as `other`, so a client cannot make series.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// What this process counted since it started. Held by the [`App`]; the HTTP adapter records requests,
/// the use cases the rest.
#[derive(Debug)]
pub struct Metrics {
    http_requests: Counters,
    http_seconds: Histograms,
    checks: Counters,
    check_reasons: Counters,
    challenge_passes: Counters,
    challenge_failures: Counters,
    challenge_locks: Counters,
    reports: Counters,
    deliveries: Counters,
    drill_sends: Counters,
}

impl Default for Metrics {
    /// No counts yet, with every verdict and delivery outcome at 0, so that rates start at the first scrape.
    fn default() -> Self {
        let metrics = Self {
            http_requests: Counters::default(),
            http_seconds: Histograms::new(&LATENCY_BOUNDS),
            checks: Counters::default(),
            check_reasons: Counters::default(),
            challenge_passes: Counters::default(),
            challenge_failures: Counters::default(),
            challenge_locks: Counters::default(),
            reports: Counters::default(),
            deliveries: Counters::default(),
            drill_sends: Counters::default(),
        };
        for verdict in Verdict::NAMES {
            metrics.checks.add(&[verdict], 0);
        }
        for outcome in DELIVERY_OUTCOMES {
            metrics.deliveries.add(&[outcome], 0);
        }
        for outcome in DRILL_SEND_OUTCOMES {
            metrics.drill_sends.add(&[outcome], 0);
        }
        metrics
    }
}

/// What a drill message's attempt comes to.
const DRILL_SEND_OUTCOMES: [&str; 3] = ["sent", "retry", "failed"];

/// What a webhook delivery attempt comes to.
const DELIVERY_OUTCOMES: [&str; 3] = ["delivered", "failed", "gave_up"];

impl Metrics {
    /// Records one HTTP request: `route` is the route's template (`/api/v1/staff/{staff_id}`), or
    /// `unmatched` when no route matched; never the path the client sent.
    pub fn http_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = METHODS.iter().copied().find(|m| *m == method).unwrap_or("other");
        self.http_requests.add(&[method, route, &status.to_string()], 1);
        self.http_seconds.observe(&[method, route], seconds);
    }

    /// Records a check's verdict and its reasons (at its opening, or when an answer changes it).
    pub(crate) fn check(&self, verdict: Verdict, reasons: &[Reason]) {
        self.checks.add(&[verdict.as_str()], 1);
        for r in reasons {
            self.check_reasons.add(&[verdict.as_str(), r.as_str()], 1);
        }
    }

    /// Records a challenge answered: right, or wrong and whether that locked the check.
    pub(crate) fn challenge(&self, passed: bool, locked: bool) {
        match passed {
            true => self.challenge_passes.add(&[], 1),
            false => self.challenge_failures.add(&[], 1),
        }
        if locked {
            self.challenge_locks.add(&[], 1);
        }
    }

    /// Records a report filed.
    pub(crate) fn report(&self) {
        self.reports.add(&[], 1);
    }

    /// Records a webhook delivery attempt's outcome: `delivered`, `failed` (to be retried) or `gave_up`.
    pub(crate) fn delivery(&self, outcome: &'static str) {
        self.deliveries.add(&[outcome], 1);
    }

    /// Records a drill message's attempt: `sent`, `retry` (to be tried again) or `failed`.
    pub(crate) fn drill_send(&self, outcome: &'static str) {
        self.drill_sends.add(&[outcome], 1);
    }

    fn write(&self, text: &mut Text) {
        text.counters(
            "bonafide_http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            &["method", "route", "status"],
            &self.http_requests,
        );
        text.histograms(
            "bonafide_http_request_duration_seconds",
            "Time to answer an HTTP request (to the response head), by method and route template.",
            &["method", "route"],
            &self.http_seconds,
        );
        text.counters("bonafide_checks_total", "Contact checks decided, by verdict.", &["verdict"], &self.checks);
        text.counters(
            "bonafide_check_reasons_total",
            "Reasons given with contact check verdicts, by verdict and reason.",
            &["verdict", "reason"],
            &self.check_reasons,
        );
        text.counter("bonafide_challenge_passes_total", "Challenge codes answered right.", &self.challenge_passes);
        text.counter("bonafide_challenge_failures_total", "Challenge codes answered wrong.", &self.challenge_failures);
        text.counter(
            "bonafide_challenge_locks_total",
            "Checks locked after repeated wrong challenge codes.",
            &self.challenge_locks,
        );
        text.counter("bonafide_reports_total", "Suspicious contacts reported.", &self.reports);
        text.counters(
            "bonafide_webhook_deliveries_total",
            "Webhook delivery attempts, by outcome (delivered, failed, gave_up).",
            &["outcome"],
            &self.deliveries,
        );
        text.counters(
            "bonafide_drill_messages_total",
            "Drill message attempts, by outcome (sent, retry, failed).",
            &["outcome"],
            &self.drill_sends,
        );
    }
}

/// Who reads the metrics.
#[derive(Debug, Clone)]
pub enum Scraper {
    /// A service token with the `metrics` scope, on the main listener.
    Service(ServiceRecord),
    /// Anyone reaching the separate metrics listener (`metrics_listen`), which only the operator's
    /// network should reach: the adapter serving that listener alone may name this.
    MetricsListener,
}

/// The scraper a bearer token names: a service token with the `metrics` scope. `None` when the token is
/// nobody's (401); a service token without the scope, or a person's token, is refused (403, audited).
pub async fn scraper(app: &App, token: &str, client: &str) -> Result<Option<Scraper>, AppError> {
    if let Some(service) = crate::decisions::authenticate_service(app, token).await? {
        if service.scopes.iter().any(|s| s == SCOPE) {
            return Ok(Some(Scraper::Service(service)));
        }
        let actor = Actor { id: None, label: format!("service:{}", service.name), client: client.to_owned() };
        let event = AuditEvent::new(&actor, "access.denied", "metrics", Outcome::Denied)
            .with(serde_json::json!({ "needs": "the metrics scope", "via": "service" }));
        app.audit_refusal(event).await;
        return Err(AppError::Forbidden("this service token does not have the metrics scope"));
    }
    match app.authenticate_token(token).await? {
        Some(person) => {
            let caller = Caller::new(person, client, Via::Api);
            Err(app.refuse(&caller, "metrics", "metrics are read with a service token with the metrics scope").await)
        }
        None => Ok(None),
    }
}

/// The whole scrape in the text exposition format: this process's counters, the database's state now,
/// this instance's pools and SQLite queue, and the build.
pub async fn scrape(app: &App, _by: &Scraper) -> Result<String, AppError> {
    let store = app.store();
    let gauges = store.gauges().await?;
    let mut text = Text::default();
    app.metrics().write(&mut text);
    text.family("bonafide_active_campaigns", "gauge", "Campaigns under way (status active), by severity.");
    for severity in bonafide_correlate::engine::Severity::NAMES {
        let n = gauges.active_campaigns.iter().find(|(s, _)| s == severity).map_or(0, |(_, n)| *n);
        text.sample("bonafide_active_campaigns", &[("severity", severity)], n);
    }
    text.family("bonafide_webhook_delivery_backlog", "gauge", "Webhook deliveries waiting for an attempt.");
    text.sample("bonafide_webhook_delivery_backlog", &[], gauges.delivery_backlog);
    text.family("bonafide_drill_send_backlog", "gauge", "Drill messages of running drills queued or being sent.");
    text.sample("bonafide_drill_send_backlog", &[], store.drill_backlog().await?);
    let pools = store.pool_use();
    text.family("bonafide_db_pool_connections", "gauge", "Database connections open, by pool and state.");
    for p in &pools {
        text.sample("bonafide_db_pool_connections", &[("pool", p.pool), ("state", "in_use")], p.in_use);
        text.sample("bonafide_db_pool_connections", &[("pool", p.pool), ("state", "idle")], p.idle);
    }
    text.family("bonafide_db_pool_max_connections", "gauge", "The most connections a pool opens.");
    for p in &pools {
        text.sample("bonafide_db_pool_max_connections", &[("pool", p.pool)], p.max);
    }
    if let Some(depth) = store.sqlite_queue_depth() {
        text.family("bonafide_sqlite_worker_queue_depth", "gauge", "Jobs waiting for the SQLite worker's next turn.");
        text.sample("bonafide_sqlite_worker_queue_depth", &[], depth);
    }
    text.family("bonafide_build_info", "gauge", "The running build (always 1).");
    text.sample("bonafide_build_info", &[("version", env!("CARGO_PKG_VERSION"))], 1);
    Ok(text.finish())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_service_token_can_be_made_with_the_metrics_scope() {
        assert!(crate::resources::SERVICE_SCOPES.contains(&super::SCOPE));
    }

    #[test]
    fn a_method_no_route_serves_is_counted_as_other() {
        let m = super::Metrics::default();
        m.http_request("BREW", "unmatched", 405, 0.001);
        m.http_request("GET", "/healthz", 200, 0.001);
        let methods: Vec<String> =
            m.http_requests.series().into_iter().filter_map(|(k, _)| k.first().cloned()).collect();
        assert_eq!(methods, ["GET", "other"]);
    }
}
