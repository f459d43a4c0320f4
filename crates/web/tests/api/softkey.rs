//! A software WebAuthn authenticator: what a browser and a platform authenticator send, built by hand,
//! so the passkey ceremonies can be driven over plain HTTP. ES256 (P-256), "none" attestation, user
//! presence and user verification always set unless a test says otherwise.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_cbor_2::Value as Cbor;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub struct SoftKey {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    counter: u32,
    /// The origin the "browser" reports in `clientDataJSON`.
    pub origin: String,
    /// Whether the authenticator claims user verification.
    pub verified: bool,
}

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("expected a string: {v}"))
}

impl SoftKey {
    pub fn new(origin: &str) -> Self {
        let mut secret = [0u8; 32];
        rand::fill(&mut secret);
        let mut credential_id = vec![0u8; 16];
        rand::fill(&mut credential_id[..]);
        SoftKey {
            key: SigningKey::from_slice(&secret).unwrap(),
            credential_id,
            user_handle: vec![],
            counter: 0,
            origin: origin.to_owned(),
            verified: true,
        }
    }

    fn rp_hash(rp_id: &str) -> Vec<u8> {
        Sha256::digest(rp_id.as_bytes()).to_vec()
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        serde_json::to_vec(
            &json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false }),
        )
        .unwrap()
    }

    fn flags(&self) -> u8 {
        if self.verified { UP | UV } else { UP }
    }

    /// Answers `navigator.credentials.create` for `options` (the server's `{"publicKey": …}`).
    pub fn register(&mut self, options: &Value) -> Value {
        let pk = &options["publicKey"];
        let rp_id = text(&pk["rp"]["id"]);
        self.user_handle = B64.decode(text(&pk["user"]["id"])).unwrap();
        let point = self.key.verifying_key().to_sec1_bytes();
        let (x, y) = (point[1..33].to_vec(), point[33..65].to_vec());
        let cose: BTreeMap<Cbor, Cbor> = [
            (Cbor::Integer(1), Cbor::Integer(2)),
            (Cbor::Integer(3), Cbor::Integer(-7)),
            (Cbor::Integer(-1), Cbor::Integer(1)),
            (Cbor::Integer(-2), Cbor::Bytes(x)),
            (Cbor::Integer(-3), Cbor::Bytes(y)),
        ]
        .into_iter()
        .collect();
        let mut auth_data = Self::rp_hash(rp_id);
        auth_data.push(self.flags() | AT);
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        auth_data.extend_from_slice(&[0u8; 16]);
        auth_data.extend_from_slice(&u16::try_from(self.credential_id.len()).unwrap().to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&serde_cbor_2::to_vec(&Cbor::Map(cose)).unwrap());
        let attestation: BTreeMap<Cbor, Cbor> = [
            (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
            (Cbor::Text("attStmt".into()), Cbor::Map(BTreeMap::new())),
            (Cbor::Text("authData".into()), Cbor::Bytes(auth_data)),
        ]
        .into_iter()
        .collect();
        let client_data = self.client_data("webauthn.create", text(&pk["challenge"]));
        json!({
            "id": B64.encode(&self.credential_id),
            "rawId": B64.encode(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": B64.encode(serde_cbor_2::to_vec(&Cbor::Map(attestation)).unwrap()),
                "clientDataJSON": B64.encode(client_data),
                "transports": ["internal"],
            },
            "extensions": { "credProps": { "rk": true } },
        })
    }

    /// Answers `navigator.credentials.get` for `options`, signing with the next counter value.
    pub fn assert(&mut self, options: &Value) -> Value {
        let pk = &options["publicKey"];
        let rp_id = text(&pk["rpId"]);
        self.counter += 1;
        let mut auth_data = Self::rp_hash(rp_id);
        auth_data.push(self.flags());
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        let client_data = self.client_data("webauthn.get", text(&pk["challenge"]));
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": B64.encode(&self.credential_id),
            "rawId": B64.encode(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(&auth_data),
                "clientDataJSON": B64.encode(client_data),
                "signature": B64.encode(signature.to_der().as_bytes()),
                "userHandle": B64.encode(&self.user_handle),
            },
            "extensions": {},
        })
    }

    /// Pretends the authenticator was cloned and its counter went back.
    pub fn rewind_counter(&mut self) {
        self.counter = 0;
    }
}
