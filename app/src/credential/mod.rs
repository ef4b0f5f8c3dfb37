//! vaultgate's own identity towards Key Vault: the credential picked from the standard
//! Azure variables, and a cache that renews its tokens before they expire.

mod answer;
mod cache;
mod managed_identity;
mod token_endpoint;

use std::fmt;
use std::time::{Duration, SystemTime};

use vaultgate_config::secrets_settings::CredentialSource;

pub use cache::AccessTokenCache;

/// The scope vaultgate asks for when Key Vault has not said otherwise.
pub const KEY_VAULT_SCOPE: &str = "https://vault.azure.net/.default";

/// An access token for an upstream service. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    secret: String,
    pub expires_at: SystemTime,
}

impl AccessToken {
    pub fn new(secret: String, expires_at: SystemTime) -> Self {
        AccessToken { secret, expires_at }
    }

    /// The token, for an `Authorization` header and nothing else.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Whether it is still good for `margin` more.
    pub fn valid_for(&self, margin: Duration) -> bool {
        self.expires_at.duration_since(SystemTime::now()).is_ok_and(|left| left > margin)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken").field("secret", &"<redacted>").field("expires_at", &self.expires_at).finish()
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

/// Asks the credential's endpoint for a new token. The error text is for logs and never
/// holds a token or a client secret.
pub async fn fetch(
    source: &CredentialSource,
    request: &TokenRequest,
    timeout: Duration,
) -> Result<AccessToken, String> {
    match source {
        CredentialSource::ClientSecret { authority_host, tenant_id, client_id, secret } => {
            let tenant = request.tenant.as_deref().unwrap_or(tenant_id);
            let proof = token_endpoint::Proof::Secret(&secret.0);
            token_endpoint::fetch(authority_host, tenant, client_id, proof, &request.scope, timeout).await
        }
        CredentialSource::WorkloadIdentity { authority_host, tenant_id, client_id, token_file } => {
            // Re-read every time: the kubelet rotates the projected token file.
            let assertion = std::fs::read_to_string(token_file)
                .map_err(|e| format!("AZURE_FEDERATED_TOKEN_FILE {token_file}: {e}"))?;
            let tenant = request.tenant.as_deref().unwrap_or(tenant_id);
            let proof = token_endpoint::Proof::Assertion(assertion.trim());
            token_endpoint::fetch(authority_host, tenant, client_id, proof, &request.scope, timeout).await
        }
        CredentialSource::AppServiceManagedIdentity { endpoint, header, client_id } => {
            managed_identity::app_service(endpoint, &header.0, client_id.as_deref(), request.resource(), timeout).await
        }
        CredentialSource::Imds { endpoint, client_id } => {
            managed_identity::imds(endpoint, client_id.as_deref(), request.resource(), timeout).await
        }
    }
}
