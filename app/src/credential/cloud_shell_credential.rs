//! Managed identity in Azure Cloud Shell: `MSI_ENDPOINT` without `MSI_SECRET`; `POST` with
//! `Metadata: true` and the resource as a form field, in MSAL's request shape.

use std::time::Duration;

use super::{AccessToken, CredentialError, TenantRule, TokenRequest, answer, retry};
use crate::upstream;

pub const CHOSEN_BECAUSE: &str = "MSI_ENDPOINT is set, MSI_SECRET is not (Cloud Shell)";

/// Its endpoint takes no tenant.
pub const TENANT_RULE: TenantRule<'static> = TenantRule::Ignored;

pub async fn fetch(endpoint: &str, request: &TokenRequest, timeout: Duration) -> Result<AccessToken, CredentialError> {
    let form = [("resource", request.resource())];
    let request = || Ok(upstream::client().post(endpoint).insert_header(("Metadata", "true")));
    let answer = retry::OTHER_MANAGED_IDENTITY.send(request, Some(&form), timeout).await?;
    answer::read(&answer, endpoint)
}
