//! The middleware of the Key Vault-compatible routes: any catalog error their handlers,
//! `#[protected]` or their 405 answer is rendered again in Key Vault's shape, with Key
//! Vault's challenge on a 401 (an `Allow` header is kept).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::AppError;
use crate::app_state::AppState;

pub async fn in_key_vault_shape(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let challenge = request
        .app_data::<web::Data<AppState>>()
        .map_or_else(|| HeaderValue::from_static("Bearer"), |state| state.key_vault_challenge.clone());
    let response = next.call(request).await?;
    let Some(error) = response.response().error().and_then(|error| error.as_error::<AppError>()) else {
        return Ok(response.map_into_left_body());
    };
    let mut rendered = error.key_vault_response(&challenge);
    if let Some(allow) = response.headers().get(header::ALLOW) {
        rendered.headers_mut().insert(header::ALLOW, allow.clone());
    }
    Ok(response.into_response(rendered).map_into_right_body())
}
