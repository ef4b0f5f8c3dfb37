//! Managed identity on App Service, Functions and Container Apps: `IDENTITY_ENDPOINT` and
//! `IDENTITY_HEADER`, api-version 2019-08-01, retried as MSAL retries it.

use std::time::Duration;

use vaultgate_config::secrets_settings::UserAssigned;

use super::retry::{Policy, busy_or_failing};
use super::{AccessToken, CredentialError, TenantRule, TokenRequest, answer, user_assigned};
use crate::upstream;
use vaultgate_config::secrets_settings::{CredentialSettings, CredentialSource};

pub const CHOSEN_BECAUSE: &str =
    "IDENTITY_ENDPOINT and IDENTITY_HEADER are set (App Service, Functions, Container Apps)";

/// `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` (Service Fabric, asked before, has a thumbprint too).
pub fn chosen(settings: &CredentialSettings) -> Option<CredentialSource> {
    let (Some(endpoint), Some(header)) = (&settings.identity_endpoint, &settings.identity_header) else {
        return None;
    };
    Some(CredentialSource::AppServiceManagedIdentity {
        endpoint: endpoint.clone(),
        header: header.clone(),
        identity: settings.user_assigned.value.clone(),
    })
}

/// Its endpoint takes no tenant.
pub const TENANT_RULE: TenantRule<'static> = TenantRule::Ignored;

/// 404 (identity not assigned yet), 408, 429, 5xx.
const RETRY: Policy = Policy::new(|status| matches!(status, 404 | 408) || busy_or_failing(status));

pub async fn fetch(
    endpoint: &str,
    identity_header: &str,
    identity: Option<&UserAssigned>,
    request: &TokenRequest,
    timeout: Duration,
) -> Result<AccessToken, CredentialError> {
    let mut query = vec![("api-version", "2019-08-01"), ("resource", request.resource())];
    query.extend(user_assigned::selector(identity, "principal_id", "mi_res_id"));
    let request = || {
        Ok(upstream::client()
            .get(endpoint)
            .query(&query)
            .map_err(|e| CredentialError::Misconfigured(format!("IDENTITY_ENDPOINT: {e}")))?
            .insert_header(("X-IDENTITY-HEADER", identity_header)))
    };
    let answer = RETRY.send(request, None, timeout).await?;
    answer::read(&answer, endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::retry::tests::retries;

    #[test]
    fn app_service_retries_what_msal_retries() {
        for status in [404, 408, 429, 500, 503] {
            assert!(retries(&RETRY, status, 0), "{status}");
        }
        assert!(!retries(&RETRY, 410, 0), "410 is IMDS's upgrade answer");
        assert!(!retries(&RETRY, 400, 0));
    }
}
