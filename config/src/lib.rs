//! vaultgate's configuration: the error catalog every answer is built from, and the typed
//! settings read once from the environment.

pub mod app_error;
pub mod catalog;
pub mod challenge;
pub mod secrets_settings;
pub mod settings;

pub use app_error::AppError;
pub use catalog::{BodyShape, Challenge, ErrorCode};
pub use settings::{LogFormat, Mode, Settings, SettingsError};
