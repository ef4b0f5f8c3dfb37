//! Why Entra ID's signing keys could not be loaded, by step: discovery, the key set's URL, the
//! key set itself. The text names URLs and causes, never a token.

use vaultgate_config::url::UrlProblem;

use crate::upstream::UpstreamError;

#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum KeyLoadError {
    /// The OpenID configuration could not be fetched.
    #[display("discovery: {_0}")]
    Discovery(UpstreamError),
    /// The configuration's issuer does not hold the tenant, so no issuer rule can follow from it.
    #[display("discovery: the issuer {_0:?} does not name the tenant")]
    IssuerWithoutTenant(String),
    /// The configuration's `jwks_uri` breaks the upstream URL rule.
    #[display("discovery: {_0}")]
    UnusableJwksUri(UrlProblem),
    #[display("no JWKS URL")]
    NoJwksUrl,
    /// The key set could not be fetched.
    #[display("JWKS: {_0}")]
    Jwks(UpstreamError),
    /// The key set was fetched but holds nothing to verify with.
    #[display("JWKS {url}: {problem}")]
    KeySet { url: String, problem: KeySetProblem },
}

/// What is wrong with a fetched key set.
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum KeySetProblem {
    /// Not `{"keys": [...]}`; serde's words, which name a position, not the content.
    #[display("not a JWKS document: {_0}")]
    NotJwks(String),
    #[display("the JWKS document holds no RSA signing key")]
    NoSigningKey,
}
