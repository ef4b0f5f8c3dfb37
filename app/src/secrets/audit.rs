//! One audit line per secret access, under the log target `audit`: who, which secret,
//! what came of it, how long it took, as structured fields. Never the value, never the token.

use std::sync::Arc;
use std::time::Duration;

use vaultgate_config::AppError;

use super::Secret;
use crate::auth::Claims;

pub const TARGET: &str = "audit";

pub fn record(
    claims: &Claims,
    name: &str,
    version: Option<&str>,
    outcome: &Result<Arc<Secret>, AppError>,
    latency: Duration,
) {
    if !log::log_enabled!(target: TARGET, log::Level::Info) {
        return;
    }
    let (result, version) = match outcome {
        Ok(secret) => ("ok", secret.version.as_str()),
        Err(error) => (error.code().code(), version.unwrap_or("-")),
    };
    // Names and versions come from the URL: escaped, so no caller can forge a log line.
    let name = escaped(name);
    let version = escaped(version);
    let field = |value: &Option<String>| escaped(value.as_deref().unwrap_or("-")).into_owned();
    let (oid, appid, tid) = (field(&claims.oid), field(&claims.appid), field(&claims.tid));
    let latency_ms = (latency.as_secs_f64() * 10_000.0).round() / 10.0;
    log::info!(
        target: TARGET,
        secret = &*name, version = &*version, outcome = result,
        oid = &*oid, appid = &*appid, tid = &*tid, latency_ms = latency_ms;
        "secret access"
    );
}

/// One audit line per catalog call (`GET /secrets`): who listed, how many names the answer
/// showed them (after the exposure policy), what came of it.
pub fn record_listing(claims: &Claims, shown: usize, outcome: Result<(), &AppError>, latency: Duration) {
    if !log::log_enabled!(target: TARGET, log::Level::Info) {
        return;
    }
    let result = outcome.map_or_else(|error| error.code().code(), |()| "ok");
    let field = |value: &Option<String>| escaped(value.as_deref().unwrap_or("-")).into_owned();
    let (oid, appid, tid) = (field(&claims.oid), field(&claims.appid), field(&claims.tid));
    let latency_ms = (latency.as_secs_f64() * 10_000.0).round() / 10.0;
    log::info!(
        target: TARGET,
        shown = shown, outcome = result,
        oid = &*oid, appid = &*appid, tid = &*tid, latency_ms = latency_ms;
        "secret catalog"
    );
}

/// `text` as is when it is plain (the common case), else with its special characters escaped.
fn escaped(text: &str) -> std::borrow::Cow<'_, str> {
    if text.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.escape_debug().to_string())
    }
}
