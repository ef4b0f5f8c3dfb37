//! Typed settings, read once from the environment at start-up. Every problem is collected
//! and reported together, one line each, before the server binds.

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use actix_web::http::Uri;

use crate::secrets_settings::{
    ExposureSettings, KeyVaultSettings, SecretCacheSettings, exposure_settings, key_vault_settings,
    secret_cache_settings,
};

/// Where the Functions host tells a custom handler to listen; it wins over `PORT`.
pub const FUNCTIONS_PORT_VAR: &str = "FUNCTIONS_CUSTOMHANDLER_PORT";
/// The Functions host's local port, kept as the default.
pub const DEFAULT_PORT: u16 = 7071;
pub const DEFAULT_LEEWAY_SECS: u64 = 60;
pub const MAX_LEEWAY_SECS: u64 = 300;
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
pub const DEFAULT_SECRETS_DIR: &str = "demo-secrets";
pub const DEFAULT_DEV_KEY_DIR: &str = ".vaultgate";
pub const DEFAULT_JWKS_REFRESH_SECS: u64 = 3600;
pub const DEFAULT_JWKS_MIN_REFRESH_SECS: u64 = 300;
pub const DEFAULT_UPSTREAM_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_TOKEN_CACHE_MAX_ENTRIES: usize = 10_000;

/// Everything the server needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    pub bind: IpAddr,
    pub port: u16,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub token_leeway: Duration,
    pub secrets: SecretSource,
    /// Actix workers; `None` means one per core.
    pub workers: Option<usize>,
    /// The longest any call to Entra ID or Key Vault may take, connection included.
    pub upstream_timeout: Duration,
    pub secret_cache: SecretCacheSettings,
    pub exposure: ExposureSettings,
    /// `HEALTH_PROBE_INTERVAL_SECS`: `/health` probes the secret store at most this often.
    pub health_probe_interval: Duration,
    /// `METRICS=off` removes `/metrics`.
    pub metrics_enabled: bool,
    /// `DOCS=off` removes `/openapi.json` and `/docs`.
    pub docs_enabled: bool,
    /// `SHUTDOWN_TIMEOUT`: how long in-flight requests may finish after SIGTERM/SIGINT.
    pub shutdown_timeout: Duration,
    /// `LOG_FORMAT=json`: one JSON object per log line.
    pub log_format: LogFormat,
    /// `TOKEN_CACHE_MAX_ENTRIES`: bound of the verified-token cache.
    pub token_cache_max_entries: usize,
    /// Limits that keep slow or greedy clients from starving others.
    pub limits: ConnectionLimits,
}

/// `HEADER_READ_TIMEOUT_SECS`, `KEEP_ALIVE_SECS`, `MAX_CONNECTIONS`, `MAX_HEADER_BYTES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A client must send its whole request head within this (slowloris defence).
    pub header_read_timeout: Duration,
    pub keep_alive: Duration,
    /// Per worker.
    pub max_connections: usize,
    /// All request header names and values together.
    pub max_header_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// Reads `LOG_FORMAT` (anything but `json` is text; `Settings` reports bad values).
    pub fn from_env() -> LogFormat {
        match std::env::var("LOG_FORMAT") {
            Ok(value) if value.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// No Azure: a development key signs and verifies tokens, secrets come from a folder.
    Local { dev_key_dir: PathBuf },
    /// Microsoft Entra ID tokens.
    Azure(AzureSettings),
}

/// Entra ID settings (Azure mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureSettings {
    pub tenant_id: String,
    pub app_id: String,
    /// Without a trailing slash.
    pub authority_host: String,
    /// `AUDIENCES`; `None` means `<app id>` and `api://<app id>`.
    pub audiences: Option<Vec<String>>,
    /// `ISSUER`; `None` means the discovered v2 issuer plus the v1 form.
    pub issuer: Option<String>,
    /// `JWT_URL`; `None` means the discovered `jwks_uri`.
    pub jwks_url: Option<String>,
    /// `ALLOWED_TENANTS`: extra tenants whose tokens are accepted (multi-tenant apps).
    pub allowed_tenants: Vec<String>,
    /// `JWKS_REFRESH_SECS`: how often signing keys are refreshed in the background.
    pub jwks_refresh: Duration,
    /// `JWKS_MIN_REFRESH_SECS`: at most one refresh per this interval for unknown `kid`s.
    pub jwks_min_refresh: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A folder with one file per secret (`SECRETS_DIR`).
    Dir(PathBuf),
    /// `KEY_VAULT_URL` and the credential that reads it.
    KeyVault(KeyVaultSettings),
}

