//! The list of secrets behind `GET /secrets`: what the store holds (names and attributes,
//! never values), loaded once per `SECRET_CACHE_TTL` with one load at a time (single flight),
//! so however many callers ask, the store is listed at most once per TTL. A failed load is
//! remembered (and warned about) once for `SECRET_NEGATIVE_TTL`, so a vault refusing to list
//! is not asked again by every caller. A caller whose listing goes to the store pays one unit
//! of its miss budget, as a cache miss would.

use std::cell::Cell;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::miss_budget::{CallerId, MissBudget};
use super::{SecretProperties, SecretStore, StoreError};
use crate::single_flight::SingleFlight;

/// One secret, or one version of it, as a listing shows it (Key Vault's `SecretItem`); every
/// attribute is optional, as in Key Vault's answers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretItem {
    /// The name as stored.
    pub name: String,
    /// Set in a list of a secret's versions.
    pub version: Option<String>,
    pub content_type: Option<String>,
    pub properties: SecretProperties,
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
    /// How long a listing is served: `SECRET_CACHE_TTL`.
    ttl: Duration,
    /// How long a failed load is answered again: `SECRET_NEGATIVE_TTL`.
    negative_ttl: Duration,
    /// The last load's outcome and when it ended.
    last: Mutex<Option<(Instant, Listing)>>,
    flight: SingleFlight<(), Listing>,
    loads: Family<LoadLabels, Counter>,
}

