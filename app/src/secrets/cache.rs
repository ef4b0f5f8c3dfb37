//! The cache in front of every secret store: fresh reads for a TTL, one upstream read per
//! secret at a time (single flight), not-found answers remembered briefly, the last good value
//! served while the store is briefly unwell (stale-if-error), and each caller's miss budget.
//! Bounded in size by quick_cache (S3-FIFO-like eviction in O(1): entries read once, such as a
//! flood of missing names, leave before the secrets in use; hits take a shard's read lock only).
//! Names are case-insensitive (`SecretName`), so every casing of a name is one entry.
//!
//! Refresh-ahead: a secret read in the last fifth of its TTL is read again in the background
//! (once at a time, in a task of its own, so a caller going away cannot cancel it; after a
//! failure, not again before a back-off: `refresh_claims.rs`); until that read ends readers get
//! the cached value, past the TTL for `SECRET_REFRESH_GRACE_SECS` at most (and within
//! `SECRET_MAX_STALE`), then they wait for the store. Secrets nobody reads near the end of
//! their TTL simply expire.
//! Push invalidation (`invalidate`) drops a name's entries, found by name
//! (`cache_entries.rs`); a read of that name under way when the event came is not cached, as it
//! may carry the old version. Other names are not touched.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::LocalBoxFuture;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use vaultgate_config::secrets_settings::SecretCacheSettings;

use super::cache_entries::{CacheEntries, Key};
use super::catalog::{ListError, SecretItem};
use super::miss_budget::{CallerId, MissBudget, Reservation};
use super::refresh_claims::RefreshClaims;
use super::{Secret, SecretName, SecretStore, SecretVersion, StoreError};
use crate::single_flight::SingleFlight;

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
    /// A read from here on (the TTL's last fifth) starts a refresh in the background.
    refresh_from: Instant,
    /// Never served after this, fresh or stale (the secret's own `exp`, or `max_stale`).
    usable_until: Instant,
}

/// Counts for `/metrics` and tests.
#[derive(Default)]
pub struct CacheStats {
    pub hits: Counter,
    pub misses: Counter,
    pub stale_served: Counter,
    pub refresh_ahead_runs: Counter,
    pub refresh_ahead_failures: Counter,
}

/// What the cache holds for a key at a given moment.
enum Lookup {
    /// Within the TTL; `refresh_due` in its last fifth.
    Fresh {
        answer: Result<Arc<Secret>, StoreError>,
        refresh_due: bool,
    },
    /// Past the TTL but within the grace, while a refresh of it is under way.
    Refreshing(Arc<Secret>),
    Miss,
}

pub struct SecretCache {
    core: Arc<Core>,
}

/// The cache's state, shared with the refreshes running in the background.
struct Core {
    inner: Arc<dyn SecretStore>,
    settings: SecretCacheSettings,
    entries: CacheEntries<Entry>,
    flights: SingleFlight<Key, Result<Arc<Secret>, StoreError>>,
    /// Keys with a refresh-ahead under way (claimed before its task starts: one at a time),
    /// or backing off after a failed one.
    refreshes: Arc<RefreshClaims<Key>>,
    budget: MissBudget,
    stats: CacheStats,
}

impl SecretCache {
    pub fn new(inner: Arc<dyn SecretStore>, settings: SecretCacheSettings) -> Self {
        let core = Core {
            inner,
            entries: CacheEntries::new(settings.max_entries),
            refreshes: Arc::new(RefreshClaims::new(settings.max_entries)),
            budget: MissBudget::new(settings.miss_budget),
            settings,
            flights: SingleFlight::default(),
            stats: CacheStats::default(),
        };
        SecretCache { core: Arc::new(core) }
    }

    pub fn stats(&self) -> &CacheStats {
        &self.core.stats
    }

    /// Registers the cache and miss-budget counters for `/metrics`.
    pub fn register(&self, registry: &mut Registry) {
        let stats = &self.core.stats;
        registry.register("secret_cache_hits", "Secret reads answered from the cache", stats.hits.clone());
        registry.register("secret_cache_misses", "Secret reads that went to the store", stats.misses.clone());
        registry.register(
            "secret_cache_stale_served",
            "Cached secrets served because the store failed",
            stats.stale_served.clone(),
        );
        registry.register(
            "secret_refresh_ahead_runs",
            "Background reads of a secret read in the last fifth of its TTL",
            stats.refresh_ahead_runs.clone(),
        );
        registry.register(
            "secret_refresh_ahead_failures",
            "Background refreshes that failed (the cached value stays under the stale-if-error rules; the next refresh backs off)",
            stats.refresh_ahead_failures.clone(),
        );
        self.core.budget.register(registry);
    }

