//! `vaultgate_tls_certificate_expiry_seconds` and `vaultgate_tls_reloads_total{outcome}`.

use std::sync::atomic::AtomicI64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::metrics::OutcomeLabels;

#[derive(Clone, Default)]
pub struct TlsMetrics {
    /// The served certificate's notAfter, Unix seconds: alert on it before it passes.
    pub expiry: Gauge<i64, AtomicI64>,
    /// `success` per new pair served, `failure` per new content refused.
    pub reloads: Family<OutcomeLabels, Counter>,
}

impl TlsMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tls_certificate_expiry_seconds",
            "notAfter of the certificate served to new connections, Unix seconds",
            self.expiry.clone(),
        );
        registry.register("tls_reloads", "Changed TLS files by outcome: served, or refused", self.reloads.clone());
    }

    pub fn reloaded(&self, outcome: &'static str) {
        self.reloads.get_or_create(&OutcomeLabels { outcome }).inc();
    }
}
