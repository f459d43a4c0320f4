//! How a contact happens ([`Channel`]) and what the caller asked for ([`Ask`]).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The way a person was contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A voice call.
    Phone,
    /// A video call, where the employee can see the caller.
    Video,
    /// A chat message (Teams, Slack, ...).
    Chat,
    /// A text message.
    Sms,
    /// An email.
    Email,
    /// Someone at the desk.
    InPerson,
}

impl Channel {
    /// Every channel, in a stable order.
    pub const ALL: [Channel; 6] =
        [Channel::Phone, Channel::Video, Channel::Chat, Channel::Sms, Channel::Email, Channel::InPerson];

    /// The wire name, e.g. `in_person`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Video => "video",
            Channel::Chat => "chat",
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::InPerson => "in_person",
        }
    }

    /// Whether the employee can see the person they are dealing with.
    pub fn is_face_to_face(self) -> bool {
        matches!(self, Channel::Video | Channel::InPerson)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = crate::InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| crate::InvalidInput::new("channel", format!("unknown channel `{s}`")))
    }
}

/// Something a caller asked the employee to do or hand over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ask {
    /// The employee's password.
    Password,
    /// A one-time code from an authenticator, SMS or push prompt.
    MfaCode,
    /// Screen sharing or a remote-control session.
    RemoteAccess,
    /// Installing an "upgrade" or any software.
    SoftwareInstall,
    /// Walking through the sign-in steps together.
    LoginWalkthrough,
    /// Personal details (date of birth, address, badge number...).
    PersonalInfo,
    /// Money, gift cards or a payment.
    Payment,
}

impl Ask {
    /// Every kind of ask, in a stable order.
    pub const ALL: [Ask; 7] = [
        Ask::Password,
        Ask::MfaCode,
        Ask::RemoteAccess,
        Ask::SoftwareInstall,
        Ask::LoginWalkthrough,
        Ask::PersonalInfo,
        Ask::Payment,
    ];

    /// The wire name, e.g. `mfa_code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Ask::Password => "password",
            Ask::MfaCode => "mfa_code",
            Ask::RemoteAccess => "remote_access",
            Ask::SoftwareInstall => "software_install",
            Ask::LoginWalkthrough => "login_walkthrough",
            Ask::PersonalInfo => "personal_info",
            Ask::Payment => "payment",
        }
    }

    /// Asks that no one, genuine IT included, may ever make: a contact that asked for one of these is
    /// never verified.
    pub fn is_never_allowed(self) -> bool {
        matches!(self, Ask::Password | Ask::MfaCode | Ask::RemoteAccess)
    }
}

impl fmt::Display for Ask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Ask {
    type Err = crate::InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ask::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| crate::InvalidInput::new("asked_for", format!("unknown request kind `{s}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
        }
        assert!("fax".parse::<Channel>().is_err());
    }

    #[test]
    fn only_password_mfa_and_remote_access_are_never_allowed() {
        let never: Vec<Ask> = Ask::ALL.into_iter().filter(|a| a.is_never_allowed()).collect();
        assert_eq!(never, vec![Ask::Password, Ask::MfaCode, Ask::RemoteAccess]);
    }
}
