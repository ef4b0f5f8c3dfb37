//! The credentials in the Azure SDKs' `DefaultAzureCredential` order (environment, workload
//! identity, managed identity, developer tools), each in a module of its own: which one the
//! settings chose (`CredentialSource`, read from the variables in `vaultgate-config`) is sent
//! here to that module for its fetch, its tenant rule, and what `vaultgate check` says of it.

use std::time::Duration;

use vaultgate_config::secrets_settings::CredentialSource;

use super::client_certificate_credential::Client;
use super::{
    AccessToken, CredentialError, TenantRule, TokenRequest, app_service_credential, azure_arc_credential,
    azure_ml_credential, client_certificate_credential, client_secret_credential, cloud_shell_credential,
    developer_cli_credential, imds_credential, service_fabric_credential, workload_identity_credential,
};

/// Checks at start what needs no network call (a client certificate that cannot be used).
pub fn check_at_start(source: &CredentialSource) -> Result<(), CredentialError> {
    match source {
        CredentialSource::ClientCertificate { path, password, .. } => {
            client_certificate_credential::check_at_start(path, password.as_ref().map(|p| p.0.as_str()))
        }
        CredentialSource::ClientSecret { .. }
        | CredentialSource::WorkloadIdentity { .. }
        | CredentialSource::AppServiceManagedIdentity { .. }
        | CredentialSource::ServiceFabric { .. }
        | CredentialSource::AzureArc { .. }
        | CredentialSource::CloudShell { .. }
        | CredentialSource::AzureMl { .. }
        | CredentialSource::Imds { .. }
        | CredentialSource::DeveloperCli { .. } => Ok(()),
    }
}

/// The variables (or their absence) that made the SDKs' order land on this credential.
pub fn chosen_because(source: &CredentialSource) -> &'static str {
    match source {
        CredentialSource::ClientSecret { .. } => client_secret_credential::CHOSEN_BECAUSE,
        CredentialSource::ClientCertificate { .. } => client_certificate_credential::CHOSEN_BECAUSE,
        CredentialSource::WorkloadIdentity { .. } => workload_identity_credential::CHOSEN_BECAUSE,
        CredentialSource::AppServiceManagedIdentity { .. } => app_service_credential::CHOSEN_BECAUSE,
        CredentialSource::ServiceFabric { .. } => service_fabric_credential::CHOSEN_BECAUSE,
        CredentialSource::AzureArc { .. } => azure_arc_credential::CHOSEN_BECAUSE,
        CredentialSource::CloudShell { .. } => cloud_shell_credential::CHOSEN_BECAUSE,
        CredentialSource::AzureMl { .. } => azure_ml_credential::CHOSEN_BECAUSE,
        CredentialSource::Imds { .. } => imds_credential::CHOSEN_BECAUSE,
        CredentialSource::DeveloperCli { .. } => developer_cli_credential::CHOSEN_BECAUSE,
    }
}

/// Which tenant the credential may be asked a token in.
pub fn tenant_rule(source: &CredentialSource) -> TenantRule<'_> {
    match source {
        CredentialSource::ClientSecret { tenant_id, .. } => client_secret_credential::tenant_rule(tenant_id),
        CredentialSource::ClientCertificate { tenant_id, .. } => client_certificate_credential::tenant_rule(tenant_id),
        CredentialSource::WorkloadIdentity { tenant_id, .. } => workload_identity_credential::tenant_rule(tenant_id),
        CredentialSource::AppServiceManagedIdentity { .. } => app_service_credential::TENANT_RULE,
        CredentialSource::ServiceFabric { .. } => service_fabric_credential::TENANT_RULE,
        CredentialSource::AzureArc { .. } => azure_arc_credential::TENANT_RULE,
        CredentialSource::CloudShell { .. } => cloud_shell_credential::TENANT_RULE,
        CredentialSource::AzureMl { .. } => azure_ml_credential::TENANT_RULE,
        CredentialSource::Imds { .. } => imds_credential::TENANT_RULE,
        CredentialSource::DeveloperCli { tenant_id, .. } => developer_cli_credential::tenant_rule(tenant_id.as_deref()),
    }
}

/// Asks the credential's endpoint for a new token.
pub async fn fetch(
    source: &CredentialSource,
    request: &TokenRequest,
    timeout: Duration,
) -> Result<AccessToken, CredentialError> {
    match source {
        CredentialSource::ClientSecret { authority_host, tenant_id, client_id, secret } => {
            client_secret_credential::fetch(authority_host, tenant_id, client_id, &secret.0, request, timeout).await
        }
        CredentialSource::ClientCertificate { authority_host, tenant_id, client_id, path, password, send_chain } => {
            let client = Client {
                authority_host,
                tenant_id,
                client_id,
                path,
                password: password.as_ref().map(|p| p.0.as_str()),
                send_chain: *send_chain,
            };
            client_certificate_credential::fetch(client, request, timeout).await
        }
        CredentialSource::WorkloadIdentity { authority_host, tenant_id, client_id, token_file } => {
            workload_identity_credential::fetch(authority_host, tenant_id, client_id, token_file, request, timeout)
                .await
        }
        CredentialSource::AppServiceManagedIdentity { endpoint, header, identity } => {
            app_service_credential::fetch(endpoint, &header.0, identity.as_ref(), request, timeout).await
        }
        CredentialSource::ServiceFabric { endpoint, header, thumbprint } => {
            service_fabric_credential::fetch(endpoint, &header.0, thumbprint, request, timeout).await
        }
        CredentialSource::AzureArc { endpoint } => azure_arc_credential::fetch(endpoint, request, timeout).await,
        CredentialSource::CloudShell { endpoint } => cloud_shell_credential::fetch(endpoint, request, timeout).await,
        CredentialSource::AzureMl { endpoint, secret, client_id } => {
            azure_ml_credential::fetch(endpoint, &secret.0, client_id, request, timeout).await
        }
        CredentialSource::Imds { endpoint, identity } => {
            imds_credential::fetch(endpoint, identity.as_ref(), request, timeout).await
        }
        CredentialSource::DeveloperCli { tools, tenant_id } => {
            developer_cli_credential::fetch(tools, tenant_id.as_deref(), request, timeout).await
        }
    }
}
