//! Every write the access policies can see (or the service tokens that ask for decisions) raises the
//! directory's generation in its transaction, or an instance would decide on a directory it no longer
//! has. This reads the store's own source: a new write to one of these tables without
//! `directory_changed` fails here.

use std::path::Path;

/// What the access policies see.
const TABLES: [&str; 9] = [
    "people",
    "credentials",
    "passkeys",
    "policy_acknowledgements",
    "resources",
    "access_policy_versions",
    "policy_versions",
    "service_tokens",
    "risk_person_snapshots",
];

/// Writes to those tables that change nothing the policies see: the last TOTP step and passkey use,
/// a password or a pending (unconfirmed) authenticator, and the sign-in counter of recovery codes.
const UNSEEN: [&str; 4] = ["accept_totp_step", "passkey_used", "upsert_credential", "use_recovery_code"];

#[test]
fn every_write_the_access_policies_see_raises_the_generation() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Each function from its `fn` to the next.
        for body in text.split("async fn ").skip(1) {
            let name: String = body.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let writes = TABLES.iter().any(|t| {
                [format!("INSERT INTO {t} "), format!("UPDATE {t} "), format!("DELETE FROM {t} ")]
                    .iter()
                    .any(|w| body.contains(w.as_str()))
            });
            if !writes || UNSEEN.contains(&name.as_str()) {
                continue;
            }
            seen += 1;
            if !body.contains("directory_changed(") && !body.contains("execute_audited_directory(") {
                missing.push(format!("{}: {name}", path.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    assert!(seen >= 12, "the scan found only {seen} writes: has the store's layout changed?");
    assert!(missing.is_empty(), "writes that do not raise the directory's generation: {missing:?}");
}
