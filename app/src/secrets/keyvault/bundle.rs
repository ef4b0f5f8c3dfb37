//! Key Vault's secret bundle (`GET /secrets/{name}/{version}`), read into a `Secret`.
//! Key Vault still answers 200 for secrets outside their `nbf`..`exp` window (only
//! `enabled: false` blocks a read): they are served flagged, or refused under
//! `SECRET_EXPIRY=enforce`. The answer's name is the one in the bundle's `id`: the name as stored,
//! whatever casing the request used (Key Vault names are case-insensitive).

use std::collections::BTreeMap;

use serde::Deserialize;

use vaultgate_config::secrets_settings::ExpiryPolicy;

use crate::secrets::{Secret, SecretAttributes, SecretName, SecretProperties, SecretValue, StoreError, Validity};

#[derive(Deserialize)]
struct Bundle {
    value: String,
    id: String,
    #[serde(rename = "contentType")]
    content_type: Option<String>,
    #[serde(default)]
    attributes: SecretAttributes,
    tags: Option<BTreeMap<String, String>>,
    kid: Option<String>,
    managed: Option<bool>,
}

/// Parses a 200 body. Errors never quote the body (it holds the secret).
pub fn read(body: &[u8], name: &SecretName, now: i64, expiry: ExpiryPolicy) -> Result<Secret, StoreError> {
    let bundle: Bundle = serde_json::from_slice(body).map_err(|e| {
        StoreError::unusable(format!("Key Vault answered an unexpected secret shape ({:?})", e.classify()))
    })?;
    let attributes = &bundle.attributes;
    if attributes.enabled == Some(false) {
        return Err(StoreError::Disabled("Secret is disabled"));
    }
    let validity = if attributes.exp.is_some_and(|exp| exp <= now) {
        Some(Validity::Expired)
    } else if attributes.nbf.is_some_and(|nbf| nbf > now) {
        Some(Validity::NotYetValid)
    } else {
        None
    };
    let expires_at = match (expiry, validity) {
        (ExpiryPolicy::Enforce, Some(Validity::Expired)) => return Err(StoreError::Disabled("Secret has expired")),
        (ExpiryPolicy::Enforce, Some(Validity::NotYetValid)) => {
            return Err(StoreError::Disabled("Secret is not yet valid"));
        }
        (ExpiryPolicy::Enforce, None) => attributes.exp,
        // Served: caches keep it until its validity next changes, so the flag stays true.
        (ExpiryPolicy::Serve, Some(Validity::NotYetValid)) => attributes.nbf,
        (ExpiryPolicy::Serve, None) => attributes.exp,
        (ExpiryPolicy::Serve, Some(Validity::Expired)) => None,
    };
    let (stored_name, version) = id_parts(&bundle.id)
        .filter(|(stored, _)| name.names(stored))
        .ok_or_else(|| StoreError::unusable("Key Vault answered a bundle whose id names another secret"))?;
    Ok(Secret {
        name: stored_name.to_owned(),
        value: SecretValue::new(bundle.value),
        version: version.to_owned(),
        content_type: bundle.content_type,
        expires_at,
        validity,
        properties: SecretProperties {
            attributes: bundle.attributes,
            tags: bundle.tags,
            kid: bundle.kid,
            managed: bundle.managed,
        },
    })
}

/// The name and version in `https://{vault}/secrets/{name}/{version}`.
fn id_parts(id: &str) -> Option<(&str, &str)> {
    let mut segments = id.trim_end_matches('/').rsplit('/');
    let (version, name, collection) = (segments.next()?, segments.next()?, segments.next()?);
    (collection == "secrets").then_some((name, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIRE: &str = r#"{
      "value": "SECRET_VALUE",
      "id": "https://myvault.vault.azure.net/secrets/db-password/41cce6796d81438f9dad0d96bf85d50d",
      "contentType": "text/plain",
      "attributes": {"enabled": true, "nbf": 1668124800, "exp": 1899660800, "created": 1668124872,
                     "updated": 1668124872, "recoveryLevel": "CustomizedRecoverable+Purgeable", "recoverableDays": 7},
      "tags": {"owner": "payments"}
    }"#;
    const NOW: i64 = 1_795_870_000;
    const ENFORCE: ExpiryPolicy = ExpiryPolicy::Enforce;

    fn name() -> SecretName {
        SecretName::parse("db-password").unwrap()
    }

    #[test]
    fn reads_the_wire_sample() {
        let secret = read(WIRE.as_bytes(), &name(), NOW, ENFORCE).unwrap();
        assert_eq!(secret.value.expose(), "SECRET_VALUE");
        assert_eq!(secret.version, "41cce6796d81438f9dad0d96bf85d50d");
        assert_eq!(secret.content_type.as_deref(), Some("text/plain"));
        assert_eq!(secret.expires_at, Some(1_899_660_800));
    }

    #[test]
    fn the_answer_carries_the_stored_name_whatever_casing_was_asked() {
        let asked = SecretName::parse("DB-PASSWORD").unwrap();
        let stored = WIRE.replace("/secrets/db-password/", "/secrets/Db-Password/");
        assert_eq!(read(stored.as_bytes(), &asked, NOW, ENFORCE).unwrap().name, "Db-Password");
        let other = WIRE.replace("/secrets/db-password/", "/secrets/api-key/");
        assert!(matches!(
            read(other.as_bytes(), &asked, NOW, ENFORCE),
            Err(StoreError::Failed { reason: crate::secrets::FailureReason::Unusable, .. })
        ));
    }

    #[test]
    fn secrets_outside_their_window_are_refused() {
        let disabled = WIRE.replace(r#""enabled": true"#, r#""enabled": false"#);
        assert_eq!(read(disabled.as_bytes(), &name(), NOW, ENFORCE), Err(StoreError::Disabled("Secret is disabled")));
        assert_eq!(
            read(WIRE.as_bytes(), &name(), 1_899_660_800, ENFORCE),
            Err(StoreError::Disabled("Secret has expired"))
        );
        assert_eq!(
            read(WIRE.as_bytes(), &name(), 1_668_124_000, ENFORCE),
            Err(StoreError::Disabled("Secret is not yet valid"))
        );
    }

    #[test]
    fn served_by_default_flagged_and_cached_until_the_validity_changes() {
        let serve = |now| read(WIRE.as_bytes(), &name(), now, ExpiryPolicy::Serve).unwrap();
        let expired = serve(1_899_660_800);
        assert_eq!((expired.validity, expired.expires_at), (Some(Validity::Expired), None));
        let early = serve(1_668_124_000);
        assert_eq!((early.validity, early.expires_at), (Some(Validity::NotYetValid), Some(1_668_124_800)));
        let valid = serve(NOW);
        assert_eq!((valid.validity, valid.expires_at), (None, Some(1_899_660_800)));
        let disabled = WIRE.replace(r#""enabled": true"#, r#""enabled": false"#);
        assert!(read(disabled.as_bytes(), &name(), NOW, ExpiryPolicy::Serve).is_err(), "disabled is never served");
    }

    #[test]
    fn parse_errors_never_quote_the_body() {
        let error = read(br#"{"value": 12345678, "id": "x"}"#, &name(), NOW, ENFORCE).unwrap_err();
        assert!(!error.to_string().contains("12345678"), "{error}");
        let error = read(br#"{"value": "hunter2""#, &name(), NOW, ENFORCE).unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
