//! A small OpenID Connect provider for the single sign-on tests: discovery, a JWKS with one RSA key, and a
//! token endpoint that checks the PKCE verifier and answers with whatever id token the test asked for.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use openidconnect::core::{CoreIdToken, CoreIdTokenClaims, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const KEY: &str = include_str!("oidc_test_key.pem");

/// The client id the tests register.
pub const CLIENT_ID: &str = "bonafide-test";

/// One code the provider will redeem: its PKCE challenge and the id token to answer with.
struct Grant {
    challenge: String,
    id_token: String,
}

#[derive(Clone)]
struct Shared {
    issuer: String,
    grants: Arc<Mutex<HashMap<String, Grant>>>,
}

/// A running provider.
pub struct Provider {
    /// Its issuer URL.
    pub issuer: String,
    grants: Arc<Mutex<HashMap<String, Grant>>>,
}

fn key() -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(KEY, Some(JsonWebKeyId::new("test-key".into()))).unwrap()
}

impl Provider {
    /// Starts a provider on a free port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let grants = Arc::new(Mutex::new(HashMap::new()));
        let shared = Shared { issuer: issuer.clone(), grants: grants.clone() };
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(shared);
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { issuer, grants }
    }

    /// Signs `claims` with the provider's key.
    pub fn sign(&self, claims: &Value) -> String {
        let claims: CoreIdTokenClaims = serde_json::from_value(claims.clone()).unwrap();
        CoreIdToken::new(claims, &key(), CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None, None).unwrap().to_string()
    }

    /// Makes `code` redeemable (with the verifier of `challenge`) for `id_token`.
    pub fn grant(&self, code: &str, challenge: &str, id_token: String) {
        self.grants.lock().unwrap().insert(code.to_owned(), Grant { challenge: challenge.to_owned(), id_token });
    }
}

async fn discovery(State(s): State<Shared>) -> Json<Value> {
    Json(json!({
        "issuer": s.issuer,
        "authorization_endpoint": format!("{}/authorize", s.issuer),
        "token_endpoint": format!("{}/token", s.issuer),
        "jwks_uri": format!("{}/jwks", s.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks() -> Json<Value> {
    Json(json!({ "keys": [key().as_verification_key()] }))
}

async fn token(
    State(s): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> (axum::http::StatusCode, Json<Value>) {
    let refused = (axum::http::StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_grant" })));
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(grant) = s.grants.lock().unwrap().remove(&code) else { return refused };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if challenge != grant.challenge || form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refused;
    }
    let body =
        json!({ "access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "id_token": grant.id_token });
    (axum::http::StatusCode::OK, Json(body))
}
