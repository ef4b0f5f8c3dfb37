//! The Entra token endpoint (`POST {authority}/{tenant}/oauth2/v2.0/token`), client
//! credentials flow with a client secret, a federated assertion (workload identity) or a
//! certificate's signed assertion.

use std::time::Duration;

use super::{AccessToken, CredentialError, TokenRequest, answer, retry};
use crate::upstream;

pub enum Proof<'a> {
    Secret(&'a str),
    /// A federated token (the Kubernetes service account token).
    Assertion(&'a str),
}

/// The tenant a token is asked in: the one Key Vault's challenge named (checked against the
/// credential's own before it gets here), else the credential's.
pub fn tenant<'a>(request: &'a TokenRequest, own: &'a str) -> &'a str {
    request.tenant.as_deref().unwrap_or(own)
}

/// The tenant's token endpoint (also a client assertion's audience).
pub fn url(authority_host: &str, tenant: &str) -> String {
    format!("{authority_host}/{tenant}/oauth2/v2.0/token")
}

pub async fn fetch(
    authority_host: &str,
    tenant: &str,
    client_id: &str,
    proof: Proof<'_>,
    scope: &str,
    timeout: Duration,
) -> Result<AccessToken, CredentialError> {
    let url = url(authority_host, tenant);
    let mut form = vec![("grant_type", "client_credentials"), ("client_id", client_id), ("scope", scope)];
    match proof {
        Proof::Secret(secret) => form.push(("client_secret", secret)),
        Proof::Assertion(assertion) => {
            form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
            form.push(("client_assertion", assertion));
        }
    }
    let request = || Ok(upstream::client().post(&url).insert_header(("Accept", "application/json")));
    let answer = retry::TOKEN_ENDPOINT.send(request, Some(&form), timeout).await?;
    answer::read(&answer, &url)
}
