//! Verified tokens, remembered by the SHA-256 of the whole token, so a caller reusing its
//! token skips signature verification and claim parsing. Refusals that can never turn into
//! acceptance (bad signature, wrong audience, expired, ...) are remembered too, so replaying a
//! bad token costs as little as a good one. Bounded: two generations of at most half the
//! capacity each; when the newer fills up, the older is dropped whole.
//!
//! Verified tokens and refusals are kept apart, each with that bound: anyone can mint
//! refusals at will (a random signature under a trusted kid), and a flood of them must
//! neither push verified tokens out nor turn their generations over.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::Claims;
use super::refusal::TokenRefusal;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

pub type TokenDigest = [u8; 32];

pub fn digest(token: &str) -> TokenDigest {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    digest.as_ref().try_into().expect("SHA-256 is 32 bytes")
}

#[derive(Clone)]
pub enum Verdict {
    /// Verified with the key `kid`; still re-checked against the current key set on use.
    Valid {
        claims: Arc<Claims>,
        kid: Arc<str>,
    },
    Refused(TokenRefusal),
}

#[derive(Clone)]
struct Entry {
    verdict: Verdict,
    /// Unix seconds after which the entry is ignored.
    until: i64,
}

/// Two generations of at most `generation_size` entries each.
struct Generations {
    generation_size: usize,
    maps: RwLock<[HashMap<TokenDigest, Entry>; 2]>,
    /// How often the newer generation filled up and the older was dropped.
    turnovers: Counter,
}

impl Generations {
    fn new(generation_size: usize) -> Self {
        Generations { generation_size, maps: RwLock::new(Default::default()), turnovers: Counter::default() }
    }

    fn get(&self, digest: &TokenDigest, now: i64) -> Option<Verdict> {
        let [current, previous] = &*crate::sync::read(&self.maps);
        let entry = current.get(digest).or_else(|| previous.get(digest));
        entry.filter(|e| now <= e.until).map(|e| e.verdict.clone())
    }

    fn insert(&self, digest: TokenDigest, entry: Entry) {
        let mut maps = crate::sync::write(&self.maps);
        let [current, previous] = &mut *maps;
        if current.len() >= self.generation_size {
            *previous = std::mem::take(current);
            self.turnovers.inc();
        }
        current.insert(digest, entry);
    }

    fn len(&self) -> usize {
        let [current, previous] = &*crate::sync::read(&self.maps);
        current.len() + previous.len()
    }
}

pub struct VerdictCache {
    verified: Generations,
    refused: Generations,
    hits: Counter,
    misses: Counter,
}

impl VerdictCache {
    /// Up to `capacity` verified tokens and, apart, up to `capacity` refusals.
    pub fn new(capacity: usize) -> Self {
        let generation_size = (capacity / 2).max(1);
        VerdictCache {
            verified: Generations::new(generation_size),
            refused: Generations::new(generation_size),
            hits: Counter::default(),
            misses: Counter::default(),
        }
    }

    /// The verdict for `digest`, if one is remembered and still good at `now`.
    pub fn get(&self, digest: &TokenDigest, now: i64) -> Option<Verdict> {
        let verdict = self.verified.get(digest, now).or_else(|| self.refused.get(digest, now));
        match verdict {
            Some(_) => self.hits.inc(),
            None => self.misses.inc(),
        };
        verdict
    }

    pub fn insert(&self, digest: TokenDigest, verdict: Verdict, until: i64) {
        let generations = match verdict {
            Verdict::Valid { .. } => &self.verified,
            Verdict::Refused(_) => &self.refused,
        };
        generations.insert(digest, Entry { verdict, until });
    }

    /// Entries held, verified and refused together.
    pub fn len(&self) -> usize {
        self.verified.len() + self.refused.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "token_cache_hits",
            "Bearer tokens answered from the verified-token cache",
            self.hits.clone(),
        );
        registry.register("token_cache_misses", "Bearer tokens verified in full", self.misses.clone());
        registry.register(
            "token_cache_turnovers",
            "Times the verified-token cache's newer generation filled up and the older was dropped",
            self.verified.turnovers.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_size_is_bounded() {
        let cache = VerdictCache::new(4);
        cache.insert(digest("a"), Verdict::Refused(TokenRefusal::BadSignature), 100);
        assert!(cache.get(&digest("a"), 100).is_some());
        assert!(cache.get(&digest("a"), 101).is_none(), "past its time");
        for i in 0..100 {
            cache.insert(digest(&i.to_string()), Verdict::Refused(TokenRefusal::BadSignature), 1000);
        }
        assert!(cache.len() <= 4, "{}", cache.len());
        assert!(cache.get(&digest("99"), 0).is_some(), "the newest stays");
        assert_eq!(cache.hits.get(), 2);
        assert_eq!(cache.misses.get(), 1);
    }

    fn valid() -> Verdict {
        let claims = Claims {
            oid: None,
            appid: None,
            tid: None,
            sub: None,
            roles: None,
            scopes: None,
            issuer: String::new(),
            expires_at: 0,
        };
        Verdict::Valid { claims: Arc::new(claims), kid: Arc::from("k") }
    }

    #[test]
    fn refusals_never_turn_verified_tokens_over() {
        let cache = VerdictCache::new(4);
        cache.insert(digest("good-1"), valid(), 1000);
        cache.insert(digest("good-2"), valid(), 1000);
        for i in 0..1000 {
            cache.insert(digest(&format!("bad-{i}")), Verdict::Refused(TokenRefusal::BadSignature), 1000);
        }
        assert_eq!(cache.verified.turnovers.get(), 0, "the verified generations never turned over");
        for good in ["good-1", "good-2"] {
            assert!(matches!(cache.get(&digest(good), 0), Some(Verdict::Valid { .. })), "{good}");
        }
        assert!(cache.len() <= 8, "each side keeps its bound: {}", cache.len());
    }
}
