//! Typed settings, read once from the environment at start-up. Every problem is collected
//! and reported together, one line each, before the server binds.

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::defaults::{
    DEFAULT_AZURE_BIND, DEFAULT_EVENT_GRID_ROLE, DEFAULT_HEADER_READ_TIMEOUT_SECS, DEFAULT_HEALTH_PROBE_INTERVAL_SECS,
    DEFAULT_KEEP_ALIVE_SECS, DEFAULT_LEEWAY_SECS, DEFAULT_LOCAL_BIND, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_HEADER_BYTES, DEFAULT_PORT, DEFAULT_SHUTDOWN_TIMEOUT_SECS, DEFAULT_TOKEN_CACHE_MAX_ENTRIES,
    DEFAULT_UPSTREAM_TIMEOUT_SECS, MAX_LEEWAY_SECS,
};
use crate::env::Env;
use crate::fleet_settings::{FleetSettings, fleet_settings};
use crate::mode::{Mode, ModeReason, authority_host, mode};
use crate::network_settings::{NetworkSettings, network_settings};
use crate::problem::SettingProblem;
use crate::secrets_settings::{
    ExposureSettings, SecretCacheSettings, SecretSource, exposure_settings, secret_cache_settings, secret_source,
};
use crate::tls_settings::{TlsSettings, tls_settings};

/// Where the Functions host tells a custom handler to listen; it wins over `PORT`.
pub const FUNCTIONS_PORT_VAR: &str = "FUNCTIONS_CUSTOMHANDLER_PORT";

/// Everything the server needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    /// Why `mode` was chosen.
    pub mode_reason: ModeReason,
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
    /// `PUBLIC_URL`: vaultgate's own URL as callers reach it (e.g. `https://vaultgate.example.com`,
    /// without a trailing slash), for the ids and links of `GET /secrets`; unset, they use the
    /// request's own scheme and `Host`.
    pub public_url: Option<String>,
    /// `EVENT_GRID_ROLE`: the app role Event Grid's token must carry to post Key Vault events.
    pub event_grid_role: String,
    /// Proxies and trusted roots for every upstream call.
    pub network: NetworkSettings,
    /// `TLS_CERT_FILE`/`TLS_KEY_FILE` or `TLS=dev`: HTTPS on `PORT`.
    pub tls: TlsSettings,
    /// `FLEET_REDIS_URL` and its companions: `None` when the fleet tier is off.
    pub fleet: Option<FleetSettings>,
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

/// All configuration problems found, one line each.
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Error)]
pub struct SettingsError {
    pub problems: Vec<SettingProblem>,
    /// `LOG_FORMAT` as far as it could be read, so that the problems are logged in it.
    pub log_format: LogFormat,
}

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.lines().join("\n"))
    }
}

impl SettingsError {
    /// The problems as the start-up lines that report them.
    pub fn lines(&self) -> Vec<String> {
        self.problems.iter().map(ToString::to_string).collect()
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
        Settings::from_lookup_checked(lookup, |_| Vec::new())
    }

