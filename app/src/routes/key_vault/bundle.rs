//! Key Vault's SecretBundle, as vaultgate answers Get Secret: the value, an `id` on vaultgate,
//! and what the store said of the secret (attributes, content type, tags; `kid` and `managed`
//! for a certificate's secret). Borrowed from the cached secret: a hot read copies nothing.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::secrets::{Secret, SecretAttributes, SecretValue};

#[derive(Serialize, ToSchema)]
pub struct SecretBundle<'a> {
    #[schema(value_type = String)]
    value: &'a SecretValue,
    /// `<vaultgate's URL>/secrets/<name as stored>/<version>`
    id: String,
    attributes: &'a SecretAttributes,
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    tags: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    kid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    managed: Option<bool>,
}

impl<'a> SecretBundle<'a> {
    /// The bundle of `secret` under `id` (`<base>/secrets/<name as stored>/<version>`).
    pub fn of(secret: &'a Secret, id: String) -> Self {
        let properties = &secret.properties;
        SecretBundle {
            value: &secret.value,
            id,
            attributes: &properties.attributes,
            content_type: secret.content_type.as_deref(),
            tags: properties.tags.as_ref(),
            kid: properties.kid.as_deref(),
            managed: properties.managed,
        }
    }
}
