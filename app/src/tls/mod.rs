//! vaultgate's own HTTPS: the pair read from `TLS_CERT_FILE`/`TLS_KEY_FILE` (or local mode's
//! development certificate, `dev_cert.rs`), checked before the server binds (`pair.rs`),
//! served through a resolver that a reload swaps (`served.rs`, `reload.rs`), with the
//! expiry and reload metrics (`metrics.rs`) and `vaultgate check`'s line (`self_check.rs`).

pub mod dev_cert;
pub mod error;
pub mod facts;
pub mod metrics;
pub mod pair;
pub mod reload;
pub mod self_check;
pub mod served;

use std::path::PathBuf;
use std::sync::Arc;

use prometheus_client::registry::Registry;
use vaultgate_config::TlsSettings;

pub use error::TlsPairError;
use metrics::TlsMetrics;
use pair::{CertifiedPair, PairFiles};
use reload::TlsReload;
use served::ServedCertificate;

use crate::startup_error::StartupError;

/// What the server needs to serve HTTPS: rustls' configuration and the watcher to run.
pub struct ServingTls {
    pub config: rustls::ServerConfig,
    pub reload: TlsReload,
    pub facts: facts::CertificateFacts,
}

/// The pair's files, with `TLS=dev`'s created or renewed first.
pub fn pair_paths(settings: &TlsSettings) -> Result<Option<(PathBuf, PathBuf)>, StartupError> {
    match settings {
        TlsSettings::Off => Ok(None),
        TlsSettings::Files(files) => Ok(Some((files.cert_file.clone(), files.key_file.clone()))),
        TlsSettings::Development { dir, .. } => {
            let certificate = dev_cert::ensure(dir)
                .map_err(|source| StartupError::DevelopmentCertificate { dir: dir.clone(), source })?;
            Ok(Some((certificate.cert_file, certificate.key_file)))
        }
    }
}

/// Reads and checks the pair (fails closed: no HTTPS, no start), registers the metrics.
pub fn prepare(settings: &TlsSettings, registry: &mut Registry) -> Result<Option<ServingTls>, StartupError> {
    let Some((cert_path, key_path)) = pair_paths(settings)? else { return Ok(None) };
    let interval = match settings {
        TlsSettings::Files(files) => files.reload_interval,
        TlsSettings::Development { reload_interval, .. } => *reload_interval,
        TlsSettings::Off => return Ok(None),
    };
    let files = PairFiles::read(&cert_path, &key_path).map_err(StartupError::Tls)?;
    let CertifiedPair { key, facts } =
        files.certify(&cert_path, &key_path, crate::clock::unix_now()).map_err(StartupError::Tls)?;
    let metrics = TlsMetrics::default();
    metrics.register(registry);
    metrics.expiry.set(facts.not_after);
    let served = Arc::new(ServedCertificate::new(key));
    let config = server_config(served.clone()).map_err(StartupError::TlsConfig)?;
    let reload = TlsReload::new((cert_path, key_path), interval, served, metrics, files.fingerprint());
    Ok(Some(ServingTls { config, reload, facts }))
}

/// TLS 1.3 and 1.2 with aws-lc-rs, the certificate chosen per handshake. actix-web adds the
/// ALPN protocols itself (`h2`, then `http/1.1`).
fn server_config(served: Arc<ServedCertificate>) -> Result<rustls::ServerConfig, rustls::Error> {
    Ok(rustls::ServerConfig::builder_with_provider(pair::provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(served))
}
