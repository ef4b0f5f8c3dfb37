//! Wall-clock time as tokens and secrets carry it, and jitter for timers that a fleet of
//! replicas must not run in step.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (JWT `exp`, Key Vault attributes); 0 if the clock is before it.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
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

    #[test]
    fn jitter_stays_within_its_spread() {
        for _ in 0..100 {
            let wait = jittered(Duration::from_secs(100), 0.1);
            assert!(wait >= Duration::from_secs(90) && wait <= Duration::from_secs(110), "{wait:?}");
        }
    }
}
