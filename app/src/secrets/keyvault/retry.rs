//! How long to wait before retrying a throttled or failing Key Vault call: what the answer
//! asks for, else exponential backoff from 800 ms to 8 s (the Azure SDKs' defaults).

use std::time::Duration;

use actix_web::http::header::HeaderMap;

use crate::backoff;

const BACKOFF_BASE: Duration = Duration::from_millis(800);
const BACKOFF_MAX: Duration = Duration::from_secs(8);

pub fn delay(headers: &HeaderMap, attempt: u32) -> Duration {
    backoff::asked_for(headers).unwrap_or_else(|| backoff::exponential(BACKOFF_BASE, BACKOFF_MAX, attempt))
}
