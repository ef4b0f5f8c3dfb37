//! Key Vault's SecretBundle, as vaultgate answers Get Secret: the value, an `id` on vaultgate,
//! and what the store said of the secret (attributes, content type, tags; `kid` and `managed`
//! for a certificate's secret).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::secrets::{Secret, SecretAttributes, SecretValue};

#[derive(Serialize, ToSchema)]
pub struct SecretBundle {
    #[schema(value_type = String)]
    value: SecretValue,
    /// `<vaultgate's URL>/secrets/<name as stored>/<version>`
    id: String,
    attributes: SecretAttributes,
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    managed: Option<bool>,
}

impl SecretBundle {
    pub fn of(secret: &Secret, base: &str) -> Self {
        let properties = &secret.properties;
        SecretBundle {
            value: secret.value.clone(),
            id: format!("{base}/secrets/{}/{}", secret.name, secret.version),
            attributes: properties.attributes.clone(),
            content_type: secret.content_type.clone(),
            tags: properties.tags.clone(),
            kid: properties.kid.clone(),
            managed: properties.managed,
        }
    }
}
