//! One audit line per secret access, under the log target `audit`: who, which secret,
//! what came of it, how long it took, as structured fields. Never the value, never the token.

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
    // Names and versions come from the URL: escaped, so no caller can forge a log line.
    let name = name.escape_debug().to_string();
    let version = version.escape_debug().to_string();
    let field = |value: &Option<String>| value.as_deref().unwrap_or("-").escape_debug().to_string();
    let (oid, appid, tid) = (field(&claims.oid), field(&claims.appid), field(&claims.tid));
    let latency_ms = (latency.as_secs_f64() * 10_000.0).round() / 10.0;
    log::info!(
        target: TARGET,
        secret = name.as_str(), version = version.as_str(), outcome = result,
        oid = oid.as_str(), appid = appid.as_str(), tid = tid.as_str(), latency_ms = latency_ms;
        "secret access"
    );
}
