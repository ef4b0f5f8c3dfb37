//! Builds what the server and `vaultgate check` both need from `Settings`: the token
//! validator with its key source, and the secret store behind its cache. One place, so the
//! check proves exactly what the server will run.

use std::path::PathBuf;
use std::sync::Arc;

use prometheus_client::registry::Registry;
use vaultgate_config::{AzureSettings, Mode, SecretSource, Settings};

use crate::auth::dev_key::{DevKey, local_validator};
use crate::auth::entra::{EntraKeys, KeyLoadError, KeySourceSettings};
use crate::auth::issuers::{EntraIssuers, IssuerRule, v1_issuer_template};
use crate::auth::{ClaimRules, Validator};
use crate::secrets::SecretStore;
use crate::secrets::cache::SecretCache;
use crate::secrets::catalog::SecretCatalog;
use crate::secrets::dir::DirStore;
use crate::secrets::keyvault;
use crate::startup_error::StartupError;

pub struct Authentication {
    pub validator: Validator,
    pub keys: KeySource,
}

/// Where the validator's keys come from.
pub enum KeySource {
    /// Local mode's development key.
    Development { kid: String, dir: PathBuf },
    /// Entra ID's published keys, with the outcome of their first load (a failure is not
    /// fatal: protected routes answer 503 until a retry succeeds).
    Entra { keys: Arc<EntraKeys>, first_load: Result<usize, KeyLoadError> },
}

/// The validator for the configured mode. Entra keys are fetched once here; keeping them
/// fresh is the server's business (`EntraKeys::keep_fresh`).
pub async fn authentication(settings: &Settings, registry: &mut Registry) -> Result<Authentication, StartupError> {
    let capacity = settings.token_cache_max_entries;
    let authentication = match &settings.mode {
        Mode::Local { dev_key_dir } => {
            let key = DevKey::load_or_create(dev_key_dir)
                .map_err(|source| StartupError::DevelopmentKey { dir: dev_key_dir.clone(), source })?;
            Authentication {
                validator: local_validator(&key, settings.token_leeway, capacity),
                keys: KeySource::Development { kid: key.kid().to_owned(), dir: dev_key_dir.clone() },
            }
        }
        Mode::Azure(azure) => {
            let source = KeySourceSettings::new(azure, settings.upstream_timeout);
            let v2_template = source.default_v2_issuer();
            let keys = Arc::new(EntraKeys::new(source, v2_template.clone()));
            keys.register(registry);
            let first_load = keys.refresh().await;
            let rules = entra_rules(
                azure,
                settings,
                IssuerRule::Entra(EntraIssuers {
                    tenant_id: azure.tenant_id.clone(),
                    allowed_tenants: azure.allowed_tenants.clone(),
                    issuer_override: azure.issuer.clone(),
                    v1_template: v1_issuer_template(&azure.authority_host),
                    v2_template,
                }),
            );
            Authentication {
                validator: Validator::new(keys.clone(), rules, capacity),
                keys: KeySource::Entra { keys, first_load },
            }
        }
    };
    authentication.validator.verdict_cache().register(registry);
    Ok(authentication)
}

fn entra_rules(azure: &AzureSettings, settings: &Settings, issuers: IssuerRule) -> ClaimRules {
    let audiences =
        azure.audiences.clone().unwrap_or_else(|| vec![azure.app_id.clone(), format!("api://{}", azure.app_id)]);
    ClaimRules { issuers, audiences, leeway: settings.token_leeway }
}

pub struct SecretStores {
    /// What routes read: the configured store behind the secret cache.
    pub served: Arc<SecretCache>,
    /// For logs: the folder, or the vault and the credential (never a secret).
    pub description: String,
    /// The store's list for `GET /secrets`, cached for the secret cache's TTL (a failure for
    /// its negative TTL).
    pub catalog: Arc<SecretCatalog>,
}

pub fn secret_stores(settings: &Settings, registry: &mut Registry) -> Result<SecretStores, StartupError> {
    let (store, description): (Arc<dyn SecretStore>, _) = match &settings.secrets {
        SecretSource::Dir(dir) => {
            let store = DirStore::open(dir).map_err(StartupError::SecretFolder)?;
            let description = format!("the folder {}", store.root().display());
            (Arc::new(store), description)
        }
        SecretSource::KeyVault(key_vault) => {
            let credential =
                crate::credential::choose(&key_vault.credential).map_err(StartupError::CredentialSettings)?;
            crate::credential::check_at_start(&credential).map_err(StartupError::Credential)?;
            if settings.is_local() && credential.is_developer() {
                // Said loudly: development tokens now unlock what the developer's account can read.
                log::warn!(
                    "local mode reads the real Key Vault {} with your own sign-in ({}): any caller holding a \
                     development token reads what your account may read",
                    key_vault.url,
                    credential.describe()
                );
            }
            let description = format!("{} as {}", key_vault.url, credential.describe());
            (keyvault::open(key_vault, credential, settings.upstream_timeout), description)
        }
    };
    store.register_metrics(registry);
    let catalog = SecretCatalog::new(store.clone(), settings.secret_cache.ttl, settings.secret_cache.negative_ttl);
    catalog.register(registry);
    let cache = SecretCache::new(store, settings.secret_cache.clone());
    cache.register(registry);
    Ok(SecretStores { served: Arc::new(cache), description, catalog: Arc::new(catalog) })
}
