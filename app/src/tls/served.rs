//! The pair new connections are given: rustls asks at every handshake, and a reload swaps it,
//! so connections already open keep the pair they started with.

use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

#[derive(Debug)]
pub struct ServedCertificate {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ServedCertificate {
    pub fn new(first: Arc<CertifiedKey>) -> ServedCertificate {
        ServedCertificate { current: RwLock::new(first) }
    }

    pub fn replace(&self, next: Arc<CertifiedKey>) {
        *crate::sync::write(&self.current) = next;
    }

    /// The pair the next handshake gets.
    pub fn current(&self) -> Arc<CertifiedKey> {
        crate::sync::read(&self.current).clone()
    }
}

impl ResolvesServerCert for ServedCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}
