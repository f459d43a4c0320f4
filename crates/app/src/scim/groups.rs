//! SCIM groups are the `scim_groups` setting: each mapped group names a department, Bonafide roles, or
//! both (`"IT Helpdesk=department:IT,role:it_staff"`). A group's members are the people who hold all of
//! it; adding a member gives them its roles and department, removing one takes its roles away (and its
//! department, when it is theirs). Groups are configuration, so a provider cannot create a group the
//! setting does not name, nor delete one.

use super::{ScimError, authorize, fnv1a, matches};
use crate::decisions::Service;
use crate::{App, AppError};
use bonafide_domain::{DisplayName, PersonId, Role, Roles};
use bonafide_store::{AuditEvent, Outcome, ScimRecord};
use std::collections::BTreeSet;

/// What membership of one SCIM group means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMapping {
    /// The group's `displayName`, as the provider names it.
    pub name: String,
    /// The department its members are in.
    pub department: Option<String>,
    /// The roles its members hold.
    pub roles: Vec<Role>,
}

impl GroupMapping {
    /// Reads one entry of `scim_groups`: `<group name>=<target>[,<target>]`, each target
    /// `department:<name>` or `role:<role>`.
    pub fn parse(entry: &str) -> Result<Self, String> {
        let (name, targets) = entry.rsplit_once('=').ok_or_else(|| format!("`{entry}` is not `<group>=<targets>`"))?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
            return Err(format!("`{entry}`: a group's name is 1 to 120 printable characters"));
        }
        let mut mapping = GroupMapping { name: name.to_owned(), department: None, roles: vec![] };
        for target in targets.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            match target.split_once(':') {
                Some(("department", d)) if !d.trim().is_empty() && mapping.department.is_none() => {
                    mapping.department = Some(d.trim().to_owned());
                }
                Some(("role", r)) => {
                    let role: Role =
                        r.parse().map_err(|e: bonafide_domain::InvalidInput| format!("`{entry}`: {}", e.message))?;
                    if role == Role::Employee {
                        return Err(format!("`{entry}`: everyone is an employee; map a group to another role"));
                    }
                    mapping.roles.push(role);
                }
                _ => {
                    return Err(format!(
                        "`{entry}`: `{target}` is not `department:<name>` or `role:<role>` (one department)"
                    ));
                }
            }
        }
        if mapping.department.is_none() && mapping.roles.is_empty() {
            return Err(format!("`{entry}` maps the group to nothing"));
        }
        Ok(mapping)
    }

    /// The group's SCIM id, stable as long as its name is.
    pub fn id(&self) -> String {
        format!("{:016x}", fnv1a(self.name.to_lowercase().as_bytes()))
    }

    fn holds(&self, p: &ScimRecord) -> bool {
        self.roles.iter().all(|r| p.roles.has(*r)) && self.department.as_ref().is_none_or(|d| *d == p.department)
    }
}

/// A group and its members.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Its mapping.
    pub mapping: GroupMapping,
    /// Its members, by id, with their names.
    pub members: Vec<(PersonId, DisplayName)>,
}

impl Group {
    /// Its version (weak ETag): changes when its name or members do.
    pub fn version(&self) -> String {
        let ids: Vec<String> = self.members.iter().map(|(id, _)| id.to_string()).collect();
        format!("W/\"{:016x}\"", fnv1a(format!("{}|{}", self.mapping.name, ids.join(",")).as_bytes()))
    }
}

fn group_of(mapping: &GroupMapping, people: &[ScimRecord]) -> Group {
    let members = people.iter().filter(|p| mapping.holds(p)).map(|p| (p.id, p.display_name.clone())).collect();
    Group { mapping: mapping.clone(), members }
}

fn mapping(app: &App, id: &str) -> Result<GroupMapping, AppError> {
    app.settings().scim_groups.iter().find(|m| m.id() == id).cloned().ok_or(AppError::NotFound)
}

/// Every mapped group whose name matches `filter` (`displayName` comparisons), a page at a time.
pub async fn list(
    app: &App,
    service: &Service,
    filter: Option<&str>,
    start_index: usize,
    count: Option<usize>,
) -> Result<(usize, Vec<Group>), ScimError> {
    authorize(app, service, "scim.groups.list").await?;
    let filter = filter.map(super::filter::parse).transpose().map_err(ScimError::InvalidFilter)?;
    let people = app.store().scim_people().await?;
    let groups: Vec<Group> = app
        .settings()
        .scim_groups
        .iter()
        .filter(|m| filter.as_ref().is_none_or(|f| f.matches_group(&m.id(), &m.name)))
        .map(|m| group_of(m, &people))
        .collect();
    let total = groups.len();
    let count = count.unwrap_or(super::DEFAULT_COUNT).min(super::MAX_COUNT);
    Ok((total, groups.into_iter().skip(start_index.max(1) - 1).take(count).collect()))
}

