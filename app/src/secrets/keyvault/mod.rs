//! Secrets from Azure Key Vault, read the way the Azure SDKs read them: a first request
//! without a token, whose 401 challenge names the scope (checked against the vault's host)
//! and tenant (checked against the credential's) to ask one for; retries with backoff on
//! the SDKs' transient statuses and connection errors; secrets outside their validity
//! window served flagged unless `SECRET_EXPIRY=enforce`.

mod bundle;
mod ceiling;
mod challenge;
mod list;
mod retry;
mod self_check;
mod tenant;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures_util::future::LocalBoxFuture;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde::Deserialize;
use vaultgate_config::secrets_settings::{AllowedTenants, CredentialSource, ExpiryPolicy, KeyVaultSettings};
use vaultgate_config::url::host_of;

use self::ceiling::GetCeiling;
use super::check_line::CheckLines;
use super::{Secret, SecretName, SecretStore, SecretVersion, StoreError, ThrottledBy, Validity};
use crate::credential::{AccessTokenCache, TokenRequest};
use crate::metrics::{OutcomeLabels, VaultMetrics};
use crate::upstream::{self, Body};

/// The Key Vault REST API version vaultgate speaks.
pub const API_VERSION: &str = "2025-07-01";
/// A name no vault holds: reading it proves reachability and permission.
pub const PROBE_SECRET: &str = "vaultgate-probe-not-a-secret";

pub struct KeyVaultStore {
    /// `https://<name>.vault.azure.net`
    url: String,
    host: String,
    tokens: Arc<AccessTokenCache>,
    /// What the last challenge asked for; `None` until one is seen, and requests go without
    /// a token until then.
    token_request: RwLock<Option<TokenRequest>>,
    /// The tenant the last challenge named, for `vaultgate check`.
    challenge_tenant: RwLock<Option<String>>,
    timeout: Duration,
    retry_budget: Duration,
    ceiling: GetCeiling,
    metrics: VaultMetrics,
    credential: CredentialSource,
    allowed_tenants: AllowedTenants,
    expiry: ExpiryPolicy,
    /// Versions already warned about as served outside their validity window (bounded).
    warned: Mutex<HashSet<(String, String)>>,
    outside_validity: Family<ValidityLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ValidityLabels {
    validity: &'static str,
}

/// How many flagged versions are remembered for the once-per-version warning.
const WARNED_VERSIONS: usize = 10_000;

impl KeyVaultStore {
    pub fn new(settings: &KeyVaultSettings, credential: CredentialSource, timeout: Duration) -> Self {
        let host = host_of(&settings.url).unwrap_or_default();
        KeyVaultStore {
            url: settings.url.clone(),
            host,
            tokens: Arc::new(AccessTokenCache::new(credential.clone(), timeout)),
            token_request: RwLock::new(None),
            challenge_tenant: RwLock::new(None),
            timeout,
            retry_budget: settings.retry_budget,
            ceiling: GetCeiling::new(settings.max_gets_per_10s),
            metrics: VaultMetrics::default(),
            credential,
            allowed_tenants: settings.additionally_allowed_tenants.clone(),
            expiry: settings.expiry,
            warned: Mutex::new(HashSet::new()),
            outside_validity: Family::default(),
        }
    }

    /// Registers the Key Vault call counters and latencies for `/metrics`.
    pub fn register(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register("keyvault_calls", "Key Vault calls by outcome", self.metrics.calls.clone());
        registry.register("keyvault_call_duration_seconds", "Key Vault call latency", self.metrics.latency.clone());
        registry.register(
            "keyvault_ceiling_refusals",
            "Key Vault GETs not sent because KEY_VAULT_MAX_GETS_PER_10S was reached (answered 503)",
            self.ceiling.refusals.clone(),
        );
        registry.register(
            "keyvault_secrets_outside_validity",
            "Secrets Key Vault returned past their exp or before their nbf, served (SECRET_EXPIRY=serve)",
            self.outside_validity.clone(),
        );
    }

    fn count(&self, outcome: &'static str, started: Instant) {
        self.metrics.calls.get_or_create(&OutcomeLabels { outcome }).inc();
        self.metrics.latency.observe(started.elapsed().as_secs_f64());
    }

    /// The vault's host, e.g. `<name>.vault.azure.net`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The vault's URL, e.g. `https://<name>.vault.azure.net`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn tokens(&self) -> &Arc<AccessTokenCache> {
        &self.tokens
    }

    /// What the vault's last challenge asked for (`None` before one is seen): the token
    /// request made of it, and the tenant it named (kept even where the credential takes none).
    pub fn challenge(&self) -> Option<(TokenRequest, Option<String>)> {
        let request = self.current_request()?;
        Some((request, crate::sync::read(&self.challenge_tenant).clone()))
    }

