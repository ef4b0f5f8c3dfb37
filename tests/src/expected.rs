//! The error bodies tests expect, written out (code, description, debug) rather than read
//! from the catalog under test, so a changed catalog entry fails a test.

use serde_json::{Value, json};

use crate::http::Reply;

/// `{"code": ..., "description": ...}`.
pub fn error(code: &str, description: &str) -> Value {
    json!({"code": code, "description": description})
}

/// `{"code": ..., "description": ..., "debug": ...}`.
pub fn error_with_debug(code: &str, description: &str, debug: &str) -> Value {
    json!({"code": code, "description": description, "debug": debug})
}

/// Key Vault's `{"error": {"code": ..., "message": ...}}`, as the Key Vault-compatible routes answer.
pub fn key_vault_error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

/// Key Vault's error with an inner code (`{"error": {..., "innererror": {"code": ...}}}`).
pub fn key_vault_error_within(code: &str, message: &str, inner: &str) -> Value {
    json!({"error": {"code": code, "message": message, "innererror": {"code": inner}}})
}

/// 401 `InvalidAuthorizationClaims` with `debug` saying which claim failed.
pub fn invalid_claims(debug: &str) -> Value {
    error_with_debug("InvalidAuthorizationClaims", "Failed to validate authorization claims.", debug)
}

/// 401: the token is not a compact JWS.
pub fn unparsable() -> Value {
    error("InvalidAuthorizationHeader", "Unable to parse authentication token")
}

/// 401: no trusted key has the token's kid.
pub fn no_key() -> Value {
    error("InvalidAuthorizationHeader", "Unable to find appropriate key")
}

/// 502: the store failed.
pub fn vault_error() -> Value {
    error("AzureKeyVaultFatalError", "Error getting response from Azure Key Vault.")
}

/// 404: no such secret.
pub fn secret_not_found() -> Value {
    error("SecretNotFound", "Requested secret not found in Key Vault.")
}

/// Asserts a 401 with exactly `body` and the challenge a refused token gets.
pub fn assert_refused_token(reply: &Reply, body: Value, case: &str) {
    assert_eq!(reply.status, 401, "{case}: {:?}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json(), body, "{case}");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with(r#"Bearer error="invalid_token""#), "{case}: {challenge}");
}