/// Group `id`.
pub async fn get(app: &App, service: &Service, id: &str) -> Result<Group, ScimError> {
    authorize(app, service, "scim.groups.get").await?;
    let m = mapping(app, id)?;
    Ok(group_of(&m, &app.store().scim_people().await?))
}

/// "Creates" the mapped group named `name`: it exists already, as configuration; its members become
/// `members`. A name the setting does not map is refused.
pub async fn create(app: &App, service: &Service, name: &str, members: &[String]) -> Result<Group, ScimError> {
    authorize(app, service, "scim.groups.create").await?;
    let found = app.settings().scim_groups.iter().find(|m| m.name.eq_ignore_ascii_case(name.trim())).cloned();
    let Some(m) = found else {
        return Err(ScimError::InvalidValue(format!(
            "no group named `{}` is mapped: add it to the scim_groups setting",
            name.trim()
        )));
    };
    set_members(app, service, &m.id(), members, None).await
}

/// Makes `members` (person ids) group `id`'s members, when `if_match` (if given) names its version.
pub async fn set_members(
    app: &App,
    service: &Service,
    id: &str,
    members: &[String],
    if_match: Option<&str>,
) -> Result<Group, ScimError> {
    authorize(app, service, "scim.groups.replace").await?;
    let m = mapping(app, id)?;
    let people = app.store().scim_people().await?;
    let before = group_of(&m, &people);
    if if_match.is_some_and(|t| !matches(t, &before.version())) {
        return Err(ScimError::Precondition);
    }
    let mut wanted = BTreeSet::new();
    for v in members {
        let person = v.parse::<PersonId>().ok().filter(|id| people.iter().any(|p| p.id == *id));
        wanted.insert(person.ok_or_else(|| ScimError::InvalidValue(format!("no user has id `{v}`")))?);
    }
    let mut changes = Vec::new();
    for p in &people {
        let (was, is) = (m.holds(p), wanted.contains(&p.id));
        if was == is {
            continue;
        }
        let (roles, department) = if is {
            let roles = Roles::new(p.roles.iter().chain(m.roles.iter().copied()));
            (roles, m.department.clone().unwrap_or_else(|| p.department.clone()))
        } else {
            let roles = Roles::new(p.roles.iter().filter(|r| !m.roles.contains(r)));
            let department =
                if m.department.as_ref() == Some(&p.department) { String::new() } else { p.department.clone() };
            (roles, department)
        };
        changes.push((p.id, roles, department));
    }
    if !changes.is_empty() {
        let added: Vec<String> = changes.iter().filter(|c| wanted.contains(&c.0)).map(|c| c.0.to_string()).collect();
        let removed: Vec<String> = changes.iter().filter(|c| !wanted.contains(&c.0)).map(|c| c.0.to_string()).collect();
        let audit = AuditEvent::new(&service.actor(), "scim.group_members_changed", m.name.clone(), Outcome::Ok)
            .with(serde_json::json!({ "added": added, "removed": removed, "via": "scim" }));
        app.store().scim_regroup(&changes, app.now(), &audit).await?;
    }
    Ok(group_of(&m, &app.store().scim_people().await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_names_a_department_roles_or_both() {
        let m = GroupMapping::parse("IT Helpdesk = department:IT, role:it_staff, role:auditor").unwrap();
        assert_eq!(m.name, "IT Helpdesk");
        assert_eq!((m.department.as_deref(), m.roles.clone()), (Some("IT"), vec![Role::ItStaff, Role::Auditor]));
        assert_eq!(m.id(), GroupMapping::parse("it helpdesk=role:auditor").unwrap().id(), "ids ignore case");
        for bad in [
            "x",
            "=role:auditor",
            "a=",
            "a=role:root",
            "a=role:employee",
            "a=department:",
            "a=department:X,department:Y",
        ] {
            assert!(GroupMapping::parse(bad).is_err(), "{bad}");
        }
    }
}
