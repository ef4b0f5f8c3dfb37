//! Key rollovers: during one, Entra's front ends answer different key sets for a while, so a
//! refreshed set is merged into the trusted one by `kid` rather than replacing it. A key
//! missing from a newer set stays trusted for a grace period, then is dropped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::signing_keys::VerifyingKey;

struct TrustedKey {
    key: Arc<VerifyingKey>,
    /// When a refreshed set first came without this key; `None` while sets still have it.
    missing_since: Option<Instant>,
}

/// The trusted keys by `kid`.
pub(super) struct KeySet {
    keys: HashMap<String, TrustedKey>,
    pub(super) fetched_at: Instant,
}

/// Which kids a refresh brought and took away, for the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Rollover {
    /// New in this set.
    pub(super) added: Vec<String>,
    /// Missing from this set for the first time: still trusted for the grace period.
    pub(super) withdrawn: Vec<String>,
    /// No longer trusted: missing for longer than the grace period (at once with no grace).
    pub(super) dropped: Vec<String>,
}

impl Rollover {
    pub(super) fn is_empty(&self) -> bool {
        self.added.is_empty() && self.withdrawn.is_empty() && self.dropped.is_empty()
    }
}

impl KeySet {
    /// The first set: every key trusted.
    pub(super) fn first(fresh: HashMap<String, VerifyingKey>, now: Instant) -> KeySet {
        let keys =
            fresh.into_iter().map(|(kid, key)| (kid, TrustedKey { key: Arc::new(key), missing_since: None })).collect();
        KeySet { keys, fetched_at: now }
    }

    /// This set updated with `fresh` (never empty: an empty or unparsable answer is an error
    /// before it gets here): its keys are trusted, and a key it lacks stays for `grace` from
    /// the first set that lacked it.
    pub(super) fn merge(
        &self,
        fresh: HashMap<String, VerifyingKey>,
        now: Instant,
        grace: Duration,
    ) -> (KeySet, Rollover) {
        let mut rollover = Rollover::default();
        let mut keys = HashMap::with_capacity(self.keys.len().max(fresh.len()));
        for (kid, trusted) in &self.keys {
            if fresh.contains_key(kid) {
                continue;
            }
            let missing_since = trusted.missing_since.unwrap_or(now);
            if within_grace(missing_since, now, grace) {
                if trusted.missing_since.is_none() {
                    rollover.withdrawn.push(kid.clone());
                }
                keys.insert(kid.clone(), TrustedKey { key: trusted.key.clone(), missing_since: Some(missing_since) });
            } else {
                rollover.dropped.push(kid.clone());
            }
        }
        for (kid, key) in fresh {
            if !self.keys.contains_key(&kid) {
                rollover.added.push(kid.clone());
            }
            keys.insert(kid, TrustedKey { key: Arc::new(key), missing_since: None });
        }
        rollover.added.sort();
        rollover.withdrawn.sort();
        rollover.dropped.sort();
        (KeySet { keys, fetched_at: now }, rollover)
    }

    /// The key of `kid`, if trusted at `now`.
    pub(super) fn get(&self, kid: &str, now: Instant, grace: Duration) -> Option<Arc<VerifyingKey>> {
        let trusted = self.keys.get(kid)?;
        let in_use = trusted.missing_since.is_none_or(|since| within_grace(since, now, grace));
        in_use.then(|| trusted.key.clone())
    }

    /// How many keys are trusted at `now`.
    pub(super) fn trusted(&self, now: Instant, grace: Duration) -> usize {
        self.keys.values().filter(|t| t.missing_since.is_none_or(|since| within_grace(since, now, grace))).count()
    }
}

fn within_grace(missing_since: Instant, now: Instant, grace: Duration) -> bool {
    now.saturating_duration_since(missing_since) < grace
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(900);

    fn key() -> VerifyingKey {
        // Any 2048-bit modulus will do: these tests never verify a signature.
        let mut n = vec![0xc5u8; 256];
        n[255] = 0x01;
        VerifyingKey::from_rsa_components(&n, &[1, 0, 1]).unwrap()
    }

    fn set(kids: &[&str]) -> HashMap<String, VerifyingKey> {
        kids.iter().map(|kid| (kid.to_string(), key())).collect()
    }

    fn kids(list: &[&str]) -> Vec<String> {
        list.iter().map(|kid| kid.to_string()).collect()
    }

    #[test]
    fn a_missing_key_stays_for_the_grace_period_then_goes() {
        let start = Instant::now();
        let first = KeySet::first(set(&["a", "b"]), start);
        let (second, rollover) = first.merge(set(&["b", "c"]), start + Duration::from_secs(60), GRACE);
        assert_eq!(rollover, Rollover { added: kids(&["c"]), withdrawn: kids(&["a"]), dropped: vec![] });
        let later = start + Duration::from_secs(60) + GRACE - Duration::from_secs(1);
        assert!(second.get("a", later, GRACE).is_some(), "within the grace period");
        assert_eq!(second.trusted(later, GRACE), 3);
        let past = start + Duration::from_secs(60) + GRACE;
        assert!(second.get("a", past, GRACE).is_none(), "the grace period counts from the first set without it");
        assert_eq!(second.trusted(past, GRACE), 2);

        // Another set without it, before the grace ends, does not restart the clock.
        let (third, rollover) = second.merge(set(&["b", "c"]), start + Duration::from_secs(120), GRACE);
        assert!(rollover.is_empty(), "{rollover:?}");
        assert!(third.get("a", past, GRACE).is_none());
        // Once past, a refresh drops it for good.
        let (fourth, rollover) = third.merge(set(&["b", "c"]), past, GRACE);
        assert_eq!(rollover, Rollover { dropped: kids(&["a"]), ..Rollover::default() });
        assert!(fourth.get("a", past, GRACE).is_none());
    }

    #[test]
    fn a_key_that_comes_back_is_trusted_again_without_a_clock() {
        let start = Instant::now();
        let first = KeySet::first(set(&["a", "b"]), start);
        let (flicker, _) = first.merge(set(&["b"]), start, GRACE);
        let (back, rollover) = flicker.merge(set(&["a", "b"]), start + Duration::from_secs(10), GRACE);
        assert!(rollover.is_empty(), "a kid back from its grace period is not new: {rollover:?}");
        assert!(back.get("a", start + GRACE * 10, GRACE).is_some());
    }

    #[test]
    fn no_grace_drops_a_missing_key_at_once() {
        let start = Instant::now();
        let first = KeySet::first(set(&["a", "b"]), start);
        let (second, rollover) = first.merge(set(&["b"]), start, Duration::ZERO);
        assert_eq!(rollover, Rollover { dropped: kids(&["a"]), ..Rollover::default() });
        assert!(second.get("a", start, Duration::ZERO).is_none());
        assert!(second.get("b", start, Duration::ZERO).is_some());
    }
}
