//! The cache in front of every secret store: fresh reads for a TTL, one upstream read per
//! secret at a time (single flight), not-found answers remembered briefly, the last good value
//! served while the store is briefly unwell (stale-if-error), and each caller's miss budget.
//! Bounded in size by quick_cache (S3-FIFO-like eviction in O(1): entries read once, such as a
//! flood of missing names, leave before the secrets in use; hits take a shard's read lock only).
//! Names are case-insensitive (`SecretName`), so every casing of a name is one entry.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::LocalBoxFuture;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use vaultgate_config::secrets_settings::SecretCacheSettings;

use super::miss_budget::{CallerId, MissBudget};
use super::{Secret, SecretName, SecretStore, SecretVersion, StoreError};
use crate::single_flight::SingleFlight;

type Key = (SecretName, Option<SecretVersion>);

#[derive(Clone)]
enum Cached {
    Found(Arc<Secret>),
    Missing,
}

#[derive(Clone)]
struct Entry {
    cached: Cached,
    fetched_at: Instant,
    fresh_until: Instant,
    /// Never served after this, fresh or stale (the secret's own `exp`, or `max_stale`).
    usable_until: Instant,
}

/// Counts for `/metrics` and tests.
#[derive(Default)]
pub struct CacheStats {
    pub hits: Counter,
    pub misses: Counter,
    pub stale_served: Counter,
}

pub struct SecretCache {
    inner: Arc<dyn SecretStore>,
    settings: SecretCacheSettings,
    entries: quick_cache::sync::Cache<Key, Entry>,
    flights: SingleFlight<Key, Result<Arc<Secret>, StoreError>>,
    budget: MissBudget,
    stats: CacheStats,
}

