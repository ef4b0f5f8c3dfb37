//! Each caller's budget of fruitless store reads (`SECRET_MISS_BUDGET` per 10 s): reads
//! that found nothing (not found, refused). Without it, any `GetSecret` caller could send
//! distinct names, each one a vault GET, and throttle the vault for everyone. Past the
//! budget that caller's cache misses wait; cache hits and found secrets never count.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

use super::sliding_window::{SlidingWindow, retry_after_secs};
use crate::auth::Claims;

pub const WINDOW: Duration = Duration::from_secs(10);
/// The callers map is swept of idle callers when it has grown this much since the last sweep.
const SWEEP_AT_LEAST: usize = 1024;

/// Who a miss is charged to: the token's `oid`, else its application (`azp`, `appid`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallerId {
    Object(String),
    Application(String),
    /// Neither claim: such callers share one budget.
    Unnamed,
}

impl CallerId {
    pub fn of(claims: &Claims) -> CallerId {
        match (&claims.oid, &claims.appid) {
            (Some(oid), _) => CallerId::Object(oid.clone()),
            (None, Some(app)) => CallerId::Application(app.clone()),
            (None, None) => CallerId::Unnamed,
        }
    }
}

#[derive(Default)]
pub struct MissBudgetStats {
    /// Cache misses refused because their caller had spent its budget.
    pub refusals: Counter,
    /// Fruitless store reads counted against a caller.
    pub charged: Counter,
}

pub struct MissBudget {
    budget: usize,
    callers: Mutex<Callers>,
    stats: MissBudgetStats,
}

struct Callers {
    windows: HashMap<CallerId, SlidingWindow>,
    /// Size after the last sweep; the next waits until the map has doubled (amortised O(1)).
    swept_len: usize,
}

impl MissBudget {
    pub fn new(budget: usize) -> Self {
        MissBudget {
            budget,
            callers: Mutex::new(Callers { windows: HashMap::new(), swept_len: 0 }),
            stats: MissBudgetStats::default(),
        }
    }

    pub fn stats(&self) -> &MissBudgetStats {
        &self.stats
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "secret_miss_budget_refusals",
            "Cache misses refused (429) because the caller spent its miss budget",
            self.stats.refusals.clone(),
        );
        registry.register(
            "secret_miss_budget_charged",
            "Fruitless store reads (not found, refused) counted against a caller",
            self.stats.charged.clone(),
        );
    }

    /// `Err(retry_after_secs)` while `caller` has spent its budget (the refusal is counted).
    pub fn check(&self, caller: &CallerId, now: Instant) -> Result<(), u64> {
        let mut callers = crate::sync::lock(&self.callers);
        let Some(window) = callers.windows.get_mut(caller) else { return Ok(()) };
        window.check(now).map_err(|wait| {
            self.stats.refusals.inc();
            retry_after_secs(wait)
        })
    }

    /// Counts one fruitless store read against `caller`.
    pub fn charge(&self, caller: &CallerId, now: Instant) {
        self.stats.charged.inc();
        let mut callers = crate::sync::lock(&self.callers);
        if !callers.windows.contains_key(caller) {
            callers.sweep_if_grown(now);
        }
        let budget = self.budget;
        callers.windows.entry(caller.clone()).or_insert_with(|| SlidingWindow::new(budget, WINDOW)).record(now);
    }
}

impl Callers {
    fn sweep_if_grown(&mut self, now: Instant) {
        if self.windows.len() >= SWEEP_AT_LEAST.max(2 * self.swept_len) {
            self.windows.retain(|_, window| !window.is_idle(now));
            self.swept_len = self.windows.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(oid: &str) -> CallerId {
        CallerId::Object(oid.into())
    }

    #[test]
    fn a_spent_budget_refuses_until_the_oldest_miss_leaves_the_window() {
        let start = Instant::now();
        let budget = MissBudget::new(2);
        budget.charge(&caller("a"), start);
        budget.charge(&caller("a"), start + Duration::from_secs(1));
        assert_eq!(budget.check(&caller("a"), start + Duration::from_secs(2)), Err(8));
        assert_eq!(budget.check(&caller("b"), start + Duration::from_secs(2)), Ok(()));
        assert_eq!(budget.check(&caller("a"), start + WINDOW), Ok(()));
        assert_eq!(budget.stats().refusals.get(), 1);
        assert_eq!(budget.stats().charged.get(), 2);
    }

    #[test]
    fn idle_callers_are_swept_once_the_map_has_grown() {
        let start = Instant::now();
        let budget = MissBudget::new(1);
        for i in 0..SWEEP_AT_LEAST {
            budget.charge(&caller(&i.to_string()), start);
        }
        budget.charge(&caller("late"), start + WINDOW);
        let callers = crate::sync::lock(&budget.callers);
        assert_eq!(callers.windows.len(), 1, "only the caller of the current window is kept");
    }
}
