//! Who may call: bearer header parsing, signing keys, token verification, requirements,
//! and the extractors that tie them to actix-web handlers.

pub mod bearer;
mod claims;
pub mod dev_key;
pub mod entra;
mod extract;
pub mod issuers;
pub mod keys;
#[cfg(test)]
mod properties;
mod requirement;
mod token;
pub mod token_cache;
mod validate;

pub use claims::Claims;
pub use extract::{Authorized, authenticate, authenticated};
pub use requirement::{Requirement, Rule};
pub use validate::{ClaimRules, Validator};
