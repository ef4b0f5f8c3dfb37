//! Who may call: bearer header parsing, signing keys, token verification, requirements,
//! and the extractors that tie them to actix-web handlers.

pub mod bearer;
mod claims;
pub mod dev_key;
pub mod entra;
mod extract;
pub mod issuers;
pub(crate) mod key_file;
mod key_vault_challenge;
#[cfg(test)]
mod properties;
mod refusal;
mod requirement;
pub mod signing_keys;
mod token;
mod validate;
pub mod verdict_cache;

pub use claims::Claims;
pub use extract::{Authorized, Caller};
pub use key_vault_challenge::key_vault_challenge;
pub use refusal::TokenRefusal;
pub use requirement::{ConfiguredRoles, Requirement, Rule, rule_of};
pub use validate::{ClaimRules, Validator};
