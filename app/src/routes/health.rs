//! `GET /health`: open to all; healthy when the signing keys and the secret store are usable.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use vaultgate_config::{AppError, ErrorCode};

use crate::auth::Validator;
use crate::auth::keys::KeysStatus;
use crate::secrets::SecretStore;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    keys: KeysStatus,
    store: &'static str,
}

pub async fn health(
    validator: web::Data<Validator>,
    store: web::Data<dyn SecretStore>,
) -> Result<HttpResponse, AppError> {
    let keys = validator.keys().status();
    if keys.loaded == 0 {
        return Err(AppError::new(ErrorCode::HealthCheckFailed).with_debug("signing keys: none loaded"));
    }
    if let Err(reason) = store.probe().await {
        log::warn!("health: the {} secret store is unusable: {reason}", store.kind());
        return Err(AppError::new(ErrorCode::HealthCheckFailed).with_debug("secret store: unusable"));
    }
    Ok(HttpResponse::Ok().json(Health { status: "healthy", keys, store: store.kind() }))
}