impl SecretCache {
    pub fn new(inner: Arc<dyn SecretStore>, settings: SecretCacheSettings) -> Self {
        SecretCache {
            inner,
            entries: quick_cache::sync::Cache::new(settings.max_entries),
            budget: MissBudget::new(settings.miss_budget),
            settings,
            flights: SingleFlight::default(),
            stats: CacheStats::default(),
        }
    }

    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    /// Registers the cache and miss-budget counters for `/metrics`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register("secret_cache_hits", "Secret reads answered from the cache", self.stats.hits.clone());
        registry.register("secret_cache_misses", "Secret reads that went to the store", self.stats.misses.clone());
        registry.register(
            "secret_cache_stale_served",
            "Cached secrets served because the store failed",
            self.stats.stale_served.clone(),
        );
        self.budget.register(registry);
    }

    fn fresh(&self, key: &Key, now: Instant) -> Option<Result<Arc<Secret>, StoreError>> {
        let entry = self.entries.get(key).filter(|e| now < e.fresh_until && now < e.usable_until)?;
        Some(match entry.cached {
            Cached::Found(secret) => Ok(secret),
            Cached::Missing => Err(StoreError::NotFound),
        })
    }

    /// Reads `name` for `caller`: a cache hit is always served; a miss is refused while the
    /// caller has spent its miss budget, and a fruitless store read is counted against it.
    /// `None` (vaultgate's own reads, e.g. `vaultgate check`) has no budget.
    pub async fn read_for(
        &self,
        caller: Option<&CallerId>,
        name: &SecretName,
        version: Option<&SecretVersion>,
    ) -> Result<Arc<Secret>, StoreError> {
        let key = (name.clone(), version.cloned());
        let now = Instant::now();
        if let Some(answer) = self.fresh(&key, now) {
            self.stats.hits.inc();
            return answer;
        }
        if let Some(caller) = caller {
            self.budget
                .check(caller, now)
                .map_err(|retry_after_secs| StoreError::MissBudgetSpent { retry_after_secs })?;
        }
        self.stats.misses.inc();
        self.flights.run(&key, || self.fetch(&key, caller)).await
    }

    /// One upstream read, its outcome cached; on a transient failure, the last good value if
    /// usable. A fruitless read is charged to the caller whose read this is.
    async fn fetch(&self, key: &Key, caller: Option<&CallerId>) -> Result<Arc<Secret>, StoreError> {
        // A flight that ended just before this one began may have refreshed the entry.
        if let Some(answer) = self.fresh(key, Instant::now()) {
            return answer;
        }
        let result = self.inner.get(&key.0, key.1.as_ref()).await;
        let now = Instant::now();
        if let (Some(caller), Err(error)) = (caller, &result)
            && error.is_fruitless()
        {
            self.budget.charge(caller, now);
        }
        match result {
            Ok(secret) => {
                // Explicit versions too: a version can be disabled, and that must show within the TTL.
                let ttl = self.settings.ttl;
                let usable_until = bounded_by_exp(now + self.settings.max_stale.max(ttl), secret.expires_at, now);
                self.insert(key, Cached::Found(secret.clone()), now, (now + ttl).min(usable_until), usable_until);
                Ok(secret)
            }
            Err(StoreError::NotFound) => {
                let until = now + self.settings.negative_ttl;
                self.insert(key, Cached::Missing, now, until, until);
                Err(StoreError::NotFound)
            }
            Err(error) if error.may_serve_stale() => match self.stale(key, now) {
                Some((secret, age)) => {
                    self.stats.stale_served.inc();
                    log::warn!(
                        "secret {} served from cache ({}s old) while the store fails: {error}",
                        key.0,
                        age.as_secs()
                    );
                    Ok(secret)
                }
                None => Err(error),
            },
            Err(error) => {
                // Disabled, or access refused: what was cached must not come back later as a
                // stale answer to some other failure.
                if error.is_fruitless() {
                    self.entries.remove(key);
                }
                Err(error)
            }
        }
    }

    fn stale(&self, key: &Key, now: Instant) -> Option<(Arc<Secret>, Duration)> {
        let entry = self.entries.get(key).filter(|e| now < e.usable_until)?;
        match entry.cached {
            Cached::Found(secret) => Some((secret, now - entry.fetched_at)),
            Cached::Missing => None,
        }
    }

    fn insert(&self, key: &Key, cached: Cached, now: Instant, fresh_until: Instant, usable_until: Instant) {
        self.entries.insert(key.clone(), Entry { cached, fetched_at: now, fresh_until, usable_until });
    }
}

/// `until`, but not past the secret's own expiry (`exp`, seconds since the epoch).
fn bounded_by_exp(until: Instant, exp: Option<i64>, now: Instant) -> Instant {
    let Some(exp) = exp else { return until };
    let left = Duration::from_secs(exp.saturating_sub(crate::clock::unix_now()).max(0) as u64);
    until.min(now + left)
}

