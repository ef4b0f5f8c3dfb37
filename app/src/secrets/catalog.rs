//! The list of secrets behind `GET /secrets`: what the store holds (names and attributes,
//! never values), loaded once per `SECRET_CACHE_TTL` with one load at a time (single flight),
//! so however many callers ask, the store is listed at most once per TTL.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::{SecretStore, StoreError};
use crate::single_flight::SingleFlight;

/// One secret as a listing shows it (Key Vault's `SecretItem`, by name); every attribute is
/// optional, as in Key Vault's answers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretItem {
    /// The name as stored.
    pub name: String,
    pub enabled: Option<bool>,
    pub created: Option<i64>,
    pub updated: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    pub content_type: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// Why the store could not be listed. The text is for logs.
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum ListError {
    /// The store refused to list (Key Vault's 403 on Get Secrets): vaultgate's identity lacks
    /// the *list* permission, though it may read secrets it is asked for by name.
    #[display("listing refused: {_0}")]
    Forbidden(String),
    #[display("{_0}")]
    Failed(StoreError),
    #[display("the {_0} store cannot list its secrets")]
    Unsupported(&'static str),
}

impl From<StoreError> for ListError {
    fn from(error: StoreError) -> Self {
        ListError::Failed(error)
    }
}

impl ListError {
    fn label(&self) -> &'static str {
        match self {
            ListError::Forbidden(_) => "forbidden",
            ListError::Failed(StoreError::Throttled { .. }) => "throttled",
            ListError::Failed(_) => "failed",
            ListError::Unsupported(_) => "unsupported",
        }
    }
}

type Listing = Result<Arc<Vec<SecretItem>>, ListError>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoadLabels {
    outcome: &'static str,
}

pub struct SecretCatalog {
    store: Arc<dyn SecretStore>,
    ttl: Duration,
    /// The last good listing and when it was loaded.
    cached: Mutex<Option<(Instant, Arc<Vec<SecretItem>>)>>,
    flight: SingleFlight<(), Listing>,
    loads: Family<LoadLabels, Counter>,
}

impl SecretCatalog {
    pub fn new(store: Arc<dyn SecretStore>, ttl: Duration) -> Self {
        SecretCatalog {
            store,
            ttl,
            cached: Mutex::new(None),
            flight: SingleFlight::default(),
            loads: Family::default(),
        }
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "secret_list_loads",
            "Listings of the secret store for GET /secrets (each Key Vault page is a call too), by outcome",
            self.loads.clone(),
        );
    }

    /// Every secret the store holds, sorted by name (case-insensitively): from the cache while
    /// fresh, else from one load shared by every caller asking meanwhile.
    pub async fn items(&self) -> Listing {
        if let Some(items) = self.fresh() {
            return Ok(items);
        }
        self.flight
            .run(&(), || async {
                // A load that ended while this caller waited to start its own is as good.
                if let Some(items) = self.fresh() {
                    return Ok(items);
                }
                let outcome = self.store.list().await.map(|mut items| {
                    items.sort_by_cached_key(|item| item.name.to_ascii_lowercase());
                    Arc::new(items)
                });
                let label = outcome.as_ref().map_or_else(ListError::label, |_| "ok");
                self.loads.get_or_create(&LoadLabels { outcome: label }).inc();
                if let Ok(items) = &outcome
                    && !self.ttl.is_zero()
                {
                    *crate::sync::lock(&self.cached) = Some((Instant::now(), items.clone()));
                }
                outcome
            })
            .await
    }

    fn fresh(&self) -> Option<Arc<Vec<SecretItem>>> {
        let cached = crate::sync::lock(&self.cached);
        let (loaded, items) = cached.as_ref()?;
        (loaded.elapsed() < self.ttl).then(|| items.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::{Secret, SecretName, SecretVersion};
    use futures_util::future::LocalBoxFuture;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A store listing `b`, `A`, gated until opened, counting lists.
    struct Listed {
        open: tokio::sync::watch::Receiver<bool>,
        lists: AtomicUsize,
    }

    impl SecretStore for Listed {
        fn get<'a>(
            &'a self,
            _: &'a SecretName,
            _: Option<&'a SecretVersion>,
        ) -> LocalBoxFuture<'a, Result<Arc<Secret>, StoreError>> {
            Box::pin(std::future::ready(Err(StoreError::NotFound)))
        }
        fn list(&self) -> LocalBoxFuture<'_, Result<Vec<SecretItem>, ListError>> {
            self.lists.fetch_add(1, Ordering::SeqCst);
            let mut open = self.open.clone();
            Box::pin(async move {
                let _ = open.wait_for(|o| *o).await;
                let item = |name: &str| SecretItem { name: name.into(), ..SecretItem::default() };
                Ok(vec![item("b"), item("A")])
            })
        }
        fn probe(&self) -> LocalBoxFuture<'_, Result<(), String>> {
            Box::pin(std::future::ready(Ok(())))
        }
        fn kind(&self) -> &'static str {
            "listed"
        }
    }

    fn catalog(ttl: u64) -> (tokio::sync::watch::Sender<bool>, Arc<Listed>, SecretCatalog) {
        let (open, gate) = tokio::sync::watch::channel(false);
        let store = Arc::new(Listed { open: gate, lists: AtomicUsize::new(0) });
        (open, store.clone(), SecretCatalog::new(store, Duration::from_secs(ttl)))
    }

    #[actix_web::test]
    async fn concurrent_callers_share_one_load_and_the_ttl_keeps_it() {
        let (open, store, catalog) = catalog(300);
        let loads = futures_util::future::join_all((0..20).map(|_| catalog.items()));
        let opener = async {
            open.send(true).unwrap();
        };
        let (listings, ()) = futures_util::future::join(loads, opener).await;
        for listing in listings {
            let names: Vec<String> = listing.unwrap().iter().map(|i| i.name.clone()).collect();
            assert_eq!(names, ["A", "b"], "sorted case-insensitively");
        }
        catalog.items().await.unwrap();
        assert_eq!(store.lists.load(Ordering::SeqCst), 1);
    }

    #[actix_web::test]
    async fn a_zero_ttl_lists_every_time() {
        let (open, store, catalog) = catalog(0);
        open.send(true).unwrap();
        catalog.items().await.unwrap();
        catalog.items().await.unwrap();
        assert_eq!(store.lists.load(Ordering::SeqCst), 2);
    }

    #[actix_web::test]
    async fn stores_that_cannot_list_say_so() {
        struct Plain;
        impl SecretStore for Plain {
            fn get<'a>(
                &'a self,
                _: &'a SecretName,
                _: Option<&'a SecretVersion>,
            ) -> LocalBoxFuture<'a, Result<Arc<Secret>, StoreError>> {
                Box::pin(std::future::ready(Err(StoreError::NotFound)))
            }
            fn probe(&self) -> LocalBoxFuture<'_, Result<(), String>> {
                Box::pin(std::future::ready(Ok(())))
            }
            fn kind(&self) -> &'static str {
                "plain"
            }
        }
        let catalog = SecretCatalog::new(Arc::new(Plain), Duration::from_secs(60));
        assert_eq!(catalog.items().await.unwrap_err(), ListError::Unsupported("plain"));
    }
}
