//! Trusted signing keys by `kid`. Lookups never wait on the network; only an unknown `kid`
//! may ask the source to refresh (which the Entra source rate-limits and single-flights).

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use futures_util::future::{LocalBoxFuture, ready};

/// Why a JWK's `n` and `e` make no RS256 key.
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum RsaKeyProblem {
    #[display("RSA modulus of {_0} bits; 2048 to 8192 are accepted")]
    ModulusBits(usize),
    #[display("not an RSA public key")]
    NotRsa,
    /// aws-lc's reason.
    #[display("RSA key refused: {_0}")]
    Refused(String),
}

/// An RSA public key for RS256 (PKCS#1 v1.5 with SHA-256, 2048 to 8192 bits), parsed once
/// when the key set loads rather than on every verification, with the issuer it is
/// published for, if any.
pub struct VerifyingKey {
    key: ParsedPublicKey,
    issuer: Option<Box<str>>,
}

impl VerifyingKey {
    /// From the big-endian modulus and exponent (a JWK's `n` and `e`, decoded).
    pub fn from_rsa_components(n: &[u8], e: &[u8]) -> Result<Self, RsaKeyProblem> {
        let modulus = n.iter().position(|b| *b != 0).map_or(&[][..], |start| &n[start..]);
        if !(256..=1024).contains(&modulus.len()) {
            return Err(RsaKeyProblem::ModulusBits(modulus.len() * 8));
        }
        let der = RsaPublicKeyComponents { n, e }.as_der().map_err(|_| RsaKeyProblem::NotRsa)?;
        ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.as_ref())
            .map(|key| VerifyingKey { key, issuer: None })
            .map_err(|e| RsaKeyProblem::Refused(e.to_string()))
    }

    /// Binds the key to the issuer its JWK names (Entra's `issuer`, which may hold
    /// `{tenantid}`); a blank one binds nothing.
    pub fn with_issuer(mut self, issuer: Option<&str>) -> Self {
        self.issuer = issuer.map(str::trim).filter(|i| !i.is_empty()).map(Box::from);
        self
    }

    /// The issuer the key is published for, if any.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Whether `signature` is an RS256 signature of `message` by this key.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }
}

/// The answer to "which key has this kid?".
#[derive(Clone)]
pub enum KeyLookup {
    Found(Arc<VerifyingKey>),
    /// Keys are loaded, but none has this kid.
    Unknown,
    /// No key set has ever loaded (the identity provider has not answered yet).
    Unavailable,
}

/// What `/health` reports about the keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct KeysStatus {
    pub loaded: usize,
    /// Seconds since the set was last fetched; `None` for fixed keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub age_secs: Option<u64>,
}

/// A source of trusted RSA signing keys.
pub trait SigningKeys: Send + Sync {
    /// From what is loaded now; never waits.
    fn cached(&self, kid: &str) -> KeyLookup;

    /// Called for a kid that `cached` did not know: the source may refresh, then answers.
    /// Owns what it needs, so a refresh can outlive the request that asked for it.
    fn refresh_for(self: Arc<Self>, kid: String) -> LocalBoxFuture<'static, KeyLookup>;

    fn status(&self) -> KeysStatus;
}

/// A fixed set of keys (local mode's development key).
pub struct StaticKeys {
    keys: HashMap<String, Arc<VerifyingKey>>,
}

impl StaticKeys {
    pub fn new(keys: impl IntoIterator<Item = (String, VerifyingKey)>) -> Self {
        StaticKeys { keys: keys.into_iter().map(|(kid, key)| (kid, Arc::new(key))).collect() }
    }
}

impl SigningKeys for StaticKeys {
    fn cached(&self, kid: &str) -> KeyLookup {
        match self.keys.get(kid) {
            Some(key) => KeyLookup::Found(key.clone()),
            None => KeyLookup::Unknown,
        }
    }

    fn refresh_for(self: Arc<Self>, kid: String) -> LocalBoxFuture<'static, KeyLookup> {
        Box::pin(ready(self.cached(&kid)))
    }

    fn status(&self) -> KeysStatus {
        KeysStatus { loaded: self.keys.len(), age_secs: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_outside_rs256_sizes_are_refused_by_their_size() {
        let small = [0xc5u8; 128]; // 1024 bits
        assert_eq!(VerifyingKey::from_rsa_components(&small, &[1, 0, 1]).err(), Some(RsaKeyProblem::ModulusBits(1024)));
        let padded = [&[0u8, 0][..], &[0xc5u8; 64][..]].concat(); // leading zeros do not count
        let refused = VerifyingKey::from_rsa_components(&padded, &[1, 0, 1]).err().unwrap();
        assert_eq!(refused.to_string(), "RSA modulus of 512 bits; 2048 to 8192 are accepted");
    }
}
