//! An entry rendered as sent: status, challenge and body.

use actix_web::ResponseError;
use actix_web::body::to_bytes;
use actix_web::http::header;
use vaultgate_config::ErrorCode;

use super::AppError;

async fn render(error: AppError) -> (u16, Option<String>, serde_json::Value) {
    let response = error.error_response();
    let status = response.status().as_u16();
    let challenge = response.headers().get(header::WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
    let body = to_bytes(response.into_body()).await.unwrap();
    (status, challenge, serde_json::from_slice(&body).unwrap())
}

#[actix_web::test]
async fn missing_header_challenges_plain_bearer() {
    let (status, challenge, body) = render(ErrorCode::AuthorizationHeaderMissing.into()).await;
    assert_eq!(status, 401);
    assert_eq!(challenge.as_deref(), Some("Bearer"));
    assert_eq!(
        body,
        serde_json::json!({"code": "AuthorizationHeaderMissing", "description": "Authorization header is missing from the request"})
    );
}

#[actix_web::test]
async fn refused_token_challenges_invalid_token_and_carries_debug() {
    let error = AppError::new(ErrorCode::InvalidClaims).with_debug("Invalid audience");
    let (status, challenge, body) = render(error).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer error="invalid_token", error_description="Failed to validate authorization claims.""#)
    );
    assert_eq!(
        body,
        serde_json::json!({"code": "InvalidAuthorizationClaims", "description": "Failed to validate authorization claims.", "debug": "Invalid audience"})
    );
}

#[actix_web::test]
async fn forbidden_challenges_insufficient_scope() {
    let error = AppError::new(ErrorCode::MissingPathRole).with_required_scope("GetSecret");
    let (status, challenge, _) = render(error).await;
    assert_eq!(status, 403);
    assert_eq!(challenge.as_deref(), Some(r#"Bearer error="insufficient_scope", scope="GetSecret""#));
}

#[actix_web::test]
async fn secret_name_missing_keeps_its_message_shape() {
    let (status, challenge, body) = render(ErrorCode::SecretNameMissing.into()).await;
    assert_eq!(status, 400);
    assert_eq!(challenge, None);
    assert_eq!(body, serde_json::json!({"message": "Secret name is missing. Please use QP secret=<secret_name>"}));
}

#[actix_web::test]
async fn debug_text_belongs_to_one_response_only() {
    let with_debug = AppError::new(ErrorCode::InvalidClaims).with_debug("Invalid issuer");
    let (_, _, first) = render(with_debug).await;
    let (_, _, second) = render(ErrorCode::InvalidClaims.into()).await;
    assert_eq!(first["debug"], "Invalid issuer");
    assert!(second.get("debug").is_none(), "no debug leaks from an earlier error: {second}");
}
