//! The HTTP API, end to end: a real server on port 0 over a fresh SQLite file and a fresh PostgreSQL
//! schema, driven with `reqwest`. Every test runs on both databases (`sqlite::name`, `postgres::name`);
//! the multi-instance tests run on PostgreSQL only, since that is the only shared database, and the
//! connection-level tests (`slow_clients`) on SQLite only, since they end before any use case runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

/// Generates `sqlite::$name` and `postgres::$name` tests from `async fn $name(backend: Backend)`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(bonafide_store::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(bonafide_store::Backend::Postgres).await
                }
            )*
        }
    };
}

/// Generates `postgres::$name` only: for what needs a database shared by several server instances.
macro_rules! on_postgres {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(bonafide_store::Backend::Postgres).await
                }
            )*
        }
    };
}

/// Generates `sqlite::$name` only: for what happens on a connection before any use case runs, where the
/// database behind it makes no difference.
macro_rules! on_sqlite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(bonafide_store::Backend::Sqlite).await
                }
            )*
        }
    };
}

#[path = "api/helpers.rs"]
mod helpers;

#[path = "api/access_policies.rs"]
mod access_policies;
#[path = "api/adapters.rs"]
mod adapters;
#[path = "api/analyze.rs"]
mod analyze;
#[path = "api/audit_trail.rs"]
mod audit_trail;
#[path = "api/auth.rs"]
mod auth;
#[path = "api/backup.rs"]
mod backup;
#[path = "api/checks.rs"]
mod checks;
#[path = "api/drills.rs"]
mod drills;
#[path = "api/errors.rs"]
mod errors;
#[path = "api/first_impressions.rs"]
mod first_impressions;
#[path = "api/impersonation.rs"]
mod impersonation;
#[path = "api/metrics.rs"]
mod metrics;
#[path = "api/multi_instance.rs"]
mod multi_instance;
#[path = "api/oidc.rs"]
mod oidc;
#[path = "api/oidc_provider.rs"]
mod oidc_provider;
#[path = "api/outreach.rs"]
mod outreach;
#[path = "api/passkeys.rs"]
mod passkeys;
#[path = "api/policy.rs"]
mod policy;
#[path = "api/portal.rs"]
mod portal;
#[path = "api/portal_access.rs"]
mod portal_access;
#[path = "api/portal_drills.rs"]
mod portal_drills;
#[path = "api/portal_import.rs"]
mod portal_import;
#[path = "api/portal_policy.rs"]
mod portal_policy;
#[path = "api/portal_reports.rs"]
mod portal_reports;
#[path = "api/portal_risk.rs"]
mod portal_risk;
#[path = "api/refusal_pages.rs"]
mod refusal_pages;
#[path = "api/reports.rs"]
mod reports;
#[path = "api/requests.rs"]
mod requests;
#[path = "api/risk.rs"]
mod risk;
#[path = "api/scim.rs"]
mod scim;
#[path = "api/slow_clients.rs"]
mod slow_clients;
#[path = "api/softkey.rs"]
mod softkey;
#[path = "api/staff.rs"]
mod staff;
#[path = "api/unavailable.rs"]
mod unavailable;
#[path = "api/webhooks.rs"]
mod webhooks;
