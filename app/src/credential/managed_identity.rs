//! Managed identity: App Service / Functions / Container Apps (`IDENTITY_ENDPOINT`) and
//! the VM instance metadata service (IMDS), each retried as MSAL retries it.

use std::time::Duration;

use super::{AccessToken, answer, retry};
use crate::upstream;

pub async fn app_service(
    endpoint: &str,
    identity_header: &str,
    client_id: Option<&str>,
    resource: &str,
    timeout: Duration,
) -> Result<AccessToken, String> {
    let mut query = vec![("api-version", "2019-08-01"), ("resource", resource)];
    if let Some(client_id) = client_id {
        query.push(("client_id", client_id));
    }
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
    client_id: Option<&str>,
    resource: &str,
    timeout: Duration,
) -> Result<AccessToken, String> {
    let url = format!("{endpoint}/metadata/identity/oauth2/token");
    let mut query = vec![("api-version", "2018-02-01"), ("resource", resource)];
    if let Some(client_id) = client_id {
        query.push(("client_id", client_id));
    }
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
