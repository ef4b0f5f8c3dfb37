//! Each caller's budget of fruitless store reads (`SECRET_MISS_BUDGET` per 10 s): reads
//! that found nothing (not found, refused). Without it, any `GetSecret` caller could send
//! distinct names, each one a vault GET, and throttle the vault for everyone.
//!
//! A cache miss reserves a unit of its caller's budget before the store is asked, so reads in
//! flight count: a burst of parallel misses cannot all pass a check that only their answers
//! would have failed. The unit stays spent when the caller's own read was fruitless (or was
//! abandoned while the store was asked: its GET may have gone out), and comes back otherwise
//! (found, a transient failure, or no GET of its own). A caller has at most `MAX_IN_FLIGHT`
//! store reads of its own under way (a miss joining a read already under way reserves nothing);
//! more wait their turn (at most `MAX_TURN_WAIT`, then 429), and past the budget they answer 429
//! at once.
//! Cache hits never count.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use tokio::sync::Notify;

use super::sliding_window::{SlidingWindow, retry_after_secs};
use crate::auth::Claims;

pub const WINDOW: Duration = Duration::from_secs(10);
/// Cache misses one caller may have under way at once, across all its requests: as many as
/// one batch reads at once (`routes::batch::CONCURRENT_READS`), so a batch never waits on
/// itself, while many parallel requests cannot send more GETs than the budget allows.
pub const MAX_IN_FLIGHT: usize = 8;
/// How long a miss waits for one of its caller's turns before it is refused (429, retry after
/// a second): reads of a slow or failing vault give their units back, so without a bound a
/// caller's queue of misses could outlast any client's timeout.
pub const MAX_TURN_WAIT: Duration = Duration::from_secs(5);
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
    /// Units kept spent: fruitless store reads of the caller's own, and reads abandoned
    /// while the store was asked.
    pub charged: Counter,
}

pub struct MissBudget {
    budget: usize,
    callers: Mutex<Callers>,
    stats: MissBudgetStats,
}

struct Callers {
    states: HashMap<CallerId, CallerState>,
    /// Size after the last sweep; the next waits until the map has doubled (amortised O(1)).
    swept_len: usize,
}

struct CallerState {
    /// Units kept spent, each for `WINDOW`.
    spent: SlidingWindow,
    /// Units reserved by misses under way.
    in_flight: usize,
    /// Woken whenever one of those is settled, so that waiting misses look again.
    settled: Arc<Notify>,
}

/// What a miss may do now.
enum Admission {
    Admitted,
    /// The budget is spent: `Retry-After` seconds.
    Spent(u64),
    /// The caller's turns are taken, or its reads under way could still spend the budget.
    Wait(Arc<Notify>),
}

impl MissBudget {
    pub fn new(budget: usize) -> Self {
        MissBudget {
            budget,
            callers: Mutex::new(Callers { states: HashMap::new(), swept_len: 0 }),
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
            "Fruitless store reads (not found, refused) and store listings counted against a caller, and reads it abandoned while the store was asked",
            self.stats.charged.clone(),
        );
    }

