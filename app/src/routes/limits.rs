//! An explicit bound on request header size, below actix's own buffer limit, answered from
//! the catalog (431) instead of a bare status.

use crate::AppError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use vaultgate_config::ErrorCode;

use crate::app_state::AppState;

pub async fn limit_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let limit = req.app_data::<web::Data<AppState>>().map_or(usize::MAX, |state| state.max_header_bytes);
    let size: usize = req.headers().iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if size > limit {
        let response = AppError::from(ErrorCode::RequestHeadersTooLarge).error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}
