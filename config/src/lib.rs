//! vaultgate's configuration: the error catalog every answer is built from, and the typed
//! settings read once from the environment.
//!
//! Reading goes one way: `settings` assembles `mode` (which tokens are trusted) and
//! `secrets_settings` (where secrets come from), each of which reads through `env` (one
//! reader per kind of value, one problem line per bad variable) and `url` (one URL rule);
//! every default lives in `defaults`.
//!
//! The catalog, `AppError` and the `WWW-Authenticate` challenge stay in this crate rather
//! than moving into the app: they are the service's public contract, and the app, the
//! handlers written with `#[protected]` and the black-box tests all build or match answers
//! with them. Here they compile and are tested on their own, without the server; the
//! dependency runs one way (the app depends on `config`, never back), so keeping them costs
//! no cycle.

pub mod app_error;
pub mod catalog;
pub mod challenge;
mod credential_settings;
pub mod defaults;
mod env;
pub mod mode;
pub mod secrets_settings;
pub mod settings;
pub mod url;

pub use app_error::AppError;
pub use catalog::{BodyShape, Challenge, ErrorCode};
pub use mode::{AzureSettings, Mode};
pub use secrets_settings::SecretSource;
pub use settings::{LogFormat, Settings, SettingsError};
