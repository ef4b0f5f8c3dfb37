//! `GET {authority}/{tenant}/v2.0/.well-known/openid-configuration`.

use serde::Deserialize;

/// The two fields vaultgate uses from the discovery document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OpenIdConfiguration {
    pub issuer: String,
    pub jwks_uri: String,
}

pub fn discovery_url(authority_host: &str, tenant_id: &str) -> String {
    format!("{authority_host}/{tenant_id}/v2.0/.well-known/openid-configuration")
}