/// All configuration problems found, one line each.
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Error)]
pub struct SettingsError {
    pub problems: Vec<String>,
}

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.problems.join("\n"))
    }
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let var = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut problems = Vec::new();

        let authority_host = authority_host(&var, &mut problems);
        let mode = match var("TENANT_ID") {
            None => Mode::Local {
                dev_key_dir: PathBuf::from(var("DEV_KEY_DIR").unwrap_or_else(|| DEFAULT_DEV_KEY_DIR.into())),
            },
            Some(tenant_id) => Mode::Azure(azure_settings(tenant_id, authority_host.clone(), &var, &mut problems)),
        };
        let local = matches!(mode, Mode::Local { .. });

        let default_bind = if local { "127.0.0.1" } else { "0.0.0.0" };
        let bind = match IpAddr::from_str(&var("BIND").unwrap_or_else(|| default_bind.into())) {
            Ok(ip) if local && !ip.is_loopback() => {
                problems.push(format!(
                    "BIND: local mode (TENANT_ID unset) serves on loopback only, not on {ip}; set TENANT_ID for Azure mode"
                ));
                ip
            }
            Ok(ip) => ip,
            Err(_) => {
                problems.push("BIND: must be an IP address such as 127.0.0.1 or 0.0.0.0".into());
                IpAddr::from([127, 0, 0, 1])
            }
        };

        let port =
            match var(FUNCTIONS_PORT_VAR).map(|v| (FUNCTIONS_PORT_VAR, v)).or_else(|| var("PORT").map(|v| ("PORT", v)))
            {
                None => DEFAULT_PORT,
                Some((name, value)) => value.parse::<u16>().unwrap_or_else(|_| {
                    problems.push(format!("{name}: must be a port number from 0 to 65535, got {value:?}"));
                    DEFAULT_PORT
                }),
            };

        let token_leeway = seconds(&var, "TOKEN_LEEWAY", DEFAULT_LEEWAY_SECS, 0..=MAX_LEEWAY_SECS, &mut problems);

        let secrets = match (var("KEY_VAULT_URL"), var("SECRETS_DIR")) {
            (Some(url), _) => SecretSource::KeyVault(key_vault_settings(url, &authority_host, &var, &mut problems)),
            (None, Some(dir)) => SecretSource::Dir(PathBuf::from(dir)),
            (None, None) if local => SecretSource::Dir(PathBuf::from(DEFAULT_SECRETS_DIR)),
            (None, None) => {
                problems.push(
                    "KEY_VAULT_URL: required in Azure mode (or SECRETS_DIR for a mounted folder of secrets)".into(),
                );
                SecretSource::Dir(PathBuf::from(DEFAULT_SECRETS_DIR))
            }
        };

        let workers = var("WORKERS").and_then(|value| match value.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                problems.push(format!("WORKERS: must be a whole number above 0, got {value:?}"));
                None
            }
        });

        let upstream_timeout =
            seconds(&var, "UPSTREAM_TIMEOUT_SECS", DEFAULT_UPSTREAM_TIMEOUT_SECS, 1..=120, &mut problems);

        let secret_cache = secret_cache_settings(&var, &mut problems);
        let exposure = exposure_settings(&var, &mut problems);
        let health_probe_interval = seconds(&var, "HEALTH_PROBE_INTERVAL_SECS", 30, 0..=3_600, &mut problems);
        let shutdown_timeout = seconds(&var, "SHUTDOWN_TIMEOUT", 10, 0..=300, &mut problems);
        let metrics_enabled = match var("METRICS").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                problems.push(format!("METRICS: must be on or off, got {other:?}"));
                true
            }
        };
        let docs_enabled = match var("DOCS").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                problems.push(format!("DOCS: must be on or off, got {other:?}"));
                true
            }
        };
        let log_format = match var("LOG_FORMAT").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                problems.push(format!("LOG_FORMAT: must be text or json, got {other:?}"));
                LogFormat::Text
            }
        };

        let token_cache_max_entries =
            count(&var, "TOKEN_CACHE_MAX_ENTRIES", DEFAULT_TOKEN_CACHE_MAX_ENTRIES, 2..=1_000_000, &mut problems);

        let limits = ConnectionLimits {
            header_read_timeout: seconds(&var, "HEADER_READ_TIMEOUT_SECS", 5, 1..=120, &mut problems),
            keep_alive: seconds(&var, "KEEP_ALIVE_SECS", 5, 0..=300, &mut problems),
            max_connections: count(&var, "MAX_CONNECTIONS", 10_000, 1..=100_000, &mut problems),
            max_header_bytes: count(&var, "MAX_HEADER_BYTES", 32 * 1024, 1024..=65_536, &mut problems),
        };

        if problems.is_empty() {
            Ok(Settings {
                limits,
                token_cache_max_entries,
                mode,
                bind,
                port,
                token_leeway,
                secrets,
                workers,
                upstream_timeout,
                secret_cache,
                exposure,
                health_probe_interval,
                metrics_enabled,
                docs_enabled,
                shutdown_timeout,
                log_format,
            })
        } else {
            Err(SettingsError { problems })
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(self.mode, Mode::Local { .. })
    }
}