    /// Reads `name` for `caller`: a cache hit is always served; a miss joins the read of `name`
    /// under way, or asks the store after reserving a unit of the caller's miss budget (waiting
    /// for one of its turns), and is refused once the budget is spent. `None` (vaultgate's own reads, e.g. `vaultgate check`) has no budget.
    pub async fn read_for(
        &self,
        caller: Option<&CallerId>,
        name: &SecretName,
        version: Option<&SecretVersion>,
    ) -> Result<Arc<Secret>, StoreError> {
        let core = &self.core;
        let key = (name.clone(), version.cloned());
        let now = Instant::now();
        match core.lookup(&key, now) {
            Lookup::Fresh { answer, refresh_due } => {
                core.stats.hits.inc();
                if refresh_due {
                    Core::refresh_ahead(core, key);
                }
                return answer;
            }
            Lookup::Refreshing(secret) => {
                core.stats.hits.inc();
                return Ok(secret);
            }
            Lookup::Miss => {}
        }
        core.stats.misses.inc();
        // A read joining one under way sends no GET of its own and takes none of its caller's
        // turns; only the one that asks the store (the flight's runner, or a waiter taking
        // over) reserves a unit: each vault GET is charged once, to the caller that caused it,
        // so the budgets together bound the GETs and nobody pays for another caller's names.
        let ran = Cell::new(false);
        let answer = core.flights.run(&key, || core.miss(&key, caller, &ran)).await;
        match answer {
            // The read joined was refused its caller's budget: this caller's own decides.
            Err(StoreError::MissBudgetSpent { .. }) if !ran.get() => {
                core.flights.run(&key, || core.miss(&key, caller, &ran)).await
            }
            answer => answer,
        }
    }

    /// Every version of `name`, from the store (never cached: the list is rarely asked
    /// for), charged one unit of `caller`'s miss budget as any listing is.
    pub async fn versions_for(&self, caller: &CallerId, name: &SecretName) -> Result<Vec<SecretItem>, ListError> {
        let core = &self.core;
        core.budget.spend(caller).await.map_err(|retry_after_secs| StoreError::MissBudgetSpent { retry_after_secs })?;
        core.inner.versions(name).await
    }

    /// Each caller's miss budget (a listing that goes to the store is charged to it too).
    pub fn miss_budget(&self) -> &MissBudget {
        &self.core.budget
    }

    /// Drops every cached entry of `name` (current and explicit versions), so that the next
    /// read asks the store; reads of `name` under way when this is called are not cached.
    /// Returns how many entries were dropped.
    pub fn invalidate(&self, name: &SecretName) -> usize {
        let core = &self.core;
        let invalidated = core.entries.invalidate(name);
        // Later readers start a read of their own rather than join one begun before the event.
        for key in &invalidated.in_flight {
            core.flights.forget_key(key);
        }
        invalidated.dropped
    }

    /// Drops every cached entry (the fleet's record of invalidations was lost, so any of them
    /// may be stale); reads under way are not cached. Returns how many entries were dropped.
    pub fn clear(&self) -> usize {
        let core = &self.core;
        let cleared = core.entries.clear();
        for key in &cleared.in_flight {
            core.flights.forget_key(key);
        }
        cleared.dropped
    }
}

impl Core {
    fn lookup(&self, key: &Key, now: Instant) -> Lookup {
        let Some(entry) = self.entries.get(key).filter(|e| now < e.usable_until) else { return Lookup::Miss };
        if now < entry.fresh_until {
            let refresh_due =
                self.settings.refresh_ahead && now >= entry.refresh_from && matches!(entry.cached, Cached::Found(_));
            let answer = match entry.cached {
                Cached::Found(secret) => Ok(secret),
                Cached::Missing => Err(StoreError::NotFound),
            };
            return Lookup::Fresh { answer, refresh_due };
        }
        // However long the refresh takes (retries, timeouts), the old value is served past the
        // TTL for the grace at most: Key Vault sends no event when a secret is disabled.
        let in_grace = now < entry.fresh_until + self.settings.refresh_grace;
        match entry.cached {
            Cached::Found(secret) if in_grace && self.refreshes.is_running(key) => Lookup::Refreshing(secret),
            _ => Lookup::Miss,
        }
    }

