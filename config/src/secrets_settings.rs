//! Settings for where secrets come from and how they are served: Key Vault and its
//! credential, the secret cache, and the exposure policy.

use std::fmt;
use std::time::Duration;

use crate::settings::{check_upstream_url, count, seconds};

pub const DEFAULT_IMDS_ENDPOINT: &str = "http://169.254.169.254";
pub const DEFAULT_SECRET_CACHE_TTL_SECS: u64 = 300;
pub const DEFAULT_SECRET_MAX_STALE_SECS: u64 = 3600;
pub const DEFAULT_SECRET_NEGATIVE_TTL_SECS: u64 = 30;
pub const DEFAULT_SECRET_CACHE_MAX_ENTRIES: usize = 10_000;
pub const DEFAULT_KEY_VAULT_RETRY_BUDGET_SECS: u64 = 10;
pub const DEFAULT_SECRET_MISS_BUDGET: usize = 30;
/// Half of Key Vault's own limit on secret GETs (4,000 per 10 s per vault).
pub const DEFAULT_KEY_VAULT_MAX_GETS_PER_10S: usize = 2_000;

/// A value that must never be printed (a client secret, a header shared secret).
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(pub String);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVaultSettings {
    /// `https://<name>.vault.azure.net`, without a trailing slash.
    pub url: String,
    pub credential: CredentialSource,
    /// How long throttled (429/503) reads may be retried before answering 503.
    pub retry_budget: Duration,
    /// `KEY_VAULT_MAX_GETS_PER_10S`: vaultgate's own ceiling on GETs sent to the vault.
    pub max_gets_per_10s: usize,
}

/// How vaultgate gets its own Key Vault token, picked from the standard Azure variables in
/// the Azure SDKs' order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET`.
    ClientSecret { authority_host: String, tenant_id: String, client_id: String, secret: Redacted },
    /// `AZURE_FEDERATED_TOKEN_FILE` + `AZURE_CLIENT_ID` + `AZURE_TENANT_ID` (AKS workload identity).
    WorkloadIdentity { authority_host: String, tenant_id: String, client_id: String, token_file: String },
    /// `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` (App Service, Functions, Container Apps).
    AppServiceManagedIdentity { endpoint: String, header: Redacted, client_id: Option<String> },
    /// The VM's instance metadata service; `AZURE_POD_IDENTITY_AUTHORITY_HOST` overrides its host.
    Imds { endpoint: String, client_id: Option<String> },
}

impl CredentialSource {
    /// A name for logs (never a secret).
    pub fn describe(&self) -> String {
        match self {
            CredentialSource::ClientSecret { client_id, tenant_id, .. } => {
                format!("client secret (client {client_id}, tenant {tenant_id})")
            }
            CredentialSource::WorkloadIdentity { client_id, tenant_id, .. } => {
                format!("workload identity (client {client_id}, tenant {tenant_id})")
            }
            CredentialSource::AppServiceManagedIdentity { client_id, .. } => {
                format!("managed identity via IDENTITY_ENDPOINT{}", user_assigned(client_id))
            }
            CredentialSource::Imds { client_id, .. } => {
                format!("managed identity via IMDS{}", user_assigned(client_id))
            }
        }
    }
}

fn user_assigned(client_id: &Option<String>) -> String {
    client_id.as_ref().map(|id| format!(" (user-assigned {id})")).unwrap_or_default()
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
}

/// Which secrets are served, and to whom.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExposureSettings {
    /// `EXPOSED_SECRETS`: glob patterns; `None` exposes every name.
    pub exposed: Option<Vec<String>>,
    /// `SECRET_ROLES`: `pattern=role` pairs; the first matching pattern's role is required too.
    pub roles: Vec<(String, String)>,
}

