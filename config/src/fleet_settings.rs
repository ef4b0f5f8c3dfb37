//! The fleet tier: several replicas acting as one through Redis. `FLEET_REDIS_URL` turns it
//! on; unset, no Redis code runs. Redis carries secret names and counters only, never a value.

use std::str::FromStr;
use std::time::Duration;

use http::Uri;

use crate::defaults::{DEFAULT_FLEET_REDIS_STREAM, DEFAULT_FLEET_REDIS_TIMEOUT_MS, MAX_FLEET_REDIS_TIMEOUT_MS};
use crate::env::Env;
use crate::problem::SettingProblem;
use crate::redacted::Redacted;
use crate::url::UrlRule;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSettings {
    /// `FLEET_REDIS_URL` as given: it may hold a password, so it is never printed.
    pub url: Redacted,
    /// The URL as logs and `vaultgate check` may show it: scheme, host and port only.
    pub shown: String,
    /// `FLEET_REDIS_STREAM`: the stream key that carries invalidations.
    pub stream: String,
    /// `FLEET_REDIS_TIMEOUT_MS`: the longest any one Redis call may take.
    pub timeout: Duration,
}

pub(crate) fn fleet_settings(env: &mut Env) -> Option<FleetSettings> {
    let url = env.url("FLEET_REDIS_URL", UrlRule::Redis);
    let stream = stream(env);
    let timeout =
        env.milliseconds("FLEET_REDIS_TIMEOUT_MS", DEFAULT_FLEET_REDIS_TIMEOUT_MS, 1..=MAX_FLEET_REDIS_TIMEOUT_MS);
    let url = url?;
    Some(FleetSettings { shown: shown(&url), url: Redacted(url), stream, timeout })
}

/// `FLEET_REDIS_STREAM`: a plain key, so that it reads the same in logs and `redis-cli`.
fn stream(env: &mut Env) -> String {
    let Some(value) = env.text("FLEET_REDIS_STREAM") else { return DEFAULT_FLEET_REDIS_STREAM.to_owned() };
    let plain = value.len() <= 200 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b));
    if !plain {
        env.problem(SettingProblem::Malformed {
            variable: "FLEET_REDIS_STREAM",
            expected: "a Redis key of letters, digits and - _ : . (at most 200)",
            value,
        });
        return DEFAULT_FLEET_REDIS_STREAM.to_owned();
    }
    value
}

/// `scheme://host:port`, without user information or path.
fn shown(url: &str) -> String {
    let Ok(uri) = Uri::from_str(url) else { return "(not shown)".to_owned() };
    let scheme = uri.scheme_str().unwrap_or_default();
    let host = uri.host().unwrap_or_default();
    match uri.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    }
}
