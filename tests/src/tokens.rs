//! Tokens for tests: valid development tokens, and the forged ones attackers send.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use vaultgate::auth::dev_key::{DevKey, LOCAL_AUDIENCE, LOCAL_ISSUER};

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
pub fn valid(key: &DevKey, roles: &[&str]) -> String {
    key.sign(&claims(roles))
}
