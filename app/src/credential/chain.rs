//! The credentials in the Azure SDKs' `DefaultAzureCredential` order (environment, workload
//! identity, managed identity, developer tools), each in a module of its own: `choose` asks
//! each module in turn whether the variables (`CredentialSettings`, read in `vaultgate-config`)
//! choose it; the chosen `CredentialSource` is then sent to its module for its fetch, its
//! tenant rule, and what `vaultgate check` says of it.

use std::time::Duration;

use vaultgate_config::secrets_settings::{CredentialSettings, CredentialSource, TokenCredentials};
use vaultgate_config::{SecretSource, SettingProblem, Settings};

use super::client_certificate_credential::Client;
use super::{
    AccessToken, CredentialError, TenantRule, TokenRequest, app_service_credential, azure_arc_credential,
    azure_ml_credential, client_certificate_credential, client_secret_credential, cloud_shell_credential,
    developer_cli_credential, imds_credential, service_fabric_credential, workload_identity_credential,
};

/// The credential the variables choose, in the SDKs' order; the problems when the variables
/// choose one that cannot work (start-up stops on them, as on any setting's).
pub fn choose(settings: &CredentialSettings) -> Result<CredentialSource, Vec<SettingProblem>> {
    let mut problems = Vec::new();
    let chosen = chosen(settings, &mut problems);
    match chosen {
        Some(source) if problems.is_empty() => Ok(source),
        _ => Err(problems),
    }
}

/// `choose`'s problems for settings that read Key Vault (for `Settings::from_lookup_checked`,
/// so that they are reported with every other setting's).
pub fn settings_problems(settings: &Settings) -> Vec<SettingProblem> {
    match &settings.secrets {
        SecretSource::KeyVault(key_vault) => choose(&key_vault.credential).err().unwrap_or_default(),
        SecretSource::Dir(_) => Vec::new(),
    }
}

fn chosen(settings: &CredentialSettings, problems: &mut Vec<SettingProblem>) -> Option<CredentialSource> {
    if let Some(source) = developer_cli_credential::named(settings) {
        return Some(source);
    }
    // The SDKs' EnvironmentCredential: a client secret first, then a client certificate.
    if let Some(source) =
        client_secret_credential::chosen(settings).or_else(|| client_certificate_credential::chosen(settings, problems))
    {
        return Some(source);
    }
    if settings.token_credentials == TokenCredentials::Environment {
        problems.push(SettingProblem::EnvironmentCredentialIncomplete);
        return None;
    }
    if let Some(source) = workload_identity_credential::chosen(settings, problems) {
        return Some(source);
    }
    if settings.token_credentials == TokenCredentials::WorkloadIdentity {
        problems.push(SettingProblem::WorkloadIdentityIncomplete);
        return None;
    }
    // Managed identity: the sources that share IDENTITY_ENDPOINT, then MSI_ENDPOINT, told
    // apart as the SDKs do; the developer tools on a laptop; IMDS last.
    problems.extend(settings.user_assigned.problems.iter().cloned());
    let source = service_fabric_credential::chosen(settings, problems)
        .or_else(|| app_service_credential::chosen(settings))
        .or_else(|| azure_arc_credential::chosen(settings, problems))
        .or_else(|| azure_ml_credential::chosen(settings, problems))
        .or_else(|| cloud_shell_credential::chosen(settings, problems))
        .or_else(|| developer_cli_credential::found(settings))
        .unwrap_or_else(|| imds_credential::chosen(settings));
    Some(source)
}

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
