//! Policies indexed by their scope. Cedar evaluates every policy of a set for every request; a policy
//! whose scope (`principal in Department::"Finance"`, `action == Action::"export"`, `resource ==
//! Resource::"payroll-db"`) cannot match the request cannot apply to it, and leaving it out changes
//! neither the decision, nor the deciding policies, nor the errors. Each request is decided on the
//! slice of policies whose scope admits its principal (with their groups), action and resource; a
//! slice is built once and kept.

use cedar_policy::{
    ActionConstraint, EntityTypeName, EntityUid, Policy, PolicySet, PrincipalConstraint, ResourceConstraint,
};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Most slices kept before the index starts afresh (each is a handful of shared policies).
const MAX_SLICES: usize = 4096;

/// What a principal or resource scope admits.
#[derive(Debug, Clone)]
enum Scope {
    Any,
    Eq(EntityUid),
    In(EntityUid),
    Is(EntityTypeName),
    IsIn(EntityTypeName, EntityUid),
}

impl Scope {
    fn admits(&self, uid: &EntityUid, ancestors: &[EntityUid]) -> bool {
        let within = |group: &EntityUid| group == uid || ancestors.contains(group);
        match self {
            Scope::Any => true,
            Scope::Eq(u) => u == uid,
            Scope::In(group) => within(group),
            Scope::Is(t) => uid.type_name() == t,
            Scope::IsIn(t, group) => uid.type_name() == t && within(group),
        }
    }
}

impl From<PrincipalConstraint> for Scope {
    fn from(c: PrincipalConstraint) -> Self {
        match c {
            PrincipalConstraint::Any => Scope::Any,
            PrincipalConstraint::Eq(u) => Scope::Eq(u),
            PrincipalConstraint::In(u) => Scope::In(u),
            PrincipalConstraint::Is(t) => Scope::Is(t),
            PrincipalConstraint::IsIn(t, u) => Scope::IsIn(t, u),
        }
    }
}

impl From<ResourceConstraint> for Scope {
    fn from(c: ResourceConstraint) -> Self {
        match c {
            ResourceConstraint::Any => Scope::Any,
            ResourceConstraint::Eq(u) => Scope::Eq(u),
            ResourceConstraint::In(u) => Scope::In(u),
            ResourceConstraint::Is(t) => Scope::Is(t),
            ResourceConstraint::IsIn(t, u) => Scope::IsIn(t, u),
        }
    }
}

#[derive(Debug)]
struct Indexed {
    policy: Policy,
    principal: Scope,
    /// The actions it names; none for any action.
    actions: Option<Vec<EntityUid>>,
    resource: Scope,
}

/// The policies of a set with their scopes, and the slices built so far.
#[derive(Debug, Default)]
pub(crate) struct PolicyIndex {
    policies: Vec<Indexed>,
    /// By the bit set of the policies they hold.
    slices: RwLock<HashMap<Vec<u64>, Arc<PolicySet>>>,
}

impl PolicyIndex {
    /// Indexes every policy of `set`.
    pub(crate) fn new(set: &PolicySet) -> Self {
        let policies = set
            .policies()
            .map(|p| Indexed {
                policy: p.clone(),
                principal: p.principal_constraint().into(),
                actions: match p.action_constraint() {
                    ActionConstraint::Any => None,
                    ActionConstraint::Eq(a) => Some(vec![a]),
                    ActionConstraint::In(list) => Some(list),
                },
                resource: p.resource_constraint().into(),
            })
            .collect();
        Self { policies, slices: RwLock::default() }
    }

    /// The policies whose scope admits `principal` (a member of `groups`) doing `action` on `resource`
    /// (our actions and resources have no groups).
    pub(crate) fn slice(
        &self,
        principal: &EntityUid,
        groups: &[EntityUid],
        action: &EntityUid,
        resource: &EntityUid,
    ) -> Result<Arc<PolicySet>, String> {
        let mut bits = vec![0u64; self.policies.len().div_ceil(64)];
        for (i, p) in self.policies.iter().enumerate() {
            let admits = p.principal.admits(principal, groups)
                && p.actions.as_ref().is_none_or(|list| list.contains(action))
                && p.resource.admits(resource, &[]);
            if admits && let Some(word) = bits.get_mut(i / 64) {
                *word |= 1 << (i % 64);
            }
        }
        if let Some(kept) = self.slices.read().ok().and_then(|s| s.get(&bits).cloned()) {
            return Ok(kept);
        }
        let mut set = PolicySet::new();
        for (i, p) in self.policies.iter().enumerate() {
            if bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0) {
                set.add(p.policy.clone()).map_err(|e| e.to_string())?;
            }
        }
        let set = Arc::new(set);
        if let Ok(mut slices) = self.slices.write() {
            if slices.len() >= MAX_SLICES {
                slices.clear();
            }
            slices.insert(bits, set.clone());
        }
        Ok(set)
    }
}
