//! Single sign-on with OpenID Connect (`openidconnect`): the authorization code flow with PKCE.
//!
//! [`Oidc::authorize`] discovers the provider and draws the flow's state, nonce and PKCE verifier (here,
//! because only this crate draws random numbers); the caller keeps them, sealed, in the browser until the
//! provider sends it back. [`Oidc::redeem`] checks the returned state, exchanges the code with the
//! verifier and checks the id token: its signature against the provider's published keys, the issuer,
//! the audience, the nonce and the expiry (against the caller's clock). Only then are its claims read.

use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest, HttpResponse, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// How to reach the provider and who Bonafide is to it.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer URL; discovery reads `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// The client id the provider registered for Bonafide.
    pub client_id: String,
    /// The client secret, when the provider gave one (PKCE is used either way).
    pub client_secret: Option<SecretString>,
    /// Where the provider sends the browser back (`<public_url>/signin/oidc/callback`).
    pub redirect_url: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
}

/// A provider to sign in with, over an HTTP client that does not follow redirects.
#[derive(Debug, Clone)]
pub struct Oidc {
    config: OidcConfig,
    http: reqwest::Client,
}

/// What the browser carries between the two halves of the flow (sealed by the caller). `Debug` hides it.
#[derive(Clone, Serialize, Deserialize)]
pub struct Pending {
    state: String,
    nonce: String,
    verifier: String,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending(..)")
    }
}

/// The first half: where to send the browser, and what to keep until it comes back.
#[derive(Debug)]
pub struct Authorization {
    /// The provider's authorization URL, with state, nonce and the PKCE challenge.
    pub url: String,
    /// The flow's secrets.
    pub pending: Pending,
}

/// What a verified id token asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asserted {
    /// The subject at the provider.
    pub subject: String,
    /// The configured email claim's value, if the token has it as a string.
    pub email: Option<String>,
    /// `email_verified`, when present.
    pub email_verified: Option<bool>,
    /// The authentication context class (`acr`).
    pub acr: Option<String>,
    /// The authentication methods (`amr`).
    pub amr: Vec<String>,
}

/// Why single sign-on failed; the message is for logs, never for the browser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The configuration cannot be used (a bad URL, a provider without a token endpoint).
    #[error("single sign-on is misconfigured: {0}")]
    Config(String),
    /// The provider could not be reached or answered something unusable.
    #[error("the identity provider failed: {0}")]
    Provider(String),
    /// The state sent back is not the one this browser was given.
    #[error("the state does not match")]
    State,
    /// The id token is missing or failed a check (signature, issuer, audience, nonce, expiry).
    #[error("the id token was refused: {0}")]
    Token(String),
}

/// The HTTP client's failure, as `openidconnect` reports it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl Oidc {
    /// A provider reached through `http` (which must not follow redirects).
    pub fn new(config: OidcConfig, http: reqwest::Client) -> Self {
        Self { config, http }
    }

    /// The configuration.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    async fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        OidcError,
    > {
        let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| OidcError::Config(e.to_string()))?;
        let http = self.transport();
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| OidcError::Provider(format!("discovery: {}", chain(&e))))?;
        let redirect =
            RedirectUrl::new(self.config.redirect_url.clone()).map_err(|e| OidcError::Config(e.to_string()))?;
        let secret = self.config.client_secret.as_ref().map(|s| ClientSecret::new(s.expose_secret().to_owned()));
        Ok(CoreClient::from_provider_metadata(metadata, ClientId::new(self.config.client_id.clone()), secret)
            .set_redirect_uri(redirect))
    }

    /// `openidconnect`'s HTTP client over ours.
    fn transport(
        &self,
    ) -> impl Fn(HttpRequest) -> std::pin::Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send>> {
        let http = self.http.clone();
        move |request: HttpRequest| {
            let http = http.clone();
            Box::pin(async move {
                let (parts, body) = request.into_parts();
                let response = http
                    .request(parts.method, parts.uri.to_string())
                    .headers(parts.headers)
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| HttpError(e.to_string()))?;
                let status = response.status();
                let headers = response.headers().clone();
                let bytes = response.bytes().await.map_err(|e| HttpError(e.to_string()))?;
                let mut out = HttpResponse::new(bytes.to_vec());
                *out.status_mut() = status;
                *out.headers_mut() = headers;
                Ok(out)
            })
        }
    }

    /// Discovers the provider and starts a flow.
    pub async fn authorize(&self) -> Result<Authorization, OidcError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request =
            client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        };
        Ok(Authorization { url: url.to_string(), pending })
    }

    /// Finishes the flow that `pending` started: checks `state`, redeems `code`, verifies the id token at
    /// `now` (Unix seconds) and reads `email_claim` and the MFA claims from it.
    pub async fn redeem(
        &self,
        pending: &Pending,
        state: &str,
        code: &str,
        email_claim: &str,
        now: i64,
    ) -> Result<Asserted, OidcError> {
        if !crate::constant_time_eq(pending.state.as_bytes(), state.as_bytes()) {
            return Err(OidcError::State);
        }
        let client = self.client().await?;
        let http = self.transport();
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&http)
            .await
            .map_err(|e| OidcError::Provider(format!("token: {}", chain(&e))))?;
        let token = response.id_token().ok_or_else(|| OidcError::Token("no id token".into()))?;
        let at = chrono::DateTime::from_timestamp(now, 0).ok_or_else(|| OidcError::Token("bad clock".into()))?;
        let verifier = client.id_token_verifier().set_time_fn(move || at);
        let claims =
            token.claims(&verifier, &Nonce::new(pending.nonce.clone())).map_err(|e| OidcError::Token(e.to_string()))?;
        // Verified: the raw payload is now safe to read, for a claim the typed claims do not carry.
        let raw = payload(&token.to_string())?;
        let text = |name: &str| raw.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let amr = match raw.get("amr") {
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(|v| v.as_str()).map(str::to_owned).collect()
            }
            _ => Vec::new(),
        };
        Ok(Asserted {
            subject: claims.subject().as_str().to_owned(),
            email: text(email_claim),
            email_verified: raw.get("email_verified").and_then(serde_json::Value::as_bool),
            acr: text("acr"),
            amr,
        })
    }
}

/// The JSON payload of a compact JWS.
fn payload(jwt: &str) -> Result<serde_json::Map<String, serde_json::Value>, OidcError> {
    let part = jwt.split('.').nth(1).ok_or_else(|| OidcError::Token("not a JWT".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| OidcError::Token("payload is not base64url".into()))?;
    serde_json::from_slice(&bytes).map_err(|_| OidcError::Token("payload is not a JSON object".into()))
}

/// An error with its sources, for logs.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
