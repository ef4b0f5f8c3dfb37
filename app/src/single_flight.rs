//! Single flight: concurrent calls for the same key share one run of the work and its
//! result. Used for secret reads and credential tokens, so a burst of callers costs one
//! upstream call.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

pub struct SingleFlight<K, V> {
    flights: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Default for SingleFlight<K, V> {
    fn default() -> Self {
        SingleFlight { flights: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> SingleFlight<K, V> {
    /// Runs `work` for `key`, or waits for the run already under way and takes its result.
    /// If the running caller goes away, a waiting one takes the work over.
    pub async fn run<F, Fut>(&self, key: &K, work: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let flight = self.lock().entry(key.clone()).or_insert_with(|| Arc::new(OnceCell::new())).clone();
        let value = flight.get_or_init(work).await.clone();
        // The first caller back clears the flight, so the next call starts a fresh run.
        let mut flights = self.lock();
        if flights.get(key).is_some_and(|current| Arc::ptr_eq(current, &flight)) {
            flights.remove(key);
        }
        value
    }

    /// Whether a run for `key` is under way now.
    pub fn is_running(&self, key: &K) -> bool {
        self.lock().contains_key(key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Arc<OnceCell<V>>>> {
        crate::sync::lock(&self.flights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[actix_web::test]
    async fn concurrent_calls_share_one_run() {
        let flights: SingleFlight<&str, usize> = SingleFlight::default();
        let runs = AtomicUsize::new(0);
        let (release, wait) = tokio::sync::watch::channel(false);
        let work = || {
            let mut wait = wait.clone();
            let runs = &runs;
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                let _ = wait.wait_for(|go| *go).await;
                42
            }
        };
        let calls = futures_util::future::join_all((0..10).map(|_| flights.run(&"k", work)));
        let releaser = async {
            release.send(true).unwrap();
        };
        let (results, ()) = futures_util::future::join(calls, releaser).await;
        assert_eq!(results, vec![42; 10]);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Afterwards a new call runs afresh.
        assert_eq!(flights.run(&"k", || async { 7 }).await, 7);
    }
}