    fn fresh(&self, key: &Key, now: Instant) -> Option<Result<Arc<Secret>, StoreError>> {
        match self.lookup(key, now) {
            Lookup::Fresh { answer, .. } => Some(answer),
            Lookup::Refreshing(_) | Lookup::Miss => None,
        }
    }

    /// Starts a background read of `key`, unless one is under way or the last one failed
    /// less than a back-off ago. Its own task: the request that noticed the need may end (or
    /// be reset) long before the read does.
    fn refresh_ahead(core: &Arc<Core>, key: Key) {
        let Some(claim) = core.refreshes.claim(&key, Instant::now()) else { return };
        let core = core.clone();
        actix_web::rt::spawn(async move {
            core.stats.refresh_ahead_runs.inc();
            // Through the flights, so that a reader missing meanwhile shares this read.
            match core.flights.run(&key, || core.load(&key, None)).await {
                Ok(_) => claim.succeeded(),
                Err(error) => {
                    let backoff = claim.failed(Instant::now());
                    core.stats.refresh_ahead_failures.inc();
                    log::warn!(
                        "secret {}: refresh-ahead failed, next one in {:.1}s at the earliest: {error}",
                        key.0,
                        backoff.as_secs_f64()
                    );
                }
            }
        });
    }

    /// A miss that asks the store: reserves a unit of `caller`'s budget first (waiting for one of
    /// its turns), refused once the budget is spent.
    async fn miss(&self, key: &Key, caller: Option<&CallerId>, ran: &Cell<bool>) -> Result<Arc<Secret>, StoreError> {
        ran.set(true);
        let reservation = match caller {
            Some(caller) => Some(
                self.budget
                    .reserve(caller)
                    .await
                    .map_err(|retry_after_secs| StoreError::MissBudgetSpent { retry_after_secs })?,
            ),
            None => None,
        };
        self.fetch(key, reservation.as_ref()).await
    }

    /// One upstream read, its outcome cached; on a transient failure, the last good value if
    /// usable.
    async fn fetch(&self, key: &Key, reservation: Option<&Reservation<'_>>) -> Result<Arc<Secret>, StoreError> {
        // A flight that ended just before this one began may have refreshed the entry.
        if let Some(answer) = self.fresh(key, Instant::now()) {
            return answer;
        }
        match self.load(key, reservation).await {
            Err(error) if error.may_serve_stale() => {
                let now = Instant::now();
                match self.stale(key, now) {
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
                }
            }
            outcome => outcome,
        }
    }

    /// Reads the store and records the outcome: a value or a not-found is cached (unless the
    /// name was invalidated meanwhile), a refusal forgets what was cached, a transient failure
    /// leaves the cached value as it was (for stale-if-error). The caller whose reservation
    /// this read runs under keeps its unit spent if the read is fruitless.
    async fn load(&self, key: &Key, reservation: Option<&Reservation<'_>>) -> Result<Arc<Secret>, StoreError> {
        // Taken before the store is asked: an event for the name from now on voids the answer.
        let ticket = self.entries.begin_read(key);
        if let Some(reservation) = reservation {
            reservation.asking();
        }
        let result = self.inner.get(&key.0, key.1.as_ref()).await;
        let now = Instant::now();
        if let Some(reservation) = reservation {
            reservation.answered(result.as_ref().is_err_and(StoreError::is_fruitless));
        }
        match &result {
            Ok(secret) => {
                // Explicit versions too: a version can be disabled, and that must show within the TTL.
                let ttl = self.settings.ttl;
                let usable_until = bounded_by_exp(now + self.settings.max_stale.max(ttl), secret.expires_at, now);
                let fresh_until = (now + ttl).min(usable_until);
                let refresh_from = now + ttl - ttl / 5;
                let entry = Entry::new(Cached::Found(secret.clone()), now, fresh_until, refresh_from, usable_until);
                ticket.insert(entry);
            }
            Err(StoreError::NotFound) => {
                let until = now + self.settings.negative_ttl;
                ticket.insert(Entry::new(Cached::Missing, now, until, until, until));
            }
            // Disabled, or access refused: what was cached must not come back later as a
            // stale answer to some other failure.
            Err(error) if error.is_fruitless() => {
                self.entries.remove(key);
            }
            _ => {}
        }
        result
    }

