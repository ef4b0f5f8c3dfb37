//! `vaultgate check`: proves a deployment's configuration step by step, printing one line
//! per step (`ok` or `FAIL` with the exact cause); the caller exits non-zero on any failure.

use prometheus_client::registry::Registry;
use vaultgate_config::{Mode, Settings};

use crate::auth::entra::discovery_url;
use crate::secrets::{SecretName, SecretStore};
use crate::wiring::{self, KeySource};

/// Runs every step, printing as it goes; `true` when all passed.
pub async fn run(settings: &Settings, secret: Option<&str>, out: &mut impl std::io::Write) -> bool {
    crate::crypto::install_providers();
    let mut report = Report { out, failed: false };
    let mut registry = Registry::default();
    let network = crate::upstream::network();
    if network.is_configured() {
        report.line(true, "network", &network.describe());
    }
    match &settings.mode {
        Mode::Local { .. } => report.line(true, "configuration", &format!("local mode ({})", settings.mode_reason)),
        Mode::Azure(azure) => report.line(
            true,
            "configuration",
            &format!("Azure mode ({}), tenant {}, app {}", settings.mode_reason, azure.tenant_id, azure.app_id),
        ),
    }
    if let Some((ok, detail)) = crate::tls::self_check::check(&settings.tls) {
        report.line(ok, "tls", &detail);
    }
    match wiring::authentication(settings, &mut registry).await {
        Err(e) => report.line(false, "signing key", &e.to_string()),
        Ok(authentication) => match (&authentication.keys, &settings.mode) {
            (KeySource::Development { kid, dir }, _) => {
                report.line(true, "signing key", &format!("development key {kid} in {}", dir.display()))
            }
            (KeySource::Entra { first_load: Ok(count), .. }, Mode::Azure(azure)) => report.line(
                true,
                "signing keys",
                &format!("{count} loaded (discovery {})", discovery_url(&azure.authority_host, &azure.tenant_id)),
            ),
            (KeySource::Entra { first_load, .. }, _) => report.line(
                false,
                "signing keys",
                &first_load.as_ref().err().map_or_else(|| "not loaded".to_owned(), ToString::to_string),
            ),
        },
    }
    let stores = match wiring::secret_stores(settings, &mut registry) {
        Ok(stores) => stores,
        Err(e) => {
            report.line(false, "secret store", &e.to_string());
            return !report.failed;
        }
    };
    let lines = stores.served.check().await;
    if lines.0.is_empty() {
        report.line(true, "secret store", &stores.description);
    }
    for line in lines.0 {
        report.line(line.ok, line.step, &line.detail);
    }
    if let Some(name) = secret {
        match SecretName::parse(name) {
            Err(_) => report.line(false, "secret", &format!("{name:?} is not a Key Vault secret name")),
            Ok(name) => match stores.served.get(&name, None).await {
                Ok(secret) => report.line(
                    true,
                    "secret",
                    &format!("{name}: version {}, {} bytes", secret.version, secret.value.expose().len()),
                ),
                Err(e) => report.line(false, "secret", &format!("{name}: {e}")),
            },
        }
    }
    !report.failed
}

pub(crate) struct Report<'a, W: std::io::Write> {
    out: &'a mut W,
    failed: bool,
}

impl<W: std::io::Write> Report<'_, W> {
    pub(crate) fn line(&mut self, ok: bool, step: &str, detail: &str) {
        self.failed |= !ok;
        let _ = writeln!(self.out, "{} {step}: {detail}", if ok { "ok  " } else { "FAIL" });
    }
}
