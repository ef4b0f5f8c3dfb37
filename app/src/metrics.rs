//! Prometheus metrics (`GET /metrics`, text format). Components own their counters; the
//! registry holds clones, so counting costs an atomic add and nothing is looked up per request.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    pub code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

/// Counts and timings of the HTTP layer; the rest are registered from their components.
pub struct HttpMetrics {
    pub requests: Family<RequestLabels, Counter>,
    pub auth_failures: Family<CodeLabels, Counter>,
    /// Names per `POST /vault` batch that passed the body checks.
    pub batch_names: Histogram,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics {
            requests: Family::default(),
            auth_failures: Family::default(),
            batch_names: Histogram::new([1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]),
        }
    }
}

/// Key Vault calls by outcome, and how long they took.
#[derive(Clone)]
pub struct VaultMetrics {
    pub calls: Family<OutcomeLabels, Counter>,
    pub latency: Histogram,
}

impl Default for VaultMetrics {
    fn default() -> Self {
        let buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
        VaultMetrics { calls: Family::default(), latency: Histogram::new(buckets) }
    }
}

/// The registry `/metrics` encodes.
pub struct Metrics {
    pub registry: Registry,
    pub http: Arc<HttpMetrics>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("vaultgate");
        let http = Arc::new(HttpMetrics::default());
        registry.register("http_requests", "HTTP requests by route and status", http.requests.clone());
        registry.register("auth_failures", "Refused authentications by catalog code", http.auth_failures.clone());
        registry.register("batch_read_names", "Names asked per batch read (POST /vault)", http.batch_names.clone());
        Metrics { registry, http }
    }

    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
