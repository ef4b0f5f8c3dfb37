//! Settings for where secrets come from and how they are served: Key Vault and its
//! credential, the secret cache, and the exposure policy.

use std::path::PathBuf;
use std::time::Duration;

use crate::defaults::{
    DEFAULT_KEY_VAULT_MAX_GETS_PER_10S, DEFAULT_KEY_VAULT_RETRY_BUDGET_SECS, DEFAULT_SECRET_CACHE_MAX_ENTRIES,
    DEFAULT_SECRET_CACHE_TTL_SECS, DEFAULT_SECRET_MAX_STALE_SECS, DEFAULT_SECRET_MISS_BUDGET,
    DEFAULT_SECRET_NEGATIVE_TTL_SECS, DEFAULT_SECRET_REFRESH_GRACE_SECS, DEFAULT_SECRETS_DIR,
};
use crate::env::Env;
use crate::problem::SettingProblem;
use crate::url::UrlRule;

use crate::credential_settings::credential_settings;
pub use crate::credential_settings::{
    CredentialSettings, CredentialSource, DeveloperTool, IfChosen, TokenCredentials, UserAssigned,
};
pub use crate::redacted::Redacted;

#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant, reason = "read once at start, never moved on a hot path")]
pub enum SecretSource {
    /// A folder with one file per secret (`SECRETS_DIR`).
    Dir(PathBuf),
    /// `KEY_VAULT_URL` and the credential that reads it.
    KeyVault(KeyVaultSettings),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVaultSettings {
    /// `https://<name>.vault.azure.net`, without a trailing slash.
    pub url: String,
    /// The credential variables; the app chooses the credential from them.
    pub credential: CredentialSettings,
    /// How long transient failures (408, 429, 500, 502, 503, 504, timeouts, connection
    /// errors) may be retried before the read fails.
    pub retry_budget: Duration,
    /// `KEY_VAULT_MAX_GETS_PER_10S`: vaultgate's own ceiling on GETs sent to the vault.
    pub max_gets_per_10s: usize,
    /// `SECRET_EXPIRY`: what to do with a secret Key Vault returns outside its `nbf`..`exp`.
    pub expiry: ExpiryPolicy,
    /// `AZURE_ADDITIONALLY_ALLOWED_TENANTS`: tenants besides the credential's own that a
    /// Key Vault challenge may name (the Azure SDKs' variable).
    pub additionally_allowed_tenants: AllowedTenants,
}

/// Key Vault still returns a secret past its `exp` or before its `nbf` (only `enabled: false`
/// blocks a read): serve it flagged, as Key Vault would, or refuse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryPolicy {
    /// Served, with a warning, a metric and a `Vaultgate-Secret-Validity` header (the default).
    Serve,
    /// Refused with 403 `SecretDisabled`.
    Enforce,
}

/// Which tenants a challenge may name besides the credential's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedTenants {
    /// `*`: any tenant.
    Any,
    /// Lower-cased tenant GUIDs (empty: only the credential's own).
    Listed(Vec<String>),
}

impl AllowedTenants {
    pub fn allows(&self, tenant: &str) -> bool {
        match self {
            AllowedTenants::Any => true,
            AllowedTenants::Listed(tenants) => tenants.iter().any(|t| t.eq_ignore_ascii_case(tenant)),
        }
    }
}

/// `8-4-4-4-12` hexadecimal digits, as a tenant id is.
pub fn is_tenant_guid(value: &str) -> bool {
    crate::env::is_guid(value)
}

/// The cache in front of every secret store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretCacheSettings {
    /// `SECRET_CACHE_TTL`: how long a read is served without asking the store.
    pub ttl: Duration,
    /// `SECRET_MAX_STALE`: how old a cached value may be and still be served when the store fails.
    pub max_stale: Duration,
    /// `SECRET_NEGATIVE_TTL`: how long a not-found answer is remembered.
    pub negative_ttl: Duration,
    /// `SECRET_CACHE_MAX_ENTRIES`.
    pub max_entries: usize,
    /// `SECRET_MISS_BUDGET`: fruitless store reads one caller may cause per 10 s.
    pub miss_budget: usize,
    /// `SECRET_REFRESH_AHEAD=off` stops reading a secret again in the background when it is
    /// read in the last fifth of its TTL.
    pub refresh_ahead: bool,
    /// `SECRET_REFRESH_GRACE_SECS`: how long past its TTL a value is still served while its
    /// refresh-ahead runs, however long the store's retries take; past it readers wait.
    pub refresh_grace: Duration,
}

/// Which secrets are served, and to whom.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExposureSettings {
    /// `EXPOSED_SECRETS`: glob patterns; `None` exposes every name.
    pub exposed: Option<Vec<String>>,
    /// `SECRET_ROLES`: `pattern=role` pairs; the first matching pattern's role is required too.
    pub roles: Vec<(String, String)>,
}

