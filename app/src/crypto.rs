//! Process-wide crypto providers. jsonwebtoken 12 and rustls 0.23 both panic on first use
//! when no provider is installed, so this runs before anything verifies or connects.

use std::sync::Once;

/// Installs aws-lc-rs as the provider for jsonwebtoken and rustls. Idempotent.
pub fn install_providers() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // An `Err` means another part of the process installed one first: that one is used.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}
