//! Resources the access policies protect, and the access policies' versions.

use crate::codec::{from_millis, millis};
use crate::versions::Versioned;
use crate::{AuditEvent, HotPath, Store, StoreError, commit_audited, conflict_on_unique, directory_changed, dynamic};
use bonafide_domain::{PersonFacts, PersonId};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// A registered resource, as stored (its kind and sensitivity are checked by the use cases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRecord {
    /// Its id (`payroll-db`).
    pub id: String,
    /// `portal`, `database` or `app`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// The department that owns it.
    pub owner_department: Option<String>,
    /// `low`, `medium` or `high`.
    pub sensitivity: String,
    /// Free tags.
    pub tags: Vec<String>,
    /// Registered at.
    pub created_at: OffsetDateTime,
    /// Last changed at.
    pub updated_at: OffsetDateTime,
}

/// A version of the access policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicyRecord {
    /// 1, 2, …
    pub version: u32,
    /// The Cedar text.
    pub policies: String,
    /// Who wrote it (none: the operator).
    pub created_by: Option<PersonId>,
    /// When.
    pub created_at: OffsetDateTime,
}

const SELECT: &str =
    "SELECT id, kind, name, owner_department, sensitivity, tags, created_at, updated_at FROM resources";

fn resource_from(row: &AnyRow) -> Result<ResourceRecord, StoreError> {
    let tags: String = row.try_get("tags")?;
    Ok(ResourceRecord {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        owner_department: row.try_get("owner_department")?,
        sensitivity: row.try_get("sensitivity")?,
        tags: tags.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
        created_at: from_millis(row.try_get("created_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
    })
}

impl Store {
    /// Registers `r` (its times are `now`), with `audit`; [`StoreError::Conflict`] when the id is taken.
    pub async fn create_resource(&self, r: &ResourceRecord, audit: &AuditEvent) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO resources (id, kind, name, owner_department, sensitivity, tags, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&r.id)
        .bind(&r.kind)
        .bind(&r.name)
        .bind(r.owner_department.as_deref())
        .bind(&r.sensitivity)
        .bind(r.tags.join(","))
        .bind(millis(r.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "a resource with this id is already registered"))?;
        directory_changed(&mut tx).await?;
        commit_audited(tx, &[audit], r.created_at).await
    }

    /// Replaces what is known of resource `r.id` (not its creation time), with `audit`; false when there
    /// is none.
    pub async fn update_resource(&self, r: &ResourceRecord, audit: &AuditEvent) -> Result<bool, StoreError> {
        let query = sqlx::query(
            "UPDATE resources SET kind = $2, name = $3, owner_department = $4, sensitivity = $5, tags = $6, \
             updated_at = $7 WHERE id = $1",
        )
        .bind(r.id.clone())
        .bind(r.kind.clone())
        .bind(r.name.clone())
        .bind(r.owner_department.clone())
        .bind(r.sensitivity.clone())
        .bind(r.tags.join(","))
        .bind(millis(r.updated_at));
        Ok(self.execute_audited_directory(query, audit, r.updated_at).await? == 1)
    }

    /// Removes resource `id`, with `audit`; false when there is none.
    pub async fn delete_resource(&self, id: &str, audit: &AuditEvent, now: OffsetDateTime) -> Result<bool, StoreError> {
        let query = sqlx::query("DELETE FROM resources WHERE id = $1").bind(id.to_owned());
        Ok(self.execute_audited_directory(query, audit, now).await? == 1)
    }

    /// Resource `id`.
    pub async fn resource(&self, id: &str) -> Result<Option<ResourceRecord>, StoreError> {
        let row = sqlx::query(dynamic(format!("{SELECT} WHERE id = $1"))).bind(id).fetch_optional(&self.read).await?;
        row.as_ref().map(resource_from).transpose()
    }

    /// Every resource, by id.
    pub async fn resources(&self) -> Result<Vec<ResourceRecord>, StoreError> {
        let rows = sqlx::query(dynamic(format!("{SELECT} ORDER BY id"))).fetch_all(&self.read).await?;
        rows.iter().map(resource_from).collect()
    }

    /// Publishes `policies` as the next version of the access policies, with `audit(version)`.
    pub async fn publish_access_policies(
        &self,
        policies: &str,
        created_by: Option<PersonId>,
        now: OffsetDateTime,
        audit: impl FnOnce(u32) -> AuditEvent + Send,
    ) -> Result<AccessPolicyRecord, StoreError> {
        let v = self.publish_version(ACCESS_POLICIES, policies, created_by, now, audit, true).await?;
        Ok(AccessPolicyRecord {
            version: v.version,
            policies: v.text,
            created_by: v.created_by,
            created_at: v.created_at,
        })
    }

    /// The newest version of the access policies (the one in force).
    pub async fn access_policies(&self) -> Result<Option<AccessPolicyRecord>, StoreError> {
        Ok(self.newest_version(ACCESS_POLICIES).await?.map(|v| AccessPolicyRecord {
            version: v.version,
            policies: v.text,
            created_by: v.created_by,
            created_at: v.created_at,
        }))
    }
}

const ACCESS_POLICIES: Versioned =
    Versioned { table: "access_policy_versions", text: "policies", what: "access policies" };

/// The people the access policies see; `$1` is the contact policy version whose acknowledgement counts.
const ACCESS_PEOPLE: &str = "SELECT p.email, p.department, p.roles, p.title, p.location, p.remote, p.privileged, \
       p.status, CASE WHEN c.totp_sealed IS NOT NULL THEN 1 ELSE 0 END AS mfa, \
       CASE WHEN EXISTS (SELECT 1 FROM passkeys k WHERE k.person_id = p.id) THEN 1 ELSE 0 END AS passkey, \
       CASE WHEN EXISTS (SELECT 1 FROM policy_acknowledgements a WHERE a.person_id = p.id AND a.version = $1) \
            THEN 1 ELSE 0 END AS acknowledged, \
       (SELECT s.level FROM risk_person_snapshots s WHERE s.person_id = p.id ORDER BY s.day DESC LIMIT 1) \
            AS risk_level \
     FROM people p LEFT JOIN credentials c ON c.person_id = p.id";

fn access_person_from(row: &AnyRow) -> Result<PersonFacts, StoreError> {
    let roles = bonafide_domain::Roles::parse_list(&row.try_get::<String, _>("roles")?)
        .map_err(|e| StoreError::Corrupt(e.message))?;
    let flag = |name: &str| -> Result<bool, StoreError> { Ok(row.try_get::<i64, _>(name)? == 1) };
    Ok(PersonFacts {
        email: row.try_get("email")?,
        department: row.try_get("department")?,
        roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
        title: row.try_get("title")?,
        location: row.try_get("location")?,
        remote: flag("remote")?,
        privileged: flag("privileged")?,
        active: row.try_get::<String, _>("status")? == bonafide_domain::PersonStatus::Active.as_str(),
        mfa_enrolled: flag("mfa")?,
        passkey_enrolled: flag("passkey")?,
        policy_acknowledged: flag("acknowledged")?,
        risk_level: row.try_get("risk_level")?,
    })
}

impl Store {
    /// The person with `email` as the access policies see them, `policy_version` being the contact policy
    /// version whose acknowledgement counts.
    pub async fn access_person(&self, email: &str, policy_version: u32) -> Result<Option<PersonFacts>, StoreError> {
        let row = sqlx::query(dynamic(format!("{ACCESS_PEOPLE} WHERE p.email = $2")))
            .bind(i64::from(policy_version))
            .bind(email)
            .fetch_optional(&self.write)
            .await?;
        row.as_ref().map(access_person_from).transpose()
    }

    /// Everyone, active or not, as the access policies see them, by email.
    pub async fn access_people(&self, policy_version: u32) -> Result<Vec<PersonFacts>, StoreError> {
        let rows = sqlx::query(dynamic(format!("{ACCESS_PEOPLE} ORDER BY p.email")))
            .bind(i64::from(policy_version))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(access_person_from).collect()
    }
}

/// Allows counted for one day, resource and action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessCount {
    /// The day (UTC), `YYYY-MM-DD`.
    pub day: String,
    /// The resource's id.
    pub resource: String,
    /// The action.
    pub action: String,
    /// How many decisions allowed it.
    pub allows: i64,
}

