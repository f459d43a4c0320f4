//! The directory: people, IT staff cards, API tokens.

use crate::codec::{Columns, flag, from_millis, join, millis, parse, parse_opt};
use crate::{
    AuditEvent, HotPath, Store, StoreError, commit_audited, conflict_on_unique, directory_changed, dynamic, lite,
};
use bonafide_domain::{
    DisplayName, Email, NewPerson, PersonId, PersonStatus, PhoneNumber, Principal, Role, Roles, StaffId, TokenId,
};
use sqlx::Row;
use std::collections::BTreeMap;
use time::OffsetDateTime;

impl From<Person> for Principal {
    fn from(p: Person) -> Self {
        Principal {
            id: p.id,
            email: p.email,
            display_name: p.display_name,
            roles: p.roles,
            department: p.department,
            staff_id: p.staff_id,
        }
    }
}

/// An API token as its owner sees it listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Row id (for revoking).
    pub id: TokenId,
    /// The owner's label.
    pub label: String,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A directory entry with everything the security team manages.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// Person id.
    pub id: PersonId,
    /// Primary email.
    pub email: Email,
    /// Name.
    pub display_name: DisplayName,
    /// Department.
    pub department: String,
    /// Roles.
    pub roles: Roles,
    /// Status.
    pub status: PersonStatus,
    /// Staff id, for IT staff.
    pub staff_id: Option<StaffId>,
}

/// What any employee may see of an IT staffer.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffCard {
    /// Person id (not shown to employees; used to join).
    pub person: PersonId,
    /// Staff id.
    pub staff_id: StaffId,
    /// Name.
    pub display_name: DisplayName,
    /// IT team.
    pub team: String,
    /// Photo address.
    pub photo_url: Option<String>,
    /// Active or suspended.
    pub status: PersonStatus,
    /// On duty now.
    pub on_duty: bool,
    /// Official numbers.
    pub official_numbers: Vec<PhoneNumber>,
    /// Official addresses.
    pub official_addresses: Vec<String>,
}

pub(crate) const PERSON_COLUMNS: &str = "id, email, display_name, department, roles, status, staff_id";

pub(crate) fn person_from(row: &dyn Columns) -> Result<Person, StoreError> {
    Ok(Person {
        id: parse("person id", &row.required("id")?)?,
        email: parse("email", &row.required("email")?)?,
        display_name: parse("name", &row.required("display_name")?)?,
        department: row.required("department")?,
        roles: Roles::parse_list(&row.required("roles")?).map_err(|e| StoreError::Corrupt(e.message))?,
        status: parse("status", &row.required("status")?)?,
        staff_id: parse_opt("staff id", row.text("staff_id")?)?,
    })
}

pub(crate) fn name_key(name: &DisplayName) -> String {
    name.as_str().split_whitespace().next().unwrap_or("").to_lowercase()
}

