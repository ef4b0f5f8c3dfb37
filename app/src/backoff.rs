//! How long to wait before retrying an upstream call: what the answer asks for
//! (`retry-after-ms`, `x-ms-retry-after-ms`, `Retry-After` in seconds or as an HTTP date, as
//! the Azure SDKs read them), else exponential backoff with jitter.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use actix_web::http::header::{HeaderMap, HttpDate};

/// The delay the answer's headers ask for, if any.
pub fn asked_for(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
    let number = |name: &str| text(name)?.parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0 && *n < 1e9);
    number("retry-after-ms")
        .or_else(|| number("x-ms-retry-after-ms"))
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| number("retry-after").map(Duration::from_secs_f64))
        .or_else(|| {
            let date = HttpDate::from_str(text("retry-after")?).ok()?;
            Some(SystemTime::from(date).duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
        })
}

/// `base` doubled per earlier attempt, capped at `max`, ±20% jitter.
pub fn exponential(base: Duration, max: Duration, attempt: u32) -> Duration {
    crate::clock::jittered(base.saturating_mul(1 << attempt.min(16)).min(max), 0.2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(HeaderName::from_static(name), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_answers_own_delay_in_any_form() {
        assert_eq!(asked_for(&headers(&[("retry-after", "2")])), Some(Duration::from_secs(2)));
        assert_eq!(
            asked_for(&headers(&[("retry-after-ms", "150"), ("retry-after", "2")])),
            Some(Duration::from_millis(150))
        );
        assert_eq!(asked_for(&headers(&[("x-ms-retry-after-ms", "40")])), Some(Duration::from_millis(40)));
        let soon = HttpDate::from(SystemTime::now() + Duration::from_secs(30)).to_string();
        let wait = asked_for(&headers(&[("retry-after", &soon)])).unwrap();
        assert!(wait > Duration::from_secs(27) && wait <= Duration::from_secs(30), "{wait:?}");
        assert_eq!(asked_for(&headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")])), Some(Duration::ZERO));
        assert_eq!(asked_for(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(asked_for(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = exponential(Duration::from_millis(800), Duration::from_secs(8), 0);
        assert!(first >= Duration::from_millis(640) && first <= Duration::from_millis(960), "{first:?}");
        let late = exponential(Duration::from_millis(800), Duration::from_secs(8), 30);
        assert!(late >= Duration::from_millis(6400) && late <= Duration::from_millis(9600), "{late:?}");
    }
}
