//! The cache in front of every secret store: fresh reads for a TTL, one upstream read per
//! secret at a time (single flight), not-found answers remembered briefly, and the last
//! good value served while the store fails (stale-if-error). Bounded in size.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::LocalBoxFuture;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use vaultgate_config::secrets_settings::SecretCacheSettings;

use super::{Secret, SecretName, SecretStore, SecretVersion, StoreError};
use crate::single_flight::SingleFlight;

/// Reads of an explicit version stay fresh at least this long: versions never change.
const VERSIONED_TTL: Duration = Duration::from_secs(3600);

type Key = (SecretName, Option<SecretVersion>);

#[derive(Clone)]
enum Cached {
    Found(Arc<Secret>),
    Missing,
}

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
    entries: Mutex<HashMap<Key, Entry>>,
    flights: SingleFlight<Key, Result<Arc<Secret>, StoreError>>,
    stats: CacheStats,
}

impl SecretCache {
    pub fn new(inner: Arc<dyn SecretStore>, settings: SecretCacheSettings) -> Self {
        SecretCache {
            inner,
            settings,
            entries: Mutex::new(HashMap::new()),
            flights: SingleFlight::default(),
            stats: CacheStats::default(),
        }
    }

    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    /// Registers the cache counters for `/metrics`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register("secret_cache_hits", "Secret reads answered from the cache", self.stats.hits.clone());
        registry.register("secret_cache_misses", "Secret reads that went to the store", self.stats.misses.clone());
        registry.register(
            "secret_cache_stale_served",
            "Cached secrets served because the store failed",
            self.stats.stale_served.clone(),
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        crate::sync::lock(&self.entries)
    }

    fn fresh(&self, key: &Key, now: Instant) -> Option<Result<Arc<Secret>, StoreError>> {
        let entries = self.lock();
        let entry = entries.get(key).filter(|e| now < e.fresh_until && now < e.usable_until)?;
        Some(match &entry.cached {
            Cached::Found(secret) => Ok(secret.clone()),
            Cached::Missing => Err(StoreError::NotFound),
        })
    }

    async fn read(&self, name: &SecretName, version: Option<&SecretVersion>) -> Result<Arc<Secret>, StoreError> {
        let key = (name.clone(), version.cloned());
        if let Some(answer) = self.fresh(&key, Instant::now()) {
            self.stats.hits.inc();
            return answer;
        }
        self.stats.misses.inc();
        self.flights.run(&key, || self.fetch(&key)).await
    }

    /// One upstream read, its outcome cached; on failure, the last good value if usable.
    async fn fetch(&self, key: &Key) -> Result<Arc<Secret>, StoreError> {
        // A flight that ended just before this one began may have refreshed the entry.
        if let Some(answer) = self.fresh(key, Instant::now()) {
            return answer;
        }
        let result = self.inner.get(&key.0, key.1.as_ref()).await;
        let now = Instant::now();
        match result {
            Ok(secret) => {
                let ttl = if key.1.is_some() && !self.settings.ttl.is_zero() {
                    self.settings.ttl.max(VERSIONED_TTL)
                } else {
                    self.settings.ttl
                };
                let usable_until = bounded_by_exp(now + self.settings.max_stale.max(ttl), secret.expires_at, now);
                self.insert(key, Cached::Found(secret.clone()), now, (now + ttl).min(usable_until), usable_until);
                Ok(secret)
            }
            Err(StoreError::NotFound) => {
                let until = now + self.settings.negative_ttl;
                self.insert(key, Cached::Missing, now, until, until);
                Err(StoreError::NotFound)
            }
            Err(error @ StoreError::Disabled(_)) => {
                self.lock().remove(key);
                Err(error)
            }
            Err(error) => match self.stale(key, now) {
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
        }
    }

    fn stale(&self, key: &Key, now: Instant) -> Option<(Arc<Secret>, Duration)> {
        let entries = self.lock();
        let entry = entries.get(key).filter(|e| now < e.usable_until)?;
        match &entry.cached {
            Cached::Found(secret) => Some((secret.clone(), now - entry.fetched_at)),
            Cached::Missing => None,
        }
    }

    fn insert(&self, key: &Key, cached: Cached, now: Instant, fresh_until: Instant, usable_until: Instant) {
        let mut entries = self.lock();
        if !entries.contains_key(key) && entries.len() >= self.settings.max_entries {
            entries.retain(|_, e| now < e.usable_until);
            if entries.len() >= self.settings.max_entries
                && let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.fetched_at).map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(key.clone(), Entry { cached, fetched_at: now, fresh_until, usable_until });
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
        Box::pin(self.read(name, version))
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
        let answers = vec![Ok(secret("a", None)), Err(StoreError::Failed("down".into()))];
        let (store, cache) = cache(answers, 0, 3600, 10);
        cache.get(&name("s"), None).await.unwrap();
        assert_eq!(cache.get(&name("s"), None).await.unwrap().value.expose(), "a");
        assert_eq!(store.calls.load(Ordering::SeqCst), 2);
        assert_eq!(cache.stats().stale_served.get(), 1);
    }

    #[actix_web::test]
    async fn an_expired_secret_is_never_served_stale() {
        let past = crate::clock::unix_now() - 1;
        let answers = vec![Ok(secret("a", Some(past))), Err(StoreError::Failed("down".into()))];
        let (_, cache) = cache(answers, 300, 3600, 10);
        cache.get(&name("s"), None).await.unwrap();
        assert_eq!(cache.get(&name("s"), None).await.unwrap_err(), StoreError::Failed("down".into()));
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
        assert_eq!(cache.lock().len(), 2);
    }
}
