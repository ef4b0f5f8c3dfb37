//! Verified tokens, remembered by the SHA-256 of the whole token, so a caller reusing its
//! token skips signature verification and claim parsing. Refusals that can never turn into
//! acceptance (bad signature, wrong audience, expired, ...) are remembered too, so replaying a
//! bad token costs as little as a good one. Bounded: two generations of at most half the
//! capacity each; when the newer fills up, the older is dropped whole.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use super::Claims;
use super::refusal::TokenRefusal;

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

#[derive(Default)]
struct Generations {
    current: HashMap<TokenDigest, Entry>,
    previous: HashMap<TokenDigest, Entry>,
}

pub struct VerdictCache {
    generation_size: usize,
    generations: RwLock<Generations>,
    hits: Counter,
    misses: Counter,
}

impl VerdictCache {
    pub fn new(capacity: usize) -> Self {
        VerdictCache {
            generation_size: (capacity / 2).max(1),
            generations: RwLock::new(Generations::default()),
            hits: Counter::default(),
            misses: Counter::default(),
        }
    }

    /// The verdict for `digest`, if one is remembered and still good at `now`.
    pub fn get(&self, digest: &TokenDigest, now: i64) -> Option<Verdict> {
        let generations = crate::sync::read(&self.generations);
        let entry = generations.current.get(digest).or_else(|| generations.previous.get(digest));
        let verdict = entry.filter(|e| now <= e.until).map(|e| e.verdict.clone());
        match verdict {
            Some(_) => self.hits.inc(),
            None => self.misses.inc(),
        };
        verdict
    }

    pub fn insert(&self, digest: TokenDigest, verdict: Verdict, until: i64) {
        let mut generations = crate::sync::write(&self.generations);
        if generations.current.len() >= self.generation_size {
            generations.previous = std::mem::take(&mut generations.current);
        }
        generations.current.insert(digest, Entry { verdict, until });
    }

    pub fn len(&self) -> usize {
        let generations = crate::sync::read(&self.generations);
        generations.current.len() + generations.previous.len()
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
}