/// `AUTHORITY_HOST`, else the Azure SDKs' `AZURE_AUTHORITY_HOST`, without a trailing slash.
fn authority_host(var: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> String {
    var("AUTHORITY_HOST")
        .map(|v| ("AUTHORITY_HOST", v))
        .or_else(|| var("AZURE_AUTHORITY_HOST").map(|v| ("AZURE_AUTHORITY_HOST", v)))
        .map(|(name, value)| {
            check_upstream_url(name, &value).unwrap_or_else(|p| {
                problems.push(p);
                value
            })
        })
        .unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.into())
}

fn azure_settings(
    tenant_id: String,
    authority_host: String,
    var: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> AzureSettings {
    if !is_guid(&tenant_id) {
        problems.push(format!("TENANT_ID: must be a GUID (the Directory (tenant) ID), got {tenant_id:?}"));
    }
    let app_id = var("AD_SERVER_APP_ID").unwrap_or_else(|| {
        problems.push("AD_SERVER_APP_ID: required in Azure mode (the API's Application (client) ID)".into());
        String::new()
    });
    let jwks_url = var("JWT_URL").map(|value| {
        check_upstream_url("JWT_URL", &value).unwrap_or_else(|p| {
            problems.push(p);
            value
        })
    });
    let list = |value: String| -> Vec<String> {
        value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    };
    let allowed_tenants = var("ALLOWED_TENANTS").map(list).unwrap_or_default();
    for tenant in &allowed_tenants {
        if !is_guid(tenant) {
            problems.push(format!("ALLOWED_TENANTS: each entry must be a tenant GUID, got {tenant:?}"));
        }
    }
    let jwks_refresh = seconds(var, "JWKS_REFRESH_SECS", DEFAULT_JWKS_REFRESH_SECS, 60..=86_400, problems);
    let jwks_min_refresh = seconds(var, "JWKS_MIN_REFRESH_SECS", DEFAULT_JWKS_MIN_REFRESH_SECS, 1..=3_600, problems);
    AzureSettings {
        jwks_refresh,
        jwks_min_refresh,
        tenant_id: tenant_id.to_ascii_lowercase(),
        app_id,
        authority_host,
        audiences: var("AUDIENCES").map(list),
        issuer: var("ISSUER"),
        jwks_url,
        allowed_tenants: allowed_tenants.into_iter().map(|t| t.to_ascii_lowercase()).collect(),
    }
}

/// A whole number of seconds within `range`, or `default` when unset.
pub(crate) fn seconds(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
    range: RangeInclusive<u64>,
    problems: &mut Vec<String>,
) -> Duration {
    Duration::from_secs(whole(var, name, default, range, "whole seconds", problems))
}

/// A whole number within `range`, or `default` when unset.
pub(crate) fn count(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: usize,
    range: RangeInclusive<usize>,
    problems: &mut Vec<String>,
) -> usize {
    whole(var, name, default, range, "a whole number", problems)
}

/// `name` parsed and within `range`; otherwise one problem line naming `what` was expected.
fn whole<T: FromStr + PartialOrd + std::fmt::Display>(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
    range: RangeInclusive<T>,
    what: &str,
    problems: &mut Vec<String>,
) -> T {
    let Some(value) = var(name) else { return default };
    match value.parse::<T>() {
        Ok(number) if range.contains(&number) => number,
        _ => {
            problems.push(format!("{name}: must be {what} from {} to {}, got {value:?}", range.start(), range.end()));
            default
        }
    }
}

/// `8-4-4-4-12` hexadecimal digits.
pub fn is_guid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Upstream URLs must be `https://`, except for loopback hosts (local test doubles).
/// Returns the URL without a trailing slash.
pub fn check_upstream_url(name: &str, value: &str) -> Result<String, String> {
    let uri = Uri::from_str(value).map_err(|_| format!("{name}: not a URL: {value:?}"))?;
    let host = uri.host().ok_or_else(|| format!("{name}: the URL has no host: {value:?}"))?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if is_loopback_host(host) => {}
        _ => return Err(format!("{name}: must start with https:// (http:// only for loopback hosts), got {value:?}")),
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// `localhost`, `127.0.0.0/8` or `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || IpAddr::from_str(host).is_ok_and(|ip| ip.is_loopback())
}
