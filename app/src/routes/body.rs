//! Request bodies: their media type checked, and read with a bound: 413 `RequestBodyTooLarge`
//! as soon as the body is known to pass it (from `Content-Length`, else while it streams in),
//! never buffered past it.

use crate::AppError;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use vaultgate_config::ErrorCode;

/// Whether the request's `Content-Type` parses and its essence (parameters aside) is one of
/// `accepted`.
pub fn has_media_type(request: &HttpRequest, accepted: &[&str]) -> bool {
    let mime = request.mime_type().ok().flatten();
    mime.is_some_and(|mime| accepted.iter().any(|media_type| mime.essence_str().eq_ignore_ascii_case(media_type)))
}

pub async fn read_bounded(
    request: &HttpRequest,
    mut payload: web::Payload,
    max: usize,
) -> Result<web::BytesMut, AppError> {
    let declared = request.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    if declared.is_some_and(|length: usize| length > max) {
        return Err(too_large(max));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            log::debug!("{}: the body could not be read: {e}", request.path());
            AppError::new(ErrorCode::InvalidRequest).with_debug("The request body could not be read")
        })?;
        if body.len() + chunk.len() > max {
            return Err(too_large(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large(max: usize) -> AppError {
    AppError::new(ErrorCode::RequestBodyTooLarge).with_debug(format!("The body may hold at most {max} bytes"))
}
