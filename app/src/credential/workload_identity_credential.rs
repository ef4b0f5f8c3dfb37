//! `WorkloadIdentityCredential` (AKS workload identity): `AZURE_FEDERATED_TOKEN_FILE`,
//! `AZURE_CLIENT_ID` and `AZURE_TENANT_ID`; the projected service account token is sent to the
//! Entra token endpoint as a client assertion (retried as it is: 429 and 5xx).

use std::time::Duration;

use vaultgate_config::SettingProblem;
use vaultgate_config::secrets_settings::{CredentialSettings, CredentialSource, TokenCredentials};

use super::{AccessToken, CredentialError, TenantRule, TokenRequest, token_endpoint};

pub const CHOSEN_BECAUSE: &str =
    "AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID are set (WorkloadIdentityCredential)";

/// After `EnvironmentCredential`, when `AZURE_TOKEN_CREDENTIALS` keeps it: a federated token
/// file needs the client and tenant too, or start-up stops.
pub fn chosen(settings: &CredentialSettings, problems: &mut Vec<SettingProblem>) -> Option<CredentialSource> {
    if !settings.token_credentials.keeps(TokenCredentials::WorkloadIdentity) {
        return None;
    }
    let token_file = settings.federated_token_file.as_ref()?;
    let (Some(client_id), Some(tenant_id)) = (&settings.client_id, &settings.tenant_id) else {
        problems.push(SettingProblem::FederatedTokenWithoutClient);
        return None;
    };
    Some(CredentialSource::WorkloadIdentity {
        authority_host: settings.authority_host.clone(),
        tenant_id: tenant_id.clone(),
        client_id: client_id.clone(),
        token_file: token_file.clone(),
    })
}

/// Bound to its tenant: another one is asked only when allowed.
pub fn tenant_rule(tenant_id: &str) -> TenantRule<'_> {
    TenantRule::Own(tenant_id)
}

pub async fn fetch(
    authority_host: &str,
    tenant_id: &str,
    client_id: &str,
    token_file: &str,
    request: &TokenRequest,
    timeout: Duration,
) -> Result<AccessToken, CredentialError> {
    // Re-read every time: the kubelet rotates the projected token file.
    let assertion = std::fs::read_to_string(token_file)
        .map_err(|e| CredentialError::Misconfigured(format!("AZURE_FEDERATED_TOKEN_FILE {token_file}: {e}")))?;
    let tenant = token_endpoint::tenant(request, tenant_id);
    let proof = token_endpoint::Proof::Assertion(assertion.trim());
    token_endpoint::fetch(authority_host, tenant, client_id, proof, &request.scope, timeout).await
}
