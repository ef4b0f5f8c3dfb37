//! Audit lines, under the log target `audit`: one per secret access that reached the cache or
//! a store (who, which secret, what came of it, how long it took, as structured fields), and
//! one per batch counting the names refused before any store, so that a caller cannot write
//! a hundred lines for the price of one request. Never the value, never the token.

use std::sync::Arc;
use std::time::Duration;

use crate::AppError;

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

/// Why a batch's name was refused before any store was touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Hidden by `EXPOSED_SECRETS` (answered as not found).
    Policy,
    /// A per-secret role (`SECRET_ROLES`) the caller lacks.
    Role,
    /// The caller's miss budget was spent.
    Budget,
}

/// A batch's names refused before any store was touched, by reason.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Refusals {
    pub policy: usize,
    pub role: usize,
    pub budget: usize,
}

impl Refusals {
    pub fn count(&mut self, refusal: Refusal) {
        match refusal {
            Refusal::Policy => self.policy += 1,
            Refusal::Role => self.role += 1,
            Refusal::Budget => self.budget += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.policy + self.role + self.budget
    }
}

/// One line for a batch's refusals (none when nothing was refused).
pub fn record_refusals(claims: &Claims, refusals: Refusals, latency: Duration) {
    if refusals.total() == 0 || !log::log_enabled!(target: TARGET, log::Level::Info) {
        return;
    }
    let field = |value: &Option<String>| escaped(value.as_deref().unwrap_or("-")).into_owned();
    let (oid, appid, tid) = (field(&claims.oid), field(&claims.appid), field(&claims.tid));
    let latency_ms = (latency.as_secs_f64() * 10_000.0).round() / 10.0;
    log::info!(
        target: TARGET,
        refused = refusals.total(), policy = refusals.policy, role = refusals.role, budget = refusals.budget,
        oid = &*oid, appid = &*appid, tid = &*tid, latency_ms = latency_ms;
        "secret batch refusals"
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
