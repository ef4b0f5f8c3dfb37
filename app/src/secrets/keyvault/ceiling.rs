//! vaultgate's own ceiling on GETs sent to Key Vault (`KEY_VAULT_MAX_GETS_PER_10S`), kept under
//! Key Vault's 4,000 per 10 s so that a flood of misses from many callers throttles vaultgate's
//! misses, not the vault that other applications share. Past it a miss answers 503 without a
//! call; cached secrets are still served (the cache sits in front, and stale-if-error covers
//! entries past their TTL).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;

use crate::secrets::StoreError;
use crate::secrets::sliding_window::{SlidingWindow, retry_after_secs};

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
            StoreError::Throttled { retry_after_secs: retry_after_secs(wait) }
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
        assert!(matches!(ceiling.take(), Err(StoreError::Throttled { retry_after_secs: 1..=10 })));
        assert_eq!(ceiling.refusals.get(), 1);
    }
}