pub(crate) fn key_vault_settings(
    url: String,
    authority_host: &str,
    var: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> KeyVaultSettings {
    let url = check_upstream_url("KEY_VAULT_URL", &url).unwrap_or_else(|problem| {
        problems.push(problem);
        url
    });
    let retry_budget =
        seconds(var, "KEY_VAULT_RETRY_BUDGET_SECS", DEFAULT_KEY_VAULT_RETRY_BUDGET_SECS, 0..=60, problems);
    let max_gets_per_10s =
        count(var, "KEY_VAULT_MAX_GETS_PER_10S", DEFAULT_KEY_VAULT_MAX_GETS_PER_10S, 1..=4_000, problems);
    KeyVaultSettings {
        url,
        credential: credential_source(authority_host, var, problems),
        retry_budget,
        max_gets_per_10s,
    }
}

fn credential_source(
    authority_host: &str,
    var: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> CredentialSource {
    let client_id = var("AZURE_CLIENT_ID");
    let tenant_id = var("AZURE_TENANT_ID");
    let authority_host = authority_host.to_owned();
    if let (Some(client_id), Some(tenant_id), Some(secret)) = (&client_id, &tenant_id, var("AZURE_CLIENT_SECRET")) {
        return CredentialSource::ClientSecret {
            authority_host,
            tenant_id: tenant_id.clone(),
            client_id: client_id.clone(),
            secret: Redacted(secret),
        };
    }
    if let Some(token_file) = var("AZURE_FEDERATED_TOKEN_FILE") {
        match (&client_id, tenant_id) {
            (Some(client_id), Some(tenant_id)) => {
                let client_id = client_id.clone();
                return CredentialSource::WorkloadIdentity { authority_host, tenant_id, client_id, token_file };
            }
            _ => problems.push(
                "AZURE_FEDERATED_TOKEN_FILE: workload identity also needs AZURE_CLIENT_ID and AZURE_TENANT_ID".into(),
            ),
        }
    }
    if let (Some(endpoint), Some(header)) = (var("IDENTITY_ENDPOINT"), var("IDENTITY_HEADER")) {
        let endpoint = checked_identity_endpoint("IDENTITY_ENDPOINT", endpoint, problems);
        return CredentialSource::AppServiceManagedIdentity { endpoint, header: Redacted(header), client_id };
    }
    let endpoint = var("AZURE_POD_IDENTITY_AUTHORITY_HOST")
        .map(|e| checked_identity_endpoint("AZURE_POD_IDENTITY_AUTHORITY_HOST", e, problems))
        .unwrap_or_else(|| DEFAULT_IMDS_ENDPOINT.into());
    CredentialSource::Imds { endpoint, client_id }
}

/// Identity endpoints are plain HTTP on link-local or loopback addresses by design.
fn checked_identity_endpoint(name: &str, value: String, problems: &mut Vec<String>) -> String {
    let ok = value.starts_with("https://")
        || value.starts_with("http://169.254.")
        || value.starts_with("http://localhost")
        || value.starts_with("http://127.")
        || value.starts_with("http://[::1]");
    if !ok {
        problems.push(format!("{name}: must be https://, or http:// on a link-local or loopback host, got {value:?}"));
    }
    value.trim_end_matches('/').to_owned()
}

pub(crate) fn secret_cache_settings(
    var: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> SecretCacheSettings {
    let max_entries = count(var, "SECRET_CACHE_MAX_ENTRIES", DEFAULT_SECRET_CACHE_MAX_ENTRIES, 1..=1_000_000, problems);
    SecretCacheSettings {
        ttl: seconds(var, "SECRET_CACHE_TTL", DEFAULT_SECRET_CACHE_TTL_SECS, 0..=86_400, problems),
        max_stale: seconds(var, "SECRET_MAX_STALE", DEFAULT_SECRET_MAX_STALE_SECS, 0..=604_800, problems),
        negative_ttl: seconds(var, "SECRET_NEGATIVE_TTL", DEFAULT_SECRET_NEGATIVE_TTL_SECS, 0..=3_600, problems),
        max_entries,
        miss_budget: count(var, "SECRET_MISS_BUDGET", DEFAULT_SECRET_MISS_BUDGET, 1..=1_000_000, problems),
    }
}

pub(crate) fn exposure_settings(var: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> ExposureSettings {
    let exposed = var("EXPOSED_SECRETS").map(|value| {
        let patterns: Vec<String> =
            value.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect();
        for pattern in &patterns {
            check_pattern("EXPOSED_SECRETS", pattern, problems);
        }
        patterns
    });
    let mut roles = Vec::new();
    for pair in var("SECRET_ROLES").iter().flat_map(|v| v.split(',')).map(str::trim).filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((pattern, role)) if !role.trim().is_empty() && !role.trim().contains(char::is_whitespace) => {
                check_pattern("SECRET_ROLES", pattern.trim(), problems);
                roles.push((pattern.trim().to_owned(), role.trim().to_owned()));
            }
            _ => problems.push(format!("SECRET_ROLES: each entry must be pattern=Role, got {pair:?}")),
        }
    }
    ExposureSettings { exposed, roles }
}

/// Patterns use secret-name characters plus `*` (any run) and `?` (any one character).
fn check_pattern(name: &str, pattern: &str, problems: &mut Vec<String>) {
    let valid = !pattern.is_empty() && pattern.bytes().all(|b| b.is_ascii_alphanumeric() || b"-*?".contains(&b));
    if !valid {
        problems.push(format!("{name}: {pattern:?} is not a pattern of letters, digits, dashes, * and ?"));
    }
}
