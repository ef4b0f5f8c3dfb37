//! vaultgate: serves Azure Key Vault secrets to callers holding a valid Microsoft Entra ID
//! access token with the right app role.

// Lets `#[protected]` name `::vaultgate::auth` inside this crate as well as outside it.
extern crate self as vaultgate;

pub mod auth;
pub mod check;
pub mod cli;
pub mod credential;
pub mod crypto;
pub mod metrics;
pub mod routes;
pub mod secrets;
pub mod single_flight;
pub mod startup;
pub mod telemetry;
pub mod upstream;

pub use auth::Claims;
pub use vaultgate_config::{AppError, ErrorCode, Settings};
pub use vaultgate_protected::protected;
