//! Where secrets come from: the `SecretStore` trait and its implementations.

pub mod dir;
mod name;

use std::fmt;

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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Secret {
    pub name: String,
    pub value: SecretValue,
    pub version: String,
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// Why a store could not answer. The text is for logs (it never holds a secret value).
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum StoreError {
    #[display("secret not found")]
    NotFound,
    #[display("secret store failed: {_0}")]
    Failed(String),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ErrorCode::SecretNotFound.into(),
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
    ) -> LocalBoxFuture<'a, Result<Secret, StoreError>>;

    /// Whether the store can be used now, for `/health`; `Err` says why not.
    fn probe(&self) -> LocalBoxFuture<'_, Result<(), String>>;

    /// A short name for logs and `/health` (e.g. `directory`).
    fn kind(&self) -> &'static str;
}
