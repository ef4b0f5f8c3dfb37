//! `vaultgate check`'s TLS line: the certificate that would be served, its names and the days
//! it has left, or why start-up would stop.

use vaultgate_config::TlsSettings;

use super::dev_cert;

/// `None` with TLS off; else whether the pair can be served, and what to print.
pub fn check(settings: &TlsSettings) -> Option<(bool, String)> {
    let now = crate::clock::unix_now();
    match settings {
        TlsSettings::Off => None,
        TlsSettings::Files(files) => Some(match super::pair::load(&files.cert_file, &files.key_file) {
            Ok(pair) => (true, format!("{}: {}", files.cert_file.display(), pair.facts.describe(now))),
            Err(error) => (false, error.to_string()),
        }),
        // Start-up issues a missing or broken development certificate again, so neither fails.
        TlsSettings::Development { dir, .. } => {
            let cert_file = dir.join(dev_cert::CERT_FILE);
            Some(match super::pair::load(&cert_file, &dir.join(dev_cert::KEY_FILE)) {
                Ok(pair) => (true, format!("{}: {}", cert_file.display(), pair.facts.describe(now))),
                Err(error) => (
                    true,
                    format!("TLS=dev: start-up will issue a development certificate in {} ({error})", dir.display()),
                ),
            })
        }
    }
}
