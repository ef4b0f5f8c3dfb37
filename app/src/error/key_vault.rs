//! The catalog's errors in Key Vault's own shape, for the routes that speak Key Vault's API:
//! `{"error":{"code","message"[,"innererror":{"code"}]}}` with Key Vault's statuses and codes,
//! so the official clients raise their usual exceptions (`ResourceNotFoundError` with code
//! `SecretNotFound`, ...). A 401 carries the challenge those clients read to ask for a token.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde::Serialize;
use vaultgate_config::ErrorCode;

use super::AppError;

/// Key Vault's code (and inner code) for a catalog entry; `None` keeps the catalog's own
/// code for failures Key Vault has no word for (vaultgate's upstream troubles, its limits).
fn key_vault_codes(code: ErrorCode) -> (Option<&'static str>, Option<&'static str>) {
    match code {
        ErrorCode::AuthorizationHeaderMissing
        | ErrorCode::InvalidAuthHeaderFormatBearer
        | ErrorCode::InvalidAuthHeaderFormatToken
        | ErrorCode::InvalidAuthHeaderFormat
        | ErrorCode::InvalidAuthHeader
        | ErrorCode::TokenExpired
        | ErrorCode::InvalidClaims
        | ErrorCode::InvalidHeader => (Some("Unauthorized"), None),
        ErrorCode::MissingRole | ErrorCode::MissingPathRole => (Some("Forbidden"), Some("ForbiddenByPolicy")),
        ErrorCode::SecretDisabled => (Some("Forbidden"), Some("SecretDisabled")),
        ErrorCode::SecretNotFound => (Some("SecretNotFound"), None),
        ErrorCode::SecretNameMissing
        | ErrorCode::InvalidSecretName
        | ErrorCode::InvalidSecretVersion
        | ErrorCode::InvalidRequest => (Some("BadParameter"), None),
        ErrorCode::SecretMissBudgetExceeded => (Some("Throttled"), None),
        ErrorCode::VaultError
        | ErrorCode::VaultThrottled
        | ErrorCode::AuthorizationServiceUnavailable
        | ErrorCode::HealthCheckFailed
        | ErrorCode::UnsupportedContentType
        | ErrorCode::RequestHeadersTooLarge
        | ErrorCode::RequestBodyTooLarge
        | ErrorCode::RouteNotFound
        | ErrorCode::MethodNotAllowed => (None, None),
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    innererror: Option<Inner>,
}

#[derive(Serialize)]
struct Inner {
    code: &'static str,
}

/// The body Key Vault's shape gives `code` without a `debug` text (the OpenAPI examples).
pub fn key_vault_body(code: ErrorCode) -> serde_json::Value {
    serde_json::to_value(body(code, code.description())).expect("an error body always serialises")
}

fn body(code: ErrorCode, message: &str) -> Body<'_> {
    let (key_vault_code, inner) = key_vault_codes(code);
    Body {
        error: Detail {
            code: key_vault_code.unwrap_or(code.code()),
            message,
            innererror: inner.map(|code| Inner { code }),
        },
    }
}

impl AppError {
    /// This error as Key Vault answers: its status, `Retry-After` when set, `challenge` as the
    /// `WWW-Authenticate` of a 401, and the message the catalog's description (with the
    /// `debug` text when there is one).
    pub fn key_vault_response(&self, challenge: &HeaderValue) -> HttpResponse {
        let message = match &self.debug {
            Some(debug) => format!("{} {debug}", self.code.description()),
            None => self.code.description().to_owned(),
        };
        let status = actix_web::ResponseError::status_code(self);
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, challenge.clone()));
        }
        if let Some(seconds) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        response.json(body(self.code, &message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(error: AppError) -> (u16, Option<String>, serde_json::Value) {
        let challenge = HeaderValue::from_static(r#"Bearer authorization="https://a/t", resource="https://r""#);
        let response = error.key_vault_response(&challenge);
        let status = response.status().as_u16();
        let authenticate = response.headers().get(header::WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
        let body = actix_web::body::to_bytes(response.into_body()).await.unwrap();
        (status, authenticate, serde_json::from_slice(&body).unwrap())
    }

    #[actix_web::test]
    async fn answers_in_key_vaults_shape_and_codes() {
        let (status, authenticate, body) = answer(ErrorCode::TokenExpired.into()).await;
        assert_eq!(
            (status, authenticate.as_deref()),
            (401, Some(r#"Bearer authorization="https://a/t", resource="https://r""#))
        );
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "Unauthorized", "message": "Authorization bearer token is expired."}})
        );

        let (status, authenticate, body) =
            answer(AppError::new(ErrorCode::MissingPathRole).with_debug("Needs DbReader.")).await;
        assert_eq!((status, authenticate), (403, None));
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "Forbidden", "message": "Access token missing required roles. Needs DbReader.",
                "innererror": {"code": "ForbiddenByPolicy"}}})
        );

        let (status, _, body) = answer(ErrorCode::SecretNotFound.into()).await;
        assert_eq!((status, &body["error"]["code"]), (404, &serde_json::json!("SecretNotFound")));
        let (status, _, body) = answer(ErrorCode::InvalidSecretName.into()).await;
        assert_eq!((status, &body["error"]["code"]), (400, &serde_json::json!("BadParameter")));
        let (status, _, body) = answer(ErrorCode::VaultError.into()).await;
        assert_eq!((status, &body["error"]["code"]), (502, &serde_json::json!("AzureKeyVaultFatalError")));
    }

    #[actix_web::test]
    async fn a_spent_budget_is_key_vaults_throttled_with_retry_after() {
        let error = AppError::new(ErrorCode::SecretMissBudgetExceeded).with_retry_after(7);
        let response = error.key_vault_response(&HeaderValue::from_static("Bearer"));
        assert_eq!(response.status().as_u16(), 429);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "7");
        let body = actix_web::body::to_bytes(response.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "Throttled");
    }
}