    fn current_request(&self) -> Option<TokenRequest> {
        crate::sync::read(&self.token_request).clone()
    }

    async fn read(&self, name: &SecretName, version: Option<&SecretVersion>) -> Result<Secret, StoreError> {
        let url = format!(
            "{}/secrets/{}/{}?api-version={API_VERSION}",
            self.url,
            name.as_str(),
            version.map_or("", SecretVersion::as_str)
        );
        let answer = self.call(&url).await?;
        match answer.status {
            200 => {
                let secret = bundle::read(&answer.body, name, crate::clock::unix_now(), self.expiry)?;
                self.flag(&secret);
                Ok(secret)
            }
            404 => Err(not_found(&answer.body)),
            403 => Err(forbidden(&answer.body)),
            status => Err(unexpected(status, &answer.body)),
        }
    }

    /// One GET to the vault the way the SDKs send it: without a token until a challenge names
    /// what to ask for, with one fresh token after a 401, retried with backoff on transient
    /// statuses and connection errors within the retry budget, each attempt counted against
    /// the GET ceiling. Gives back the answer for any other status (a second 401 is refused).
    async fn call(&self, url: &str) -> Result<upstream::Answer, StoreError> {
        let started = Instant::now();
        let mut attempt = 0u32;
        let mut challenged = false;
        loop {
            // As the SDKs do, the first request to a vault carries no token: its challenge
            // names the scope (checked against the vault's host) and tenant to ask one for.
            let request = self.current_request();
            let mut call = upstream::client().get(url).insert_header(("Accept", "application/json"));
            if let Some(request) = &request {
                let token = self.tokens.token(request).await.map_err(StoreError::Credential)?;
                call = call.insert_header(("Authorization", format!("Bearer {}", token.secret())));
            }
            // Every GET counts towards the ceiling, retries and challenged ones included, as
            // they do towards Key Vault's own limit.
            self.ceiling.take()?;
            let call_started = Instant::now();
            let answer = match upstream::send(call, Body::Empty, self.timeout).await {
                Ok(answer) => answer,
                Err(e) => {
                    let timeout = matches!(e, upstream::UpstreamError::Timeout { .. });
                    self.count(if timeout { "timeout" } else { "unreachable" }, call_started);
                    // Timeouts and connection errors are retried, as the SDKs retry them.
                    if self.wait_to_retry(started, &mut attempt, None).await.is_err() {
                        return Err(StoreError::unavailable(format!("Key Vault: {e}")));
                    }
                    continue;
                }
            };
            self.count(outcome_label(answer.status), call_started);
            match answer.status {
                401 if !challenged => {
                    challenged = true;
                    if let Some(request) = &request {
                        self.tokens.forget(request);
                    }
                    self.answer_challenge(&answer.headers)?;
                }
                401 => return Err(StoreError::refused("Key Vault refused a fresh token (401)")),
                status if retry::is_transient(status) => {
                    if let Err(wait) = self.wait_to_retry(started, &mut attempt, Some(&answer.headers)).await {
                        log::warn!("Key Vault kept answering {status} past the retry budget");
                        return Err(match status {
                            429 | 503 => StoreError::Throttled {
                                by: ThrottledBy::KeyVault,
                                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                            },
                            _ => StoreError::unavailable(format!(
                                "Key Vault answered {status}{}",
                                error_code(&answer.body)
                            )),
                        });
                    }
                }
                _ => return Ok(answer),
            }
        }
    }

    /// Waits before the next attempt when `KEY_VAULT_RETRY_BUDGET_SECS` leaves room for the
    /// wait; else gives back the wait that did not fit.
    async fn wait_to_retry(
        &self,
        started: Instant,
        attempt: &mut u32,
        headers: Option<&actix_web::http::header::HeaderMap>,
    ) -> Result<(), Duration> {
        let wait = retry::delay(headers, *attempt);
        if started.elapsed() + wait > self.retry_budget {
            return Err(wait);
        }
        *attempt += 1;
        actix_web::rt::time::sleep(wait).await;
        Ok(())
    }

    /// Counts a secret served outside its validity window, and warns once per version.
    fn flag(&self, secret: &Secret) {
        let Some(validity) = secret.validity else { return };
        self.outside_validity.get_or_create(&ValidityLabels { validity: validity.label() }).inc();
        let mut warned = crate::sync::lock(&self.warned);
        if warned.len() >= WARNED_VERSIONS {
            warned.clear();
        }
        if warned.insert((secret.name.to_ascii_lowercase(), secret.version.clone())) {
            let what = match validity {
                Validity::Expired => "expired (past its exp)",
                Validity::NotYetValid => "not yet valid (before its nbf)",
            };
            log::warn!(
                "secret={} version={} is {what} and served, as Key Vault returns it; SECRET_EXPIRY=enforce refuses it",
                secret.name,
                secret.version
            );
        }
    }