impl Store {
    /// Writes many people in one transaction: all or nothing. Existing people (by email) are updated.
    /// `audit(created, updated)` is recorded in the same transaction. Returns how many were created and
    /// how many updated.
    pub async fn import_people(
        &self,
        people: &[NewPerson],
        now: OffsetDateTime,
        mut progress: impl FnMut(usize),
        audit: impl FnOnce(usize, usize) -> AuditEvent,
    ) -> Result<(usize, usize), StoreError> {
        let mut tx = self.write.begin().await?;
        let (mut created, mut updated) = (0, 0);
        let mut ids = BTreeMap::new();
        for (i, p) in people.iter().enumerate() {
            let fresh = PersonId::new();
            let row = sqlx::query(
                "INSERT INTO people (id, email, display_name, name_key, department, title, location, remote, \
                 privileged, roles, status, photo_url, staff_id, team, on_duty, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) \
                 ON CONFLICT (email) DO UPDATE SET display_name = excluded.display_name, \
                 name_key = excluded.name_key, department = excluded.department, title = excluded.title, \
                 location = excluded.location, remote = excluded.remote, privileged = excluded.privileged, \
                 roles = excluded.roles, status = excluded.status, photo_url = excluded.photo_url, \
                 staff_id = excluded.staff_id, team = excluded.team, on_duty = excluded.on_duty, \
                 updated_at = excluded.updated_at \
                 RETURNING id",
            )
            .bind(fresh.to_string())
            .bind(p.email.as_str())
            .bind(p.display_name.as_str())
            .bind(name_key(&p.display_name))
            .bind(&p.department)
            .bind(&p.title)
            .bind(&p.location)
            .bind(i64::from(p.remote))
            .bind(i64::from(p.privileged))
            .bind(join(p.roles.iter()))
            .bind(p.status.as_str())
            .bind(p.photo_url.as_deref())
            .bind(p.staff_id.as_ref().map(StaffId::as_str))
            .bind(p.team.as_deref())
            .bind(i64::from(p.on_duty))
            .bind(millis(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, &format!("staff id of {} is already used by someone else", p.email)))?;
            let id: PersonId = parse("person id", &row.try_get::<String, _>("id")?)?;
            if id == fresh {
                created += 1
            } else {
                updated += 1
            }
            ids.insert(p.email.clone(), id);
            sqlx::query("DELETE FROM person_contacts WHERE person_id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            let contacts = p
                .phones
                .iter()
                .map(|n| ("phone", n.as_str()))
                .chain(p.other_emails.iter().map(|e| ("email", e.as_str())))
                .chain(p.official_phones.iter().map(|n| ("official_phone", n.as_str())))
                .chain(p.official_addresses.iter().map(|e| ("official_address", e.as_str())));
            for (kind, value) in contacts {
                sqlx::query(
                    "INSERT INTO person_contacts (person_id, kind, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(id.to_string())
                .bind(kind)
                .bind(value)
                .execute(&mut *tx)
                .await?;
            }
            progress(i + 1);
        }
        for p in people {
            // A row without a manager clears it, like every other field of the row.
            let Some(manager) = &p.manager_email else {
                sqlx::query("UPDATE people SET manager_id = NULL WHERE email = $1")
                    .bind(p.email.as_str())
                    .execute(&mut *tx)
                    .await?;
                continue;
            };
            let manager_id = match ids.get(manager) {
                Some(id) => id.to_string(),
                None => sqlx::query("SELECT id FROM people WHERE email = $1")
                    .bind(manager.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| r.try_get::<String, _>("id"))
                    .transpose()?
                    .ok_or_else(|| {
                        StoreError::Conflict(format!("manager {manager} of {} is not in the directory", p.email))
                    })?,
            };
            sqlx::query("UPDATE people SET manager_id = $1 WHERE email = $2")
                .bind(manager_id)
                .bind(p.email.as_str())
                .execute(&mut *tx)
                .await?;
        }
        directory_changed(&mut tx).await?;
        commit_audited(tx, &[&audit(created, updated)], now).await?;
        Ok((created, updated))
    }

    /// Everything the directory holds about `id`, in the form an import or an edit writes.
    pub async fn person_record(&self, id: PersonId) -> Result<Option<NewPerson>, StoreError> {
        let row = sqlx::query(
            "SELECT p.email, p.display_name, p.department, p.title, p.location, p.remote, p.privileged, \
               m.email AS manager_email, p.roles, p.status, p.photo_url, p.staff_id, p.team, p.on_duty \
             FROM people p LEFT JOIN people m ON m.id = p.manager_id WHERE p.id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut person = NewPerson {
            email: parse("email", &row.try_get::<String, _>("email")?)?,
            display_name: parse("display name", &row.try_get::<String, _>("display_name")?)?,
            department: row.try_get("department")?,
            title: row.try_get("title")?,
            location: row.try_get("location")?,
            remote: flag(row.try_get("remote")?),
            privileged: flag(row.try_get("privileged")?),
            manager_email: parse_opt("manager email", row.try_get("manager_email")?)?,
            roles: Roles::new(crate::codec::split::<Role>("roles", &row.try_get::<String, _>("roles")?)?),
            status: parse("status", &row.try_get::<String, _>("status")?)?,
            photo_url: row.try_get("photo_url")?,
            staff_id: parse_opt("staff id", row.try_get("staff_id")?)?,
            team: row.try_get("team")?,
            on_duty: flag(row.try_get("on_duty")?),
            phones: vec![],
            other_emails: vec![],
            official_phones: vec![],
            official_addresses: vec![],
        };
        let contacts = sqlx::query("SELECT kind, value FROM person_contacts WHERE person_id = $1 ORDER BY kind, value")
            .bind(id.to_string())
            .fetch_all(&self.read)
            .await?;
        for c in contacts {
            let (kind, value): (String, String) = (c.try_get("kind")?, c.try_get("value")?);
            match kind.as_str() {
                "phone" => person.phones.push(PhoneNumber::from_e164_unchecked(value.clone())),
                "official_phone" => person.official_phones.push(PhoneNumber::from_e164_unchecked(value.clone())),
                "email" => person.other_emails.push(parse("email", &value)?),
                "official_address" => person.official_addresses.push(parse("email", &value)?),
                _ => return Err(StoreError::Corrupt(format!("contact kind {kind}"))),
            }
        }
        Ok(Some(person))
    }

    /// The email domains of the directory's people (at most 20, most common first).
    pub async fn email_domains(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT email FROM people").fetch_all(&self.read).await?;
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for row in rows {
            let email: String = row.try_get("email")?;
            if let Some((_, domain)) = email.rsplit_once('@') {
                *counts.entry(domain.to_lowercase()).or_default() += 1;
            }
        }
        let mut domains: Vec<(String, usize)> = counts.into_iter().collect();
        domains.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(domains.into_iter().take(20).map(|(d, _)| d).collect())
    }

    /// How many people the directory holds.
    pub async fn count_people(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM people").fetch_one(&self.read).await?.try_get("n")?)
    }

    /// Every person, ordered by email.
    pub async fn list_people(&self) -> Result<Vec<Person>, StoreError> {
        let rows = sqlx::query(dynamic(format!("SELECT {PERSON_COLUMNS} FROM people ORDER BY email")))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| person_from(r)).collect()
    }

    /// The person with primary or further work email `email`.
    pub async fn person_by_email(&self, email: &Email) -> Result<Option<Person>, StoreError> {
        let row = sqlx::query(dynamic(format!(
            "SELECT {PERSON_COLUMNS} FROM people WHERE email = $1 \
             OR id IN (SELECT person_id FROM person_contacts WHERE value = $1 AND kind = 'email')"
        )))
        .bind(email.as_str())
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(|r| person_from(r)).transpose()
    }

    /// The active person holding the unrevoked API token with hash `hash`.
    pub async fn principal_by_token(&self, hash: &str) -> Result<Option<Principal>, StoreError> {
        const SQL: &str = "SELECT p.id, p.email, p.display_name, p.roles, p.department, p.staff_id, p.status \
             FROM api_tokens t JOIN people p ON p.id = t.person_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL";
        let p = match &self.hot {
            HotPath::Sqlite(lite) => {
                let hash = hash.to_owned();
                lite.read_memo(format!("principal:{hash}"), move |conn| {
                    let mut found = None;
                    lite::query(conn, SQL, &[&hash], |row| {
                        found = Some(person_from(row)?);
                        Ok(())
                    })?;
                    Ok(found)
                })
                .await?
            }
            HotPath::Postgres(_) => sqlx::query(SQL)
                .bind(hash)
                .fetch_optional(&self.read)
                .await?
                .map(|row| person_from(&row))
                .transpose()?,
        };
        let Some(p) = p else { return Ok(None) };
        if p.status != PersonStatus::Active {
            return Ok(None);
        }
        Ok(Some(Principal::from(p)))
    }

    /// Stores a new API token hash for `person`, recording `audit` with it.
    pub async fn create_token(
        &self,
        person: PersonId,
        token_hash: &str,
        label: &str,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, person_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(person.to_string())
        .bind(token_hash)
        .bind(label)
        .bind(millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "token already exists"))?;
        commit_audited(tx, &[audit], now).await
    }

