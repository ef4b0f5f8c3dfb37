//! Which secrets have a refresh-ahead under way, and which are backing off after a failed one.
//! A key is refreshed once at a time; after a failure no refresh of it starts for a jittered
//! back-off (1 s, doubling per failure in a row, at most 60 s), so reads of a secret whose
//! store fails (or whose GET ceiling is full) start one refresh, and log one warning, per
//! back-off rather than one per read.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

pub(super) struct RefreshClaims<K> {
    states: Mutex<HashMap<K, RefreshState>>,
    /// Past this many keys, those whose back-off is over are forgotten (their count restarts).
    max_keys: usize,
}

#[derive(Default)]
struct RefreshState {
    running: bool,
    /// Failures in a row; the next back-off doubles with each.
    failures: u32,
    /// No refresh starts before this.
    not_before: Option<Instant>,
}

impl<K: Eq + Hash + Clone> RefreshClaims<K> {
    pub fn new(max_keys: usize) -> Self {
        RefreshClaims { states: Mutex::new(HashMap::new()), max_keys }
    }

    /// Claims `key` for a refresh, unless one is under way or its back-off is not over.
    pub fn claim(self: &Arc<Self>, key: &K, now: Instant) -> Option<RefreshClaim<K>> {
        let mut states = crate::sync::lock(&self.states);
        let state = states.entry(key.clone()).or_default();
        if state.running || state.not_before.is_some_and(|not_before| now < not_before) {
            return None;
        }
        state.running = true;
        Some(RefreshClaim { claims: self.clone(), key: key.clone(), ended: false })
    }

    /// Whether a refresh of `key` is under way.
    pub fn is_running(&self, key: &K) -> bool {
        crate::sync::lock(&self.states).get(key).is_some_and(|state| state.running)
    }

    fn end(&self, key: &K, failed_at: Option<Instant>) -> Option<Duration> {
        let mut states = crate::sync::lock(&self.states);
        let Some(failed_at) = failed_at else {
            states.remove(key);
            return None;
        };
        let state = states.entry(key.clone()).or_default();
        let backoff = crate::backoff::exponential(FIRST_BACKOFF, MAX_BACKOFF, state.failures);
        state.running = false;
        state.failures = state.failures.saturating_add(1);
        state.not_before = Some(failed_at + backoff);
        if states.len() > self.max_keys {
            states
                .retain(|_, state| state.running || state.not_before.is_some_and(|not_before| failed_at < not_before));
        }
        Some(backoff)
    }

    fn release(&self, key: &K) {
        let mut states = crate::sync::lock(&self.states);
        match states.get_mut(key) {
            Some(state) if state.failures > 0 => state.running = false,
            _ => {
                states.remove(key);
            }
        }
    }
}

/// A key's refresh under way; released however the refresh ends.
pub(super) struct RefreshClaim<K: Eq + Hash + Clone> {
    claims: Arc<RefreshClaims<K>>,
    key: K,
    ended: bool,
}

impl<K: Eq + Hash + Clone> RefreshClaim<K> {
    pub fn succeeded(mut self) {
        self.ended = true;
        self.claims.end(&self.key, None);
    }

    /// Returns the back-off before the next refresh of the key may start.
    pub fn failed(mut self, now: Instant) -> Duration {
        self.ended = true;
        self.claims.end(&self.key, Some(now)).expect("a failure has a back-off")
    }
}

impl<K: Eq + Hash + Clone> Drop for RefreshClaim<K> {
    fn drop(&mut self) {
        // A refresh that never finished (its task was dropped at shutdown) leaves no back-off.
        if !self.ended {
            self.claims.release(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_refresh_backs_off_doubling_up_to_a_minute() {
        let claims = Arc::new(RefreshClaims::new(100));
        let start = Instant::now();
        let claim = claims.claim(&"k", start).expect("nothing under way");
        assert!(claims.claim(&"k", start).is_none(), "one at a time");
        assert!(claims.is_running(&"k"));
        let first = claim.failed(start);
        assert!(first >= Duration::from_millis(800) && first <= Duration::from_millis(1200), "{first:?}");
        assert!(!claims.is_running(&"k"));
        assert!(claims.claim(&"k", start + first - Duration::from_millis(1)).is_none(), "backing off");
        assert!(claims.claim(&"other", start).is_some(), "other keys are not held back");
        let mut at = start + first;
        let mut backoff = first;
        for _ in 0..10 {
            backoff = claims.claim(&"k", at).expect("the back-off is over").failed(at);
            at += backoff;
        }
        assert!(backoff >= Duration::from_secs(48) && backoff <= Duration::from_secs(72), "{backoff:?}");
        claims.claim(&"k", at).unwrap().succeeded();
        let again = claims.claim(&"k", at).unwrap().failed(at);
        assert!(again <= Duration::from_millis(1200), "a success starts the doubling afresh: {again:?}");
    }

    #[test]
    fn a_refresh_dropped_unfinished_leaves_no_back_off() {
        let claims = Arc::new(RefreshClaims::new(100));
        let now = Instant::now();
        drop(claims.claim(&"k", now));
        assert!(!claims.is_running(&"k"));
        assert!(claims.claim(&"k", now).is_some());
    }

    #[test]
    fn keys_past_their_back_off_are_forgotten_beyond_the_bound() {
        let claims = Arc::new(RefreshClaims::new(10));
        let start = Instant::now();
        for n in 0..100 {
            let at = start + Duration::from_secs(2 * n);
            claims.claim(&n, at).unwrap().failed(at);
        }
        assert!(crate::sync::lock(&claims.states).len() <= 11);
    }
}
