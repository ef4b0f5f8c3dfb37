//! A fake Key Vault with its identity endpoint, and vaultgate (local mode for callers)
//! reading secrets from it through the App Service managed identity.

use crate::TestApp;
use crate::fake_identity::{FakeIdentity, IDENTITY_HEADER};
use crate::fake_keyvault::FakeKeyVault;
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
        let endpoint = format!("{}/msi/token", self.identity.base_url);
        let mut vars = vec![
            ("KEY_VAULT_URL", self.vault.url.as_str()),
            ("IDENTITY_ENDPOINT", endpoint.as_str()),
            ("IDENTITY_HEADER", IDENTITY_HEADER),
            // The identity endpoint is a hosting environment: local mode only when asked for.
            ("VAULTGATE_MODE", "local"),
            ("KEY_VAULT_RETRY_BUDGET_SECS", "2"),
            ("UPSTREAM_TIMEOUT_SECS", "2"),
        ];
        vars.extend_from_slice(extra);
        TestApp::spawn_with(&vars).await
    }
}
