//! The JWKS document, read with jsonwebtoken's JWK types: only RSA keys meant for
//! signatures with RS256 are kept, each parsed once into a verifying key.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use serde::Deserialize;

use super::KeySetProblem;
use crate::auth::signing_keys::VerifyingKey;

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<serde_json::Value>,
}

/// Parses a JWKS answer into keys by kid. Entries of other types, for encryption, for
/// other algorithms, or malformed, are skipped one by one; `Err` when no usable key is left.
pub fn parse_jwks(body: &serde_json::Value) -> Result<HashMap<String, VerifyingKey>, KeySetProblem> {
    let jwks = Jwks::deserialize(body).map_err(|e| KeySetProblem::NotJwks(e.to_string()))?;
    let keys: HashMap<String, VerifyingKey> = jwks
        .keys
        .iter()
        .filter_map(|entry| {
            // Entra's per-key `issuer` is not a JWK member jsonwebtoken knows: read it beside.
            let issuer = entry.get("issuer").and_then(serde_json::Value::as_str);
            usable(&Jwk::deserialize(entry).ok()?, issuer)
        })
        .collect();
    if keys.is_empty() { Err(KeySetProblem::NoSigningKey) } else { Ok(keys) }
}

fn usable(jwk: &Jwk, issuer: Option<&str>) -> Option<(String, VerifyingKey)> {
    let common = &jwk.common;
    let for_signatures = matches!(common.public_key_use, None | Some(PublicKeyUse::Signature));
    let rs256 = matches!(common.key_algorithm, None | Some(KeyAlgorithm::RS256));
    let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else { return None };
    if !for_signatures || !rs256 {
        return None;
    }
    let n = URL_SAFE_NO_PAD.decode(&rsa.n).ok()?;
    let e = URL_SAFE_NO_PAD.decode(&rsa.e).ok()?;
    let key = VerifyingKey::from_rsa_components(&n, &e).ok()?.with_issuer(issuer);
    Some((common.key_id.clone()?, key))
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
            {"kty": "RSA", "use": "sig", "kid": "g", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "use": "sig", "n": N, "e": "AQAB"},
            "not an object"
        ]});
        let mut kids: Vec<String> = parse_jwks(&body).unwrap().into_keys().collect();
        kids.sort();
        assert_eq!(kids, ["a", "b"], "too-small keys and keys without a kid are dropped too");
    }

    #[test]
    fn each_key_keeps_the_issuer_it_is_published_for() {
        let body = json!({"keys": [
            {"kty": "RSA", "kid": "a", "n": N, "e": "AQAB", "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"},
            {"kty": "RSA", "kid": "b", "n": N, "e": "AQAB"},
            {"kty": "RSA", "kid": "c", "n": N, "e": "AQAB", "issuer": "  "},
            {"kty": "RSA", "kid": "d", "n": N, "e": "AQAB", "issuer": 7},
        ]});
        let keys = parse_jwks(&body).unwrap();
        assert_eq!(keys["a"].issuer(), Some("https://login.microsoftonline.com/{tenantid}/v2.0"));
        for kid in ["b", "c", "d"] {
            assert_eq!(keys[kid].issuer(), None, "{kid}: no issuer, a blank one, or not a string");
        }
    }

    #[test]
    fn no_usable_key_is_an_error() {
        assert_eq!(parse_jwks(&json!({"keys": []})).err(), Some(KeySetProblem::NoSigningKey));
        let secret_only = json!({"keys": [{"kty": "oct", "kid": "x", "k": "c2VjcmV0"}]});
        assert_eq!(parse_jwks(&secret_only).err(), Some(KeySetProblem::NoSigningKey));
        assert!(matches!(parse_jwks(&json!([1, 2])).err(), Some(KeySetProblem::NotJwks(_))));
    }
}