    fn stale(&self, key: &Key, now: Instant) -> Option<(Arc<Secret>, Duration)> {
        let entry = self.entries.get(key).filter(|e| now < e.usable_until)?;
        match entry.cached {
            Cached::Found(secret) => Some((secret, now - entry.fetched_at)),
            Cached::Missing => None,
        }
    }
}

impl Entry {
    fn new(cached: Cached, now: Instant, fresh_until: Instant, refresh_from: Instant, usable_until: Instant) -> Self {
        Entry { cached, fetched_at: now, fresh_until, refresh_from, usable_until }
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

    fn probe(&self) -> LocalBoxFuture<'_, Result<(), StoreError>> {
        self.core.inner.probe()
    }

    fn kind(&self) -> &'static str {
        self.core.inner.kind()
    }

    fn check(&self) -> LocalBoxFuture<'_, super::check_line::CheckLines> {
        self.core.inner.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::CredentialError;
    use crate::secrets::fake_store::FakeStore;
    use crate::secrets::{SecretValue, ThrottledBy};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// The settings these tests start from: a 300 s TTL, an hour of stale-if-error, 10 entries.
    fn settings() -> SecretCacheSettings {
        SecretCacheSettings {
            ttl: Duration::from_secs(300),
            max_stale: Duration::from_secs(3600),
            negative_ttl: Duration::from_secs(30),
            max_entries: 10,
            miss_budget: 30,
            refresh_ahead: true,
            refresh_grace: Duration::from_secs(10),
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
            properties: Default::default(),
        }
    }

    fn cache(
        answers: Vec<Result<Secret, StoreError>>,
        ttl: u64,
        max_stale: u64,
        max_entries: usize,
    ) -> (Arc<FakeStore>, SecretCache) {
        let store = FakeStore::new("scripted").scripted(answers).shared();
        let settings = SecretCacheSettings {
            ttl: Duration::from_secs(ttl),
            max_stale: Duration::from_secs(max_stale),
            max_entries,
            ..settings()
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
        assert_eq!(store.reads(), 1);
    }

    #[actix_web::test]
    async fn a_zero_ttl_reads_every_time_and_serves_stale_on_failure() {
        let answers = vec![Ok(secret("a", None)), Err(StoreError::unavailable("down"))];
        let (store, cache) = cache(answers, 0, 3600, 10);
        cache.get(&name("s"), None).await.unwrap();
        assert_eq!(cache.get(&name("s"), None).await.unwrap().value.expose(), "a");
        assert_eq!(store.reads(), 2);
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
        let refused = StoreError::Credential(CredentialError::Refused("invalid_client".into()));
        let identity_down = StoreError::Credential(CredentialError::Unavailable("connection refused".into()));
        for (failure, covered) in [
            (StoreError::unavailable("503"), true),
            (StoreError::Throttled { by: ThrottledBy::KeyVault, retry_after_secs: 1 }, true),
            // vaultgate's own ceiling is no vault failure: a value past its TTL is not served for it.
            (StoreError::Throttled { by: ThrottledBy::Ceiling, retry_after_secs: 1 }, false),
            (StoreError::refused("403 ForbiddenByRbac"), false),
            (StoreError::unusable("bad JSON"), false),
            (refused, false),
            (identity_down, true),
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

    #[actix_web::test]
    async fn concurrent_misses_share_one_read_even_without_a_ttl() {
        let (open, store) = gated_store();
        let store = store.shared();
        let settings = SecretCacheSettings {
            ttl: Duration::ZERO,
            max_stale: Duration::ZERO,
            negative_ttl: Duration::ZERO,
            ..settings()
        };
        let cache = SecretCache::new(store.clone(), settings);
        let secret_name = name("s");
        let reads = futures_util::future::join_all((0..50).map(|_| cache.get(&secret_name, None)));
        let opener = async {
            open.send(true).unwrap();
        };
        let (answers, ()) = futures_util::future::join(reads, opener).await;
        assert!(answers.iter().all(|a| a.as_ref().unwrap().value.expose() == "gated"));
        assert_eq!(store.reads(), 1);
        assert_eq!(cache.stats().misses.get(), 50);
    }

    /// A store whose every read answers `gated` once the gate opens.
    fn gated_store() -> (tokio::sync::watch::Sender<bool>, FakeStore) {
        FakeStore::new("gated").reading(|_| Ok(secret("gated", None))).gated()
    }

    fn gated_cache(ttl: u64) -> (tokio::sync::watch::Sender<bool>, Arc<FakeStore>, SecretCache) {
        let (open, store) = gated_store();
        let store = store.shared();
        (open, store.clone(), cache_over(store, ttl))
    }

    /// A cache of 10 entries over `store`, caching for `ttl` seconds.
    fn cache_over(store: Arc<dyn SecretStore>, ttl: u64) -> SecretCache {
        let settings = SecretCacheSettings { ttl: Duration::from_secs(ttl), ..settings() };
        SecretCache::new(store, settings)
    }

    #[actix_web::test]
    async fn invalidation_drops_every_version_in_any_casing() {
        let (open, store, cache) = gated_cache(300);
        open.send(true).unwrap();
        let version = SecretVersion::parse("0123456789abcdef0123456789abcdef").unwrap();
        cache.get(&name("s"), None).await.unwrap();
        cache.get(&name("s"), Some(&version)).await.unwrap();
        cache.get(&name("other"), None).await.unwrap();
        assert_eq!(store.reads(), 3);
        assert_eq!(cache.invalidate(&name("S")), 2, "the current and the explicit version");
        cache.get(&name("s"), None).await.unwrap();
        cache.get(&name("other"), None).await.unwrap();
        assert_eq!(store.reads(), 4, "only the invalidated name is read again");
    }

    #[actix_web::test]
    async fn a_read_under_way_when_its_name_is_invalidated_is_not_cached() {
        let (open, store, cache) = gated_cache(300);
        let secret_name = name("s");
        let read = cache.get(&secret_name, None);
        // Runs once the read has reached the store (join polls the read first).
        let event_then_answer = async {
            assert_eq!(store.reads(), 1);
            cache.invalidate(&secret_name);
            open.send(true).unwrap();
        };
        let (answer, ()) = futures_util::future::join(read, event_then_answer).await;
        assert_eq!(answer.unwrap().value.expose(), "gated", "the reader still gets its answer");
        cache.get(&secret_name, None).await.unwrap();
        assert_eq!(store.reads(), 2, "what it read (maybe the old version) was not kept");
        cache.get(&secret_name, None).await.unwrap();
        assert_eq!(store.reads(), 2);
    }

    #[actix_web::test]
    async fn an_event_for_one_name_leaves_a_read_of_another_under_way_cached() {
        let (open, store, cache) = gated_cache(300);
        let a = name("a");
        let read = cache.get(&a, None);
        // Runs once the read of `a` has reached the store.
        let event_then_answer = async {
            assert_eq!(store.reads(), 1);
            assert_eq!(cache.invalidate(&name("b")), 0);
            open.send(true).unwrap();
        };
        let (answer, ()) = futures_util::future::join(read, event_then_answer).await;
        answer.unwrap();
        cache.get(&a, None).await.unwrap();
        assert_eq!(store.reads(), 1, "a was cached: the event named b");
    }

    #[test]
    fn a_read_racing_with_an_event_never_keeps_the_value_from_before_it() {
        // The secret's value is a number the test moves on, as the vault's current version
        // moves on before its event is delivered.
        let current = Arc::new(AtomicU64::new(0));
        let moving = current.clone();
        let store =
            FakeStore::new("moving").reading(move |_| Ok(secret(&moving.load(Ordering::SeqCst).to_string(), None)));
        let cache = Arc::new(cache_over(store.shared(), 300));
        let secret_name = name("s");
        for round in 1..=2_000u64 {
            let start = Arc::new(std::sync::Barrier::new(2));
            let reader = std::thread::spawn({
                let (cache, start, secret_name) = (cache.clone(), start.clone(), secret_name.clone());
                move || {
                    start.wait();
                    actix_web::rt::System::new().block_on(async { cache.get(&secret_name, None).await.map(|_| ()) })
                }
            });
            start.wait();
            // The vault moves on, then its event arrives, while the reader reads.
            current.store(round, Ordering::SeqCst);
            cache.invalidate(&secret_name);
            reader.join().unwrap().unwrap();
            let after = actix_web::rt::System::new().block_on(cache.get(&secret_name, None)).unwrap();
            assert_eq!(after.value.expose(), round.to_string(), "round {round}: the value from before the event");
            cache.invalidate(&secret_name);
        }
    }

    #[actix_web::test]
    async fn a_flood_of_missing_names_does_not_evict_a_secret_in_use() {
        let store = FakeStore::new("one-secret")
            .reading(
                |name| if name.as_str() == "hot" { Ok(secret("hot-value", None)) } else { Err(StoreError::NotFound) },
            )
            .shared();
        let settings = SecretCacheSettings { max_entries: 100, ..settings() };
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
        assert_eq!(store.reads_of("hot"), 1, "the secret in use stayed cached");
    }

    #[actix_web::test]
    async fn the_cache_is_bounded() {
        let answers = (0..5).map(|i| Ok(secret(&i.to_string(), None))).collect();
        let (_, cache) = cache(answers, 300, 3600, 2);
        for n in ["a", "b", "c", "d", "e"] {
            cache.get(&name(n), None).await.unwrap();
        }
        assert_eq!(cache.core.entries.len(), 2);
    }

    /// A cache over a store whose answers wait for the gate: `missing-*` names are not found,
    /// others are.
    fn held_cache(miss_budget: usize) -> (tokio::sync::watch::Sender<bool>, Arc<FakeStore>, SecretCache) {
        let found = |name: &SecretName| !name.as_str().starts_with("missing");
        let (open, store) = FakeStore::new("held")
            .reading(move |name| if found(name) { Ok(secret("held", None)) } else { Err(StoreError::NotFound) })
            .gated();
        let store = store.shared();
        let settings = SecretCacheSettings { max_entries: 100, miss_budget, ..settings() };
        (open, store.clone(), SecretCache::new(store, settings))
    }

    fn caller_id(oid: &str) -> CallerId {
        CallerId::Object(oid.into())
    }

    #[actix_web::test]
    async fn misses_in_flight_count_against_the_callers_budget() {
        let (open, store, cache) = held_cache(2);
        let greedy = caller_id("greedy");
        let names: Vec<SecretName> = (0..3).map(|i| name(&format!("missing-{i}"))).collect();
        let reads = futures_util::future::join_all(names.iter().map(|n| cache.read_for(Some(&greedy), n, None)));
        let opener = async {
            open.send(true).unwrap();
        };
        let (answers, ()) = futures_util::future::join(reads, opener).await;
        assert_eq!(answers[0].as_ref().unwrap_err(), &StoreError::NotFound);
        assert_eq!(answers[1].as_ref().unwrap_err(), &StoreError::NotFound);
        assert!(matches!(answers[2], Err(StoreError::MissBudgetSpent { .. })), "{:?}", answers[2]);
        assert_eq!(store.reads(), 2, "the third waited for the two under way, then was refused");
    }

    #[actix_web::test]
    async fn a_caller_has_at_most_eight_misses_in_flight_and_others_are_not_held_up() {
        let (open, store, cache) = held_cache(30);
        let busy = caller_id("busy");
        let names: Vec<SecretName> = (0..20).map(|i| name(&format!("setting-{i}"))).collect();
        let reads = futures_util::future::join_all(names.iter().map(|n| cache.read_for(Some(&busy), n, None)));
        let other_caller = caller_id("other");
        let other_name = name("other-setting");
        // Runs once every read of `busy` has been polled (join polls the reads first).
        let watcher = async {
            let busy_in_flight = store.reads();
            let mut other = Box::pin(cache.read_for(Some(&other_caller), &other_name, None));
            assert!(futures_util::FutureExt::now_or_never(other.as_mut()).is_none());
            let with_other = store.reads();
            open.send(true).unwrap();
            (busy_in_flight, with_other, other.await)
        };
        let (answers, (busy_in_flight, with_other, other)) = futures_util::future::join(reads, watcher).await;
        assert_eq!(busy_in_flight, 8);
        assert_eq!(with_other, 9, "another caller's miss does not wait for busy's turns");
        assert!(other.is_ok());
        assert!(answers.iter().all(Result::is_ok), "found secrets give their units back: all 20 are read");
        assert_eq!(store.reads(), 21);
    }

    #[actix_web::test]
    async fn only_the_caller_whose_read_asks_the_store_is_charged() {
        let (open, store, cache) = held_cache(1);
        let (first, joiner) = (caller_id("first"), caller_id("joiner"));
        let shared = name("missing-shared");
        let reads = futures_util::future::join(
            cache.read_for(Some(&first), &shared, None),
            cache.read_for(Some(&joiner), &shared, None),
        );
        let opener = async {
            open.send(true).unwrap();
        };
        let ((a, b), ()) = futures_util::future::join(reads, opener).await;
        assert_eq!((a.unwrap_err(), b.unwrap_err()), (StoreError::NotFound, StoreError::NotFound));
        assert_eq!(store.reads(), 1, "one read, joined");
        let first_again = cache.read_for(Some(&first), &name("missing-a"), None).await;
        assert!(matches!(first_again, Err(StoreError::MissBudgetSpent { .. })), "{first_again:?}");
        let joiner_again = cache.read_for(Some(&joiner), &name("missing-b"), None).await;
        assert_eq!(joiner_again.unwrap_err(), StoreError::NotFound, "the joiner sent no GET and kept its unit");
        assert_eq!(store.reads(), 2);
    }

    #[actix_web::test]
    async fn a_read_abandoned_while_the_store_is_asked_stays_charged() {
        let (open, store, cache) = held_cache(1);
        let hasty = caller_id("hasty");
        let first = name("missing-first");
        let abandoned = futures_util::FutureExt::now_or_never(cache.read_for(Some(&hasty), &first, None));
        assert!(abandoned.is_none(), "the caller hung up while the store was asked");
        assert_eq!(store.reads(), 1);
        open.send(true).unwrap();
        let next = cache.read_for(Some(&hasty), &name("missing-second"), None).await;
        assert!(matches!(next, Err(StoreError::MissBudgetSpent { .. })), "{next:?}");
        assert_eq!(store.reads(), 1);
    }

    #[actix_web::test]
    async fn many_reads_of_one_cold_secret_by_one_caller_share_one_failing_read() {
        // A store that is down: each read of the shared flight fails, and nothing is cached.
        let (open, store) = FakeStore::new("down").reading(|_| Err(StoreError::unavailable("503"))).gated();
        let store = store.shared();
        let cache = SecretCache::new(store.clone(), SecretCacheSettings { max_entries: 100, ..settings() });
        let caller = caller_id("busy");
        let hot = name("hot");
        let reads = futures_util::future::join_all((0..20).map(|_| cache.read_for(Some(&caller), &hot, None)));
        let release = async {
            open.send(true).unwrap();
        };
        let (answers, ()) = futures_util::future::join(reads, release).await;
        assert!(answers.iter().all(|answer| answer.as_ref().unwrap_err() == &StoreError::unavailable("503")));
        // Joining a read under way takes none of the caller's turns: 20 readers, one read.
        assert_eq!(store.reads(), 1, "readers waiting for a turn started reads of their own");
    }

    #[actix_web::test]
    async fn a_miss_waits_for_a_turn_a_bounded_time_then_is_refused() {
        let (open, store, cache) = held_cache(30);
        let caller = caller_id("queued");
        let names: Vec<SecretName> =
            (0..=super::super::miss_budget::MAX_IN_FLIGHT).map(|n| name(&format!("missing-{n}"))).collect();
        let (held, last) = names.split_at(super::super::miss_budget::MAX_IN_FLIGHT);
        let turns = futures_util::future::join_all(held.iter().map(|n| cache.read_for(Some(&caller), n, None)));
        let queued = async {
            let began = Instant::now();
            let answer = cache.read_for(Some(&caller), &last[0], None).await;
            assert!(matches!(answer, Err(StoreError::MissBudgetSpent { retry_after_secs: 1 })), "{answer:?}");
            assert!(began.elapsed() >= super::super::miss_budget::MAX_TURN_WAIT);
            assert_eq!(store.reads(), 8, "the queued miss never reached the store");
            open.send(true).unwrap();
        };
        let (answers, ()) = futures_util::future::join(turns, queued).await;
        assert!(answers.iter().all(|answer| answer.as_ref().unwrap_err() == &StoreError::NotFound));
    }
}
