//! Entra ID signing keys, cached by kid. Requests read the current set without waiting;
//! refreshes run one at a time (single flight), hourly in the background, and on demand
//! for an unknown kid at most once per `min_refresh`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures_util::future::LocalBoxFuture;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use tokio::sync::watch;
use vaultgate_config::AzureSettings;
use vaultgate_config::url::check_upstream_url;

use super::discovery::{OpenIdConfiguration, discovery_url};
use super::jwks::parse_jwks;
use super::key_load_error::KeyLoadError;
use super::rollover::{KeySet, Rollover};
use crate::auth::issuers::{SharedIssuer, TENANT_PLACEHOLDER};
use crate::auth::signing_keys::{KeyLookup, KeysStatus, SigningKeys, VerifyingKey};
use crate::clock::jittered;
use crate::single_flight::SingleFlight;
use crate::{sync, upstream};

/// Retries while no key set has ever loaded: 1 s, doubling, at most this.
const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(30);

/// Where the keys come from and how often to look.
#[derive(Debug, Clone)]
pub struct KeySourceSettings {
    pub authority_host: String,
    pub tenant_id: String,
    /// `JWT_URL`: skips the discovery document's `jwks_uri`.
    pub jwks_url: Option<String>,
    /// `ISSUER` set: discovery is needed only for `jwks_uri`.
    pub issuer_configured: bool,
    pub refresh_every: Duration,
    pub min_refresh: Duration,
    /// How long a key missing from a newer set stays trusted (`JWKS_KEY_GRACE_SECS`).
    pub key_grace: Duration,
    pub timeout: Duration,
}

impl KeySourceSettings {
    pub fn new(azure: &AzureSettings, timeout: Duration) -> Self {
        KeySourceSettings {
            authority_host: azure.authority_host.clone(),
            tenant_id: azure.tenant_id.clone(),
            jwks_url: azure.jwks_url.clone(),
            issuer_configured: azure.issuer.is_some(),
            refresh_every: azure.jwks_refresh,
            min_refresh: azure.jwks_min_refresh,
            key_grace: azure.jwks_key_grace,
            timeout,
        }
    }

    /// Entra's v2 issuer form before discovery names it: `{authority}/{tenantid}/v2.0`.
    pub fn default_v2_issuer(&self) -> SharedIssuer {
        SharedIssuer::new(&format!("{}/{TENANT_PLACEHOLDER}/v2.0", self.authority_host))
    }
}

pub struct EntraKeys {
    settings: KeySourceSettings,
    current: RwLock<Option<Arc<KeySet>>>,
    issuer: SharedIssuer,
    /// Concurrent refreshes (background, start-up, on demand) share one run.
    refreshes: SingleFlight<(), Result<usize, KeyLoadError>>,
    on_demand: Mutex<OnDemand>,
    /// Ticks when an on-demand refresh ends, however it ends.
    refreshed: watch::Sender<u64>,
    fetches: Counter,
    failures: Counter,
}

impl EntraKeys {
    pub fn new(settings: KeySourceSettings, issuer: SharedIssuer) -> Self {
        EntraKeys {
            settings,
            current: RwLock::new(None),
            issuer,
            refreshes: SingleFlight::default(),
            on_demand: Mutex::new(OnDemand::default()),
            refreshed: watch::channel(0).0,
            fetches: Counter::default(),
            failures: Counter::default(),
        }
    }

