//! The drills Bonafide ships: six quid pro quo scripts as they are actually run, each offering to fix a
//! real annoyance and ending with the ask that gives an attacker the account.

use super::Scenario;
use crate::Ask;

/// A built-in scenario: its id and the story.
#[derive(Debug, Clone, Copy)]
pub struct BuiltIn {
    /// Its id (`slow-logins`).
    pub id: &'static str,
    /// What it is, for the drill form.
    pub title: &'static str,
    sender_name: &'static str,
    claimed_staff_id: &'static str,
    caller_number: &'static str,
    subject: &'static str,
    body: &'static str,
    ask: Ask,
}

impl BuiltIn {
    /// The scenario as a drill uses it.
    pub fn scenario(&self) -> Scenario {
        Scenario {
            sender_name: self.sender_name.to_owned(),
            sender_address: None,
            claimed_staff_id: Some(self.claimed_staff_id.to_owned()),
            caller_number: Some(self.caller_number.to_owned()),
            subject: Some(self.subject.to_owned()),
            body: self.body.to_owned(),
            ask: self.ask,
        }
    }
}

/// The built-in scenario named `id`.
pub fn builtin(id: &str) -> Option<&'static BuiltIn> {
    BUILT_IN.iter().find(|b| b.id == id)
}

/// Every built-in scenario.
pub const BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        id: "slow-logins",
        title: "Slow logins: the help desk offers to speed up sign-in and asks to walk through it",
        sender_name: "IT Service Desk",
        claimed_staff_id: "IT-4471",
        caller_number: "+1 415 555 0142",
        subject: "Re: slow sign-in on your laptop",
        body: "Hi {first_name},\n\nWe've had several tickets this week about slow logins on your floor and your \
               machine is on the list. I can fix it in about five minutes from our side.\n\nPlease open the \
               diagnostic page below and sign in as you normally do so I can watch where it stalls:\n\n{link}\n\n\
               If it's easier I can walk you through it on the phone: {number}.\n\nThanks,\n{sender_name} \
               (staff id {staff_id})",
        ask: Ask::LoginWalkthrough,
    },
    BuiltIn {
        id: "mailbox-quota",
        title: "Mailbox quota: your mailbox is full and IT can raise the limit today",
        sender_name: "Exchange Administrator",
        claimed_staff_id: "IT-2208",
        caller_number: "+1 415 555 0177",
        subject: "Your mailbox is 98% full - incoming mail will stop",
        body: "Hello {first_name},\n\nYour mailbox has reached 98% of its quota. Once it is full, new messages \
               will be returned to their senders.\n\nI can raise your limit to 100 GB today at no cost. Confirm \
               your account on the page below and the change is applied within the hour:\n\n{link}\n\n\
               Regards,\n{sender_name}\nIT Messaging Team",
        ask: Ask::Password,
    },
    BuiltIn {
        id: "vpn-certificate",
        title: "VPN certificate: it expires tonight and IT will renew it for you",
        sender_name: "Network Operations",
        claimed_staff_id: "IT-3306",
        caller_number: "+1 415 555 0119",
        subject: "VPN certificate expires tonight",
        body: "Hi {first_name},\n\nThe VPN certificate on your device expires at midnight, after which you will \
               not be able to connect from home. We are renewing them for everyone this week.\n\nInstall the \
               renewed certificate from the link below; it takes under a minute:\n\n{link}\n\nIf the install \
               asks for your password, that is expected.\n\n{sender_name}, staff id {staff_id}",
        ask: Ask::SoftwareInstall,
    },
    BuiltIn {
        id: "mfa-reenrol",
        title: "MFA re-enrolment: IT is moving everyone to a new authenticator and needs your code",
        sender_name: "Identity & Access Team",
        claimed_staff_id: "IT-1950",
        caller_number: "+1 415 555 0163",
        subject: "Action required: re-enrol your authenticator by Friday",
        body: "Hi {first_name},\n\nWe are moving all accounts to the new sign-in system and yours has not been \
               migrated yet. To keep your access, re-enrol today:\n\n{link}\n\nYou will be asked for the \
               six-digit code your authenticator shows, so we can confirm the device before moving it. If you \
               prefer, call me on {number} and read it to me.\n\nThanks for helping,\n{sender_name}",
        ask: Ask::MfaCode,
    },
    BuiltIn {
        id: "laptop-recall",
        title: "Laptop recall: your model has a battery fault and IT will swap it after a remote check",
        sender_name: "IT Hardware Support",
        claimed_staff_id: "IT-5120",
        caller_number: "+1 415 555 0188",
        subject: "Safety recall for your laptop model",
        body: "Hello {first_name},\n\nThe manufacturer has recalled a batch of laptops for a battery fault and \
               your serial number is in it. We'll ship a replacement, but first a technician needs to connect \
               to your laptop for two minutes to back up your files.\n\nStart the support session here:\n\n\
               {link}\n\nOr call {number} and we'll connect while you wait.\n\n{sender_name} (staff id \
               {staff_id})",
        ask: Ask::RemoteAccess,
    },
    BuiltIn {
        id: "software-upgrade",
        title: "Software upgrade: a required update to the office suite, installed with IT's help",
        sender_name: "Desktop Engineering",
        claimed_staff_id: "IT-6034",
        caller_number: "+1 415 555 0131",
        subject: "Required update to your office software",
        body: "Hi {first_name},\n\nA required security update for the office suite is ready for your machine. \
               Because it needs administrator rights, we are installing it with each person in turn.\n\n\
               Download the update from the link below and sign in when asked so we can finish the install \
               remotely:\n\n{link}\n\nQuestions? Call the desk on {number}.\n\n{sender_name}",
        ask: Ask::SoftwareInstall,
    },
];
