//! The HTTP routes, one file each, and the JSON answers for everything else.

pub mod fallback;
pub mod health;
pub mod limits;
pub mod vault;

use actix_web::web;
use vaultgate_config::AppError;

use crate::secrets::{SecretName, StoreError};

/// Registers every route. Each resource answers GET and HEAD; other methods get a JSON 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_and_head("/health", health::health))
        .service(get_and_head("/health/live", health::live))
        .service(get_and_head("/vault", vault::secret_by_query))
        .service(get_and_head("/vault/{name}", vault::secret_by_name))
        .service(get_and_head("/vault/{name}/{version}", vault::secret_by_version));
}

/// `/metrics`, when metrics are on.
pub fn configure_metrics(cfg: &mut web::ServiceConfig) {
    cfg.service(get_and_head("/metrics", crate::metrics::scrape));
}

fn get_and_head<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(fallback::method_not_allowed))
}

/// The caller's answer for a store failure; the cause goes to the log only.
pub fn store_error(name: &SecretName, error: StoreError) -> AppError {
    match &error {
        StoreError::Failed(cause) => log::warn!("secret {name}: {cause}"),
        StoreError::Throttled { .. } => log::warn!("secret {name}: {error}"),
        StoreError::NotFound | StoreError::Disabled(_) => {}
    }
    error.into()
}
