//! Secrets from Azure Key Vault, read the way the Azure SDKs read them: a bearer token from
//! vaultgate's credential, the challenge flow on 401, and retries with backoff on 429/503.

mod bundle;
mod ceiling;
mod challenge;
mod retry;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use vaultgate_config::secrets_settings::KeyVaultSettings;

use self::ceiling::GetCeiling;
use super::{FailureReason, Secret, SecretName, SecretStore, SecretVersion, StoreError};
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
    /// What the last challenge asked for; the default scope until one is seen.
    token_request: RwLock<TokenRequest>,
    timeout: Duration,
    retry_budget: Duration,
    ceiling: GetCeiling,
    metrics: VaultMetrics,
}

impl KeyVaultStore {
    pub fn new(settings: &KeyVaultSettings, timeout: Duration) -> Self {
        let host = settings.url.split("://").nth(1).unwrap_or_default().split(['/', ':']).next().unwrap_or_default();
        KeyVaultStore {
            url: settings.url.clone(),
            host: host.to_owned(),
            tokens: Arc::new(AccessTokenCache::new(settings.credential.clone(), timeout)),
            token_request: RwLock::new(TokenRequest::key_vault()),
            timeout,
            retry_budget: settings.retry_budget,
            ceiling: GetCeiling::new(settings.max_gets_per_10s),
            metrics: VaultMetrics::default(),
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
    }

    fn count(&self, outcome: &'static str, started: Instant) {
        self.metrics.calls.get_or_create(&OutcomeLabels { outcome }).inc();
        self.metrics.latency.observe(started.elapsed().as_secs_f64());
    }

    /// The vault's URL, e.g. `https://<name>.vault.azure.net`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn tokens(&self) -> &Arc<AccessTokenCache> {
        &self.tokens
    }

    fn current_request(&self) -> TokenRequest {
        crate::sync::read(&self.token_request).clone()
    }

    async fn read(&self, name: &SecretName, version: Option<&SecretVersion>) -> Result<Secret, StoreError> {
        let url = format!(
            "{}/secrets/{}/{}?api-version={API_VERSION}",
            self.url,
            name.as_str(),
            version.map_or("", SecretVersion::as_str)
        );
        let started = Instant::now();
        let mut throttled = 0u32;
        let mut challenged = false;
        loop {
            let request = self.current_request();
            let token = self.tokens.token(&request).await.map_err(|e| StoreError::Failed {
                reason: FailureReason::Credential,
                detail: format!("credential: {e}"),
            })?;
            // Every GET counts towards the ceiling, retries and challenged ones included, as
            // they do towards Key Vault's own limit.
            self.ceiling.take()?;
            let call = upstream::client()
                .get(&url)
                .insert_header(("Authorization", format!("Bearer {}", token.secret())))
                .insert_header(("Accept", "application/json"));
            let call_started = Instant::now();
            let answer = match upstream::send(call, Body::Empty, self.timeout).await {
                Ok(answer) => answer,
                Err(e) => {
                    self.count(
                        if matches!(e, upstream::UpstreamError::Timeout { .. }) { "timeout" } else { "unreachable" },
                        call_started,
                    );
                    return Err(StoreError::unavailable(format!("Key Vault: {e}")));
                }
            };
            self.count(outcome_label(answer.status), call_started);
            match answer.status {
                200 => return bundle::read(&answer.body, name, crate::clock::unix_now()),
                404 => return Err(StoreError::NotFound),
                401 if !challenged => {
                    challenged = true;
                    self.tokens.forget(&request);
                    self.answer_challenge(&answer.headers)?;
                }
                401 => return Err(StoreError::refused("Key Vault refused a fresh token (401)")),
                403 => return Err(forbidden(&answer.body)),
                429 | 503 => {
                    let wait = retry::delay(&answer.headers, throttled);
                    if started.elapsed() + wait > self.retry_budget {
                        log::warn!("Key Vault kept throttling ({}) past the retry budget", answer.status);
                        return Err(StoreError::Throttled {
                            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                        });
                    }
                    throttled += 1;
                    actix_web::rt::time::sleep(wait).await;
                }
                status => {
                    let detail = format!("Key Vault answered {status}{}", error_code(&answer.body));
                    return Err(if status >= 500 {
                        StoreError::unavailable(detail)
                    } else {
                        StoreError::unusable(detail)
                    });
                }
            }
        }
    }

    /// Takes the tenant and scope from a 401's challenge, for the one retry that follows.
    fn answer_challenge(&self, headers: &actix_web::http::header::HeaderMap) -> Result<(), StoreError> {
        let header = headers.get("WWW-Authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let request = challenge::token_request(header, &self.host)
            .ok_or_else(|| StoreError::refused("Key Vault answered 401 without a usable challenge"))?;
        *crate::sync::write(&self.token_request) = request;
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

    /// Reads a name that does not exist: a 404 proves the vault is reachable and that
    /// vaultgate may read it; a 403 or a failure says what is wrong.
    fn probe(&self) -> LocalBoxFuture<'_, Result<(), String>> {
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
                Err(failure @ StoreError::Failed { .. }) => Err(failure.to_string()),
            }
        })
    }

    fn kind(&self) -> &'static str {
        "key-vault"
    }
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

/// 403: a disabled secret is the caller's answer; anything else (RBAC, firewall, access
/// policy) is vaultgate's own misconfiguration, answered as a 502.
fn forbidden(body: &[u8]) -> StoreError {
    let codes = error_codes(body);
    if codes.iter().any(|c| c == "SecretDisabled") {
        return StoreError::Disabled("Secret is disabled");
    }
    StoreError::refused(format!("Key Vault refused access (403 {})", codes.join("/")))
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
