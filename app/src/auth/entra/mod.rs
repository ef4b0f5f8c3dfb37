//! Microsoft Entra ID: OpenID discovery, the JWKS document, and the signing-key cache that
//! keeps them fresh.

mod discovery;
mod jwks;
mod key_load_error;
mod key_source;
mod rollover;

pub use discovery::{OpenIdConfiguration, discovery_url};
pub use jwks::parse_jwks;
pub use key_load_error::{KeyLoadError, KeySetProblem};
pub use key_source::{EntraKeys, KeySourceSettings};
