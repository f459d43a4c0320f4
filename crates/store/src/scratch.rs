//! A private PostgreSQL schema that is dropped afterwards: what tests and benchmarks run on, so that
//! runs on one server never meet.

use crate::StoreError;
use sqlx::Executor;

/// A schema of its own on a PostgreSQL server, and the URL that works in it.
#[derive(Debug)]
pub struct ScratchSchema {
    /// The URL of the schema: the admin URL with its `search_path` set, and an application name that
    /// tells its connections apart.
    pub url: String,
    /// The schema's name (also the connections' application name).
    pub schema: String,
    admin: String,
}

impl ScratchSchema {
    /// Creates a fresh schema through `admin_url` (a database the user may create schemas in).
    pub async fn create(admin_url: &str, prefix: &str) -> Result<Self, StoreError> {
        let schema = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(admin_url).await?;
        let created = admin.execute(crate::dynamic(format!("CREATE SCHEMA {schema}"))).await;
        admin.close().await;
        created?;
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}&application_name={schema}");
        Ok(Self { url, schema, admin: admin_url.to_owned() })
    }

    /// The admin URL the schema was made through.
    pub fn admin_url(&self) -> &str {
        &self.admin
    }

    /// Drops the schema and everything in it (best effort: a server gone by now keeps it).
    pub async fn drop_schema(self) {
        if let Ok(admin) = sqlx::AnyPool::connect(&self.admin).await {
            let _ = admin.execute(crate::dynamic(format!("DROP SCHEMA {} CASCADE", self.schema))).await;
            admin.close().await;
        }
    }
}
