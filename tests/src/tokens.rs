//! Tokens for tests: valid development tokens, and the forged ones attackers send.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use vaultgate::auth::dev_key::{LOCAL_AUDIENCE, LOCAL_ISSUER};

use crate::signing::TestKey;

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Claims of a valid local-mode token holding `roles`.
pub fn claims(roles: &[&str]) -> Value {
    let now = now();
    let mut claims = json!({
        "aud": LOCAL_AUDIENCE,
        "iss": LOCAL_ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "azp": "test-client",
        "oid": "11111111-2222-3333-4444-555555555555",
        "tid": "00000000-0000-0000-0000-000000000000",
        "ver": "2.0",
    });
    if !roles.is_empty() {
        claims["roles"] = json!(roles);
    }
    claims
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token from raw parts: header and claims as JSON, signature as bytes.
pub fn forge(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!("{}.{}.{}", b64(header.to_string()), b64(claims.to_string()), b64(signature))
}

/// HS256 over `header.claims` with `secret` as the HMAC key (the algorithm-confusion attack).
pub fn hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let signed = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, signed.as_bytes());
    format!("{signed}.{}", b64(tag.as_ref()))
}

/// A valid token signed by `key` holding `roles`.
pub fn valid(key: &TestKey, roles: &[&str]) -> String {
    key.sign(&claims(roles))
}

/// A valid token holding `roles` for another caller: this `oid` and `azp` (`None` leaves
/// the claim out).
pub fn valid_for(key: &TestKey, roles: &[&str], oid: Option<&str>, azp: Option<&str>) -> String {
    let mut claims = claims(roles);
    let object = claims.as_object_mut().expect("claims are an object");
    for (name, value) in [("oid", oid), ("azp", azp)] {
        match value {
            Some(value) => object.insert(name.to_owned(), value.into()),
            None => object.remove(name),
        };
    }
    key.sign(&claims)
}

const WIRE_V1: &str = include_str!("../wire/entra-access-token-v1.json");
const WIRE_V2: &str = include_str!("../wire/entra-access-token-v2.json");

/// Header and claims of an Entra access token as the wire sample shows it (`version` 1 or
/// 2), valid from now for an hour.
pub fn entra(version: u8) -> (Value, Value) {
    let sample: Value = serde_json::from_str(if version == 1 { WIRE_V1 } else { WIRE_V2 }).unwrap();
    let mut claims = sample["claims"].clone();
    let now = now();
    claims["iat"] = json!(now);
    claims["nbf"] = json!(now);
    claims["exp"] = json!(now + 3600);
    (sample["header"].clone(), claims)
}

/// `header` with this key's kid (and x5t, as Entra sends both).
pub fn entra_header(header: &Value, key: &TestKey) -> Value {
    let mut header = header.clone();
    header["kid"] = key.kid().into();
    if header.get("x5t").is_some() {
        header["x5t"] = key.kid().into();
    }
    header
}

/// A valid Entra token of `version` signed by `key`.
pub fn entra_token(key: &TestKey, version: u8) -> String {
    let (header, claims) = entra(version);
    key.sign_with_header(&entra_header(&header, key), &claims)
}
