//! What SCIM provisioning reads and writes of the directory: people by id (the provider's key), with
//! the attributes only an identity provider sets (`scim_user_name`, `external_id`, `employee_number`)
//! and the mark of a person the provider deleted, who stays suspended with their history.

use crate::codec::{Columns, from_millis, millis, parse, parse_opt};
use crate::people::name_key;
use crate::{AuditEvent, Store, StoreError, commit_audited, conflict_on_unique, directory_changed};
use bonafide_domain::{DisplayName, Email, PersonId, PersonStatus, Roles};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// A person as SCIM sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimRecord {
    /// Person id: the SCIM id.
    pub id: PersonId,
    /// Primary email (the directory's key).
    pub email: Email,
    /// The provider's userName, when it is not the email.
    pub user_name: Option<String>,
    /// Name.
    pub display_name: DisplayName,
    /// Further work emails.
    pub other_emails: Vec<Email>,
    /// The provider marked no email primary.
    pub no_primary: bool,
    /// Job title ("" when none).
    pub title: String,
    /// Department ("" when none).
    pub department: String,
    /// Active or suspended.
    pub status: PersonStatus,
    /// The provider's own id for the person.
    pub external_id: Option<String>,
    /// The employee number.
    pub employee_number: Option<String>,
    /// Their manager.
    pub manager: Option<PersonId>,
    /// Their manager's name.
    pub manager_name: Option<String>,
    /// Roles.
    pub roles: Roles,
    /// Added to the directory.
    pub created_at: OffsetDateTime,
    /// Last changed.
    pub updated_at: OffsetDateTime,
}

/// A SCIM write: a new person or a replacement of person `id`'s SCIM attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimWrite {
    /// The person.
    pub id: PersonId,
    /// Whether they are new to the directory.
    pub new: bool,
    /// Primary email.
    pub email: Email,
    /// The provider's userName when it is not the email.
    pub user_name: Option<String>,
    /// Name.
    pub display_name: DisplayName,
    /// Further work emails.
    pub other_emails: Vec<Email>,
    /// The provider marked no email primary.
    pub no_primary: bool,
    /// Title.
    pub title: String,
    /// Department.
    pub department: String,
    /// Active or suspended: suspended ends the person's sessions and revokes their API tokens.
    pub status: PersonStatus,
    /// External id.
    pub external_id: Option<String>,
    /// Employee number.
    pub employee_number: Option<String>,
    /// Manager.
    pub manager: Option<PersonId>,
    /// Roles (a new person's, or replaced ones).
    pub roles: Roles,
    /// Deleted by the provider: hidden from SCIM, suspended, kept.
    pub deprovisioned: bool,
}

const SELECT: &str = "SELECT p.id, p.email, p.scim_user_name, p.display_name, p.title, p.department, p.status, \
    p.external_id, p.employee_number, p.manager_id, p.scim_no_primary, m.display_name AS manager_name, p.roles, p.created_at, \
    p.updated_at FROM people p LEFT JOIN people m ON m.id = p.manager_id WHERE p.deprovisioned_at IS NULL";

fn record_from(row: &dyn Columns) -> Result<ScimRecord, StoreError> {
    let time = |name: &str| -> Result<OffsetDateTime, StoreError> {
        from_millis(row.int(name)?.ok_or_else(|| StoreError::Corrupt(format!("people {name}")))?)
    };
    Ok(ScimRecord {
        id: parse("person id", &row.required("id")?)?,
        email: parse("email", &row.required("email")?)?,
        user_name: row.text("scim_user_name")?,
        display_name: parse("name", &row.required("display_name")?)?,
        other_emails: vec![],
        no_primary: row.int("scim_no_primary")?.unwrap_or(0) != 0,
        title: row.required("title")?,
        department: row.required("department")?,
        status: parse("status", &row.required("status")?)?,
        external_id: row.text("external_id")?,
        employee_number: row.text("employee_number")?,
        manager: parse_opt("manager id", row.text("manager_id")?)?,
        manager_name: row.text("manager_name")?,
        roles: Roles::parse_list(&row.required("roles")?).map_err(|e| StoreError::Corrupt(e.message))?,
        created_at: time("created_at")?,
        updated_at: time("updated_at")?,
    })
}

impl Store {
    /// Every person SCIM lists (all but those the provider deleted), oldest first, with their further
    /// emails: two statements.
    pub async fn scim_people(&self) -> Result<Vec<ScimRecord>, StoreError> {
        let rows =
            sqlx::query(crate::dynamic(format!("{SELECT} ORDER BY p.created_at, p.id"))).fetch_all(&self.read).await?;
        let mut people: Vec<ScimRecord> = rows.iter().map(|r| record_from(r)).collect::<Result<_, _>>()?;
        let contacts = sqlx::query("SELECT person_id, value FROM person_contacts WHERE kind = 'email' ORDER BY value")
            .fetch_all(&self.read)
            .await?;
        let mut emails: BTreeMap<String, Vec<Email>> = BTreeMap::new();
        for c in &contacts {
            emails.entry(c.required("person_id")?).or_default().push(parse("email", &c.required("value")?)?);
        }
        for p in &mut people {
            p.other_emails = emails.remove(&p.id.to_string()).unwrap_or_default();
        }
        Ok(people)
    }

