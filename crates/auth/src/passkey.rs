//! Passkeys (WebAuthn) through `webauthn-rs`: registration, authentication as a second factor, and
//! passwordless sign-in with a discoverable credential.
//!
//! Everything that crosses this module's boundary is text: the options for the browser and the ceremony
//! state as JSON, the browser's answer as the JSON the page posts, a stored passkey as JSON. The store
//! keeps ceremony state between the two halves of a ceremony and uses it once.
//!
//! Every ceremony requires user verification (a PIN, a fingerprint, the device's screen lock), so a
//! passkey alone is two factors: something you have and something you know or are.

use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

/// A passkey ceremony failed: a configuration problem, or an answer that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyError {
    /// The public URL cannot be a WebAuthn relying party.
    #[error("{0}")]
    Config(String),
    /// The browser's answer is not well-formed JSON of the expected shape.
    #[error("the passkey answer is malformed")]
    Malformed,
    /// The answer does not verify (wrong origin, wrong challenge, bad signature, no user verification,
    /// an unknown credential, a cloned authenticator).
    #[error("the passkey could not be verified: {0}")]
    Rejected(String),
}

/// The relying party: this Bonafide deployment, as browsers see it at its public URL.
pub struct RelyingParty {
    webauthn: Webauthn,
    origin: String,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty").field("origin", &self.origin).finish_non_exhaustive()
    }
}

/// A passkey just registered.
#[derive(Debug, Clone)]
pub struct NewPasskey {
    /// The credential id, base64url: what the browser names it by.
    pub id: String,
    /// The stored form (public key, algorithm, counter).
    pub stored: String,
    /// Whether the browser says the authenticator keeps it as a discoverable credential, so it can sign in
    /// without a password. Unsigned, so only a hint for the person.
    pub discoverable: Option<bool>,
}

/// A ceremony's first half: what the page hands to `navigator.credentials`, and what to keep until the
/// answer comes back.
#[derive(Debug, Clone)]
pub struct Ceremony {
    /// JSON options for the browser.
    pub options: String,
    /// JSON state to keep server-side and use once.
    pub state: String,
}

