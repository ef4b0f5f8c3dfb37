//! Wall-clock time as tokens and secrets carry it, and jitter for timers that a fleet of
//! replicas must not run in step.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (JWT `exp`, Key Vault attributes); 0 if the clock is before it.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SSZ`: an RFC 3339 time in UTC, the one form both Azure SDKs read from
/// `azd` (an offset other than `Z` is refused rather than guessed at).
pub fn rfc3339_utc(text: &str) -> Option<SystemTime> {
    // The parser also takes a blank for `T` (RFC 3339's note); `azd` never writes one.
    if !text.ends_with('Z') || text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let time = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(SystemTime::from(time))
}

/// `interval` scaled by a random factor in `1 ± spread` (e.g. `0.1` for ±10%).
pub fn jittered(interval: Duration, spread: f64) -> Duration {
    let mut byte = [0u8; 1];
    // A failed random read leaves 0: the shortest wait, still a valid one.
    let _ = aws_lc_rs::rand::fill(&mut byte);
    interval.mul_f64(1.0 - spread + 2.0 * spread * f64::from(byte[0]) / 255.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(time: SystemTime) -> u64 {
        time.duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    #[test]
    fn rfc3339_times_are_read_in_utc_only() {
        assert_eq!(rfc3339_utc("2023-10-04T21:01:15Z").map(epoch), Some(1_696_453_275));
        assert_eq!(rfc3339_utc("1970-01-01T00:00:00Z").map(epoch), Some(0));
        assert_eq!(rfc3339_utc("2024-02-29T12:00:00Z").map(epoch), Some(1_709_208_000));
        assert_eq!(rfc3339_utc("2023-10-04T21:01:15+02:00"), None);
        assert_eq!(rfc3339_utc("2023-10-04 21:01:15Z"), None);
        assert_eq!(rfc3339_utc("2023-13-04T21:01:15Z"), None);
    }

    #[test]
    fn jitter_stays_within_its_spread() {
        for _ in 0..100 {
            let wait = jittered(Duration::from_secs(100), 0.1);
            assert!(wait >= Duration::from_secs(90) && wait <= Duration::from_secs(110), "{wait:?}");
        }
    }
}