    /// Reads settings through `lookup`, then lets `check` judge them as read (defaults in
    /// place of bad values), so that its problems are reported with every other one: the app
    /// checks there what only it decides (which credential the variables choose).
    pub fn from_lookup_checked(
        lookup: impl Fn(&str) -> Option<String>,
        check: impl FnOnce(&Settings) -> Vec<SettingProblem>,
    ) -> Result<Settings, SettingsError> {
        let mut env = Env::new(&lookup);
        let authority_host = authority_host(&mut env);
        let (mode, mode_reason) = mode(&mut env, &authority_host);
        let local = matches!(mode, Mode::Local { .. });
        let bind = bind(&mut env, local);
        let port = port(&mut env);
        let token_leeway = env.seconds("TOKEN_LEEWAY", DEFAULT_LEEWAY_SECS, 0..=MAX_LEEWAY_SECS);
        let secrets = secret_source(&mut env, local, &authority_host);
        let workers = workers(&mut env);
        let upstream_timeout = env.seconds("UPSTREAM_TIMEOUT_SECS", DEFAULT_UPSTREAM_TIMEOUT_SECS, 1..=120);
        let secret_cache = secret_cache_settings(&mut env);
        let exposure = exposure_settings(&mut env);
        // At least a second: `/health` is open, and 0 would let anyone drive one store read per request.
        let health_probe_interval =
            env.seconds("HEALTH_PROBE_INTERVAL_SECS", DEFAULT_HEALTH_PROBE_INTERVAL_SECS, 1..=3_600);
        let shutdown_timeout = env.seconds("SHUTDOWN_TIMEOUT", DEFAULT_SHUTDOWN_TIMEOUT_SECS, 0..=300);
        let metrics_enabled = env.switch("METRICS", true);
        let docs_enabled = env.switch("DOCS", true);
        let log_format =
            env.one_of("LOG_FORMAT", &[("text", LogFormat::Text), ("json", LogFormat::Json)], LogFormat::Text);
        let token_cache_max_entries =
            env.count("TOKEN_CACHE_MAX_ENTRIES", DEFAULT_TOKEN_CACHE_MAX_ENTRIES, 2..=1_000_000);
        let limits = ConnectionLimits {
            header_read_timeout: env.seconds("HEADER_READ_TIMEOUT_SECS", DEFAULT_HEADER_READ_TIMEOUT_SECS, 1..=120),
            keep_alive: env.seconds("KEEP_ALIVE_SECS", DEFAULT_KEEP_ALIVE_SECS, 0..=300),
            max_connections: env.count("MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS, 1..=100_000),
            max_header_bytes: env.count("MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES, 1024..=65_536),
        };

        let public_url = public_url(&mut env);
        let event_grid_role = event_grid_role(&mut env);
        let network = network_settings(&mut env);
        let tls = tls_settings(&mut env, &mode);

        let fleet = fleet_settings(&mut env);

        let settings = Settings {
            tls,
            fleet,
            network,
            public_url,
            limits,
            event_grid_role,
            token_cache_max_entries,
            mode,
            mode_reason,
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
        };
        let mut problems = env.into_problems();
        problems.extend(check(&settings));
        if !problems.is_empty() {
            return Err(SettingsError { problems, log_format });
        }
        Ok(settings)
    }

    pub fn is_local(&self) -> bool {
        matches!(self.mode, Mode::Local { .. })
    }
}

/// `EVENT_GRID_ROLE`: an app role value as Entra ID allows them (no spaces), else the role
/// Microsoft's secure webhook delivery docs create.
fn event_grid_role(env: &mut Env) -> String {
    let role = env.text("EVENT_GRID_ROLE").unwrap_or_else(|| DEFAULT_EVENT_GRID_ROLE.to_owned());
    if role.chars().any(|c| c.is_whitespace() || c.is_control()) || role.len() > 250 {
        env.problem(SettingProblem::NotAnAppRole);
    }
    role
}

/// `BIND`: loopback only in local mode.
fn bind(env: &mut Env, local: bool) -> IpAddr {
    let default_bind = if local { DEFAULT_LOCAL_BIND } else { DEFAULT_AZURE_BIND };
    match IpAddr::from_str(&env.text("BIND").unwrap_or_else(|| default_bind.into())) {
        Ok(ip) if local && !ip.is_loopback() => {
            env.problem(SettingProblem::PublicBindInLocalMode { ip });
            ip
        }
        Ok(ip) => ip,
        Err(_) => {
            env.problem(SettingProblem::NotAnIpAddress);
            IpAddr::from([127, 0, 0, 1])
        }
    }
}

/// `FUNCTIONS_CUSTOMHANDLER_PORT`, else `PORT`.
fn port(env: &mut Env) -> u16 {
    let chosen =
        env.text(FUNCTIONS_PORT_VAR).map(|v| (FUNCTIONS_PORT_VAR, v)).or_else(|| env.text("PORT").map(|v| ("PORT", v)));
    match chosen {
        None => DEFAULT_PORT,
        Some((name, value)) => value.parse::<u16>().unwrap_or_else(|_| {
            env.problem(SettingProblem::OutOfRange {
                variable: name.to_owned(),
                unit: "a port number",
                min: u16::MIN.to_string(),
                max: u16::MAX.to_string(),
                value,
            });
            DEFAULT_PORT
        }),
    }
}

/// `WORKERS`; `None` means one per core.
fn workers(env: &mut Env) -> Option<usize> {
    let value = env.text("WORKERS")?;
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            env.problem(SettingProblem::Malformed { variable: "WORKERS", expected: "a whole number above 0", value });
            None
        }
    }
}

/// `PUBLIC_URL`: an absolute `http://` or `https://` URL (a path prefix allowed), without user
/// information, query or fragment.
fn public_url(env: &mut Env) -> Option<String> {
    let value = env.text("PUBLIC_URL")?;
    let uri = http::Uri::from_str(&value).ok();
    let valid = uri.as_ref().is_some_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https"))
            && uri.host().is_some_and(|host| !host.is_empty())
            && uri.authority().is_some_and(|authority| !authority.as_str().contains('@'))
            && uri.query().is_none()
            && !value.contains('#')
    });
    if !valid {
        // A value with user information may hold a password: not shown.
        let shown =
            if value.contains('@') { "(not shown: it may hold a password)".to_owned() } else { format!("{value:?}") };
        env.problem(SettingProblem::NotAPublicUrl { shown });
        return None;
    }
    Some(value.trim_end_matches('/').to_owned())
}
