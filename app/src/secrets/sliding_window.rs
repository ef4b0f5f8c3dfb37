//! At most `limit` events in any `window` (a sliding log): exact, so no burst at a window's
//! edge doubles the rate, and O(1) amortised per event (each time is pushed and popped once).
//! Memory is bounded by `limit` times.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub struct SlidingWindow {
    limit: usize,
    window: Duration,
    /// When the events of the last `window` happened, oldest first.
    times: VecDeque<Instant>,
}

impl SlidingWindow {
    pub fn new(limit: usize, window: Duration) -> Self {
        SlidingWindow { limit, window, times: VecDeque::new() }
    }

    /// `Err(wait)` when `limit` events happened within the last `window` (`wait`: until the
    /// oldest of them leaves it); `Ok` otherwise.
    pub fn check(&mut self, now: Instant) -> Result<(), Duration> {
        self.forget_past(now);
        match self.times.front() {
            Some(oldest) if self.times.len() >= self.limit => Err(self.window - now.saturating_duration_since(*oldest)),
            _ => Ok(()),
        }
    }

    /// Events within the last `window`.
    pub fn count(&mut self, now: Instant) -> usize {
        self.forget_past(now);
        self.times.len()
    }

    fn forget_past(&mut self, now: Instant) {
        while self.times.front().is_some_and(|t| now.saturating_duration_since(*t) >= self.window) {
            self.times.pop_front();
        }
    }

    /// Counts one event at `now` (the oldest is dropped if the log is full).
    pub fn record(&mut self, now: Instant) {
        if self.times.len() >= self.limit {
            self.times.pop_front();
        }
        self.times.push_back(now);
    }

    /// Counts one event at `now` if the window has room; `Err(wait)` otherwise.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        self.check(now)?;
        self.record(now);
        Ok(())
    }

    /// Whether no event of the last `window` is remembered (the log can be dropped).
    pub fn is_idle(&self, now: Instant) -> bool {
        self.times.back().is_none_or(|t| now.saturating_duration_since(*t) >= self.window)
    }
}

/// Whole seconds to put in `Retry-After` for `wait`: rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_SECONDS: Duration = Duration::from_secs(10);

    #[test]
    fn allows_the_limit_in_any_window_and_says_how_long_to_wait() {
        let start = Instant::now();
        let mut window = SlidingWindow::new(3, TEN_SECONDS);
        for i in 0..3 {
            assert_eq!(window.take(start + Duration::from_secs(i)), Ok(()));
        }
        assert_eq!(window.take(start + Duration::from_secs(4)), Err(Duration::from_secs(6)));
        // The first event leaves the window at 10 s: one more fits, and no more.
        assert_eq!(window.take(start + TEN_SECONDS), Ok(()));
        assert_eq!(window.take(start + TEN_SECONDS), Err(Duration::from_secs(1)));
        assert_eq!(window.count(start + Duration::from_secs(11)), 2, "the event of 1 s has left");
        assert!(!window.is_idle(start + Duration::from_secs(19)));
        assert!(window.is_idle(start + Duration::from_secs(20)));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(6001)), 7);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
