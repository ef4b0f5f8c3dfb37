//! Settings for where secrets come from and how they are served: Key Vault and its
//! credential, the secret cache, and the exposure policy.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::defaults::{
    DEFAULT_IMDS_ENDPOINT, DEFAULT_KEY_VAULT_MAX_GETS_PER_10S, DEFAULT_KEY_VAULT_RETRY_BUDGET_SECS,
    DEFAULT_SECRET_CACHE_MAX_ENTRIES, DEFAULT_SECRET_CACHE_TTL_SECS, DEFAULT_SECRET_MAX_STALE_SECS,
    DEFAULT_SECRET_MISS_BUDGET, DEFAULT_SECRET_NEGATIVE_TTL_SECS, DEFAULT_SECRETS_DIR,
};
use crate::env::Env;
use crate::mode::HOSTING_VARIABLES;
use crate::url::UrlRule;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A folder with one file per secret (`SECRETS_DIR`).
    Dir(PathBuf),
    /// `KEY_VAULT_URL` and the credential that reads it.
    KeyVault(KeyVaultSettings),
}

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
    /// A developer's own sign-in: the Azure CLI and/or the Azure Developer CLI, tried in this
    /// order (the SDKs' chain order). `tenant_id` is `AZURE_TENANT_ID`, passed when Key Vault's
    /// challenge names no tenant.
    DeveloperCli { tools: Vec<DeveloperTool>, tenant_id: Option<String> },
}

/// A command-line tool that hands out its signed-in user's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeveloperTool {
    /// `az account get-access-token`, after `az login`.
    AzureCli,
    /// `azd auth token`, after `azd auth login`.
    AzureDeveloperCli,
}

impl DeveloperTool {
    /// The program looked up on `PATH`.
    pub const fn program(self) -> &'static str {
        match self {
            DeveloperTool::AzureCli => "az",
            DeveloperTool::AzureDeveloperCli => "azd",
        }
    }

    /// What the user runs to sign in.
    pub const fn login_command(self) -> &'static str {
        match self {
            DeveloperTool::AzureCli => "az login",
            DeveloperTool::AzureDeveloperCli => "azd auth login",
        }
    }

    /// The SDKs' credential name (`AZURE_TOKEN_CREDENTIALS`).
    pub const fn credential_name(self) -> &'static str {
        match self {
            DeveloperTool::AzureCli => "AzureCliCredential",
            DeveloperTool::AzureDeveloperCli => "AzureDeveloperCliCredential",
        }
    }
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
            CredentialSource::DeveloperCli { tools, tenant_id } => {
                let programs: Vec<&str> = tools.iter().map(|tool| tool.program()).collect();
                let tenant = tenant_id.as_ref().map(|t| format!(", tenant {t}")).unwrap_or_default();
                format!("developer sign-in via {}{tenant}", programs.join(", then "))
            }
        }
    }

    /// Whether this is a person's own sign-in rather than a workload identity.
    pub fn is_developer(&self) -> bool {
        matches!(self, CredentialSource::DeveloperCli { .. })
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
    /// `SECRET_REFRESH_AHEAD=off` stops reading a secret again in the background when it is
    /// read in the last fifth of its TTL.
    pub refresh_ahead: bool,
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
            env.problem("KEY_VAULT_URL: required in Azure mode (or SECRETS_DIR for a mounted folder of secrets)");
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
        credential: credential_source(env, authority_host),
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

/// `AZURE_TOKEN_CREDENTIALS`, as the Azure SDKs read it (case-insensitive): `prod` keeps the
/// deployed credentials (environment, workload identity, managed identity), `dev` the
/// developer tools, a credential's name that one alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Narrowed {
    All,
    Prod,
    Dev,
    Environment,
    WorkloadIdentity,
    ManagedIdentity,
    Tool(DeveloperTool),
}

const NARROWING: &[(&str, Narrowed)] = &[
    ("prod", Narrowed::Prod),
    ("dev", Narrowed::Dev),
    ("EnvironmentCredential", Narrowed::Environment),
    ("WorkloadIdentityCredential", Narrowed::WorkloadIdentity),
    ("ManagedIdentityCredential", Narrowed::ManagedIdentity),
    ("AzureCliCredential", Narrowed::Tool(DeveloperTool::AzureCli)),
    ("AzureDeveloperCliCredential", Narrowed::Tool(DeveloperTool::AzureDeveloperCli)),
];

fn narrowed(env: &mut Env) -> Narrowed {
    let Some(value) = env.text("AZURE_TOKEN_CREDENTIALS") else { return Narrowed::All };
    if let Some((_, narrowed)) = NARROWING.iter().find(|(name, _)| name.eq_ignore_ascii_case(&value)) {
        return *narrowed;
    }
    let accepted: Vec<&str> = NARROWING.iter().map(|(name, _)| *name).collect();
    env.problem(format!(
        "AZURE_TOKEN_CREDENTIALS: {value:?} is not one of {} (the Azure SDKs' values that vaultgate supports)",
        accepted.join(", ")
    ));
    Narrowed::All
}

