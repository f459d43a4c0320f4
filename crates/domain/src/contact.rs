//! How a contact happens ([`Channel`]) and what the caller asked for ([`Ask`]).

use std::str::FromStr;

crate::named_enum! {
    /// The way a person was contacted.
    pub enum Channel {
        /// A voice call.
        Phone = "phone",
        /// A video call, where the employee can see the caller.
        Video = "video",
        /// A chat message (Teams, Slack, ...).
        Chat = "chat",
        /// A text message.
        Sms = "sms",
        /// An email.
        Email = "email",
        /// Someone at the desk.
        InPerson = "in_person",
    }
}

impl Channel {
    /// Whether the employee can see the person they are dealing with.
    pub fn is_face_to_face(self) -> bool {
        matches!(self, Channel::Video | Channel::InPerson)
    }
}

impl FromStr for Channel {
    type Err = crate::InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::from_name(s).ok_or_else(|| crate::InvalidInput::new("channel", format!("unknown channel `{s}`")))
    }
}

crate::named_enum! {
    /// Something a caller asked the employee to do or hand over.
    pub enum Ask {
        /// The employee's password.
        Password = "password",
        /// A one-time code from an authenticator, SMS or push prompt.
        MfaCode = "mfa_code",
        /// Screen sharing or a remote-control session.
        RemoteAccess = "remote_access",
        /// Installing an "upgrade" or any software.
        SoftwareInstall = "software_install",
        /// Walking through the sign-in steps together.
        LoginWalkthrough = "login_walkthrough",
        /// Personal details (date of birth, address, badge number...).
        PersonalInfo = "personal_info",
        /// Money, gift cards or a payment.
        Payment = "payment",
    }
}

impl Ask {
    /// Asks that no one, genuine IT included, may ever make: a contact that asked for one of these is
    /// never verified.
    pub fn is_never_allowed(self) -> bool {
        matches!(self, Ask::Password | Ask::MfaCode | Ask::RemoteAccess)
    }
}

impl FromStr for Ask {
    type Err = crate::InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ask::from_name(s).ok_or_else(|| crate::InvalidInput::new("asked_for", format!("unknown request kind `{s}`")))
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
