//! Where secrets come from: the `SecretStore` trait and its implementations.

pub mod audit;
pub mod cache;
mod cache_entries;
pub mod catalog;
pub mod check_line;
pub mod dir;
pub mod events;
#[cfg(test)]
mod fake_store;
pub mod keyvault;
pub mod miss_budget;
mod name;
pub mod policy;
mod properties;
mod refresh_claims;
mod sliding_window;

use std::fmt;
use std::sync::Arc;

use crate::AppError;
use futures_util::future::LocalBoxFuture;
use vaultgate_config::ErrorCode;

pub use name::{SecretName, SecretVersion};
pub use properties::{SecretAttributes, SecretProperties};

/// A secret's value. Its `Debug` never shows the value, so it cannot slip into a log line.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: String) -> Self {
        SecretValue(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(<{} bytes>)", self.0.len())
    }
}

/// A secret as answered to callers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Secret {
    pub name: String,
    #[schema(value_type = String)]
    pub value: SecretValue,
    pub version: String,
    /// The content type set on the secret in Key Vault, when one is.
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub content_type: Option<String>,
    /// When caches must ask the store again (seconds since the epoch): the secret's `exp`
    /// when expiry is enforced, else the next moment its validity changes.
    #[serde(skip)]
    pub expires_at: Option<i64>,
    /// Set when the secret is served outside its own `nbf`..`exp` window.
    #[serde(skip)]
    pub validity: Option<Validity>,
    /// Attributes and tags, for the Key Vault-shaped answers (not in vaultgate's own).
    #[serde(skip)]
    pub properties: SecretProperties,
}

/// Where a served secret stands against its `nbf`..`exp` window, when outside it (Key Vault
/// returns such secrets; vaultgate serves them flagged unless `SECRET_EXPIRY=enforce`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Validity {
    Expired,
    NotYetValid,
}

impl Validity {
    /// The `Vaultgate-Secret-Validity` header's value.
    pub fn header_value(self) -> &'static str {
        match self {
            Validity::Expired => "expired",
            Validity::NotYetValid => "not-yet-valid",
        }
    }

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Validity::Expired => "expired",
            Validity::NotYetValid => "not_yet_valid",
        }
    }
}

