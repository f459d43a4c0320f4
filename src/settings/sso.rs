//! The single sign-on keys (`oidc_*`) and `local_passwords`. The client secret is never a key of the file:
//! it comes from `BONAFIDE_OIDC_CLIENT_SECRET` or the file `oidc_client_secret_file` names, and no message
//! shows it.

use super::layers::{Layers, Raw, list, path, text};
use crate::InvalidInputError;
use bonafide_app::signin::oidc::{LocalPasswords, SsoSettings};
use bonafide_domain::Email;
use secrecy::SecretString;

/// The keys this module reads.
pub const KEYS: &[&str] = &[
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret_file",
    "oidc_scopes",
    "oidc_email_claim",
    "oidc_required_acr",
    "oidc_required_amr",
    "oidc_name",
    "oidc_break_glass_email",
    "local_passwords",
];

/// The single sign-on settings (none without `oidc_issuer`) and who keeps a password.
/// The redirect URI is built from `public_url`, which a server on loopback fills in once it listens, so
/// it is not demanded here (without it, `App::new` leaves single sign-on off and says so).
pub fn read(layers: &Layers) -> Result<(Option<SsoSettings>, LocalPasswords), InvalidInputError> {
    let local = layers.get("local_passwords", |raw| LocalPasswords::parse(&text(raw)?))?.unwrap_or_default();
    let Some(issuer) = layers.get("oidc_issuer", url)? else {
        return match local {
            LocalPasswords::On => Ok((None, local)),
            _ => Err(InvalidInputError("local_passwords: turning passwords off needs oidc_issuer".into())),
        };
    };
    let client_id = layers
        .get("oidc_client_id", non_empty)?
        .ok_or_else(|| InvalidInputError("oidc_issuer: single sign-on needs oidc_client_id".into()))?;
    let mut sso = SsoSettings::new(&issuer, &client_id);
    sso.client_secret = secret(layers)?;
    if let Some(scopes) = layers.get("oidc_scopes", list)? {
        sso.scopes = scopes.into_iter().filter(|s| s != "openid").collect();
    }
    if let Some(claim) = layers.get("oidc_email_claim", non_empty)? {
        sso.email_claim = claim;
    }
    sso.required_acr = layers.get("oidc_required_acr", list)?.unwrap_or_default();
    sso.required_amr = layers.get("oidc_required_amr", list)?.unwrap_or_default();
    if let Some(name) = layers.get("oidc_name", non_empty)? {
        sso.name = name;
    }
    sso.break_glass = layers.get("oidc_break_glass_email", |raw| {
        text(raw)?.trim().to_lowercase().parse::<Email>().map_err(|e| e.to_string())
    })?;
    if local == LocalPasswords::AllOff && sso.break_glass.is_none() {
        return Err(InvalidInputError(
            "local_passwords = all_off needs oidc_break_glass_email: a security admin must keep a way in".into(),
        ));
    }
    Ok((Some(sso), local))
}

fn non_empty(raw: &Raw) -> Result<String, String> {
    let value = text(raw)?.trim().to_owned();
    if value.is_empty() { Err("must not be empty".into()) } else { Ok(value) }
}

fn url(raw: &Raw) -> Result<String, String> {
    let value = non_empty(raw)?;
    let https = value.starts_with("https://");
    let local = value.starts_with("http://localhost") || value.starts_with("http://127.0.0.1");
    if https || local { Ok(value.trim_end_matches('/').to_owned()) } else { Err("must be an https URL".into()) }
}

fn secret(layers: &Layers) -> Result<Option<SecretString>, InvalidInputError> {
    if let Some(v) = layers.var("BONAFIDE_OIDC_CLIENT_SECRET") {
        let v = v.to_str().ok_or_else(|| InvalidInputError("BONAFIDE_OIDC_CLIENT_SECRET: not UTF-8".into()))?;
        return Ok(Some(SecretString::from(v.trim().to_owned())));
    }
    let Some(file) = layers.get("oidc_client_secret_file", path)? else { return Ok(None) };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| InvalidInputError(format!("oidc_client_secret_file {}: {e}", file.display())))?;
    Ok(Some(SecretString::from(text.trim().to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::ffi::OsString;

    fn layers(vars: &[(&str, &str)]) -> Layers {
        let env = vars.iter().map(|(k, v)| (OsString::from(k), OsString::from(v)));
        Layers::new(Vec::new(), env, None, KEYS).unwrap()
    }

    #[test]
    fn single_sign_on_reads_its_keys_and_the_secret_from_the_environment() {
        let l = layers(&[
            ("BONAFIDE_OIDC_ISSUER", "https://idp.example.com/"),
            ("BONAFIDE_OIDC_CLIENT_ID", "bonafide"),
            ("BONAFIDE_OIDC_CLIENT_SECRET", "s3cret"),
            ("BONAFIDE_OIDC_SCOPES", "openid,email,profile"),
            ("BONAFIDE_OIDC_REQUIRED_AMR", "mfa,hwk"),
            ("BONAFIDE_LOCAL_PASSWORDS", "employees_off"),
        ]);
        let (sso, local) = read(&l).unwrap();
        let sso = sso.unwrap();
        assert_eq!((sso.issuer.as_str(), sso.client_id.as_str()), ("https://idp.example.com", "bonafide"));
        assert_eq!(sso.client_secret.as_ref().map(|s| s.expose_secret().to_owned()).as_deref(), Some("s3cret"));
        assert!(!format!("{sso:?}").contains("s3cret"), "the secret is hidden from Debug");
        assert_eq!(
            (sso.scopes, sso.required_amr),
            (vec!["email".into(), "profile".into()], vec!["mfa".into(), "hwk".into()])
        );
        assert_eq!((sso.name.as_str(), local), ("your company's sign-in", LocalPasswords::EmployeesOff));
    }

    #[test]
    fn passwords_cannot_be_turned_off_without_a_provider_or_a_break_glass_account() {
        let no_idp = read(&layers(&[("BONAFIDE_LOCAL_PASSWORDS", "all_off")])).unwrap_err();
        assert!(no_idp.0.contains("needs oidc_issuer"), "{}", no_idp.0);
        let idp = [("BONAFIDE_OIDC_ISSUER", "https://idp.example.com"), ("BONAFIDE_OIDC_CLIENT_ID", "b")];
        let all_off = [idp.as_slice(), &[("BONAFIDE_LOCAL_PASSWORDS", "all_off")]].concat();
        let e = read(&layers(&all_off)).unwrap_err();
        assert!(e.0.contains("oidc_break_glass_email"), "{}", e.0);
        let glass = [all_off.as_slice(), &[("BONAFIDE_OIDC_BREAK_GLASS_EMAIL", "Ada@Example.com")]].concat();
        let (sso, local) = read(&layers(&glass)).unwrap();
        assert_eq!((sso.unwrap().break_glass.unwrap().as_str(), local), ("ada@example.com", LocalPasswords::AllOff));
        let bad = read(&layers(&[("BONAFIDE_LOCAL_PASSWORDS", "maybe")])).unwrap_err();
        assert!(bad.0.contains("local_passwords = maybe"), "{}", bad.0);
        let plain = [("BONAFIDE_OIDC_ISSUER", "http://idp.example.com"), ("BONAFIDE_OIDC_CLIENT_ID", "b")];
        assert!(read(&layers(&plain)).unwrap_err().0.contains("https"));
    }
}