    /// Waits for one of `caller`'s turns and reserves a unit of its budget for a cache miss;
    /// `Err(retry_after_secs)` once the budget is spent (the refusal is counted).
    pub async fn reserve(&self, caller: &CallerId) -> Result<Reservation<'_>, u64> {
        let deadline = Instant::now() + MAX_TURN_WAIT;
        loop {
            let settled = match self.admit(caller, Instant::now()) {
                Admission::Admitted => return Ok(Reservation::new(self, caller)),
                Admission::Spent(retry_after) => return Err(retry_after),
                Admission::Wait(settled) => settled,
            };
            let mut notified = std::pin::pin!(settled.notified());
            notified.as_mut().enable();
            // Looked at again once listening, so that a unit settled in between is not missed.
            match self.admit(caller, Instant::now()) {
                Admission::Admitted => return Ok(Reservation::new(self, caller)),
                Admission::Spent(retry_after) => return Err(retry_after),
                Admission::Wait(now_settled) if Arc::ptr_eq(&settled, &now_settled) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if actix_web::rt::time::timeout(left, notified).await.is_err() {
                        self.stats.refusals.inc();
                        return Err(1);
                    }
                }
                // The caller's state was swept and made anew meanwhile: listen to the new one.
                Admission::Wait(_) => {}
            }
        }
    }

    /// Spends one unit of `caller`'s budget on a store call that costs it whatever it finds
    /// (a listing), under the same rules as a miss: reads in flight count, a turn is waited
    /// for; `Err(retry_after_secs)` once the budget is spent.
    pub async fn spend(&self, caller: &CallerId) -> Result<(), u64> {
        let reservation = self.reserve(caller).await?;
        reservation.read.set(OwnRead::Answered { fruitless: true });
        Ok(())
    }

    /// Reserves a unit for `caller` if it has a turn and room in its budget.
    fn admit(&self, caller: &CallerId, now: Instant) -> Admission {
        let mut callers = crate::sync::lock(&self.callers);
        if !callers.states.contains_key(caller) {
            callers.sweep_if_grown(now);
        }
        let budget = self.budget;
        let state = callers.states.entry(caller.clone()).or_insert_with(|| CallerState {
            spent: SlidingWindow::new(budget, WINDOW),
            in_flight: 0,
            settled: Arc::new(Notify::new()),
        });
        if let Err(wait) = state.spent.check(now) {
            self.stats.refusals.inc();
            return Admission::Spent(retry_after_secs(wait));
        }
        if state.in_flight >= MAX_IN_FLIGHT || state.spent.count(now) + state.in_flight >= budget {
            // `in_flight` is not 0 here (the budget has room), so a settlement will wake this.
            return Admission::Wait(state.settled.clone());
        }
        state.in_flight += 1;
        Admission::Admitted
    }

    /// Ends one reserved miss of `caller`: its unit kept spent, or given back.
    fn settle(&self, caller: &CallerId, keep: bool, now: Instant) {
        let settled = {
            let mut callers = crate::sync::lock(&self.callers);
            // Never swept while a unit is in flight.
            let Some(state) = callers.states.get_mut(caller) else { return };
            state.in_flight -= 1;
            if keep {
                state.spent.record(now);
                self.stats.charged.inc();
            }
            state.settled.clone()
        };
        settled.notify_waiters();
    }
}

impl Callers {
    fn sweep_if_grown(&mut self, now: Instant) {
        if self.states.len() >= SWEEP_AT_LEAST.max(2 * self.swept_len) {
            self.states.retain(|_, state| state.in_flight > 0 || !state.spent.is_idle(now));
            self.swept_len = self.states.len();
        }
    }
}

/// One admitted cache miss. Its unit is settled when it is dropped, however the read ends:
/// kept for a fruitless answer to the caller's own store read, or for a read abandoned while
/// the store was asked (never fail open); given back otherwise.
pub struct Reservation<'a> {
    budget: &'a MissBudget,
    caller: CallerId,
    read: Cell<OwnRead>,
}

/// Where the caller's own store read stands.
#[derive(Clone, Copy)]
enum OwnRead {
    /// Not asked: served from a flight another caller ran, or from the cache.
    NotAsked,
    Asking,
    Answered {
        fruitless: bool,
    },
}

impl<'a> Reservation<'a> {
    fn new(budget: &'a MissBudget, caller: &CallerId) -> Self {
        Reservation { budget, caller: caller.clone(), read: Cell::new(OwnRead::NotAsked) }
    }

    /// The store is being asked on this caller's behalf.
    pub fn asking(&self) {
        self.read.set(OwnRead::Asking);
    }

    /// The store answered this caller's read; `fruitless`: it found nothing for it.
    pub fn answered(&self, fruitless: bool) {
        self.read.set(OwnRead::Answered { fruitless });
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let keep = match self.read.get() {
            OwnRead::NotAsked => false,
            OwnRead::Asking => true,
            OwnRead::Answered { fruitless } => fruitless,
        };
        self.budget.settle(&self.caller, keep, Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn caller(oid: &str) -> CallerId {
        CallerId::Object(oid.into())
    }

    /// Reserves at once, or says why not (`Err(None)`: it would wait).
    fn reserve_now<'a>(budget: &'a MissBudget, who: &CallerId) -> Result<Reservation<'a>, Option<u64>> {
        match budget.reserve(who).now_or_never() {
            Some(Ok(reservation)) => Ok(reservation),
            Some(Err(retry_after)) => Err(Some(retry_after)),
            None => Err(None),
        }
    }

