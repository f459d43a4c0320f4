//! The passkey forms pages show: hidden until the page's script finds WebAuthn support and the right
//! origin. The ceremonies they post to are in [`super::passkeys`].

use crate::AppState;
use crate::portal::html::{csrf_field, when};
use bonafide_app::records::StoredPasskey;
use bonafide_auth::passkey::RelyingParty;
use maud::{Markup, html};

/// A passkey form: hidden until the script finds WebAuthn support and the right origin.
pub(crate) fn form(
    rp: &RelyingParty,
    mode: &'static str,
    options_url: &str,
    action: &str,
    csrf: &str,
    button: &str,
    extra: Markup,
) -> Markup {
    html! {
        form.stack method="post" action=(action) hidden data-passkey=(mode) data-options=(options_url) data-origin=(rp.origin()) {
            (csrf_field(csrf))
            input type="hidden" name="ceremony";
            input type="hidden" name="credential";
            (extra)
            div.notice.error role="alert" data-passkey-status hidden {}
            button.big type="submit" { (button) }
        }
        p.muted data-passkey-hint { "Passkeys work at " (rp.origin()) " in a browser with JavaScript." }
    }
}

/// The passkeys part of "My account".
pub(crate) fn account_section(state: &AppState, csrf: &str, keys: &[StoredPasskey]) -> Markup {
    html! {
        h2 { "Passkeys" }
        p.muted { "A passkey signs you in with your device's screen lock or a security key, without a password. It only works on this site, so it cannot be phished." }
        @if keys.is_empty() { p { "You have no passkeys." } }
        ul.plain {
            @for k in keys {
                li {
                    strong { (k.name) } " · added " (when(k.created_at))
                    @if let Some(t) = k.last_used_at { " · last used " (when(t)) }
                    form.inline method="post" action=(format!("/account/passkeys/{}/delete", k.id)) {
                        (csrf_field(csrf)) " " button.secondary type="submit" { "Remove" }
                    }
                }
            }
        }
        @match state.app.passkeys() {
            Some(rp) => {
                (form(rp, "create", "/account/passkeys/options", "/account/passkeys", csrf, "Add a passkey", html! {
                    div { label for="passkey-name" { "Name it" span.hint { "So you can tell your devices apart, e.g. “work laptop”." } }
                          input #passkey-name type="text" name="name" maxlength="60"; }
                }))
            }
            None => { p.muted { "Passkeys are not set up on this server (it needs a public URL)." } }
        }
    }
}

/// The "Sign in with a passkey" form on the sign-in page, when passkeys are set up.
pub(crate) fn signin_section(state: &AppState, csrf: &str) -> Markup {
    match state.app.passkeys() {
        Some(rp) => html! {
            (form(rp, "get", "/signin/passkey/options", "/signin/passkey", csrf, "Sign in with a passkey", html! {}))
        },
        None => html! {},
    }
}
