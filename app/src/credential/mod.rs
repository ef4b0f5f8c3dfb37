//! vaultgate's own identity towards Key Vault: the credential picked from the standard
//! Azure variables, one module per credential (`*_credential.rs`, listed in `chain.rs` in the
//! SDKs' order), and a cache that renews its tokens before they expire.

mod answer;
mod azure_arc_key_problem;
mod cache;
mod certificate_assertion;
mod certificate_file_error;
mod chain;
#[cfg(test)]
mod choice_tests;
mod developer_cli_answer_problem;
mod error;
mod pkcs12_file;
mod retry;
mod token_endpoint;
mod user_assigned;

mod app_service_credential;
mod azure_arc_credential;
mod azure_ml_credential;
mod client_certificate_credential;
mod client_secret_credential;
mod cloud_shell_credential;
mod developer_cli_credential;
mod imds_credential;
mod service_fabric_credential;
mod workload_identity_credential;

use std::fmt;
use std::time::{Duration, SystemTime};

pub use cache::AccessTokenCache;
pub use chain::{check_at_start, choose, chosen_because, fetch, settings_problems, tenant_rule};
pub use error::CredentialError;

/// Renew at the latest this long before expiry, as the Azure SDKs do.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// The scope vaultgate asks for when Key Vault has not said otherwise.
pub const KEY_VAULT_SCOPE: &str = "https://vault.azure.net/.default";

/// An access token for an upstream service. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    secret: String,
    pub expires_at: SystemTime,
    /// When to start renewing it, in the background, while it is still used.
    pub refresh_at: SystemTime,
}

impl AccessToken {
    /// A token received now, living until `expires_at`: renewed at `refresh_in` when the
    /// answer gives it, else at half its life or 5 minutes before expiry, whichever is first
    /// (the Azure SDKs' rule).
    pub fn new(secret: String, expires_at: SystemTime, refresh_in: Option<Duration>) -> Self {
        let now = SystemTime::now();
        let life = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
        let refresh_at = match refresh_in {
            Some(refresh_in) => now + refresh_in.min(life),
            None => now + (life / 2).min(life.saturating_sub(RENEW_BEFORE_EXPIRY)),
        };
        AccessToken { secret, expires_at, refresh_at }
    }

    /// The token, for an `Authorization` header and nothing else.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Whether it is still good for `margin` more.
    pub fn valid_for(&self, margin: Duration) -> bool {
        self.expires_at.duration_since(SystemTime::now()).is_ok_and(|left| left > margin)
    }

    pub fn due_for_renewal(&self) -> bool {
        SystemTime::now() >= self.refresh_at
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("refresh_at", &self.refresh_at)
            .finish()
    }
}

/// What a token is asked for: a scope (`<resource>/.default`) and, for credentials that
/// are bound to a tenant, the tenant Key Vault named in its challenge.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenRequest {
    pub scope: String,
    pub tenant: Option<String>,
}

impl TokenRequest {
    pub fn key_vault() -> Self {
        TokenRequest { scope: KEY_VAULT_SCOPE.to_owned(), tenant: None }
    }

    /// The resource form of the scope (managed identity endpoints take a resource).
    pub fn resource(&self) -> &str {
        self.scope.strip_suffix("/.default").unwrap_or(&self.scope)
    }
}

/// Which tenant a credential may be asked a token in, when Key Vault's challenge names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantRule<'a> {
    /// Bound to its own tenant: another is asked only when `AZURE_ADDITIONALLY_ALLOWED_TENANTS`
    /// lists it.
    Own(&'a str),
    /// A developer's sign-in without `AZURE_TENANT_ID`: the sign-in decides which tenants the
    /// tool can reach, so the challenge's goes to the tool as asked.
    AsAsked,
    /// A managed identity: its endpoint takes no tenant, and the SDKs ignore the challenge's.
    Ignored,
}
