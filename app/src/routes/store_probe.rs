//! `/health`'s probe of the secret store, reused for an interval so health checks never
//! hammer the store, and run once at a time.

use std::time::{Duration, Instant};

use crate::secrets::{SecretStore, StoreError};
use crate::single_flight::SingleFlight;

/// The secret store's last probe, reused for `interval` so health checks never hammer it.
pub struct StoreProbe {
    interval: Duration,
    last: std::sync::Mutex<Option<(Instant, Result<(), StoreError>)>>,
    flight: SingleFlight<(), Result<(), StoreError>>,
}

impl StoreProbe {
    pub fn new(interval: Duration) -> Self {
        StoreProbe { interval, last: std::sync::Mutex::new(None), flight: SingleFlight::default() }
    }

    /// The probe's outcome and its age.
    pub async fn check(&self, store: &dyn SecretStore) -> (Result<(), StoreError>, Duration) {
        if let Some((at, outcome)) = self.recent() {
            return (outcome, at.elapsed());
        }
        let outcome = self
            .flight
            .run(&(), || async {
                let outcome = store.probe().await;
                *crate::sync::lock(&self.last) = Some((Instant::now(), outcome.clone()));
                outcome
            })
            .await;
        (outcome, Duration::ZERO)
    }

    fn recent(&self) -> Option<(Instant, Result<(), StoreError>)> {
        let last = crate::sync::lock(&self.last);
        last.as_ref().filter(|(at, _)| at.elapsed() < self.interval).cloned()
    }
}