/// Why a store could not answer. The text is for logs (it never holds a secret value).
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum StoreError {
    #[display("secret not found")]
    NotFound,
    /// Disabled, expired or not yet valid; the text says which (and goes to the caller).
    #[display("secret not served: {_0}")]
    Disabled(&'static str),
    /// Key Vault kept throttling past the retry budget, or vaultgate's own ceiling on vault
    /// GETs was reached (`by` says which: only the vault's is a store failure).
    #[display("secret store throttled by {by}; retry after {retry_after_secs}s")]
    Throttled { by: ThrottledBy, retry_after_secs: u64 },
    /// The caller spent its budget of fruitless reads; its cache misses wait.
    #[display("miss budget spent; retry after {retry_after_secs}s")]
    MissBudgetSpent { retry_after_secs: u64 },
    #[display("secret store failed ({reason}): {detail}")]
    Failed { reason: FailureReason, detail: String },
    /// vaultgate's own credential got no token, so nothing was asked of the store.
    #[display("secret store failed (credential): {_0}")]
    Credential(crate::credential::CredentialError),
}

/// Who refused a read for its rate: both answer 503 `AzureKeyVaultThrottled` with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, derive_more::Display)]
pub enum ThrottledBy {
    /// Key Vault answered 429/503 past the retry budget: the store is unwell for now.
    #[display("Key Vault")]
    KeyVault,
    /// vaultgate's own `KEY_VAULT_MAX_GETS_PER_10S`: no GET was sent, and the vault may well
    /// have changed (a secret disabled), so no cached value past its TTL covers it.
    #[display("KEY_VAULT_MAX_GETS_PER_10S")]
    Ceiling,
}

/// Why a store failed, which decides whether a cached value may cover the failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, derive_more::Display)]
pub enum FailureReason {
    /// The store refused vaultgate (401 after a fresh token, 403, a file it may not read):
    /// access revoked, a firewall, a removed role. Never covered by a stale value.
    #[display("refused")]
    Refused,
    /// 5xx, timeouts, connection errors: the store is unwell for now. Stale values may cover it.
    #[display("unavailable")]
    Unavailable,
    /// An answer vaultgate cannot use (bad JSON, an unexpected status, a file too large).
    #[display("unusable answer")]
    Unusable,
}

impl StoreError {
    pub fn refused(detail: impl Into<String>) -> Self {
        StoreError::Failed { reason: FailureReason::Refused, detail: detail.into() }
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        StoreError::Failed { reason: FailureReason::Unavailable, detail: detail.into() }
    }

    pub fn unusable(detail: impl Into<String>) -> Self {
        StoreError::Failed { reason: FailureReason::Unusable, detail: detail.into() }
    }

    /// Whether a cached value may be served instead (stale-if-error): for a store, or an
    /// identity endpoint, that is briefly unwell (5xx, 429, timeouts, connection errors), never
    /// for one that refuses (a revoked identity, `invalid_client`), nor for vaultgate's own
    /// ceiling (a limit of ours, not a failure of the vault).
    pub fn may_serve_stale(&self) -> bool {
        match self {
            StoreError::Throttled { by: ThrottledBy::KeyVault, .. }
            | StoreError::Failed { reason: FailureReason::Unavailable, .. } => true,
            StoreError::Credential(failure) => failure.is_transient(),
            StoreError::NotFound
            | StoreError::Disabled(_)
            | StoreError::Throttled { by: ThrottledBy::Ceiling, .. }
            | StoreError::MissBudgetSpent { .. }
            | StoreError::Failed { reason: FailureReason::Refused | FailureReason::Unusable, .. } => false,
        }
    }

    /// Whether the read found nothing for the caller (not found, refused): these count
    /// against the caller's miss budget. Outages and throttling are not the caller's doing.
    pub fn is_fruitless(&self) -> bool {
        matches!(
            self,
            StoreError::NotFound | StoreError::Disabled(_) | StoreError::Failed { reason: FailureReason::Refused, .. }
        )
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ErrorCode::SecretNotFound.into(),
            StoreError::Disabled(reason) => AppError::new(ErrorCode::SecretDisabled).with_debug(reason),
            StoreError::Throttled { retry_after_secs, .. } => {
                AppError::new(ErrorCode::VaultThrottled).with_retry_after(retry_after_secs)
            }
            StoreError::MissBudgetSpent { retry_after_secs } => {
                AppError::new(ErrorCode::SecretMissBudgetExceeded).with_retry_after(retry_after_secs)
            }
            StoreError::Failed { .. } | StoreError::Credential(_) => ErrorCode::VaultError.into(),
        }
    }
}

/// A source of secrets. Calls may run concurrently on every worker.
pub trait SecretStore: Send + Sync {
    /// The secret `name`, at `version` or the current one.
    fn get<'a>(
        &'a self,
        name: &'a SecretName,
        version: Option<&'a SecretVersion>,
    ) -> LocalBoxFuture<'a, Result<Arc<Secret>, StoreError>>;

    /// Every secret the store holds, without values (for `GET /secrets`). Stores that cannot
    /// list say so.
    fn list(&self) -> LocalBoxFuture<'_, Result<Vec<catalog::SecretItem>, catalog::ListError>> {
        Box::pin(std::future::ready(Err(catalog::ListError::Unsupported(self.kind()))))
    }

    /// Every version of `name`, without values (for `GET /secrets/{name}/versions`);
    /// `NotFound` when there is no such secret. Stores that cannot list say so.
    fn versions<'a>(
        &'a self,
        _name: &'a SecretName,
    ) -> LocalBoxFuture<'a, Result<Vec<catalog::SecretItem>, catalog::ListError>> {
        Box::pin(std::future::ready(Err(catalog::ListError::Unsupported(self.kind()))))
    }

    /// Whether the store can be used now, for `/health`; `Err` says why not.
    fn probe(&self) -> LocalBoxFuture<'_, Result<(), StoreError>>;

    /// A short name for logs and `/health` (e.g. `directory`).
    fn kind(&self) -> &'static str;

    /// `vaultgate check`'s steps for what the store needs beyond its settings (a vault's
    /// host, credential, challenge and permission); a store with nothing to prove has none.
    fn check(&self) -> LocalBoxFuture<'_, check_line::CheckLines> {
        Box::pin(std::future::ready(check_line::CheckLines::default()))
    }

    /// Registers the store's own metrics for `/metrics`; a store without any registers none.
    fn register_metrics(&self, _registry: &mut prometheus_client::registry::Registry) {}
}