/// The credential, in the Azure SDKs' `DefaultAzureCredential` order: environment (client
/// secret), workload identity, managed identity, then the developer tools. Managed identity
/// cannot be detected on a VM (IMDS has no variable), so the developer tools are chosen only
/// when no hosting environment is in sight and `az` or `azd` is on `PATH`; otherwise IMDS.
fn credential_source(env: &mut Env, authority_host: &str) -> CredentialSource {
    // Every identity endpoint is checked, whichever credential wins below.
    let identity_endpoint = env.url("IDENTITY_ENDPOINT", UrlRule::IdentityEndpoint);
    let imds_override = env.url("AZURE_POD_IDENTITY_AUTHORITY_HOST", UrlRule::Imds);
    // Read only to be checked: the credentials that use them (Cloud Shell, Azure ML, Azure Arc)
    // are not built yet.
    env.url("MSI_ENDPOINT", UrlRule::IdentityEndpoint);
    env.url("IMDS_ENDPOINT", UrlRule::Imds);
    let narrowed = narrowed(env);
    let client_id = env.text("AZURE_CLIENT_ID");
    let tenant_id = env.text("AZURE_TENANT_ID");
    let authority_host = authority_host.to_owned();
    let wants = |kind: Narrowed| narrowed == kind || (narrowed == Narrowed::All || narrowed == Narrowed::Prod);
    let developer =
        |tools: Vec<DeveloperTool>, tenant_id: Option<String>| CredentialSource::DeveloperCli { tools, tenant_id };
    match narrowed {
        Narrowed::Dev => return developer(vec![DeveloperTool::AzureCli, DeveloperTool::AzureDeveloperCli], tenant_id),
        Narrowed::Tool(tool) => return developer(vec![tool], tenant_id),
        _ => {}
    }
    let secret = env.text("AZURE_CLIENT_SECRET");
    if wants(Narrowed::Environment)
        && let (Some(client_id), Some(tenant_id), Some(secret)) = (&client_id, &tenant_id, secret)
    {
        return CredentialSource::ClientSecret {
            authority_host,
            tenant_id: tenant_id.clone(),
            client_id: client_id.clone(),
            secret: Redacted(secret),
        };
    }
    if narrowed == Narrowed::Environment {
        env.problem(
            "AZURE_TOKEN_CREDENTIALS: EnvironmentCredential needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET",
        );
        return CredentialSource::Imds { endpoint: DEFAULT_IMDS_ENDPOINT.into(), client_id };
    }
    if wants(Narrowed::WorkloadIdentity) {
        match (env.text("AZURE_FEDERATED_TOKEN_FILE"), &client_id, tenant_id.clone()) {
            (Some(token_file), Some(client_id), Some(tenant_id)) => {
                let client_id = client_id.clone();
                return CredentialSource::WorkloadIdentity { authority_host, tenant_id, client_id, token_file };
            }
            (Some(_), _, _) => env.problem(
                "AZURE_FEDERATED_TOKEN_FILE: workload identity also needs AZURE_CLIENT_ID and AZURE_TENANT_ID",
            ),
            (None, _, _) => {}
        }
    }
    if narrowed == Narrowed::WorkloadIdentity {
        env.problem(
            "AZURE_TOKEN_CREDENTIALS: WorkloadIdentityCredential needs AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID",
        );
        return CredentialSource::Imds { endpoint: DEFAULT_IMDS_ENDPOINT.into(), client_id };
    }
    if let (Some(endpoint), Some(header)) = (identity_endpoint, env.text("IDENTITY_HEADER")) {
        return CredentialSource::AppServiceManagedIdentity { endpoint, header: Redacted(header), client_id };
    }
    let endpoint = imds_override.unwrap_or_else(|| DEFAULT_IMDS_ENDPOINT.into());
    if narrowed == Narrowed::All && !hosting_in_sight(env) {
        let tools = developer_tools_on_path(env);
        if !tools.is_empty() {
            return developer(tools, tenant_id);
        }
    }
    CredentialSource::Imds { endpoint, client_id }
}

fn hosting_in_sight(env: &Env) -> bool {
    HOSTING_VARIABLES.iter().any(|name| env.text(name).is_some())
}

/// The developer tools found on `PATH`, in the SDKs' order.
fn developer_tools_on_path(env: &Env) -> Vec<DeveloperTool> {
    let path = env.text("PATH").unwrap_or_default();
    [DeveloperTool::AzureCli, DeveloperTool::AzureDeveloperCli]
        .into_iter()
        .filter(|tool| std::env::split_paths(&path).any(|dir| dir.join(tool.program()).is_file()))
        .collect()
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
    }
}

pub(crate) fn exposure_settings(env: &mut Env) -> ExposureSettings {
    let exposed = env.list("EXPOSED_SECRETS");
    if env.is_blank("EXPOSED_SECRETS") || exposed.as_ref().is_some_and(Vec::is_empty) {
        // Read as unset, it would expose every secret.
        env.problem("EXPOSED_SECRETS: set but lists no pattern; list the patterns to expose, or unset it to expose every secret");
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
            _ => env.problem(format!("SECRET_ROLES: each entry must be pattern=Role, got {pair:?}")),
        }
    }
    ExposureSettings { exposed, roles }
}

/// Patterns use secret-name characters plus `*` (any run) and `?` (any one character).
fn check_pattern(env: &mut Env, name: &str, pattern: &str) {
    let valid = !pattern.is_empty() && pattern.bytes().all(|b| b.is_ascii_alphanumeric() || b"-*?".contains(&b));
    if !valid {
        env.problem(format!("{name}: {pattern:?} is not a pattern of letters, digits, dashes, * and ?"));
    }
}
