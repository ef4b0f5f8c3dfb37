//! JSON answers for unknown routes, wrong methods and unparsable paths or queries.

use crate::AppError;
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::{HttpRequest, HttpResponse, http::header};
use vaultgate_config::ErrorCode;

pub async fn route_not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&AppError::from(ErrorCode::RouteNotFound))
}

/// A JSON 405 whose `Allow` header names the methods the route answers (none: empty). The
/// error stays attached, so a route answering in another shape can render it anew.
pub async fn method_not_allowed(allow: String) -> HttpResponse {
    let mut response = HttpResponse::from_error(AppError::from(ErrorCode::MethodNotAllowed));
    if let Ok(value) = header::HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

pub fn path_error(_: PathError, _: &HttpRequest) -> actix_web::Error {
    AppError::from(ErrorCode::InvalidRequest).into()
}

pub fn query_error(_: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    AppError::from(ErrorCode::InvalidRequest).into()
}