    /// Revokes every token of `person`, recording `audit` when there was any; returns how many.
    pub async fn revoke_tokens(
        &self,
        person: PersonId,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<u64, StoreError> {
        let query = sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE person_id = $1 AND revoked_at IS NULL")
            .bind(person.to_string())
            .bind(millis(now));
        self.execute_audited(query, audit, now).await
    }

    /// Sets `person`'s status (`active` or `suspended`), recording `audit` with it; false when there is
    /// no such person.
    pub async fn set_person_status(
        &self,
        person: PersonId,
        status: PersonStatus,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let query = sqlx::query("UPDATE people SET status = $2, updated_at = $3 WHERE id = $1")
            .bind(person.to_string())
            .bind(status.as_str())
            .bind(millis(now));
        Ok(self.execute_audited_directory(query, audit, now).await? == 1)
    }

    /// Replaces `person`'s roles and ends their portal sessions, recording `audit` with it, all in one
    /// transaction; false when there is no such person. A session was signed in with what the old roles
    /// demanded (a password alone, for an employee): new roles sign in afresh, with what they demand.
    pub async fn set_person_roles(
        &self,
        person: PersonId,
        roles: &Roles,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query("UPDATE people SET roles = $2, updated_at = $3 WHERE id = $1")
            .bind(person.to_string())
            .bind(join(roles.iter().map(|r| r.as_str())))
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM sessions WHERE person_id = $1").bind(person.to_string()).execute(&mut *tx).await?;
        directory_changed(&mut tx).await?;
        commit_audited(tx, &[audit], now).await?;
        Ok(true)
    }

    /// `person`'s API tokens, newest first (labels and dates; the tokens themselves are not stored).
    pub async fn tokens_of(&self, person: PersonId) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, label, created_at, revoked_at FROM api_tokens WHERE person_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT 200",
        )
        .bind(person.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: parse("token id", &r.try_get::<String, _>("id")?)?,
                    label: r.try_get("label")?,
                    created_at: from_millis(r.try_get("created_at")?)?,
                    revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_millis).transpose()?,
                })
            })
            .collect()
    }

    /// Revokes `person`'s token `id`, recording `audit` with it; false when it is not theirs or already
    /// revoked.
    pub async fn revoke_token(
        &self,
        person: PersonId,
        id: TokenId,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let query = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 WHERE id = $2 AND person_id = $1 AND revoked_at IS NULL",
        )
        .bind(person.to_string())
        .bind(id.to_string())
        .bind(millis(now));
        Ok(self.execute_audited(query, audit, now).await? == 1)
    }

    /// The staff card for `staff_id`.
    pub async fn staff_card(&self, staff_id: &StaffId) -> Result<Option<StaffCard>, StoreError> {
        let cards = self.staff_where("p.staff_id = $1", &[staff_id.as_str()], 1).await?;
        Ok(cards.into_iter().next())
    }

    /// The staff card of the person `person`, if they have a staff id.
    pub async fn staff_card_of(&self, person: PersonId) -> Result<Option<StaffCard>, StoreError> {
        let id = person.to_string();
        let cards = self.staff_where("p.id = $1", &[id.as_str()], 1).await?;
        Ok(cards.into_iter().next())
    }

    /// Staff whose name, staff id or team contains `query` (case-insensitive), by name, at most `limit`.
    pub async fn search_staff(&self, query: &str, limit: i64) -> Result<Vec<StaffCard>, StoreError> {
        let pattern = format!("%{}%", query.trim().to_lowercase().replace(['%', '_', '\\'], ""));
        self.staff_where(
            "(LOWER(p.display_name) LIKE $1 OR LOWER(p.staff_id) LIKE $1 OR LOWER(COALESCE(p.team, '')) LIKE $1)",
            &[&pattern],
            limit,
        )
        .await
    }

    /// Staff cards matching `condition`, with their official contacts, in one statement.
    async fn staff_where(&self, condition: &str, args: &[&str], limit: i64) -> Result<Vec<StaffCard>, StoreError> {
        let sql = format!(
            "SELECT p.id, p.staff_id, p.display_name, p.team, p.photo_url, p.status, p.on_duty, p.roles, \
               c.kind, c.value \
             FROM (SELECT * FROM people p WHERE p.staff_id IS NOT NULL AND {condition} \
                   ORDER BY p.display_name, p.id LIMIT {limit}) p \
             LEFT JOIN person_contacts c ON c.person_id = p.id AND c.kind IN ('official_phone', 'official_address') \
             ORDER BY p.display_name, p.id, c.kind, c.value"
        );
        let mut q = sqlx::query(dynamic(sql));
        for a in args {
            q = q.bind(*a);
        }
        let rows = q.fetch_all(&self.read).await?;
        let mut cards: Vec<StaffCard> = Vec::with_capacity(rows.len());
        for row in &rows {
            let roles =
                Roles::parse_list(&row.try_get::<String, _>("roles")?).map_err(|e| StoreError::Corrupt(e.message))?;
            if !roles.has(Role::ItStaff) {
                continue;
            }
            let person: PersonId = parse("person id", &row.try_get::<String, _>("id")?)?;
            if cards.last().is_none_or(|c| c.person != person) {
                cards.push(StaffCard {
                    person,
                    staff_id: parse("staff id", &row.try_get::<String, _>("staff_id")?)?,
                    display_name: parse("name", &row.try_get::<String, _>("display_name")?)?,
                    team: row.try_get::<Option<String>, _>("team")?.unwrap_or_default(),
                    photo_url: row.try_get("photo_url")?,
                    status: parse("status", &row.try_get::<String, _>("status")?)?,
                    on_duty: flag(row.try_get("on_duty")?),
                    official_numbers: vec![],
                    official_addresses: vec![],
                });
            }
            let kind: Option<String> = row.try_get("kind")?;
            let value: Option<String> = row.try_get("value")?;
            if let (Some(kind), Some(value), Some(card)) = (kind, value, cards.last_mut()) {
                if kind == "official_phone" {
                    card.official_numbers.push(PhoneNumber::from_e164_unchecked(value));
                } else {
                    card.official_addresses.push(value);
                }
            }
        }
        Ok(cards)
    }
}
