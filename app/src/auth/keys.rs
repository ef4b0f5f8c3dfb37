//! Trusted signing keys by `kid`. Lookups never wait on the network; only an unknown `kid`
//! may ask the source to refresh (which the Entra source rate-limits and single-flights).

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::{LocalBoxFuture, ready};
use jsonwebtoken::DecodingKey;

/// The answer to "which key has this kid?".
#[derive(Clone)]
pub enum KeyLookup {
    Found(Arc<DecodingKey>),
    /// Keys are loaded, but none has this kid.
    Unknown,
    /// No key set has ever loaded (the identity provider has not answered yet).
    Unavailable,
}

/// What `/health` reports about the keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeysStatus {
    pub loaded: usize,
    /// Seconds since the set was last fetched; `None` for fixed keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_secs: Option<u64>,
}

/// A source of trusted RSA signing keys.
pub trait SigningKeys: Send + Sync {
    /// From what is loaded now; never waits.
    fn cached(&self, kid: &str) -> KeyLookup;

    /// Called for a kid that `cached` did not know: the source may refresh, then answers.
    fn refresh_for<'a>(&'a self, kid: &'a str) -> LocalBoxFuture<'a, KeyLookup>;

    fn status(&self) -> KeysStatus;
}

/// A fixed set of keys (local mode's development key).
pub struct StaticKeys {
    keys: HashMap<String, Arc<DecodingKey>>,
}

impl StaticKeys {
    pub fn new(keys: impl IntoIterator<Item = (String, DecodingKey)>) -> Self {
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

    fn refresh_for<'a>(&'a self, kid: &'a str) -> LocalBoxFuture<'a, KeyLookup> {
        Box::pin(ready(self.cached(kid)))
    }

    fn status(&self) -> KeysStatus {
        KeysStatus { loaded: self.keys.len(), age_secs: None }
    }
}
