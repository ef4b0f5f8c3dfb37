//! `vaultgate check`: proves a deployment's configuration step by step, printing one line
//! per step (`ok` or `FAIL` with the exact cause); the caller exits non-zero on any failure.

use std::sync::Arc;

use vaultgate_config::settings::SecretSource;
use vaultgate_config::{Mode, Settings};

use crate::auth::dev_key::DevKey;
use crate::auth::entra::{EntraKeys, KeySourceSettings, discovery_url};
use crate::secrets::dir::DirStore;
use crate::secrets::keyvault::KeyVaultStore;
use crate::secrets::{SecretName, SecretStore};

/// Runs every step, printing as it goes; `true` when all passed.
pub async fn run(settings: &Settings, secret: Option<&str>, out: &mut impl std::io::Write) -> bool {
    crate::crypto::install_providers();
    let mut report = Report { out, failed: false };
    let network = crate::upstream::network();
    if network.is_configured() {
        report.line(true, "network", &network.describe());
    }
    match &settings.mode {
        Mode::Local { dev_key_dir } => {
            report.line(true, "configuration", "local mode (TENANT_ID unset)");
            match DevKey::load_or_create(dev_key_dir) {
                Ok(key) => report.line(
                    true,
                    "signing key",
                    &format!("development key {} in {}", key.kid(), dev_key_dir.display()),
                ),
                Err(e) => report.line(false, "signing key", &e.to_string()),
            }
        }
        Mode::Azure(azure) => {
            report.line(
                true,
                "configuration",
                &format!("Azure mode, tenant {}, app {}", azure.tenant_id, azure.app_id),
            );
            let source = KeySourceSettings::new(azure, settings.upstream_timeout);
            let issuer = source.default_v2_issuer();
            let keys = Arc::new(EntraKeys::new(source, issuer));
            match keys.refresh().await {
                Ok(count) => report.line(
                    true,
                    "signing keys",
                    &format!("{count} loaded (discovery {})", discovery_url(&azure.authority_host, &azure.tenant_id)),
                ),
                Err(e) => report.line(false, "signing keys", &e),
            }
        }
    }
    let store: Box<dyn SecretStore> = match &settings.secrets {
        SecretSource::Dir(dir) => match DirStore::open(dir) {
            Ok(store) => {
                report.line(true, "secret store", &format!("folder {}", store.root().display()));
                Box::new(store)
            }
            Err(e) => {
                report.line(false, "secret store", &e.to_string());
                return !report.failed;
            }
        },
        SecretSource::KeyVault(key_vault) => {
            let store = KeyVaultStore::new(key_vault, settings.upstream_timeout);
            let credential = key_vault.credential.describe();
            match store.tokens().token(&crate::credential::TokenRequest::key_vault()).await {
                Ok(_) => report.line(true, "credential", &format!("{credential}: token acquired")),
                Err(e) => report.line(false, "credential", &format!("{credential}: {e}")),
            }
            match store.probe().await {
                Ok(()) => report.line(
                    true,
                    "key vault",
                    &format!("{} reachable, secret reads permitted (a missing name answered 404)", key_vault.url),
                ),
                Err(e) => report.line(
                    false,
                    "key vault",
                    &format!("{}: {e} (the identity needs the Key Vault Secrets User role)", key_vault.url),
                ),
            }
            Box::new(store)
        }
    };
    if let Some(name) = secret {
        match SecretName::parse(name) {
            Err(_) => report.line(false, "secret", &format!("{name:?} is not a Key Vault secret name")),
            Ok(name) => match store.get(&name, None).await {
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

struct Report<'a, W: std::io::Write> {
    out: &'a mut W,
    failed: bool,
}

impl<W: std::io::Write> Report<'_, W> {
    fn line(&mut self, ok: bool, step: &str, detail: &str) {
        self.failed |= !ok;
        let _ = writeln!(self.out, "{} {step}: {detail}", if ok { "ok  " } else { "FAIL" });
    }
}
