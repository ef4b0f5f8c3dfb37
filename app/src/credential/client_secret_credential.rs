//! `EnvironmentCredential` with a client secret: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
//! `AZURE_CLIENT_SECRET`, sent to the Entra token endpoint (retried as it is: 429 and 5xx).

use std::time::Duration;

use super::{AccessToken, CredentialError, TenantRule, TokenRequest, token_endpoint};

pub const CHOSEN_BECAUSE: &str =
    "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set (EnvironmentCredential)";

/// Bound to its tenant: another one is asked only when allowed.
pub fn tenant_rule(tenant_id: &str) -> TenantRule<'_> {
    TenantRule::Own(tenant_id)
}

pub async fn fetch(
    authority_host: &str,
    tenant_id: &str,
    client_id: &str,
    secret: &str,
    request: &TokenRequest,
    timeout: Duration,
) -> Result<AccessToken, CredentialError> {
    let tenant = token_endpoint::tenant(request, tenant_id);
    let proof = token_endpoint::Proof::Secret(secret);
    token_endpoint::fetch(authority_host, tenant, client_id, proof, &request.scope, timeout).await
}
