//! How long to wait before retrying a throttled (429) or unavailable (503) Key Vault call:
//! what the answer asks for (`retry-after-ms`, `x-ms-retry-after-ms`, `Retry-After`), else
//! exponential backoff with jitter.

use std::time::Duration;

use actix_web::http::header::HeaderMap;

const BACKOFF_BASE: Duration = Duration::from_millis(800);
const BACKOFF_MAX: Duration = Duration::from_secs(8);

pub fn delay(headers: &HeaderMap, attempt: u32) -> Duration {
    asked_for(headers).unwrap_or_else(|| backoff(attempt))
}

fn asked_for(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0 && *n < 1e9)
    };
    number("retry-after-ms")
        .or_else(|| number("x-ms-retry-after-ms"))
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| number("retry-after").map(Duration::from_secs_f64))
}

fn backoff(attempt: u32) -> Duration {
    let exponential = BACKOFF_BASE.saturating_mul(1 << attempt.min(8)).min(BACKOFF_MAX);
    crate::clock::jittered(exponential, 0.2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_answers_own_delay_wins() {
        assert_eq!(delay(&headers(&[("retry-after", "2")]), 0), Duration::from_secs(2));
        assert_eq!(delay(&headers(&[("retry-after-ms", "150"), ("retry-after", "2")]), 0), Duration::from_millis(150));
        assert_eq!(delay(&headers(&[("x-ms-retry-after-ms", "40")]), 3), Duration::from_millis(40));
    }

    #[test]
    fn otherwise_backoff_grows_and_is_capped() {
        let first = delay(&HeaderMap::new(), 0);
        assert!(first >= Duration::from_millis(640) && first <= Duration::from_millis(960), "{first:?}");
        let later = delay(&headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]), 10);
        assert!(later <= BACKOFF_MAX.mul_f64(1.2), "{later:?}");
        assert!(later >= BACKOFF_MAX.mul_f64(0.8), "{later:?}");
    }
}