impl SecretStore for SecretCache {
    fn get<'a>(
        &'a self,
        name: &'a SecretName,
        version: Option<&'a SecretVersion>,
    ) -> LocalBoxFuture<'a, Result<Arc<Secret>, StoreError>> {
        Box::pin(self.read_for(None, name, version))
    }

    fn probe(&self) -> LocalBoxFuture<'_, Result<(), String>> {
        self.inner.probe()
    }

    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretValue;
    use std::cell::RefCell;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A store answering from a script, counting calls.
    struct Scripted {
        answers: Mutex<RefCell<Vec<Result<Secret, StoreError>>>>,
        calls: AtomicU64,
    }

    impl SecretStore for Scripted {
        fn get<'a>(
            &'a self,
            _: &'a SecretName,
            _: Option<&'a SecretVersion>,
        ) -> LocalBoxFuture<'a, Result<Arc<Secret>, StoreError>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let answer = self.answers.lock().unwrap().borrow_mut().remove(0);
            Box::pin(std::future::ready(answer.map(Arc::new)))
        }
        fn probe(&self) -> LocalBoxFuture<'_, Result<(), String>> {
            Box::pin(std::future::ready(Ok(())))
        }
        fn kind(&self) -> &'static str {
            "scripted"
        }
    }

    fn secret(value: &str, expires_at: Option<i64>) -> Secret {
        Secret {
            name: "s".into(),
            value: SecretValue::new(value.into()),
            version: "v".into(),
            content_type: None,
            expires_at,
            validity: None,
        }
    }

    fn cache(
        answers: Vec<Result<Secret, StoreError>>,
        ttl: u64,
        max_stale: u64,
        max_entries: usize,
    ) -> (Arc<Scripted>, SecretCache) {
        let store = Arc::new(Scripted { answers: Mutex::new(RefCell::new(answers)), calls: AtomicU64::new(0) });
        let settings = SecretCacheSettings {
            ttl: Duration::from_secs(ttl),
            max_stale: Duration::from_secs(max_stale),
            negative_ttl: Duration::from_secs(30),
            max_entries,
            miss_budget: 30,
        };
        (store.clone(), SecretCache::new(store, settings))
    }

    fn name(n: &str) -> SecretName {
        SecretName::parse(n).unwrap()
    }

    #[actix_web::test]
    async fn a_fresh_read_is_served_from_the_cache() {
        let (store, cache) = cache(vec![Ok(secret("a", None))], 300, 3600, 10);
        assert_eq!(cache.get(&name("s"), None).await.unwrap().value.expose(), "a");
        assert_eq!(cache.get(&name("s"), None).await.unwrap().value.expose(), "a");
        assert_eq!(store.calls.load(Ordering::SeqCst), 1);
    }

    #[actix_web::test]
    async fn a_zero_ttl_reads_every_time_and_serves_stale_on_failure() {
        let answers = vec![Ok(secret("a", None)), Err(StoreError::unavailable("down"))];
        let (store, cache) = cache(answers, 0, 3600, 10);
        cache.get(&name("s"), None).await.unwrap();
        assert_eq!(cache.get(&name("s"), None).await.unwrap().value.expose(), "a");
        assert_eq!(store.calls.load(Ordering::SeqCst), 2);
        assert_eq!(cache.stats().stale_served.get(), 1);
    }

    #[actix_web::test]
    async fn an_expired_secret_is_never_served_stale() {
        let past = crate::clock::unix_now() - 1;
        let answers = vec![Ok(secret("a", Some(past))), Err(StoreError::unavailable("down"))];
        let (_, cache) = cache(answers, 300, 3600, 10);
        cache.get(&name("s"), None).await.unwrap();
        assert_eq!(cache.get(&name("s"), None).await.unwrap_err(), StoreError::unavailable("down"));
    }

    #[actix_web::test]
    async fn only_transient_failures_are_covered_by_the_last_good_value() {
        let credential =
            StoreError::Failed { reason: super::super::FailureReason::Credential, detail: "no token".into() };
        for (failure, covered) in [
            (StoreError::unavailable("503"), true),
            (StoreError::Throttled { retry_after_secs: 1 }, true),
            (StoreError::refused("403 ForbiddenByRbac"), false),
            (StoreError::unusable("bad JSON"), false),
            (credential, false),
        ] {
            let answers = vec![Ok(secret("a", None)), Err(failure.clone()), Err(StoreError::unavailable("503"))];
            let (_, cache) = cache(answers, 0, 3600, 10);
            cache.get(&name("s"), None).await.unwrap();
            let answer = cache.get(&name("s"), None).await;
            if covered {
                assert_eq!(answer.unwrap().value.expose(), "a", "{failure}");
            } else {
                assert_eq!(answer.unwrap_err(), failure, "{failure}");
                // A refusal also forgets the value, so a later outage cannot bring it back.
                let later = cache.get(&name("s"), None).await;
                assert_eq!(later.is_ok(), !failure.is_fruitless(), "{failure}: {later:?}");
            }
        }
    }

    /// A store whose answers wait for a signal, counting calls.
    struct Gated {
        open: tokio::sync::watch::Receiver<bool>,
        calls: AtomicU64,
    }

    impl SecretStore for Gated {
        fn get<'a>(
            &'a self,
            _: &'a SecretName,
            _: Option<&'a SecretVersion>,
        ) -> LocalBoxFuture<'a, Result<Arc<Secret>, StoreError>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let mut open = self.open.clone();
            Box::pin(async move {
                let _ = open.wait_for(|o| *o).await;
                Ok(Arc::new(secret("gated", None)))
            })
        }
        fn probe(&self) -> LocalBoxFuture<'_, Result<(), String>> {
            Box::pin(std::future::ready(Ok(())))
        }
        fn kind(&self) -> &'static str {
            "gated"
        }
    }

    #[actix_web::test]
    async fn concurrent_misses_share_one_read_even_without_a_ttl() {
        let (open, gate) = tokio::sync::watch::channel(false);
        let store = Arc::new(Gated { open: gate, calls: AtomicU64::new(0) });
        let settings = SecretCacheSettings {
            ttl: Duration::ZERO,
            max_stale: Duration::ZERO,
            negative_ttl: Duration::ZERO,
            max_entries: 10,
            miss_budget: 30,
        };
        let cache = SecretCache::new(store.clone(), settings);
        let secret_name = name("s");
        let reads = futures_util::future::join_all((0..50).map(|_| cache.get(&secret_name, None)));
        let opener = async {
            open.send(true).unwrap();
        };
        let (answers, ()) = futures_util::future::join(reads, opener).await;
        assert!(answers.iter().all(|a| a.as_ref().unwrap().value.expose() == "gated"));
        assert_eq!(store.calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.stats().misses.get(), 50);
    }

    /// A store holding one secret, `hot`, counting reads of it.
    struct OneSecret {
        hot_reads: AtomicU64,
    }

    impl SecretStore for OneSecret {
        fn get<'a>(
            &'a self,
            name: &'a SecretName,
            _: Option<&'a SecretVersion>,
        ) -> LocalBoxFuture<'a, Result<Arc<Secret>, StoreError>> {
            let answer = if name.as_str() == "hot" {
                self.hot_reads.fetch_add(1, Ordering::SeqCst);
                Ok(Arc::new(secret("hot-value", None)))
            } else {
                Err(StoreError::NotFound)
            };
            Box::pin(std::future::ready(answer))
        }
        fn probe(&self) -> LocalBoxFuture<'_, Result<(), String>> {
            Box::pin(std::future::ready(Ok(())))
        }
        fn kind(&self) -> &'static str {
            "one-secret"
        }
    }

    #[actix_web::test]
    async fn a_flood_of_missing_names_does_not_evict_a_secret_in_use() {
        let store = Arc::new(OneSecret { hot_reads: AtomicU64::new(0) });
        let settings = SecretCacheSettings {
            ttl: Duration::from_secs(300),
            max_stale: Duration::from_secs(3600),
            negative_ttl: Duration::from_secs(30),
            max_entries: 100,
            miss_budget: 30,
        };
        let cache = SecretCache::new(store.clone(), settings);
        for _ in 0..3 {
            cache.get(&name("hot"), None).await.unwrap();
        }
        for i in 0..1000 {
            assert_eq!(cache.get(&name(&format!("missing-{i}")), None).await.unwrap_err(), StoreError::NotFound);
            if i % 10 == 0 {
                cache.get(&name("hot"), None).await.unwrap();
            }
        }
        assert_eq!(store.hot_reads.load(Ordering::SeqCst), 1, "the secret in use stayed cached");
    }

    #[actix_web::test]
    async fn the_cache_is_bounded() {
        let answers = (0..5).map(|i| Ok(secret(&i.to_string(), None))).collect();
        let (_, cache) = cache(answers, 300, 3600, 2);
        for n in ["a", "b", "c", "d", "e"] {
            cache.get(&name(n), None).await.unwrap();
        }
        assert_eq!(cache.entries.len(), 2);
    }
}
