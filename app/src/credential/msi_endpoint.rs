//! The two managed identity sources behind `MSI_ENDPOINT`: Azure Cloud Shell (no secret) and
//! Azure Machine Learning compute (`MSI_SECRET`), in MSAL's request shapes.

use std::time::Duration;

use super::{AccessToken, answer, retry};
use crate::upstream;

/// Cloud Shell: `POST MSI_ENDPOINT` with `Metadata: true` and the resource as a form field.
pub async fn cloud_shell(endpoint: &str, resource: &str, timeout: Duration) -> Result<AccessToken, String> {
    let request = || Ok(upstream::client().post(endpoint).insert_header(("Metadata", "true")));
    let form = [("resource", resource)];
    let answer = retry::OTHER_MANAGED_IDENTITY.send(request, Some(&form), timeout).await?;
    answer::read(&answer, endpoint)
}

/// Azure ML: `GET MSI_ENDPOINT?api-version=2017-09-01&resource=…&clientid=…` with a `secret`
/// header (the parameter is spelled `clientid`, without an underscore).
pub async fn azure_ml(
    endpoint: &str,
    secret: &str,
    client_id: &str,
    resource: &str,
    timeout: Duration,
) -> Result<AccessToken, String> {
    let query = [("api-version", "2017-09-01"), ("resource", resource), ("clientid", client_id)];
    let request = || {
        Ok(upstream::client()
            .get(endpoint)
            .query(&query)
            .map_err(|e| format!("MSI_ENDPOINT: {e}"))?
            .insert_header(("secret", secret)))
    };
    let answer = retry::OTHER_MANAGED_IDENTITY.send(request, None, timeout).await?;
    answer::read(&answer, endpoint)
}
