//! Managed identity on Azure Machine Learning compute: `MSI_ENDPOINT` and `MSI_SECRET`;
//! `GET MSI_ENDPOINT?api-version=2017-09-01&resource=…&clientid=…` with a `secret` header (the
//! parameter is spelled `clientid`, without an underscore), in MSAL's request shape.

use std::time::Duration;

use super::{AccessToken, CredentialError, TenantRule, TokenRequest, answer, retry};
use crate::upstream;

pub const CHOSEN_BECAUSE: &str = "MSI_ENDPOINT and MSI_SECRET are set (Azure Machine Learning)";

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
