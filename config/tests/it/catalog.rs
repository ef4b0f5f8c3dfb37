//! The catalog holds the public error catalog's entries to the letter, and renders them as sent.

use actix_web::ResponseError;
use actix_web::body::to_bytes;
use actix_web::http::header;
use vaultgate_config::{AppError, ErrorCode};

const PUBLIC_CATALOG: &str = include_str!("../data/public-error-catalog.json");

/// The one deliberate change from the public catalog: an unsupported Content-Type is the
/// client's fault.
const STATUS_OVERRIDES: &[(&str, u16)] = &[("unsupported_content_type", 415)];

fn public_entries() -> Vec<(String, serde_json::Value)> {
    let public: serde_json::Map<String, serde_json::Value> = serde_json::from_str(PUBLIC_CATALOG).unwrap();
    public.into_iter().filter(|(key, _)| !key.starts_with('_')).collect()
}

#[test]
fn every_public_entry_keeps_its_key_code_description_and_status() {
    let entries = public_entries();
    assert_eq!(entries.len(), 12, "the public catalog defines twelve entries");
    for (key, entry) in entries {
        let code = ErrorCode::ALL
            .iter()
            .find(|c| c.key() == key)
            .unwrap_or_else(|| panic!("public entry {key} is missing from the catalog"));
        assert_eq!(code.code(), entry["code"], "code of {key}");
        assert_eq!(code.description(), entry["description"], "description of {key}");
        let expected_status = STATUS_OVERRIDES
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, s)| *s)
            .unwrap_or(entry["status"].as_u64().unwrap() as u16);
        assert_eq!(code.status().as_u16(), expected_status, "status of {key}");
    }
}

#[test]
fn answers_the_public_catalog_does_not_list_are_present() {
    let find = |key: &str| *ErrorCode::ALL.iter().find(|c| c.key() == key).unwrap();
    assert_eq!((find("missing_role").code(), find("missing_role").status().as_u16()), ("MissingRoles", 403));
    assert_eq!(
        (find("missing_path_role").code(), find("missing_path_role").status().as_u16()),
        ("MissingRequiredRole", 403)
    );
    assert_eq!(
        (find("invalid_secret_name").code(), find("invalid_secret_name").status().as_u16()),
        ("InvalidSecretName", 400)
    );
}

#[test]
fn keys_and_statuses_are_unique_and_sane() {
    let mut keys: Vec<_> = ErrorCode::ALL.iter().map(|c| c.key()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), ErrorCode::ALL.len(), "catalog keys are unique");
    for code in ErrorCode::ALL {
        let status = code.status().as_u16();
        assert!((400..600).contains(&status), "{} has status {status}", code.key());
        assert!(!code.description().is_empty());
    }
}

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
