//! Re-reads the certificate and key files every few seconds and serves a changed pair to new
//! connections. Comparing content (not modification times) follows every way the files get
//! replaced: cert-manager's writes, the CSI driver's and Kubernetes' `..data` symlink swaps.
//! A broken new pair (half written, mismatched, expired) is never served: the pair served
//! until then stays, and each bad content is reported once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::metrics::TlsMetrics;
use super::pair::{CertifiedPair, PairFiles};
use super::served::ServedCertificate;

pub struct TlsReload {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub interval: Duration,
    served: Arc<ServedCertificate>,
    metrics: TlsMetrics,
    /// The content served now.
    served_content: [u8; 32],
    /// The last content refused (or the last read error), reported once.
    refused: Option<Refused>,
}

#[derive(PartialEq, Eq)]
enum Refused {
    Content([u8; 32]),
    Unreadable(String),
}

/// What one look at the files found.
#[derive(Debug, PartialEq, Eq)]
pub enum Poll {
    Unchanged,
    Reloaded,
    Refused,
}

impl TlsReload {
    pub fn new(
        paths: (PathBuf, PathBuf),
        interval: Duration,
        served: Arc<ServedCertificate>,
        metrics: TlsMetrics,
        served_content: [u8; 32],
    ) -> TlsReload {
        let (cert_path, key_path) = paths;
        TlsReload { cert_path, key_path, interval, served, metrics, served_content, refused: None }
    }

    /// Looks at the files every `interval`, for as long as the server's runtime lives.
    pub async fn keep_fresh(mut self) {
        let mut ticks = actix_web::rt::time::interval(self.interval);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            self.poll();
        }
    }

    pub fn poll(&mut self) -> Poll {
        let files = match PairFiles::read(&self.cert_path, &self.key_path) {
            Ok(files) => files,
            Err(error) => return self.refuse(Refused::Unreadable(error.to_string()), &error),
        };
        let content = files.fingerprint();
        if content == self.served_content {
            self.refused = None;
            return Poll::Unchanged;
        }
        match files.certify(&self.cert_path, &self.key_path, crate::clock::unix_now()) {
            Ok(pair) => {
                self.serve(pair, content);
                Poll::Reloaded
            }
            Err(error) => self.refuse(Refused::Content(content), &error),
        }
    }

    fn serve(&mut self, pair: CertifiedPair, content: [u8; 32]) {
        self.served.replace(pair.key);
        self.served_content = content;
        self.refused = None;
        self.metrics.expiry.set(pair.facts.not_after);
        self.metrics.reloaded("success");
        log::info!(
            target: "tls",
            "serving the new TLS certificate from {}: {}",
            self.cert_path.display(),
            pair.facts.describe(crate::clock::unix_now())
        );
    }

    fn refuse(&mut self, refused: Refused, why: &dyn std::fmt::Display) -> Poll {
        if self.refused.as_ref() != Some(&refused) {
            self.metrics.reloaded("failure");
            log::warn!(target: "tls", "changed TLS files not served, the previous certificate stays: {why}");
            self.refused = Some(refused);
        }
        Poll::Refused
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rcgen::{CertificateParams, KeyPair};

    use super::*;
    use crate::metrics::OutcomeLabels;

    /// A self-signed certificate for localhost and its key, PEM.
    fn pair() -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let certificate = CertificateParams::new(vec!["localhost".to_owned()]).unwrap().self_signed(&key).unwrap();
        (certificate.pem(), key.serialize_pem())
    }

    fn write(dir: &Path, (cert, key): (&str, &str)) {
        std::fs::write(dir.join("tls.crt"), cert).unwrap();
        std::fs::write(dir.join("tls.key"), key).unwrap();
    }

    fn count(metrics: &TlsMetrics, outcome: &'static str) -> u64 {
        metrics.reloads.get_or_create(&OutcomeLabels { outcome }).get()
    }

    #[test]
    fn a_changed_pair_is_served_and_each_broken_content_is_refused_once() {
        crate::crypto::install_providers();
        let dir = tempfile::tempdir().unwrap();
        let (cert_path, key_path) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
        let (first, second, stranger) = (pair(), pair(), pair());
        write(dir.path(), (&first.0, &first.1));
        let files = PairFiles::read(&cert_path, &key_path).unwrap();
        let served_pair = files.certify(&cert_path, &key_path, crate::clock::unix_now()).unwrap();
        let served = Arc::new(ServedCertificate::new(served_pair.key));
        let metrics = TlsMetrics::default();
        let paths = (cert_path.clone(), key_path.clone());
        let mut reload =
            TlsReload::new(paths, Duration::from_secs(1), served.clone(), metrics.clone(), files.fingerprint());
        let leaf = |served: &ServedCertificate| served.current().cert[0].to_vec();
        let first_leaf = leaf(&served);

        assert_eq!(reload.poll(), Poll::Unchanged);
        write(dir.path(), (&second.0, &stranger.1));
        assert_eq!(reload.poll(), Poll::Refused);
        assert_eq!(reload.poll(), Poll::Refused);
        assert_eq!(count(&metrics, "failure"), 1, "the same bad content is reported once");
        assert_eq!(leaf(&served), first_leaf);

        std::fs::remove_file(&key_path).unwrap();
        assert_eq!(reload.poll(), Poll::Refused);
        assert_eq!(count(&metrics, "failure"), 2, "another fault is reported again");

        write(dir.path(), (&second.0, &second.1));
        assert_eq!(reload.poll(), Poll::Reloaded);
        assert_ne!(leaf(&served), first_leaf);
        assert_eq!(count(&metrics, "success"), 1);
        assert_eq!(reload.poll(), Poll::Unchanged);
        assert!(metrics.expiry.get() > crate::clock::unix_now());
    }
}
