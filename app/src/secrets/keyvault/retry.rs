//! Which Key Vault answers are retried, and how long to wait before the next attempt: the
//! Azure SDKs' transient statuses (408, 429, 500, 502, 503, 504) and connection errors; what
//! the answer asks for, else exponential backoff from 800 ms to 8 s (the SDKs' defaults).

use std::time::Duration;

use actix_web::http::header::HeaderMap;

use crate::backoff;

const BACKOFF_BASE: Duration = Duration::from_millis(800);
const BACKOFF_MAX: Duration = Duration::from_secs(8);

pub fn is_transient(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// The delay before attempt `attempt + 1`; `headers` are the failed answer's, if any.
pub fn delay(headers: Option<&HeaderMap>, attempt: u32) -> Duration {
    headers.and_then(backoff::asked_for).unwrap_or_else(|| backoff::exponential(BACKOFF_BASE, BACKOFF_MAX, attempt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdks_transient_statuses() {
        let retried: Vec<u16> = (400..600).filter(|s| is_transient(*s)).collect();
        assert_eq!(retried, [408, 429, 500, 502, 503, 504]);
    }
}
