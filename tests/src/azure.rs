//! A fake Key Vault with its identity endpoint, and vaultgate (local mode for callers)
//! reading secrets from it through the App Service managed identity.

use crate::TestApp;
use crate::fake_identity::{FakeIdentity, IDENTITY_HEADER};
use crate::fake_keyvault::FakeKeyVault;
use crate::https::TlsFiles;
use crate::logs;

pub struct Azure {
    pub identity: FakeIdentity,
    pub vault: FakeKeyVault,
}

impl Azure {
    /// An empty fake vault that challenges tokens issued for the public cloud's resource.
    pub fn start() -> Azure {
        logs::start_capture();
        let identity = FakeIdentity::start();
        let vault = FakeKeyVault::start(identity.issued(), false);
        Azure { identity, vault }
    }

    /// vaultgate reading this vault, with short retry budget and timeout, plus `extra`.
    pub async fn app(&self, extra: &[(&str, &str)]) -> TestApp {
        let vars = self.vars(extra);
        TestApp::spawn_with(&borrowed(&vars)).await
    }

    /// `app`, serving HTTPS with `tls`'s files; its requests trust `tls`'s CA.
    pub async fn https_app(&self, tls: &TlsFiles, extra: &[(&str, &str)]) -> TestApp {
        let vars = self.vars(extra);
        TestApp::spawn_https_with(tls, &borrowed(&vars)).await
    }

    fn vars<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, String)> {
        let endpoint = format!("{}/msi/token", self.identity.base_url);
        let mut vars = vec![
            ("KEY_VAULT_URL", self.vault.url.clone()),
            ("IDENTITY_ENDPOINT", endpoint),
            ("IDENTITY_HEADER", IDENTITY_HEADER.to_owned()),
            // The identity endpoint is a hosting environment: local mode only when asked for.
            ("VAULTGATE_MODE", "local".to_owned()),
            ("KEY_VAULT_RETRY_BUDGET_SECS", "2".to_owned()),
            ("UPSTREAM_TIMEOUT_SECS", "2".to_owned()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        vars
    }
}

fn borrowed<'a>(vars: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
