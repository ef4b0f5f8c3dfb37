//! One audit line per secret access, under the log target `audit`: who, which secret,
//! what came of it, how long it took. Never the value, never the token.

use std::time::Duration;

use vaultgate_config::AppError;

use super::Secret;
use crate::auth::Claims;

pub const TARGET: &str = "audit";

pub fn record(
    claims: &Claims,
    name: &str,
    version: Option<&str>,
    outcome: &Result<Secret, AppError>,
    latency: Duration,
) {
    let (result, version) = match outcome {
        Ok(secret) => ("ok", secret.version.as_str()),
        Err(error) => (error.code().code(), version.unwrap_or("-")),
    };
    let field = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    log::info!(
        target: TARGET,
        "secret={name:?} version={version:?} outcome={result} oid={} appid={} tid={} latency_ms={:.1}",
        field(&claims.oid),
        field(&claims.appid),
        field(&claims.tid),
        latency.as_secs_f64() * 1000.0
    );
}
