//! `WorkloadIdentityCredential` (AKS workload identity): `AZURE_FEDERATED_TOKEN_FILE`,
//! `AZURE_CLIENT_ID` and `AZURE_TENANT_ID`; the projected service account token is sent to the
//! Entra token endpoint as a client assertion (retried as it is: 429 and 5xx).

use std::time::Duration;

use super::{AccessToken, CredentialError, TenantRule, TokenRequest, token_endpoint};

pub const CHOSEN_BECAUSE: &str =
    "AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID are set (WorkloadIdentityCredential)";

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
