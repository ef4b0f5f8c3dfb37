//! Key Vault's lists: of secrets (Get Secrets, `GET {vault}/secrets`) and of one secret's
//! versions (`GET {vault}/secrets/{name}/versions`), every page: each `nextLink` is followed
//! as given once it is checked to point at the vault itself (scheme, host and port, and the
//! list's own path), since the token goes with it. Key Vault may answer empty pages that
//! still carry a `nextLink`; only a missing or null link ends the list.

use std::collections::BTreeMap;
use std::str::FromStr;

use actix_web::http::Uri;
use serde::Deserialize;

use super::{API_VERSION, KeyVaultStore, error_codes, not_found, unexpected};
use crate::secrets::catalog::{ListError, SecretItem};
use crate::secrets::{SecretAttributes, SecretName, SecretProperties, StoreError};

/// Items per page asked for: Key Vault's maximum.
const PAGE_SIZE: usize = 25;
/// A vault with 25,000 secrets (or a server looping its links) stops here, as an error.
const MAX_PAGES: usize = 1_000;

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<Item>,
    #[serde(rename = "nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct Item {
    id: Option<String>,
    #[serde(default)]
    attributes: SecretAttributes,
    #[serde(rename = "contentType")]
    content_type: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    managed: Option<bool>,
}

impl KeyVaultStore {
    pub(super) async fn list_all(&self) -> Result<Vec<SecretItem>, ListError> {
        let url = format!("{}/secrets?api-version={API_VERSION}&maxresults={PAGE_SIZE}", self.url);
        self.pages(url, "/secrets", |id| secret_item(id, None)).await
    }

    /// Every version of `name` (404 `SecretNotFound` when the vault has no such secret).
    pub(super) async fn list_versions(&self, name: &SecretName) -> Result<Vec<SecretItem>, ListError> {
        let path = format!("/secrets/{}/versions", name.as_str());
        let url = format!("{}{path}?api-version={API_VERSION}&maxresults={PAGE_SIZE}", self.url);
        self.pages(url, &path, |id| secret_item(id, Some(name))).await
    }

    /// Every page of the list at `url`, its items read by `parse` (those it cannot read are
    /// left out); `path` is the list's own, which each `nextLink` must keep.
    async fn pages(
        &self,
        mut url: String,
        path: &str,
        parse: impl Fn(&str) -> Option<(String, Option<String>)>,
    ) -> Result<Vec<SecretItem>, ListError> {
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let answer = self.call(&url).await?;
            match answer.status {
                200 => {}
                403 => return Err(forbidden(&answer.body)),
                404 => return Err(not_found(&answer.body).into()),
                status => return Err(unexpected(status, &answer.body).into()),
            }
            let page: Page = serde_json::from_slice(&answer.body).map_err(|e| {
                StoreError::unusable(format!("Key Vault answered an unexpected list page ({:?})", e.classify()))
            })?;
            items.extend(page.value.into_iter().filter_map(|item| item_of(item, &parse)));
            match page.next_link.filter(|link| !link.is_empty()) {
                None => return Ok(items),
                Some(link) => url = self.checked_next_link(&link, path)?,
            }
        }
        Err(StoreError::unusable(format!("Key Vault's list went on past {MAX_PAGES} pages")).into())
    }

    /// `link` when it points at this vault's `path` (same scheme, host and port, the
    /// default port written or not); else the list is refused, and no token leaves.
    fn checked_next_link(&self, link: &str, path: &str) -> Result<String, StoreError> {
        let refused = || {
            log::warn!(
                "Key Vault's list answered a nextLink outside the vault: {}",
                crate::upstream::url_for_logs(link)
            );
            StoreError::unusable("Key Vault's list answered a nextLink outside the vault")
        };
        let (Ok(next), Ok(vault)) = (Uri::from_str(link), Uri::from_str(&self.url)) else { return Err(refused()) };
        let same_scheme = next.scheme_str().is_some_and(|s| Some(s) == vault.scheme_str());
        let same_host = next.host().is_some_and(|h| vault.host().is_some_and(|v| h.eq_ignore_ascii_case(v)));
        let no_user = next.authority().is_some_and(|a| !a.as_str().contains('@'));
        let same_port = port_of(&next) == port_of(&vault);
        if same_scheme && same_host && no_user && same_port && next.path().eq_ignore_ascii_case(path) {
            Ok(link.to_owned())
        } else {
            Err(refused())
        }
    }
}

/// The port, the scheme's default when none is written.
fn port_of(uri: &Uri) -> Option<u16> {
    uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    })
}

/// A list item read by `parse` from its `id`; items without a usable id are left out.
fn item_of(item: Item, parse: impl Fn(&str) -> Option<(String, Option<String>)>) -> Option<SecretItem> {
    let Some((name, version)) = item.id.as_deref().and_then(parse) else {
        log::debug!("Key Vault listed an item without a usable id; left out");
        return None;
    };
    Some(SecretItem {
        name,
        version,
        content_type: item.content_type,
        properties: SecretProperties { attributes: item.attributes, tags: item.tags, kid: None, managed: item.managed },
    })
}

/// The name in `{vault}/secrets/{name}` (`of: None`), or the name and version in
/// `{vault}/secrets/{name}/{version}` when that name is `of`'s.
fn secret_item(id: &str, of: Option<&SecretName>) -> Option<(String, Option<String>)> {
    let mut segments = id.trim_end_matches('/').rsplit('/');
    let version = match of {
        None => None,
        Some(_) => Some(segments.next()?),
    };
    let (name, collection) = (segments.next()?, segments.next()?);
    let named = SecretName::parse(name).is_ok() && of.is_none_or(|of| of.names(name));
    let versioned = version.is_none_or(|version| crate::secrets::SecretVersion::parse(version).is_ok());
    (collection == "secrets" && named && versioned).then(|| (name.to_owned(), version.map(str::to_owned)))
}

