//! Managed identity: App Service / Functions / Container Apps (`IDENTITY_ENDPOINT`) and
//! the VM instance metadata service (IMDS).

use std::time::Duration;

use super::{AccessToken, answer};
use crate::upstream::{self, Body};

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
    let request = upstream::client()
        .get(endpoint)
        .query(&query)
        .map_err(|e| format!("IDENTITY_ENDPOINT: {e}"))?
        .insert_header(("X-IDENTITY-HEADER", identity_header));
    let answer = upstream::send(request, Body::Empty, timeout).await.map_err(|e| e.to_string())?;
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
    let request = upstream::client()
        .get(&url)
        .query(&query)
        .map_err(|e| format!("IMDS: {e}"))?
        .insert_header(("Metadata", "true"));
    // Off Azure nothing listens at IMDS's address: the client's 3 s connect timeout ends the wait.
    let answer = upstream::send(request, Body::Empty, timeout).await.map_err(|e| e.to_string())?;
    answer::read(&answer, &url)
}
