//! Managed identity in Azure Cloud Shell: `MSI_ENDPOINT` without `MSI_SECRET`; `POST` with
//! `Metadata: true` and the resource as a form field, in MSAL's request shape.

use std::time::Duration;

use vaultgate_config::SettingProblem;
use vaultgate_config::secrets_settings::{CredentialSettings, CredentialSource};

use super::{AccessToken, CredentialError, TenantRule, TokenRequest, answer, retry, user_assigned};
use crate::upstream;

pub const CHOSEN_BECAUSE: &str = "MSI_ENDPOINT is set, MSI_SECRET is not (Cloud Shell)";

/// `MSI_ENDPOINT` without `MSI_SECRET` (Azure ML, asked before, has it). The identity is the
/// signed-in user's: none is named at runtime.
pub fn chosen(settings: &CredentialSettings, problems: &mut Vec<SettingProblem>) -> Option<CredentialSource> {
    let endpoint = settings.msi_endpoint.as_ref()?;
    user_assigned::not_taken(settings, "Cloud Shell", problems);
    Some(CredentialSource::CloudShell { endpoint: endpoint.clone() })
}

/// Its endpoint takes no tenant.
pub const TENANT_RULE: TenantRule<'static> = TenantRule::Ignored;

pub async fn fetch(endpoint: &str, request: &TokenRequest, timeout: Duration) -> Result<AccessToken, CredentialError> {
    let form = [("resource", request.resource())];
    let request = || Ok(upstream::client().post(endpoint).insert_header(("Metadata", "true")));
    let answer = retry::OTHER_MANAGED_IDENTITY.send(request, Some(&form), timeout).await?;
    answer::read(&answer, endpoint)
}