impl SecretCatalog {
    pub fn new(store: Arc<dyn SecretStore>, ttl: Duration, negative_ttl: Duration) -> Self {
        SecretCatalog {
            store,
            ttl,
            negative_ttl,
            last: Mutex::new(None),
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
    /// fresh (or the last failure while remembered), else from one load shared by every caller
    /// asking meanwhile. Only the caller whose request starts the load is charged one unit of
    /// `budget` (refused once it is spent), as for a secret read: joiners cost the store nothing.
    pub async fn items(&self, budget: Option<(&MissBudget, &CallerId)>) -> Listing {
        if let Some(known) = self.known(Instant::now()) {
            return known;
        }
        let ran = Cell::new(false);
        match self.flight.run(&(), || self.load(budget, &ran)).await {
            // The load joined was refused its starter's budget: this caller's own decides.
            Err(ListError::Failed(StoreError::MissBudgetSpent { .. })) if !ran.get() => {
                self.flight.run(&(), || self.load(budget, &ran)).await
            }
            listing => listing,
        }
    }

    /// One listing of the store, charged to `budget`'s caller, its outcome remembered.
    async fn load(&self, budget: Option<(&MissBudget, &CallerId)>, ran: &Cell<bool>) -> Listing {
        ran.set(true);
        // A load that ended while this caller waited to start its own is as good.
        if let Some(known) = self.known(Instant::now()) {
            return known;
        }
        if let Some((budget, caller)) = budget {
            spend(budget, caller).await?;
        }
        let outcome = self.store.list().await.map(|mut items| {
            items.sort_by_cached_key(|item| item.name.to_ascii_lowercase());
            Arc::new(items)
        });
        let label = outcome.as_ref().map_or_else(ListError::label, |_| "ok");
        self.loads.get_or_create(&LoadLabels { outcome: label }).inc();
        if let Err(error) = &outcome {
            log::warn!(
                "GET /secrets: the {} store's list failed, answered so for {}s (SECRET_NEGATIVE_TTL): {error}",
                self.store.kind(),
                self.negative_ttl.as_secs()
            );
        }
        *crate::sync::lock(&self.last) = Some((Instant::now(), outcome.clone()));
        outcome
    }

    /// The last load's outcome while it holds: a listing for the TTL, a failure for the
    /// negative TTL.
    fn known(&self, now: Instant) -> Option<Listing> {
        let last = crate::sync::lock(&self.last);
        let (loaded, listing) = last.as_ref()?;
        let holds_for = if listing.is_ok() { self.ttl } else { self.negative_ttl };
        (now.saturating_duration_since(*loaded) < holds_for).then(|| listing.clone())
    }
}

/// One unit of `caller`'s miss budget for a listing that goes to the store; refused (429)
/// once the budget is spent.
async fn spend(budget: &MissBudget, caller: &CallerId) -> Result<(), ListError> {
    budget.spend(caller).await.map_err(|retry_after_secs| StoreError::MissBudgetSpent { retry_after_secs })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::fake_store::FakeStore;

    /// A catalog over a store listing `b`, `A` once the gate opens.
    fn catalog(ttl: u64) -> (tokio::sync::watch::Sender<bool>, Arc<FakeStore>, SecretCatalog) {
        let item = |name: &str| SecretItem { name: name.into(), ..SecretItem::default() };
        let (open, store) = FakeStore::new("listed").listing(move || Ok(vec![item("b"), item("A")])).gated();
        let store = store.shared();
        (open, store.clone(), SecretCatalog::new(store, Duration::from_secs(ttl), Duration::from_secs(30)))
    }

    #[actix_web::test]
    async fn concurrent_callers_share_one_load_and_the_ttl_keeps_it() {
        let (open, store, catalog) = catalog(300);
        let loads = futures_util::future::join_all((0..20).map(|_| catalog.items(None)));
        let opener = async {
            open.send(true).unwrap();
        };
        let (listings, ()) = futures_util::future::join(loads, opener).await;
        for listing in listings {
            let names: Vec<String> = listing.unwrap().iter().map(|i| i.name.clone()).collect();
            assert_eq!(names, ["A", "b"], "sorted case-insensitively");
        }
        catalog.items(None).await.unwrap();
        assert_eq!(store.lists(), 1);
    }

    #[actix_web::test]
    async fn a_zero_ttl_lists_every_time() {
        let (open, store, catalog) = catalog(0);
        open.send(true).unwrap();
        catalog.items(None).await.unwrap();
        catalog.items(None).await.unwrap();
        assert_eq!(store.lists(), 2);
    }

    #[actix_web::test]
    async fn stores_that_cannot_list_say_so() {
        let catalog = SecretCatalog::new(FakeStore::new("plain").shared(), Duration::from_secs(60), Duration::ZERO);
        assert_eq!(catalog.items(None).await.unwrap_err(), ListError::Unsupported("plain"));
    }

    #[actix_web::test]
    async fn a_failed_load_is_answered_again_for_the_negative_ttl_only() {
        let refusing =
            || FakeStore::new("refusing").listing(|| Err(ListError::Forbidden("no list permission".into()))).shared();
        let store = refusing();
        let catalog = SecretCatalog::new(store.clone(), Duration::from_secs(300), Duration::from_secs(30));
        for _ in 0..5 {
            assert_eq!(catalog.items(None).await.unwrap_err(), ListError::Forbidden("no list permission".into()));
        }
        assert_eq!(store.lists(), 1);
        let now = Instant::now();
        assert!(catalog.known(now + Duration::from_secs(29)).is_some());
        assert!(catalog.known(now + Duration::from_secs(31)).is_none(), "asked again once the window ends");

        let store = refusing();
        let catalog = SecretCatalog::new(store.clone(), Duration::from_secs(300), Duration::ZERO);
        catalog.items(None).await.unwrap_err();
        catalog.items(None).await.unwrap_err();
        assert_eq!(store.lists(), 2, "a zero negative TTL remembers nothing");
    }

    #[actix_web::test]
    async fn listings_sharing_one_load_cost_only_the_caller_that_started_it() {
        let (open, store, catalog) = catalog(300);
        let budget = MissBudget::new(5);
        let lister = CallerId::Object("lister".into());
        let loads = futures_util::future::join_all((0..20).map(|_| catalog.items(Some((&budget, &lister)))));
        let opener = async {
            open.send(true).unwrap();
        };
        let (listings, ()) = futures_util::future::join(loads, opener).await;
        assert!(listings.iter().all(Result::is_ok), "{listings:?}");
        assert_eq!(store.lists(), 1);
        assert_eq!(budget.stats().charged.get(), 1, "one load, one unit");
    }

    #[actix_web::test]
    async fn a_load_refused_its_starters_budget_is_run_again_under_the_joiners_own() {
        let (open, store, catalog) = catalog(0);
        open.send(true).unwrap();
        let budget = MissBudget::new(1);
        let (spent, other) = (CallerId::Object("spent".into()), CallerId::Object("other".into()));
        catalog.items(Some((&budget, &spent))).await.unwrap();
        let (refused, listed) =
            futures_util::future::join(catalog.items(Some((&budget, &spent))), catalog.items(Some((&budget, &other))))
                .await;
        assert!(matches!(refused, Err(ListError::Failed(StoreError::MissBudgetSpent { .. }))), "{refused:?}");
        assert!(listed.is_ok(), "{listed:?}");
        assert_eq!(store.lists(), 2);
    }

    #[actix_web::test]
    async fn a_load_costs_its_caller_one_unit_and_a_spent_budget_lists_nothing() {
        let (open, store, catalog) = catalog(0);
        open.send(true).unwrap();
        let budget = MissBudget::new(1);
        let caller = CallerId::Object("lister".into());
        catalog.items(Some((&budget, &caller))).await.unwrap();
        let spent = catalog.items(Some((&budget, &caller))).await.unwrap_err();
        assert!(matches!(spent, ListError::Failed(StoreError::MissBudgetSpent { .. })), "{spent:?}");
        assert_eq!(store.lists(), 1);
        assert_eq!(budget.stats().charged.get(), 1);
        catalog.items(Some((&budget, &CallerId::Object("other".into())))).await.unwrap();
        assert_eq!(store.lists(), 2);
    }
}
