//! The JWKS document: only RSA keys meant for signatures with RS256 are kept.

use std::collections::HashMap;

use jsonwebtoken::DecodingKey;
use serde::Deserialize;

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<serde_json::Value>,
}

/// The fields of a JWK that matter here; anything else (x5c, x5t, issuer) is ignored.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: String,
    #[serde(rename = "use")]
    usage: Option<String>,
    alg: Option<String>,
    n: String,
    e: String,
}

/// Parses a JWKS answer into keys by kid. Entries of other types, for encryption, for
/// other algorithms, or malformed, are skipped; `Err` when no usable key is left.
pub fn parse_jwks(body: &serde_json::Value) -> Result<HashMap<String, DecodingKey>, String> {
    let jwks = Jwks::deserialize(body).map_err(|e| format!("not a JWKS document: {e}"))?;
    let keys: HashMap<String, DecodingKey> = jwks
        .keys
        .iter()
        .filter_map(|entry| Jwk::deserialize(entry).ok())
        .filter(|jwk| jwk.kty == "RSA")
        .filter(|jwk| jwk.usage.as_deref().is_none_or(|u| u == "sig"))
        .filter(|jwk| jwk.alg.as_deref().is_none_or(|a| a == "RS256"))
        .filter_map(|jwk| DecodingKey::from_rsa_components(&jwk.n, &jwk.e).ok().map(|key| (jwk.kid, key)))
        .collect();
    if keys.is_empty() { Err("the JWKS document holds no RSA signing key".into()) } else { Ok(keys) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

    #[test]
    fn keeps_rsa_signature_keys_only() {
        let body = json!({"keys": [
            {"kty": "RSA", "use": "sig", "kid": "a", "n": N, "e": "AQAB", "x5c": ["..."], "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"},
            {"kty": "RSA", "use": "sig", "kid": "b", "alg": "RS256", "n": N, "e": "AQAB"},
            {"kty": "RSA", "use": "enc", "kid": "c", "n": N, "e": "AQAB"},
            {"kty": "RSA", "use": "sig", "kid": "d", "alg": "RS512", "n": N, "e": "AQAB"},
            {"kty": "EC", "use": "sig", "kid": "e", "crv": "P-256", "x": "x", "y": "y"},
            {"kty": "RSA", "kid": "f"},
            "not an object"
        ]});
        let mut kids: Vec<String> = parse_jwks(&body).unwrap().into_keys().collect();
        kids.sort();
        assert_eq!(kids, ["a", "b"]);
    }

    #[test]
    fn no_usable_key_is_an_error() {
        assert!(parse_jwks(&json!({"keys": []})).is_err());
        assert!(parse_jwks(&json!({"keys": [{"kty": "oct", "kid": "x", "k": "c2VjcmV0"}]})).is_err());
        assert!(parse_jwks(&json!([1, 2])).is_err());
    }
}
