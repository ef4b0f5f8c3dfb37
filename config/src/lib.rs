//! vaultgate's configuration: the error catalog every answer is built from, as data (key,
//! code, description, status, challenge kind), and the typed settings read once from the
//! environment. No web framework: the app turns an entry into an HTTP answer.
//!
//! Reading goes one way: `settings` assembles `mode` (which tokens are trusted),
//! `secrets_settings` (where secrets come from), `network_settings` (proxies, trusted
//! roots) `tls_settings` (vaultgate's own certificate) and `fleet_settings` (the replicas' Redis), each of which reads through `env` (one
//! reader per kind of value, one problem line per bad variable) and `url` (one URL rule);
//! every default lives in `defaults`.
//!
//! The catalog's entries are the service's public contract; here they are tested as data
//! (`tests/it/catalog.rs`), while the app's `error` module renders them.

pub mod catalog;
mod credential_settings;
pub mod defaults;
mod env;
pub mod fleet_settings;
pub mod mode;
pub mod network_settings;
pub mod problem;
pub mod proxy;
mod redacted;
pub mod secrets_settings;
pub mod settings;
pub mod tls_settings;
pub mod url;

pub use catalog::{BodyShape, Challenge, ErrorCode};
pub use mode::{AzureSettings, Mode};
pub use network_settings::NetworkSettings;
pub use problem::SettingProblem;
pub use secrets_settings::SecretSource;
pub use settings::{LogFormat, Settings, SettingsError};
pub use tls_settings::{TlsFiles, TlsSettings};
