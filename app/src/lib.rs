//! vaultgate: serves Azure Key Vault secrets to callers holding a valid Microsoft Entra ID
//! access token with the right app role.

// Lets `#[protected]` name `::vaultgate::auth` inside this crate as well as outside it.
extern crate self as vaultgate;

pub mod app_state;
pub mod auth;
pub mod backoff;
pub mod check;
pub mod cli;
pub mod clock;
pub mod credential;
pub mod crypto;
pub mod error;
pub mod fleet;
pub mod metrics;
pub mod openapi;
pub mod route_table;
pub mod routes;
pub mod secrets;
pub mod single_flight;
pub mod startup;
pub mod startup_error;
pub mod sync;
pub mod telemetry;
pub mod tls;
pub mod upstream;
pub mod wiring;

pub use auth::{Caller, Claims};
pub use error::AppError;
pub use vaultgate_config::{ErrorCode, Settings};
pub use vaultgate_protected::protected;

/// What the code `#[protected]` writes names, so handlers compile in crates that name
/// actix-web differently. Not an API.
#[doc(hidden)]
pub mod __macro_support {
    pub use actix_web::web::Payload;
    pub use actix_web::{Error, FromRequest, HttpRequest};

    /// Compiles only for extractors: names a bad handler parameter on its own tokens.
    pub const fn assert_extractor<T: FromRequest>() {}
}
