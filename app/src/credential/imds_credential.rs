//! Managed identity through the instance metadata service (a VM, a scale set, an AKS node),
//! api-version 2018-02-01, retried as MSAL retries it (an upgrading IMDS for up to 70 s).

use std::time::Duration;

use vaultgate_config::secrets_settings::UserAssigned;

use super::retry::{Policy, busy_or_failing};
use super::{AccessToken, CredentialError, TenantRule, TokenRequest, answer, user_assigned};
use crate::upstream;
use vaultgate_config::secrets_settings::{CredentialSettings, CredentialSource};

pub const CHOSEN_BECAUSE: &str = "no other credential's variables are set: the instance metadata service, as on a VM, \
                                  a scale set or an AKS node (AZURE_TOKEN_CREDENTIALS=dev picks the developer tools \
                                  instead)";

/// The last managed identity: IMDS has no variable to be seen by, so it is what remains.
pub fn chosen(settings: &CredentialSettings) -> CredentialSource {
    CredentialSource::Imds { endpoint: settings.imds_endpoint.clone(), identity: settings.user_assigned.value.clone() }
}

/// Its endpoint takes no tenant.
pub const TENANT_RULE: TenantRule<'static> = TenantRule::Ignored;

/// 404 (identity not assigned yet), 408, 410 (upgrading), 429, 5xx.
const RETRY: Policy = Policy::new(|status| matches!(status, 404 | 408 | 410) || busy_or_failing(status));

pub async fn fetch(
    endpoint: &str,
    identity: Option<&UserAssigned>,
    request: &TokenRequest,
    timeout: Duration,
) -> Result<AccessToken, CredentialError> {
    let url = format!("{endpoint}/metadata/identity/oauth2/token");
    let mut query = vec![("api-version", "2018-02-01"), ("resource", request.resource())];
    query.extend(user_assigned::selector(identity, "object_id", "msi_res_id"));
    let request = || {
        Ok(upstream::client()
            .get(&url)
            .query(&query)
            .map_err(|e| CredentialError::Misconfigured(format!("IMDS: {e}")))?
            .insert_header(("Metadata", "true")))
    };
    // Off Azure nothing listens at IMDS's address: the client's 3 s connect timeout ends the
    // wait, and a connection error is not retried.
    let answer = RETRY.send(request, None, timeout).await?;
    answer::read(&answer, &url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::retry::tests::{retries, upgrade_allowance};

    #[test]
    fn imds_retries_what_msal_retries() {
        for status in [404, 408, 429, 500, 503] {
            assert!(retries(&RETRY, status, 0), "{status}");
        }
        for status in [200, 400, 401, 403] {
            assert!(!retries(&RETRY, status, 0), "{status}");
        }
        assert!(!retries(&RETRY, 500, 3), "three retries at most");
    }

    #[test]
    fn an_upgrading_imds_is_waited_for_up_to_70_seconds() {
        upgrade_allowance(&RETRY);
    }
}
