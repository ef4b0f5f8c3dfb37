//! Managed identity on Service Fabric: `IDENTITY_ENDPOINT`, `IDENTITY_HEADER` and
//! `IDENTITY_SERVER_THUMBPRINT`; the request shape of its documentation (`Secret` header,
//! api-version `2019-07-01-preview`, the only one it accepts), over TLS pinned to the thumbprint.

use std::time::Duration;

use vaultgate_config::SettingProblem;
use vaultgate_config::secrets_settings::{CredentialSettings, CredentialSource};

use super::{AccessToken, CredentialError, TenantRule, TokenRequest, answer, retry, user_assigned};
use crate::upstream;

pub const CHOSEN_BECAUSE: &str =
    "IDENTITY_ENDPOINT, IDENTITY_HEADER and IDENTITY_SERVER_THUMBPRINT are set (Service Fabric)";

/// The same two variables as App Service, plus its server's thumbprint (the SDKs' order: the
/// thumbprint decides). Its identity is set in the cluster's configuration, not at runtime.
pub fn chosen(settings: &CredentialSettings, problems: &mut Vec<SettingProblem>) -> Option<CredentialSource> {
    let (Some(endpoint), Some(header), Some(thumbprint)) =
        (&settings.identity_endpoint, &settings.identity_header, &settings.identity_server_thumbprint)
    else {
        return None;
    };
    user_assigned::not_taken(settings, "Service Fabric", problems);
    problems.extend(thumbprint.problems.iter().cloned());
    Some(CredentialSource::ServiceFabric {
        endpoint: endpoint.clone(),
        header: header.clone(),
        thumbprint: thumbprint.value.clone(),
    })
}

/// Its endpoint takes no tenant.
pub const TENANT_RULE: TenantRule<'static> = TenantRule::Ignored;

pub async fn fetch(
    endpoint: &str,
    secret: &str,
    thumbprint: &str,
    request: &TokenRequest,
    timeout: Duration,
) -> Result<AccessToken, CredentialError> {
    let query = [("api-version", "2019-07-01-preview"), ("resource", request.resource())];
    let client = upstream::pinned_client(thumbprint);
    let request = || {
        Ok(client
            .get(endpoint)
            .query(&query)
            .map_err(|e| CredentialError::Misconfigured(format!("IDENTITY_ENDPOINT: {e}")))?
            .insert_header(("Secret", secret))
            .insert_header(("Accept", "application/json")))
    };
    let answer = retry::OTHER_MANAGED_IDENTITY.send(request, None, timeout).await?;
    answer::read(&answer, endpoint)
}