    /// Registers the refresh counters for `/metrics`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register("jwks_fetches", "Signing key (JWKS) fetches attempted", self.fetches.clone());
        registry.register("jwks_fetch_failures", "Signing key refreshes that failed", self.failures.clone());
    }

    fn snapshot(&self) -> Option<Arc<KeySet>> {
        sync::read(&self.current).clone()
    }

    /// Refreshes the keys, or joins the refresh already running. Failures keep the last good set.
    pub async fn refresh(&self) -> Result<usize, KeyLoadError> {
        self.refreshes.run(&(), || self.fetch_and_store()).await
    }

    async fn fetch_and_store(&self) -> Result<usize, KeyLoadError> {
        match self.fetch().await {
            Ok(fresh) => {
                let now = Instant::now();
                let grace = self.settings.key_grace;
                // The merge runs under the write lock so two refreshes cannot lose each other's keys.
                let mut current = sync::write(&self.current);
                let (set, rollover) = match current.as_deref() {
                    None => (KeySet::first(fresh, now), None),
                    Some(set) => {
                        let (merged, rollover) = set.merge(fresh, now, grace);
                        (merged, Some(rollover))
                    }
                };
                let trusted = set.trusted(now, grace);
                *current = Some(Arc::new(set));
                drop(current);
                log_rollover(trusted, rollover.as_ref(), grace);
                Ok(trusted)
            }
            Err(reason) => {
                self.failures.inc();
                if self.snapshot().is_some() {
                    log::warn!("signing key refresh failed, keeping the last good set: {reason}");
                } else {
                    log::warn!(
                        "signing keys could not be loaded; protected routes answer 503 until they are: {reason}"
                    );
                }
                Err(reason)
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, VerifyingKey>, KeyLoadError> {
        let settings = &self.settings;
        let needs_discovery = settings.jwks_url.is_none() || !settings.issuer_configured;
        let mut jwks_url = settings.jwks_url.clone();
        if needs_discovery {
            let url = discovery_url(&settings.authority_host, &settings.tenant_id);
            let config: OpenIdConfiguration =
                upstream::get_json(&url, settings.timeout).await.map_err(KeyLoadError::Discovery)?;
            let template = config.issuer.replace(&settings.tenant_id, TENANT_PLACEHOLDER);
            if !template.contains(TENANT_PLACEHOLDER) {
                return Err(KeyLoadError::IssuerWithoutTenant(config.issuer));
            }
            self.issuer.set(&template);
            if jwks_url.is_none() {
                jwks_url =
                    Some(check_upstream_url("jwks_uri", &config.jwks_uri).map_err(KeyLoadError::UnusableJwksUri)?);
            }
        }
        let jwks_url = jwks_url.ok_or(KeyLoadError::NoJwksUrl)?;
        self.fetches.inc();
        let body: serde_json::Value =
            upstream::get_json(&jwks_url, settings.timeout).await.map_err(KeyLoadError::Jwks)?;
        parse_jwks(&body).map_err(|problem| KeyLoadError::KeySet { url: jwks_url.clone(), problem })
    }

    /// For a kid not in the set: waits for the on-demand refresh under way, or starts one when
    /// the budget allows; otherwise answers from the set as it is, without waiting. The refresh
    /// runs as a task of its own: a caller that goes away (a client reset) must not cancel a
    /// refresh that took the budget and that later callers may be waiting on.
    async fn refresh_on_demand(self: Arc<Self>, kid: String) -> KeyLookup {
        // Deciding and subscribing under one lock: a caller that sees a refresh pending is
        // subscribed before that refresh can announce its end.
        let waiting = {
            let mut on_demand = sync::lock(&self.on_demand);
            if on_demand.pending {
                Some(self.refreshed.subscribe())
            } else if on_demand.last.is_some_and(|at| at.elapsed() < self.settings.min_refresh) {
                None
            } else {
                *on_demand = OnDemand { last: Some(Instant::now()), pending: true };
                let keys = self.clone();
                actix_web::rt::spawn(async move {
                    let _announce = RefreshEnd(&keys);
                    let _ = keys.refresh().await;
                });
                // The refresh announces its end under this lock: it cannot before this subscribes.
                Some(self.refreshed.subscribe())
            }
        };
        match waiting {
            Some(mut ended) => {
                let _ = ended.changed().await;
                self.cached(&kid)
            }
            None => self.join_running_refresh(&kid).await,
        }
    }

    /// Past the on-demand budget: a background refresh under way is still worth waiting for.
    async fn join_running_refresh(&self, kid: &str) -> KeyLookup {
        if self.refreshes.is_running(&()) {
            // Had it ended just before, this runs nothing: the budget is spent.
            let _ = self.refreshes.run(&(), || async { Ok(0) }).await;
        }
        self.cached(kid)
    }

    /// Keeps the keys fresh: every `refresh_every` (±10%), and with backoff while none loaded.
    pub async fn keep_fresh(self: Arc<Self>) {
        let mut backoff = Duration::from_secs(1);
        loop {
            let wait = if self.snapshot().is_some() {
                backoff = Duration::from_secs(1);
                jittered(self.settings.refresh_every, 0.1)
            } else {
                let wait = backoff;
                backoff = (backoff * 2).min(MAX_RETRY_BACKOFF);
                wait
            };
            actix_web::rt::time::sleep(wait).await;
            let _ = self.refresh().await;
        }
    }
}

/// The on-demand refresh budget: when the last one started, and whether it is still running.
#[derive(Default)]
struct OnDemand {
    last: Option<Instant>,
    pending: bool,
}

/// Ends an on-demand refresh when dropped, so a refresh task that panics still releases its waiters.
struct RefreshEnd<'a>(&'a EntraKeys);

impl Drop for RefreshEnd<'_> {
    fn drop(&mut self) {
        sync::lock(&self.0.on_demand).pending = false;
        self.0.refreshed.send_modify(|n| *n += 1);
    }
}

/// Says which kids came and went (the first load, and every change after it).
fn log_rollover(trusted: usize, rollover: Option<&Rollover>, grace: Duration) {
    match rollover {
        None => log::info!("loaded {trusted} Entra ID signing keys"),
        Some(rollover) if rollover.is_empty() => log::debug!("signing keys refreshed, unchanged: {trusted} trusted"),
        Some(rollover) => log::info!(
            "signing keys refreshed: {trusted} trusted; new kids {:?}; left the set, trusted {}s more: {:?}; dropped: {:?}",
            rollover.added,
            grace.as_secs(),
            rollover.withdrawn,
            rollover.dropped
        ),
    }
}

impl SigningKeys for EntraKeys {
    fn cached(&self, kid: &str) -> KeyLookup {
        match self.snapshot() {
            None => KeyLookup::Unavailable,
            Some(set) => {
                set.get(kid, Instant::now(), self.settings.key_grace).map_or(KeyLookup::Unknown, KeyLookup::Found)
            }
        }
    }

    fn refresh_for(self: Arc<Self>, kid: String) -> LocalBoxFuture<'static, KeyLookup> {
        Box::pin(self.refresh_on_demand(kid))
    }

    fn status(&self) -> KeysStatus {
        match self.snapshot() {
            None => KeysStatus { loaded: 0, age_secs: None },
            Some(set) => KeysStatus {
                loaded: set.trusted(Instant::now(), self.settings.key_grace),
                age_secs: Some(set.fetched_at.elapsed().as_secs()),
            },
        }
    }
}