    /// Person `id` as SCIM sees them; none when absent or deleted by the provider.
    pub async fn scim_person(&self, id: PersonId) -> Result<Option<ScimRecord>, StoreError> {
        let row = sqlx::query(crate::dynamic(format!("{SELECT} AND p.id = $1")))
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut person = record_from(&row)?;
        let contacts =
            sqlx::query("SELECT value FROM person_contacts WHERE person_id = $1 AND kind = 'email' ORDER BY value")
                .bind(id.to_string())
                .fetch_all(&self.read)
                .await?;
        person.other_emails =
            contacts.iter().map(|c| parse("email", &c.required("value")?)).collect::<Result<_, _>>()?;
        Ok(Some(person))
    }

    /// The person (deleted by the provider or not) whose primary email is `email` or whose userName is
    /// `user_name` (userNames compare without case, as SCIM's `caseExact: false` says), with whether the
    /// provider deleted them.
    pub async fn scim_holder(&self, email: &Email, user_name: &str) -> Result<Option<(PersonId, bool)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, deprovisioned_at FROM people WHERE email = $1 OR LOWER(scim_user_name) = $2 \
             OR (scim_user_name IS NULL AND email = $2) ORDER BY id LIMIT 1",
        )
        .bind(email.as_str())
        .bind(user_name.to_lowercase())
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((parse("person id", &row.required("id")?)?, row.int("deprovisioned_at")?.is_some())))
    }

    /// Writes `w` with `audit` in one transaction: a new person, or person `w.id`'s replacement. A
    /// suspended person's portal sessions end and their API tokens are revoked in the same transaction;
    /// changed roles end the sessions too. A userName or email held by someone else is a conflict.
    pub async fn scim_save(&self, w: &ScimWrite, now: OffsetDateTime, audit: &AuditEvent) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        let id = w.id;
        let roles = crate::codec::join(w.roles.iter().map(|r| r.as_str()));
        let before: Option<String> = sqlx::query("SELECT roles FROM people WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.required("roles"))
            .transpose()?;
        let roles_changed = before.is_some_and(|b| b != roles);
        let deprovisioned = w.deprovisioned.then(|| millis(now));
        let query = if w.new {
            sqlx::query(
                "INSERT INTO people (id, email, display_name, name_key, department, title, roles, status, \
                 scim_user_name, external_id, employee_number, manager_id, deprovisioned_at, created_at, updated_at, \
                 scim_no_primary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15)",
            )
        } else {
            sqlx::query(
                "UPDATE people SET email = $2, display_name = $3, name_key = $4, department = $5, title = $6, \
                 roles = $7, status = $8, scim_user_name = $9, external_id = $10, employee_number = $11, \
                 manager_id = $12, deprovisioned_at = $13, updated_at = $14, scim_no_primary = $15 WHERE id = $1",
            )
        };
        let done = query
            .bind(id.to_string())
            .bind(w.email.as_str())
            .bind(w.display_name.as_str())
            .bind(name_key(&w.display_name))
            .bind(&w.department)
            .bind(&w.title)
            .bind(roles)
            .bind(w.status.as_str())
            .bind(w.user_name.as_deref())
            .bind(w.external_id.as_deref())
            .bind(w.employee_number.as_deref())
            .bind(w.manager.map(|m| m.to_string()))
            .bind(deprovisioned)
            .bind(millis(now))
            .bind(i64::from(w.no_primary))
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, "this userName or email is already someone else's"))?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("this person is no longer in the directory".into()));
        }
        sqlx::query("DELETE FROM person_contacts WHERE person_id = $1 AND kind = 'email'")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        for e in w.other_emails.iter().filter(|e| **e != w.email) {
            sqlx::query(
                "INSERT INTO person_contacts (person_id, kind, value) VALUES ($1, 'email', $2) ON CONFLICT DO NOTHING",
            )
            .bind(id.to_string())
            .bind(e.as_str())
            .execute(&mut *tx)
            .await?;
        }
        if w.status == PersonStatus::Suspended || roles_changed {
            sqlx::query("DELETE FROM sessions WHERE person_id = $1").bind(id.to_string()).execute(&mut *tx).await?;
        }
        if w.status == PersonStatus::Suspended {
            sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE person_id = $1 AND revoked_at IS NULL")
                .bind(id.to_string())
                .bind(millis(now))
                .execute(&mut *tx)
                .await?;
        }
        directory_changed(&mut tx).await?;
        commit_audited(tx, &[audit], now).await
    }

    /// Sets each person's roles and department (a group's members changed), ending the sessions of
    /// those whose roles changed, with `audit`, in one transaction.
    pub async fn scim_regroup(
        &self,
        changes: &[(PersonId, Roles, String)],
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        for (id, roles, department) in changes {
            let roles = crate::codec::join(roles.iter().map(|r| r.as_str()));
            let before = sqlx::query("SELECT roles FROM people WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.required("roles"))
                .transpose()?;
            sqlx::query("UPDATE people SET roles = $2, department = $3, updated_at = $4 WHERE id = $1")
                .bind(id.to_string())
                .bind(&roles)
                .bind(department)
                .bind(millis(now))
                .execute(&mut *tx)
                .await?;
            if before.is_some_and(|b| b != roles) {
                sqlx::query("DELETE FROM sessions WHERE person_id = $1").bind(id.to_string()).execute(&mut *tx).await?;
            }
        }
        directory_changed(&mut tx).await?;
        commit_audited(tx, &[audit], now).await
    }
}
