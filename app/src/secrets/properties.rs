//! What a store says about a secret beside its name, version and value, in Key Vault's own
//! field names: read from Key Vault's answers, and written back as they are to Key Vault
//! clients reading through vaultgate. The folder store fills in what a file can tell.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Key Vault's secret attributes (times in seconds since the epoch), each when known.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct SecretAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub created: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub updated: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub exp: Option<i64>,
    /// What deleting the secret can be undone by (`Purgeable`, `Recoverable+Purgeable`, ...).
    #[serde(rename = "recoveryLevel", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub recovery_level: Option<String>,
    #[serde(rename = "recoverableDays", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub recoverable_days: Option<i64>,
}

/// A secret's attributes, tags and, for a certificate's secret, the key behind it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretProperties {
    pub attributes: SecretAttributes,
    pub tags: Option<BTreeMap<String, String>>,
    /// A certificate's secret: the id of the certificate's key.
    pub kid: Option<String>,
    /// A certificate's secret: Key Vault manages its lifetime.
    pub managed: Option<bool>,
}
