//! Managed identity: App Service / Functions / Container Apps (`IDENTITY_ENDPOINT`), Service
//! Fabric, and the VM instance metadata service (IMDS), each retried as MSAL retries it.

use std::time::Duration;

use vaultgate_config::secrets_settings::UserAssigned;

use super::{AccessToken, answer, retry};
use crate::upstream;

/// The query parameter naming a user-assigned identity, per endpoint kind: App Service and
/// IMDS spell the object and resource ids differently (as the Azure SDKs and MSAL send them).
fn selector<'a>(
    identity: Option<&'a UserAssigned>,
    object_id: &'static str,
    resource_id: &'static str,
) -> Option<(&'static str, &'a str)> {
    identity.map(|identity| match identity {
        UserAssigned::ClientId(id) => ("client_id", id.as_str()),
        UserAssigned::ObjectId(id) => (object_id, id.as_str()),
        UserAssigned::ResourceId(id) => (resource_id, id.as_str()),
    })
}

pub async fn app_service(
    endpoint: &str,
    identity_header: &str,
    identity: Option<&UserAssigned>,
    resource: &str,
    timeout: Duration,
) -> Result<AccessToken, String> {
    let mut query = vec![("api-version", "2019-08-01"), ("resource", resource)];
    query.extend(selector(identity, "principal_id", "mi_res_id"));
    let request = || {
        Ok(upstream::client()
            .get(endpoint)
            .query(&query)
            .map_err(|e| format!("IDENTITY_ENDPOINT: {e}"))?
            .insert_header(("X-IDENTITY-HEADER", identity_header)))
    };
    let answer = retry::APP_SERVICE.send(request, None, timeout).await?;
    answer::read(&answer, endpoint)
}

pub async fn imds(
    endpoint: &str,
    identity: Option<&UserAssigned>,
    resource: &str,
    timeout: Duration,
) -> Result<AccessToken, String> {
    let url = format!("{endpoint}/metadata/identity/oauth2/token");
    let mut query = vec![("api-version", "2018-02-01"), ("resource", resource)];
    query.extend(selector(identity, "object_id", "msi_res_id"));
    let request = || {
        Ok(upstream::client()
            .get(&url)
            .query(&query)
            .map_err(|e| format!("IMDS: {e}"))?
            .insert_header(("Metadata", "true")))
    };
    // Off Azure nothing listens at IMDS's address: the client's 3 s connect timeout ends the
    // wait, and a connection error is not retried.
    let answer = retry::IMDS.send(request, None, timeout).await?;
    answer::read(&answer, &url)
}

/// Service Fabric: the request shape of its documentation (`Secret` header, api-version
/// `2019-07-01-preview`, the only one it accepts), over TLS pinned to `thumbprint`.
pub async fn service_fabric(
    endpoint: &str,
    secret: &str,
    thumbprint: &str,
    resource: &str,
    timeout: Duration,
) -> Result<AccessToken, String> {
    let query = [("api-version", "2019-07-01-preview"), ("resource", resource)];
    let client = upstream::pinned_client(thumbprint);
    let request = || {
        Ok(client
            .get(endpoint)
            .query(&query)
            .map_err(|e| format!("IDENTITY_ENDPOINT: {e}"))?
            .insert_header(("Secret", secret))
            .insert_header(("Accept", "application/json")))
    };
    let answer = retry::OTHER_MANAGED_IDENTITY.send(request, None, timeout).await?;
    answer::read(&answer, endpoint)
}
