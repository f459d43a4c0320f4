//! The contact policy: which channels IT may use, and which asks need the employee to see the caller.

use crate::{Ask, Channel};
use std::collections::BTreeSet;

/// Company rules checked at verification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPolicy {
    /// Channels IT may use to contact employees at all.
    pub allowed_channels: BTreeSet<Channel>,
    /// Asks that are only acceptable on video or in person.
    pub face_to_face_only: BTreeSet<Ask>,
}

impl Default for ContactPolicy {
    /// Every channel is allowed, but a login walkthrough or a software install only happens where the
    /// employee can see who they are dealing with: those are the two asks a QPQ script ends with once
    /// "never share your password" has been learnt.
    fn default() -> Self {
        Self {
            allowed_channels: Channel::ALL.into_iter().collect(),
            face_to_face_only: [Ask::LoginWalkthrough, Ask::SoftwareInstall].into_iter().collect(),
        }
    }
}

impl ContactPolicy {
    /// Whether the policy accepts a contact on `channel` asking for `asks`.
    pub fn allows(&self, channel: Channel, asks: &BTreeSet<Ask>) -> bool {
        self.allowed_channels.contains(&channel)
            && (channel.is_face_to_face() || asks.iter().all(|a| !self.face_to_face_only.contains(a)))
    }
}