    fn spend(budget: &MissBudget, who: &CallerId, at: Instant) {
        let Admission::Admitted = budget.admit(who, at) else { panic!("admitted") };
        budget.settle(who, true, at);
    }

    #[test]
    fn a_spent_budget_refuses_until_the_oldest_miss_leaves_the_window() {
        let start = Instant::now();
        let budget = MissBudget::new(2);
        spend(&budget, &caller("a"), start);
        spend(&budget, &caller("a"), start + Duration::from_secs(1));
        assert!(matches!(budget.admit(&caller("a"), start + Duration::from_secs(2)), Admission::Spent(8)));
        assert!(matches!(budget.admit(&caller("b"), start + Duration::from_secs(2)), Admission::Admitted));
        assert!(matches!(budget.admit(&caller("a"), start + WINDOW), Admission::Admitted));
        assert_eq!(budget.stats().refusals.get(), 1);
        assert_eq!(budget.stats().charged.get(), 2);
    }

    #[actix_web::test]
    async fn misses_in_flight_hold_their_units_and_a_found_secret_gives_its_unit_back() {
        let budget = MissBudget::new(2);
        let who = caller("a");
        let first = reserve_now(&budget, &who).unwrap();
        let second = reserve_now(&budget, &who).unwrap();
        assert!(reserve_now(&budget, &who).is_err_and(|e| e.is_none()), "waits: both may yet be fruitless");
        first.asking();
        first.answered(false);
        drop(first);
        let third = reserve_now(&budget, &who).unwrap();
        second.asking();
        second.answered(true);
        drop(second);
        third.asking();
        third.answered(true);
        drop(third);
        assert_eq!(reserve_now(&budget, &who).err(), Some(Some(10)), "two fruitless reads spent the budget");
        assert_eq!(budget.stats().charged.get(), 2);
        assert_eq!(budget.stats().refusals.get(), 1);
    }

    #[test]
    fn an_abandoned_read_keeps_its_unit_and_a_read_never_sent_gives_it_back() {
        let budget = MissBudget::new(1);
        let who = caller("a");
        drop(reserve_now(&budget, &who).unwrap());
        let abandoned = reserve_now(&budget, &who).expect("a unit never asked for came back");
        abandoned.asking();
        drop(abandoned);
        assert!(reserve_now(&budget, &who).is_err_and(|e| e.is_some()), "its GET may have gone out");
        assert_eq!(budget.stats().charged.get(), 1);
    }

    #[actix_web::test]
    async fn a_caller_has_at_most_eight_misses_in_flight() {
        let budget = MissBudget::new(100);
        let who = caller("a");
        let mut turns: Vec<Reservation<'_>> = (0..MAX_IN_FLIGHT).map(|_| reserve_now(&budget, &who).unwrap()).collect();
        assert!(reserve_now(&budget, &who).is_err_and(|e| e.is_none()), "the ninth waits its turn");
        assert!(reserve_now(&budget, &caller("b")).is_ok(), "other callers have turns of their own");
        turns.pop();
        assert!(reserve_now(&budget, &who).is_ok());
    }

    #[actix_web::test]
    async fn a_waiting_miss_is_woken_when_a_unit_is_settled() {
        let budget = MissBudget::new(1);
        let who = caller("a");
        let under_way = reserve_now(&budget, &who).unwrap();
        let waiting = budget.reserve(&who);
        let settle = async move {
            under_way.asking();
            under_way.answered(true);
            drop(under_way);
        };
        let (outcome, ()) = futures_util::future::join(waiting, settle).await;
        assert_eq!(outcome.err(), Some(10), "woken, then refused: the read under way was fruitless");
    }

    #[test]
    fn idle_callers_are_swept_once_the_map_has_grown() {
        let start = Instant::now();
        let budget = MissBudget::new(1);
        for i in 0..SWEEP_AT_LEAST - 1 {
            spend(&budget, &caller(&i.to_string()), start);
        }
        let Admission::Admitted = budget.admit(&caller("under-way"), start) else { panic!("admitted") };
        spend(&budget, &caller("late"), start + WINDOW);
        let callers = crate::sync::lock(&budget.callers);
        assert_eq!(callers.states.len(), 2, "only the caller of the current window, and one with a miss under way");
    }
}
