//! vaultgate's own ceiling on GETs sent to Key Vault (`KEY_VAULT_MAX_GETS_PER_10S`), kept under
//! Key Vault's 4,000 per 10 s so that a flood of misses from many callers throttles vaultgate's
//! misses, not the vault that other applications share. Past it a miss answers 503 without a
//! call; cached secrets are still served within their TTL (the cache sits in front), never
//! past it: the refusal is not a vault failure, so stale-if-error does not cover it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;

use crate::secrets::sliding_window::{SlidingWindow, retry_after_secs};
use crate::secrets::{StoreError, ThrottledBy};

const WINDOW: Duration = Duration::from_secs(10);

pub struct GetCeiling {
    window: Mutex<SlidingWindow>,
    /// GETs not sent because the ceiling was reached.
    pub refusals: Counter,
}

impl GetCeiling {
    pub fn new(max_gets_per_10s: usize) -> Self {
        GetCeiling { window: Mutex::new(SlidingWindow::new(max_gets_per_10s, WINDOW)), refusals: Counter::default() }
    }

    /// Counts one GET about to be sent, or refuses it with how long to wait.
    pub fn take(&self) -> Result<(), StoreError> {
        crate::sync::lock(&self.window).take(Instant::now()).map_err(|wait| {
            self.refusals.inc();
            StoreError::Throttled { by: ThrottledBy::Ceiling, retry_after_secs: retry_after_secs(wait) }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_ceiling_with_a_retry_after() {
        let ceiling = GetCeiling::new(2);
        assert_eq!(ceiling.take(), Ok(()));
        assert_eq!(ceiling.take(), Ok(()));
        let refusal = ceiling.take().unwrap_err();
        assert!(
            matches!(refusal, StoreError::Throttled { by: ThrottledBy::Ceiling, retry_after_secs: 1..=10 }),
            "{refusal:?}"
        );
        assert!(!refusal.may_serve_stale(), "a limit of vaultgate's own, not a vault failure");
        assert!(!refusal.is_fruitless(), "not the caller's doing");
        assert_eq!(ceiling.refusals.get(), 1);
    }
}