    /// Takes the scope and tenant from a 401's challenge, once both are checked, for the one
    /// retry that follows (and the reads after it).
    fn answer_challenge(&self, headers: &actix_web::http::header::HeaderMap) -> Result<(), StoreError> {
        let header = headers.get("WWW-Authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let mut request = challenge::token_request(header, &self.host)
            .ok_or_else(|| StoreError::refused("Key Vault answered 401 without a usable challenge"))?;
        let named = request.tenant.take();
        request.tenant = tenant::checked(named.clone(), &self.credential, &self.allowed_tenants)?;
        *crate::sync::write(&self.challenge_tenant) = named;
        *crate::sync::write(&self.token_request) = Some(request);
        Ok(())
    }
}

impl SecretStore for KeyVaultStore {
    fn get<'a>(
        &'a self,
        name: &'a SecretName,
        version: Option<&'a SecretVersion>,
    ) -> LocalBoxFuture<'a, Result<Arc<Secret>, StoreError>> {
        Box::pin(async move { self.read(name, version).await.map(Arc::new) })
    }

    fn list(&self) -> LocalBoxFuture<'_, Result<Vec<super::catalog::SecretItem>, super::catalog::ListError>> {
        Box::pin(self.list_all())
    }

    fn versions<'a>(
        &'a self,
        name: &'a SecretName,
    ) -> LocalBoxFuture<'a, Result<Vec<super::catalog::SecretItem>, super::catalog::ListError>> {
        Box::pin(self.list_versions(name))
    }

    /// Reads a name that does not exist: Key Vault's `SecretNotFound` proves the vault is reachable and that
    /// vaultgate may read it; a 403 or a failure says what is wrong.
    fn probe(&self) -> LocalBoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let name = SecretName::parse(PROBE_SECRET).expect("the probe name is valid");
            match self.read(&name, None).await {
                Ok(_)
                | Err(
                    StoreError::NotFound
                    | StoreError::Disabled(_)
                    | StoreError::Throttled { .. }
                    | StoreError::MissBudgetSpent { .. },
                ) => Ok(()),
                Err(failure @ (StoreError::Failed { .. } | StoreError::Credential(_))) => Err(failure),
            }
        })
    }

    fn kind(&self) -> &'static str {
        "key-vault"
    }

    fn check(&self) -> LocalBoxFuture<'_, CheckLines> {
        Box::pin(self_check::check(self))
    }

    fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        self.register(registry);
    }
}

/// The store reading `settings`' vault through `credential`, its first request not sent before
/// a read.
pub fn open(settings: &KeyVaultSettings, credential: CredentialSource, timeout: Duration) -> Arc<dyn SecretStore> {
    Arc::new(KeyVaultStore::new(settings, credential, timeout))
}

fn outcome_label(status: u16) -> &'static str {
    match status {
        200 => "ok",
        404 => "not_found",
        401 => "unauthorized",
        403 => "forbidden",
        429 => "throttled",
        503 => "unavailable",
        _ => "error",
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: Option<String>,
    innererror: Option<Box<ErrorDetail>>,
}

/// 404: Key Vault's own answer names `SecretNotFound`; any other 404 comes from something
/// that is not the vault (a misrouted host or private endpoint) and proves nothing.
fn not_found(body: &[u8]) -> StoreError {
    if error_codes(body).iter().any(|c| c == "SecretNotFound") {
        return StoreError::NotFound;
    }
    StoreError::unusable("Key Vault answered 404 without SecretNotFound (is KEY_VAULT_URL a vault?)")
}

/// 403: a disabled secret is the caller's answer; anything else (RBAC, firewall, access
/// policy) is vaultgate's own misconfiguration, answered as a 502.
fn forbidden(body: &[u8]) -> StoreError {
    let codes = error_codes(body);
    if codes.iter().any(|c| c == "SecretDisabled") {
        return StoreError::Disabled("Secret is disabled");
    }
    StoreError::refused(format!("Key Vault refused access (403 {})", codes.join("/")))
}

/// Any other status: a 5xx is the vault being unwell, anything else an answer vaultgate
/// cannot use.
fn unexpected(status: u16, body: &[u8]) -> StoreError {
    let detail = format!("Key Vault answered {status}{}", error_code(body));
    if status >= 500 { StoreError::unavailable(detail) } else { StoreError::unusable(detail) }
}

fn error_codes(body: &[u8]) -> Vec<String> {
    let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) else { return Vec::new() };
    let mut codes = Vec::new();
    let mut detail = Some(&parsed.error);
    while let Some(current) = detail {
        codes.extend(current.code.clone());
        detail = current.innererror.as_deref();
    }
    codes
}

fn error_code(body: &[u8]) -> String {
    let codes = error_codes(body);
    if codes.is_empty() { String::new() } else { format!(" {}", codes.join("/")) }
}
