//! What every worker shares, built once at start and registered as one `web::Data<AppState>`:
//! handlers and middleware take the parts they need from it.

use std::sync::Arc;

use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;

use crate::auth::{ConfiguredRoles, Validator};
use crate::metrics::Metrics;
use crate::openapi::docs_page::DocsPage;
use crate::routes::store_probe::StoreProbe;
use crate::secrets::cache::SecretCache;
use crate::secrets::catalog::SecretCatalog;
use crate::secrets::events::KeyVaultEvents;
use crate::secrets::policy::ExposurePolicy;

pub struct AppState {
    pub validator: Validator,
    /// The roles routes take from settings (`Rule::EVENT_GRID_ROLE`).
    pub configured_roles: ConfiguredRoles,
    /// The configured store behind the secret cache: what routes read (miss budgets need it).
    pub secrets: Arc<SecretCache>,
    pub policy: ExposurePolicy,
    /// `GET /secrets`' list.
    pub catalog: Arc<SecretCatalog>,
    pub events: KeyVaultEvents,
    /// `/health`'s last probe of the store.
    pub probe: StoreProbe,
    pub metrics: Metrics,
    /// `PUBLIC_URL`: vaultgate's URL as callers reach it, for ids and links.
    pub public_url: Option<String>,
    /// The `WWW-Authenticate` of a 401 on the Key Vault-compatible routes.
    pub key_vault_challenge: HeaderValue,
    /// `MAX_HEADER_BYTES`: all header names and values together.
    pub max_header_bytes: usize,
    /// The OpenAPI document, serialised once at start.
    pub openapi_document: Bytes,
    pub docs_page: DocsPage,
}
