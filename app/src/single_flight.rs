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
    /// If the running caller goes away, a waiting one takes the work over; if the last caller
    /// goes away (a client reset drops its request), the run is dropped and nothing is left.
    pub async fn run<F, Fut>(&self, key: &K, work: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let flight = self.lock().entry(key.clone()).or_insert_with(|| Arc::new(OnceCell::new())).clone();
        let seat = Seat { flights: self, key, flight: Some(flight) };
        let flight = seat.flight.as_ref().expect("a seat holds its flight until dropped");
        flight.get_or_init(work).await.clone()
    }

    /// Detaches the runs under way for the keys `which` selects: their callers still get
    /// their result, but later calls start a run of their own (e.g. the data changed).
    pub fn forget(&self, which: impl Fn(&K) -> bool) {
        self.lock().retain(|key, _| !which(key));
    }

    /// `forget` for one key, without looking at the others.
    pub fn forget_key(&self, key: &K) {
        self.lock().remove(key);
    }

    /// Whether a run for `key` is under way now.
    pub fn is_running(&self, key: &K) -> bool {
        self.lock().contains_key(key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Arc<OnceCell<V>>>> {
        crate::sync::lock(&self.flights)
    }
}

/// One caller's place on a flight; leaving it, however the call ends, clears the flight when
/// it is done (the first caller back, so the next call runs afresh) or when nobody else waits.
struct Seat<'a, K: Eq + Hash, V> {
    flights: &'a SingleFlight<K, V>,
    key: &'a K,
    flight: Option<Arc<OnceCell<V>>>,
}

impl<K: Eq + Hash, V> Drop for Seat<'_, K, V> {
    fn drop(&mut self) {
        let mut flights = crate::sync::lock(&self.flights.flights);
        let Some(flight) = self.flight.take() else { return };
        let current = flights.get(self.key).is_some_and(|entry| Arc::ptr_eq(entry, &flight));
        // Two references: the map's and this seat's. Callers join under this lock, and each
        // drops its reference under it too, so the count cannot be about to change.
        let nobody_waits = Arc::strong_count(&flight) == 2;
        if current && (flight.initialized() || nobody_waits) {
            flights.remove(self.key);
        }
        drop(flight);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
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

    #[actix_web::test]
    async fn a_run_whose_only_caller_goes_away_leaves_nothing_behind() {
        let flights: SingleFlight<&str, usize> = SingleFlight::default();
        {
            let run = flights.run(&"k", std::future::pending::<usize>);
            futures_util::pin_mut!(run);
            assert!(run.as_mut().now_or_never().is_none());
            assert!(flights.is_running(&"k"));
        } // The caller goes away (a client reset drops its request's future).
        assert!(!flights.is_running(&"k"), "no flight left without a waiter");
        assert_eq!(flights.lock().len(), 0);
        assert_eq!(flights.run(&"k", || async { 7 }).await, 7);
    }

    #[actix_web::test]
    async fn a_forgotten_run_is_not_joined_by_later_calls() {
        let flights: SingleFlight<&str, usize> = SingleFlight::default();
        let mut old = Box::pin(flights.run(&"k", std::future::pending::<usize>));
        assert!(old.as_mut().now_or_never().is_none());
        flights.forget(|key| *key == "k");
        assert!(!flights.is_running(&"k"));
        let mut newer = Box::pin(flights.run(&"k", std::future::pending::<usize>));
        assert!(newer.as_mut().now_or_never().is_none(), "a run of its own, not the old one's");
        drop(old);
        assert!(flights.is_running(&"k"), "the old run's caller leaving does not clear the newer run");
        drop(newer);
        assert_eq!(flights.run(&"k", || async { 3 }).await, 3);
    }

    #[actix_web::test]
    async fn a_waiter_takes_over_when_the_first_caller_goes_away() {
        let flights: SingleFlight<&str, usize> = SingleFlight::default();
        // Boxed, so that dropping one drops the future itself.
        let mut first = Box::pin(flights.run(&"k", std::future::pending::<usize>));
        let mut second = Box::pin(flights.run(&"k", || async { 2 }));
        assert!(first.as_mut().now_or_never().is_none());
        assert!(second.as_mut().now_or_never().is_none(), "the second waits for the first's run");
        drop(first);
        assert!(flights.is_running(&"k"), "the second still waits: the flight stays");
        assert_eq!(second.await, 2, "and runs the work itself");
        assert!(!flights.is_running(&"k"));
    }
}