/// 403 on the list: vaultgate's identity may lack only the list permission (reads by name
/// can still work), which the text names (the catalog logs it once per failure window).
fn forbidden(body: &[u8]) -> ListError {
    let codes = error_codes(body).join("/");
    ListError::Forbidden(format!(
        "Key Vault refused to list secrets (403 {codes}): GET /secrets needs the list permission for vaultgate's \
         identity: the Azure RBAC role \"Key Vault Secrets User\" (it includes \
         Microsoft.KeyVault/vaults/secrets/readMetadata/action), or `list` among the access policy's secret permissions"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: &str = include_str!("../../../../tests/wire/keyvault-list-secrets-page-first.json");
    const LAST: &str = include_str!("../../../../tests/wire/keyvault-list-secrets-page-last.json");
    const EMPTY_WITH_LINK: &str =
        include_str!("../../../../tests/wire/keyvault-list-secrets-page-empty-with-nextlink.json");
    const LAST_EMPTY: &str = include_str!("../../../../tests/wire/keyvault-list-secrets-page-last-empty.json");
    const SPEC: &str = include_str!("../../../../tests/wire/keyvault-list-secrets-spec-example.json");

    fn page(text: &str) -> Page {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn reads_the_wire_pages() {
        let first = page(FIRST);
        assert!(first.next_link.as_deref().unwrap().starts_with("https://myvault.vault.azure.net:443/secrets?"));
        let items: Vec<SecretItem> =
            first.value.into_iter().filter_map(|i| item_of(i, |id| secret_item(id, None))).collect();
        assert_eq!(items[0].name, "listSecretName-canlistsecretproperties-51074815250816990");
        assert_eq!(
            (
                items[0].properties.attributes.enabled,
                items[0].properties.attributes.created,
                items[0].properties.attributes.exp
            ),
            (Some(true), Some(1_665_617_931), None)
        );

        let last = page(LAST);
        assert_eq!(last.next_link, None, "null ends the list");
        let items: Vec<SecretItem> =
            last.value.into_iter().filter_map(|i| item_of(i, |id| secret_item(id, None))).collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].name, "web-tls-cert");
        assert_eq!(items[0].content_type.as_deref(), Some("application/x-pkcs12"));
        assert_eq!(
            (items[0].properties.attributes.nbf, items[0].properties.attributes.exp),
            (Some(1_617_365_112), Some(1_648_901_712))
        );

        let empty = page(EMPTY_WITH_LINK);
        assert!(empty.value.is_empty() && empty.next_link.is_some(), "an empty page can go on");
        let end = page(LAST_EMPTY);
        assert!(end.value.is_empty() && end.next_link.is_none());
        let spec: Vec<SecretItem> =
            page(SPEC).value.into_iter().filter_map(|i| item_of(i, |id| secret_item(id, None))).collect();
        assert_eq!(spec[0].content_type.as_deref(), Some("plainText"));
    }

    #[test]
    fn items_need_a_secret_name_in_their_id() {
        let parse = |json: &str| item_of(serde_json::from_str(json).unwrap(), |id| secret_item(id, None));
        assert_eq!(parse(r#"{"id": "https://v.vault.azure.net/secrets/ok-name"}"#).unwrap().name, "ok-name");
        assert!(parse(r#"{"id": "https://v.vault.azure.net/keys/a-key"}"#).is_none());
        assert!(parse(r#"{"id": "https://v.vault.azure.net/secrets/bad.name"}"#).is_none());
        assert!(parse(r#"{"attributes": {"enabled": true}}"#).is_none());
    }

    fn store(url: &str) -> KeyVaultStore {
        let vars = [("KEY_VAULT_URL", url)];
        let lookup = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        let settings = vaultgate_config::Settings::from_lookup(lookup).expect("valid settings");
        let vaultgate_config::SecretSource::KeyVault(key_vault) = &settings.secrets else { panic!("a vault") };
        let credential = crate::credential::choose(&key_vault.credential).expect("a credential");
        KeyVaultStore::new(key_vault, credential, std::time::Duration::from_secs(1))
    }

    #[test]
    fn next_links_must_stay_on_the_vault() {
        let vault = store("https://myvault.vault.azure.net");
        for good in [
            "https://myvault.vault.azure.net:443/secrets?api-version=7.3&$skiptoken=eyJ9&maxresults=1",
            "https://MyVault.vault.azure.net/secrets?api-version=7.3&$skiptoken=x",
        ] {
            assert_eq!(vault.checked_next_link(good, "/secrets").as_deref(), Ok(good), "{good}");
        }
        for bad in [
            "https://evil.example/secrets?$skiptoken=x",
            "https://myvault.vault.azure.net.evil.example/secrets?$skiptoken=x",
            "http://myvault.vault.azure.net/secrets?$skiptoken=x",
            "https://myvault.vault.azure.net:8443/secrets?$skiptoken=x",
            "https://user@myvault.vault.azure.net/secrets?$skiptoken=x",
            "https://myvault.vault.azure.net/keys?$skiptoken=x",
            "/secrets?$skiptoken=x",
            "not a url",
        ] {
            assert!(vault.checked_next_link(bad, "/secrets").is_err(), "{bad}");
        }
        let local = store("http://127.0.0.1:8200");
        assert!(local.checked_next_link("http://127.0.0.1:8200/secrets?x=1", "/secrets").is_ok());
        assert!(local.checked_next_link("http://127.0.0.1:8201/secrets?x=1", "/secrets").is_err());
    }
}
