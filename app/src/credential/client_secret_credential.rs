//! `EnvironmentCredential` with a client secret: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
//! `AZURE_CLIENT_SECRET`, sent to the Entra token endpoint (retried as it is: 429 and 5xx).

use std::time::Duration;

use vaultgate_config::secrets_settings::{CredentialSettings, CredentialSource, TokenCredentials};

use super::{AccessToken, CredentialError, TenantRule, TokenRequest, token_endpoint};

pub const CHOSEN_BECAUSE: &str =
    "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set (EnvironmentCredential)";

/// Chosen first, when `AZURE_TOKEN_CREDENTIALS` keeps `EnvironmentCredential` and the three
/// variables are set.
pub fn chosen(settings: &CredentialSettings) -> Option<CredentialSource> {
    if !settings.token_credentials.keeps(TokenCredentials::Environment) {
        return None;
    }
    let (Some(tenant_id), Some(client_id), Some(secret)) =
        (&settings.tenant_id, &settings.client_id, &settings.client_secret)
    else {
        return None;
    };
    Some(CredentialSource::ClientSecret {
        authority_host: settings.authority_host.clone(),
        tenant_id: tenant_id.clone(),
        client_id: client_id.clone(),
        secret: secret.clone(),
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
    secret: &str,
    request: &TokenRequest,
    timeout: Duration,
) -> Result<AccessToken, CredentialError> {
    let tenant = token_endpoint::tenant(request, tenant_id);
    let proof = token_endpoint::Proof::Secret(secret);
    token_endpoint::fetch(authority_host, tenant, client_id, proof, &request.scope, timeout).await
}
