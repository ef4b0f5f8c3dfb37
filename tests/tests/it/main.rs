//! The black-box tests, one binary (each file in `tests/` would link the whole app again):
//! each module is an area; `tests/README.md` says where a new test goes.

mod auth_first;
mod batch_read;
mod client_certificate;
mod credentials;
mod deploy_files;
mod docs_page;
mod entra_mode;
mod fleet;
mod key_vault_api;
mod keyvault;
mod keyvault_events;
mod keyvault_sdk;
mod local_mode;
mod managed_identity_sources;
mod markdown_links;
mod miss_budget;
mod official_client;
mod openapi;
mod operations;
mod properties;
mod protected_macro;
mod refresh_ahead;
mod revocation;
mod route_table;
mod secret_catalog;
mod secret_names;
mod slow_clients;
mod tls_serving;
mod token_cache;
mod token_hardening;
mod vault_ceiling;
