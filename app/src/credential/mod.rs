//! vaultgate's own identity towards Key Vault: the credential picked from the standard
//! Azure variables, and a cache that renews its tokens before they expire.

mod answer;
mod azure_arc;
mod cache;
mod client_certificate;
mod developer_cli;
mod managed_identity;
mod msi_endpoint;
mod pkcs12_file;
mod retry;
mod token_endpoint;

use std::fmt;
use std::time::{Duration, SystemTime};

use vaultgate_config::secrets_settings::CredentialSource;

pub use cache::AccessTokenCache;

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

/// Checks at start what needs no network call: a client certificate file that cannot be read
/// or holds no usable key stops start-up, rather than failing every read afterwards.
pub fn check_at_start(source: &CredentialSource) -> Result<(), String> {
    if let CredentialSource::ClientCertificate { path, password, .. } = source {
        client_certificate::ClientCertificate::load(path, password.as_ref().map(|p| p.0.as_str()))?;
        client_certificate::warn_if_readable_by_others(path);
    }
    Ok(())
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
        CredentialSource::ClientCertificate { authority_host, tenant_id, client_id, path, password, send_chain } => {
            // Re-read every time, as the federated token file: certificates are rotated in place.
            let password = password.as_ref().map(|p| p.0.as_str());
            let certificate = client_certificate::ClientCertificate::load(path, password)?;
            let tenant = request.tenant.as_deref().unwrap_or(tenant_id);
            let audience = token_endpoint::url(authority_host, tenant);
            let assertion = certificate.assertion(client_id, &audience, *send_chain)?;
            let proof = token_endpoint::Proof::Assertion(&assertion);
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
        CredentialSource::AppServiceManagedIdentity { endpoint, header, identity } => {
            managed_identity::app_service(endpoint, &header.0, identity.as_ref(), request.resource(), timeout).await
        }
        CredentialSource::ServiceFabric { endpoint, header, thumbprint } => {
            managed_identity::service_fabric(endpoint, &header.0, thumbprint, request.resource(), timeout).await
        }
        CredentialSource::AzureArc { endpoint } => azure_arc::fetch(endpoint, request.resource(), timeout).await,
        CredentialSource::CloudShell { endpoint } => {
            msi_endpoint::cloud_shell(endpoint, request.resource(), timeout).await
        }
        CredentialSource::AzureMl { endpoint, secret, client_id } => {
            msi_endpoint::azure_ml(endpoint, &secret.0, client_id, request.resource(), timeout).await
        }
        CredentialSource::Imds { endpoint, identity } => {
            managed_identity::imds(endpoint, identity.as_ref(), request.resource(), timeout).await
        }
        CredentialSource::DeveloperCli { tools, tenant_id } => {
            let tenant = request.tenant.as_deref().or(tenant_id.as_deref());
            developer_cli::fetch(tools, tenant, &request.scope, timeout).await
        }
    }
}