/// A verified passkey assertion.
#[derive(Debug, Clone)]
pub struct Asserted {
    /// The credential id used, base64url.
    pub id: String,
    /// The stored form to save back when it changed (the signature counter moved), else `None`.
    pub updated: Option<String>,
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, PasskeyError> {
    serde_json::to_string(value).map_err(|e| PasskeyError::Config(e.to_string()))
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, PasskeyError> {
    serde_json::from_str(text).map_err(|_| PasskeyError::Malformed)
}

fn rejected(e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Rejected(e.to_string())
}

/// A fresh id for a ceremony's stored state (256 random bits).
pub fn ceremony_id() -> String {
    crate::token::random_hex()
}

/// Base64url without padding, the form credential ids travel in.
pub fn credential_id_text(id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

impl RelyingParty {
    /// The relying party for `public_url` (`https://bonafide.example.com`, or `http://localhost:8080` for a
    /// local demo). Its host is the relying-party id; browsers refuse IP addresses there.
    pub fn new(public_url: &str, name: &str) -> Result<Self, PasskeyError> {
        let url = Url::parse(public_url).map_err(|e| PasskeyError::Config(format!("public_url {public_url}: {e}")))?;
        let Some(host) = url.domain() else {
            return Err(PasskeyError::Config(format!(
                "public_url {public_url}: passkeys need a host name, not an IP address (use localhost for a local demo)"
            )));
        };
        if url.scheme() != "https" && host != "localhost" {
            return Err(PasskeyError::Config(format!(
                "public_url {public_url}: passkeys need https (plain http works only for localhost)"
            )));
        }
        let host = host.to_owned();
        let webauthn = WebauthnBuilder::new(&host, &url)
            .and_then(|b| b.rp_name(name).build())
            .map_err(|e| PasskeyError::Config(format!("public_url {public_url}: {e}")))?;
        Ok(Self { webauthn, origin: url.origin().ascii_serialization() })
    }

    /// The origin pages must be served from for passkeys to work (`https://host[:port]`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Starts registering a passkey for `person`. `existing` are the stored passkeys, so the same
    /// authenticator is not registered twice.
    pub fn start_registration(
        &self,
        person: Uuid,
        email: &str,
        display_name: &str,
        existing: &[String],
    ) -> Result<Ceremony, PasskeyError> {
        let exclude =
            existing.iter().map(|s| parse::<Passkey>(s).map(|p| p.cred_id().clone())).collect::<Result<Vec<_>, _>>()?;
        let (mut options, state): (CreationChallengeResponse, PasskeyRegistration) =
            self.webauthn.start_passkey_registration(person, email, display_name, Some(exclude)).map_err(rejected)?;
        // Ask for a discoverable credential where the authenticator can keep one, so the passkey can also
        // sign in without a password. "Preferred", not "required": security keys with little storage
        // still register.
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Preferred);
        }
        Ok(Ceremony { options: json(&options)?, state: json(&state)? })
    }

    /// Verifies the browser's answer to a registration.
    pub fn finish_registration(&self, state: &str, answer: &str) -> Result<NewPasskey, PasskeyError> {
        let state: PasskeyRegistration = parse(state)?;
        let answer: RegisterPublicKeyCredential = parse(answer)?;
        let discoverable = answer.extensions.cred_props.as_ref().and_then(|p| p.rk);
        let passkey = self.webauthn.finish_passkey_registration(&answer, &state).map_err(rejected)?;
        Ok(NewPasskey { id: credential_id_text(passkey.cred_id()), stored: json(&passkey)?, discoverable })
    }

    /// Starts an authentication with one of `stored` (the person's passkeys, as the second factor).
    pub fn start_authentication(&self, stored: &[String]) -> Result<Ceremony, PasskeyError> {
        let passkeys = stored.iter().map(|s| parse::<Passkey>(s)).collect::<Result<Vec<_>, _>>()?;
        let (options, state) = self.webauthn.start_passkey_authentication(&passkeys).map_err(rejected)?;
        Ok(Ceremony { options: json(&options)?, state: json(&state)? })
    }

    /// Verifies a second-factor answer against the person's passkeys.
    pub fn finish_authentication(
        &self,
        state: &str,
        answer: &str,
        stored: &[String],
    ) -> Result<Asserted, PasskeyError> {
        let state: PasskeyAuthentication = parse(state)?;
        let answer: PublicKeyCredential = parse(answer)?;
        let result = self.webauthn.finish_passkey_authentication(&answer, &state).map_err(rejected)?;
        let id = credential_id_text(result.cred_id());
        for text in stored {
            let mut passkey: Passkey = parse(text)?;
            if passkey.cred_id() == result.cred_id() {
                let updated = match passkey.update_credential(&result) {
                    Some(true) => Some(json(&passkey)?),
                    _ => None,
                };
                return Ok(Asserted { id, updated });
            }
        }
        Err(PasskeyError::Rejected("unknown credential".into()))
    }

    /// Starts a passwordless sign-in: the browser offers whichever passkey it holds for this site.
    pub fn start_discoverable(&self) -> Result<Ceremony, PasskeyError> {
        let (mut options, state) = self.webauthn.start_discoverable_authentication().map_err(rejected)?;
        // webauthn-rs marks this for conditional (autofill) mediation; the page asks on a button press.
        options.mediation = None;
        Ok(Ceremony { options: json(&options)?, state: json(&state)? })
    }

    /// Who a passwordless answer claims to be: the person (the user handle given at registration) and the
    /// credential id. Nothing is verified yet; look the passkey up and call [`Self::finish_discoverable`].
    pub fn identify(&self, answer: &str) -> Result<(Uuid, String), PasskeyError> {
        let answer: PublicKeyCredential = parse(answer)?;
        let (person, id) = self.webauthn.identify_discoverable_authentication(&answer).map_err(rejected)?;
        Ok((person, credential_id_text(id)))
    }

    /// Verifies a passwordless answer against the passkey it named.
    pub fn finish_discoverable(&self, state: &str, answer: &str, stored: &str) -> Result<Asserted, PasskeyError> {
        let state: DiscoverableAuthentication = parse(state)?;
        let answer: PublicKeyCredential = parse(answer)?;
        let mut passkey: Passkey = parse(stored)?;
        let key = DiscoverableKey::from(&passkey);
        #[allow(deprecated)] // the v2 call needs the credential-internals feature for the same thing
        let result = self
            .webauthn
            .finish_discoverable_authentication(&answer, state, std::slice::from_ref(&key))
            .map_err(rejected)?;
        let updated = match passkey.update_credential(&result) {
            Some(true) => Some(json(&passkey)?),
            _ => None,
        };
        Ok(Asserted { id: credential_id_text(result.cred_id()), updated })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_needs_a_host_name_and_https_except_on_localhost() {
        assert!(RelyingParty::new("http://localhost:8080", "Bonafide").is_ok());
        assert!(RelyingParty::new("https://bonafide.example.com", "Bonafide").is_ok());
        let ip = RelyingParty::new("http://127.0.0.1:8080", "Bonafide").unwrap_err();
        assert!(ip.to_string().contains("IP address"), "{ip}");
        let plain = RelyingParty::new("http://bonafide.example.com", "Bonafide").unwrap_err();
        assert!(plain.to_string().contains("https"), "{plain}");
        assert!(RelyingParty::new("not a url", "Bonafide").is_err());
    }

    #[test]
    fn registration_options_ask_for_user_verification_and_a_discoverable_key() {
        let rp = RelyingParty::new("http://localhost:8080", "Bonafide").unwrap();
        assert_eq!(rp.origin(), "http://localhost:8080");
        let c = rp.start_registration(Uuid::new_v4(), "ana@example.com", "Ana", &[]).unwrap();
        let options: serde_json::Value = serde_json::from_str(&c.options).unwrap();
        let selection = &options["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["userVerification"], "required");
        assert_eq!(selection["residentKey"], "preferred");
        assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    }

    #[test]
    fn malformed_answers_are_refused_not_panicked_on() {
        let rp = RelyingParty::new("http://localhost:8080", "Bonafide").unwrap();
        let c = rp.start_registration(Uuid::new_v4(), "ana@example.com", "Ana", &[]).unwrap();
        for answer in ["", "{}", "null", "[1,2]", "{\"id\":\"x\",\"rawId\":\"!!\",\"type\":\"public-key\"}"] {
            assert_eq!(rp.finish_registration(&c.state, answer).unwrap_err(), PasskeyError::Malformed, "{answer}");
        }
        let d = rp.start_discoverable().unwrap();
        assert!(rp.identify("{}").is_err());
        assert!(rp.finish_discoverable(&d.state, "{}", "{}").is_err());
        let options: serde_json::Value = serde_json::from_str(&d.options).unwrap();
        assert!(options.get("mediation").is_none_or(|m| m.is_null()), "{options}");
    }
}
