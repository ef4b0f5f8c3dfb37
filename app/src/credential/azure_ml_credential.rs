//! Managed identity on Azure Machine Learning compute: `MSI_ENDPOINT` and `MSI_SECRET`;
//! `GET MSI_ENDPOINT?api-version=2017-09-01&resource=…&clientid=…` with a `secret` header (the
//! parameter is spelled `clientid`, without an underscore), in MSAL's request shape.

use std::time::Duration;

use vaultgate_config::SettingProblem;
use vaultgate_config::secrets_settings::{CredentialSettings, CredentialSource, UserAssigned};

use super::{AccessToken, CredentialError, TenantRule, TokenRequest, answer, retry};
use crate::upstream;

pub const CHOSEN_BECAUSE: &str = "MSI_ENDPOINT and MSI_SECRET are set (Azure Machine Learning)";

/// `MSI_ENDPOINT` and `MSI_SECRET`. Azure ML names the compute's identity in
/// `DEFAULT_IDENTITY_CLIENT_ID`, and its endpoint always wants a `clientid` (MSAL sends it
/// every time): a user-assigned identity is named by client id only.
pub fn chosen(settings: &CredentialSettings, problems: &mut Vec<SettingProblem>) -> Option<CredentialSource> {
    let (Some(endpoint), Some(secret)) = (&settings.msi_endpoint, &settings.msi_secret) else {
        return None;
    };
    let client_id = match &settings.user_assigned.value {
        Some(UserAssigned::ClientId(id)) => Some(id.clone()),
        Some(_) => {
            problems.push(SettingProblem::AzureMlByClientIdOnly);
            None
        }
        None => None,
    };
    let client_id = client_id.or_else(|| settings.default_identity_client_id.clone()).unwrap_or_else(|| {
        problems.push(SettingProblem::AzureMlClientIdMissing);
        String::new()
    });
    Some(CredentialSource::AzureMl { endpoint: endpoint.clone(), secret: secret.clone(), client_id })
}

/// Its endpoint takes no tenant.
pub const TENANT_RULE: TenantRule<'static> = TenantRule::Ignored;

pub async fn fetch(
    endpoint: &str,
    secret: &str,
    client_id: &str,
    request: &TokenRequest,
    timeout: Duration,
) -> Result<AccessToken, CredentialError> {
    let query = [("api-version", "2017-09-01"), ("resource", request.resource()), ("clientid", client_id)];
    let request = || {
        Ok(upstream::client()
            .get(endpoint)
            .query(&query)
            .map_err(|e| CredentialError::Misconfigured(format!("MSI_ENDPOINT: {e}")))?
            .insert_header(("secret", secret)))
    };
    let answer = retry::OTHER_MANAGED_IDENTITY.send(request, None, timeout).await?;
    answer::read(&answer, endpoint)
}
