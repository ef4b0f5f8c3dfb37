//! The fleet tier's state as operators see it: its metrics, and one warning per outage (not
//! one per failed call) with one line when Redis is back.

use std::sync::atomic::{AtomicU8, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::error::FleetError;

const UNKNOWN: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

pub(super) struct FleetStatus {
    stream: String,
    origin: String,
    pub sent: Counter,
    pub received: Counter,
    pub clears: Counter,
    errors: Family<OperationLabels, Counter>,
    connected: Gauge,
    state: AtomicU8,
}

impl FleetStatus {
    pub fn new(stream: String, origin: String) -> Self {
        FleetStatus {
            stream,
            origin,
            sent: Counter::default(),
            received: Counter::default(),
            clears: Counter::default(),
            errors: Family::default(),
            connected: Gauge::default(),
            state: AtomicU8::new(UNKNOWN),
        }
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "fleet_invalidations_sent",
            "Secret names this replica appended to the fleet's stream",
            self.sent.clone(),
        );
        registry.register(
            "fleet_invalidations_received",
            "Secret names other replicas appended that this replica dropped",
            self.received.clone(),
        );
        registry.register(
            "fleet_errors",
            "Failed or timed-out Redis calls of the fleet tier, by operation",
            self.errors.clone(),
        );
        registry.register("fleet_connected", "1 while Redis answers the fleet tier, else 0", self.connected.clone());
        registry.register(
            "fleet_cache_clears",
            "Whole-cache clears because this replica's place in the stream was trimmed away",
            self.clears.clone(),
        );
    }

    /// A call failed: counted; the first failure of an outage is warned.
    pub fn failed(&self, error: &FleetError) {
        self.errors.get_or_create(&OperationLabels { operation: error.operation().label() }).inc();
        self.connected.set(0);
        if self.state.swap(DOWN, Ordering::AcqRel) != DOWN {
            log::warn!(
                "fleet tier: Redis unreachable ({error}); stream {}, replica {}: invalidations stay on this replica \
                 until it returns",
                self.stream,
                self.origin
            );
        }
    }

    /// A call succeeded: the end of an outage, if there was one.
    pub fn reachable(&self) {
        self.connected.set(1);
        if self.state.swap(UP, Ordering::AcqRel) == DOWN {
            log::info!("fleet tier: Redis reachable again; stream {}, replica {}", self.stream, self.origin);
        }
    }
}
