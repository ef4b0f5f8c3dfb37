//! A compact JWS split into its parts, decoded but not yet trusted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// The header fields vaultgate looks at. `jku`, `x5u`, `jwk` and `x5c` are read only so
/// their presence can be seen; vaultgate never fetches or trusts a key a token names.
#[derive(Debug, Deserialize)]
pub struct TokenHeader {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub crit: Option<serde_json::Value>,
}

/// A token whose three parts decoded: a JSON object header, a JSON object payload and a
/// base64url signature. Nothing here is verified yet.
pub struct UnverifiedToken<'a> {
    pub header: TokenHeader,
    /// `header.payload`, the bytes the signature covers.
    pub signed_part: &'a str,
    /// The payload, decoded from base64url.
    pub payload: Vec<u8>,
    /// The signature, decoded from base64url.
    pub signature: Vec<u8>,
}

/// Splits and decodes `token`; `None` when it is not a well-formed compact JWS.
pub fn split(token: &str) -> Option<UnverifiedToken<'_>> {
    let (signed_part, signature) = token.rsplit_once('.')?;
    let (header_b64, payload_b64) = signed_part.split_once('.')?;
    if payload_b64.contains('.') || signature.is_empty() {
        return None;
    }
    let header_json = URL_SAFE_NO_PAD.decode(header_b64).ok()?;
    let header: TokenHeader = serde_json::from_slice(&header_json).ok()?;
    let payload = URL_SAFE_NO_PAD.decode(payload_b64).ok()?;
    // The payload must be a JSON object; its fields are read only after the signature checks.
    if payload.first() != Some(&b'{') {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    Some(UnverifiedToken { header, signed_part, payload, signature })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn well_formed_tokens_split() {
        let token = format!("{}.{}.{}", b64(r#"{"alg":"RS256","kid":"k"}"#), b64(r#"{"a":1}"#), b64("sig"));
        let parts = split(&token).unwrap();
        assert_eq!(parts.header.alg, "RS256");
        assert_eq!(parts.header.kid.as_deref(), Some("k"));
        assert_eq!(parts.payload, br#"{"a":1}"#);
    }

    #[test]
    fn malformed_tokens_do_not() {
        let h = b64(r#"{"alg":"RS256"}"#);
        let p = b64("{}");
        for bad in [
            String::new(),
            "abc".into(),
            format!("{h}.{p}"),
            format!("{h}.{p}.{p}.{p}"),
            format!("{h}.{p}.{p}.{p}.{p}"),
            format!("{h}.{p}."),
            format!("{h}.!!.{p}"),
            format!("{}.{p}.{p}", b64("[1]")),
            format!("{h}.{}.{p}", b64("[1,2]")),
            format!("{h}.{p}.a+b/"),
        ] {
            assert!(split(&bad).is_none(), "{bad:?} split");
        }
    }
}
