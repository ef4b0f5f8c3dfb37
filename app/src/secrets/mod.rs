//! Where secrets come from: the `SecretStore` trait and its implementations.

pub mod audit;
pub mod cache;
pub mod dir;
pub mod keyvault;
mod name;
pub mod policy;

use std::fmt;
use std::sync::Arc;

use futures_util::future::LocalBoxFuture;
use vaultgate_config::{AppError, ErrorCode};

pub use name::{SecretName, SecretVersion};

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
    /// The secret's own `exp` attribute (seconds since the epoch): caches keep it no longer.
    #[serde(skip)]
    pub expires_at: Option<i64>,
}

/// Why a store could not answer. The text is for logs (it never holds a secret value).
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum StoreError {
    #[display("secret not found")]
    NotFound,
    /// Disabled, expired or not yet valid; the text says which (and goes to the caller).
    #[display("secret not served: {_0}")]
    Disabled(&'static str),
    /// Key Vault kept throttling past the retry budget.
    #[display("secret store throttled; retry after {retry_after_secs}s")]
    Throttled { retry_after_secs: u64 },
    #[display("secret store failed: {_0}")]
    Failed(String),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ErrorCode::SecretNotFound.into(),
            StoreError::Disabled(reason) => AppError::new(ErrorCode::SecretDisabled).with_debug(reason),
            StoreError::Throttled { retry_after_secs } => {
                AppError::new(ErrorCode::VaultThrottled).with_retry_after(retry_after_secs)
            }
            StoreError::Failed(_) => ErrorCode::VaultError.into(),
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

    /// Whether the store can be used now, for `/health`; `Err` says why not.
    fn probe(&self) -> LocalBoxFuture<'_, Result<(), String>>;

    /// A short name for logs and `/health` (e.g. `directory`).
    fn kind(&self) -> &'static str;
}