/// `KEY_VAULT_URL` wins over `SECRETS_DIR`; local mode falls back to the demo folder.
pub(crate) fn secret_source(env: &mut Env, local: bool, authority_host: &str) -> SecretSource {
    if let Some(url) = env.url("KEY_VAULT_URL", UrlRule::KeyVault) {
        return SecretSource::KeyVault(key_vault_settings(env, url, authority_host));
    }
    match env.text("SECRETS_DIR") {
        Some(dir) => SecretSource::Dir(PathBuf::from(dir)),
        None if local => SecretSource::Dir(PathBuf::from(DEFAULT_SECRETS_DIR)),
        None => {
            env.problem(SettingProblem::SecretSourceMissing);
            SecretSource::Dir(PathBuf::from(DEFAULT_SECRETS_DIR))
        }
    }
}

fn key_vault_settings(env: &mut Env, url: String, authority_host: &str) -> KeyVaultSettings {
    let retry_budget = env.seconds("KEY_VAULT_RETRY_BUDGET_SECS", DEFAULT_KEY_VAULT_RETRY_BUDGET_SECS, 0..=60);
    let max_gets_per_10s = env.count("KEY_VAULT_MAX_GETS_PER_10S", DEFAULT_KEY_VAULT_MAX_GETS_PER_10S, 1..=4_000);
    let expiry = env.one_of(
        "SECRET_EXPIRY",
        &[("serve", ExpiryPolicy::Serve), ("enforce", ExpiryPolicy::Enforce)],
        ExpiryPolicy::Serve,
    );
    let additionally_allowed_tenants = allowed_tenants(env);
    KeyVaultSettings {
        url,
        credential: credential_settings(env, authority_host),
        retry_budget,
        max_gets_per_10s,
        expiry,
        additionally_allowed_tenants,
    }
}

fn allowed_tenants(env: &mut Env) -> AllowedTenants {
    const NAME: &str = "AZURE_ADDITIONALLY_ALLOWED_TENANTS";
    if env.list(NAME).is_some_and(|tenants| tenants.iter().any(|t| t == "*")) {
        return AllowedTenants::Any;
    }
    AllowedTenants::Listed(env.guids(NAME))
}

pub(crate) fn secret_cache_settings(env: &mut Env) -> SecretCacheSettings {
    let max_entries = env.count("SECRET_CACHE_MAX_ENTRIES", DEFAULT_SECRET_CACHE_MAX_ENTRIES, 1..=1_000_000);
    SecretCacheSettings {
        ttl: env.seconds("SECRET_CACHE_TTL", DEFAULT_SECRET_CACHE_TTL_SECS, 0..=86_400),
        max_stale: env.seconds("SECRET_MAX_STALE", DEFAULT_SECRET_MAX_STALE_SECS, 0..=604_800),
        negative_ttl: env.seconds("SECRET_NEGATIVE_TTL", DEFAULT_SECRET_NEGATIVE_TTL_SECS, 0..=3_600),
        max_entries,
        miss_budget: env.count("SECRET_MISS_BUDGET", DEFAULT_SECRET_MISS_BUDGET, 1..=1_000_000),
        refresh_ahead: env.switch("SECRET_REFRESH_AHEAD", true),
        refresh_grace: env.seconds("SECRET_REFRESH_GRACE_SECS", DEFAULT_SECRET_REFRESH_GRACE_SECS, 0..=3_600),
    }
}

pub(crate) fn exposure_settings(env: &mut Env) -> ExposureSettings {
    let exposed = env.list("EXPOSED_SECRETS");
    if env.is_blank("EXPOSED_SECRETS") || exposed.as_ref().is_some_and(Vec::is_empty) {
        // Read as unset, it would expose every secret.
        env.problem(SettingProblem::NoExposedPattern);
    }
    for pattern in exposed.iter().flatten() {
        check_pattern(env, "EXPOSED_SECRETS", pattern);
    }
    let mut roles = Vec::new();
    for pair in env.list("SECRET_ROLES").unwrap_or_default() {
        match pair.split_once('=') {
            Some((pattern, role)) if !role.trim().is_empty() && !role.trim().contains(char::is_whitespace) => {
                check_pattern(env, "SECRET_ROLES", pattern.trim());
                roles.push((pattern.trim().to_owned(), role.trim().to_owned()));
            }
            _ => env.problem(SettingProblem::NotARolePair { value: pair }),
        }
    }
    ExposureSettings { exposed, roles }
}

/// Patterns use secret-name characters plus `*` (any run) and `?` (any one character).
fn check_pattern(env: &mut Env, name: &'static str, pattern: &str) {
    let valid = !pattern.is_empty() && pattern.bytes().all(|b| b.is_ascii_alphanumeric() || b"-*?".contains(&b));
    if !valid {
        env.problem(SettingProblem::NotAPattern { variable: name, pattern: pattern.to_owned() });
    }
}
