//! `vaultgate check`'s TLS line: the certificate that would be served, its names and the days
//! it has left, or why start-up would stop.

use vaultgate_config::TlsSettings;

use super::dev_cert;

/// `None` with TLS off; else whether the pair can be served, and what to print.
pub fn check(settings: &TlsSettings) -> Option<(bool, String)> {
    let (cert_path, key_path) = match settings {
        TlsSettings::Off => return None,
        TlsSettings::Files(files) => (files.cert_file.clone(), files.key_file.clone()),
        TlsSettings::Development { dir, .. } => {
            let (cert_path, key_path) = (dir.join(dev_cert::CERT_FILE), dir.join(dev_cert::KEY_FILE));
            if !cert_path.exists() && !key_path.exists() {
                let detail =
                    format!("TLS=dev: the development certificate will be issued in {} at start", dir.display());
                return Some((true, detail));
            }
            (cert_path, key_path)
        }
    };
    let now = crate::clock::unix_now();
    Some(match super::pair::load(&cert_path, &key_path) {
        Ok(pair) => (true, format!("{}: {}", cert_path.display(), pair.facts.describe(now))),
        Err(error) => (false, error.to_string()),
    })
}