impl Store {
    /// The directory's generation, raised by every write that changes what the access policies see.
    /// On SQLite it is remembered until any other connection commits, and read without a trip to the
    /// worker.
    pub async fn directory_generation(&self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT generation FROM directory_generation WHERE id = 1";
        match &self.hot {
            HotPath::Sqlite(lite) => lite.probe_int("directory_generation", SQL),
            HotPath::Postgres(_) => Ok(sqlx::query(SQL).fetch_one(&self.write).await?.try_get("generation")?),
        }
    }

    /// Adds `counts` to the allows counted so far (several instances add to the same rows).
    pub async fn add_access_counts(&self, counts: &[AccessCount]) -> Result<(), StoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut tx = self.write.begin().await?;
        for c in counts {
            sqlx::query(
                "INSERT INTO access_counts (day, resource_id, action, allows) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (day, resource_id, action) DO UPDATE SET allows = access_counts.allows + excluded.allows",
            )
            .bind(c.day.clone())
            .bind(c.resource.clone())
            .bind(c.action.clone())
            .bind(c.allows)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The allows counted on `since` (`YYYY-MM-DD`) and after, by day, resource and action.
    pub async fn access_counts(&self, since: &str) -> Result<Vec<AccessCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT day, resource_id, action, allows FROM access_counts WHERE day >= $1 \
             ORDER BY day, resource_id, action",
        )
        .bind(since.to_owned())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AccessCount {
                    day: r.try_get("day")?,
                    resource: r.try_get("resource_id")?,
                    action: r.try_get("action")?,
                    allows: r.try_get("allows")?,
                })
            })
            .collect()
    }
}
