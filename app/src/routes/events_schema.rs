//! The shape of a Key Vault event delivery, for the OpenAPI document only: deliveries are
//! read as JSON values (`secrets::events`), with `data`'s field names matched case-insensitively,
//! so these types are never deserialised into.
#![allow(dead_code)]

use utoipa::ToSchema;

/// A delivery in the Event Grid schema: an array of events. CloudEvents 1.0 deliveries carry
/// the same `data` under `specversion`, `type`, `source`, `id` and `time`, one event or an array.
#[derive(ToSchema)]
pub struct KeyVaultDelivery(Vec<KeyVaultEvent>);

/// One event (Event Grid schema).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct KeyVaultEvent {
    id: String,
    /// `/subscriptions/…/resourceGroups/…/providers/Microsoft.KeyVault/vaults/<vault name>`: a
    /// Key Vault event counts only when this is the vault's own resource id (CloudEvents: `source`).
    #[schema(nullable = false)]
    topic: Option<String>,
    /// The secret's name.
    #[schema(nullable = false)]
    subject: Option<String>,
    /// `Microsoft.KeyVault.SecretNewVersionCreated`, `…SecretNearExpiry`, `…SecretExpired` drop
    /// the secret's cached entries; `Microsoft.EventGrid.SubscriptionValidationEvent` is the handshake;
    /// any other type is ignored.
    event_type: String,
    #[schema(nullable = false)]
    event_time: Option<String>,
    data: KeyVaultEventData,
    #[schema(nullable = false)]
    data_version: Option<String>,
    #[schema(nullable = false)]
    metadata_version: Option<String>,
}

/// What the event is about.
#[derive(ToSchema)]
pub struct KeyVaultEventData {
    /// `https://<vault>.vault.azure.net/secrets/<name>/<version>`: must lie under `KEY_VAULT_URL`.
    #[schema(nullable = false, rename = "Id")]
    id: Option<String>,
    /// Compared with the first label of the vault's host when `Id` is absent.
    #[schema(nullable = false, rename = "VaultName")]
    vault_name: Option<String>,
    #[schema(nullable = false, rename = "ObjectType")]
    object_type: Option<String>,
    /// The secret whose cached entries are dropped.
    #[schema(nullable = false, rename = "ObjectName")]
    object_name: Option<String>,
    #[schema(nullable = false, rename = "Version")]
    version: Option<String>,
    #[schema(nullable = false, rename = "NBF")]
    nbf: Option<i64>,
    #[schema(nullable = false, rename = "EXP")]
    exp: Option<i64>,
    /// The handshake's code (`Microsoft.EventGrid.SubscriptionValidationEvent` only).
    #[schema(nullable = false, rename = "validationCode")]
    validation_code: Option<String>,
}
