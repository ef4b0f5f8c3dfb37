//! `AppError`: a catalog entry (config's data: code, description, status) plus what varies
//! per response (debug text, Retry-After), and how actix answers with it. Built fresh for
//! every failure, so no request can leak its details into another's.

mod challenge;
mod key_vault;

pub use key_vault::key_vault_body;

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::mime;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use vaultgate_config::{BodyShape, Challenge, ErrorCode};

use self::challenge::{BearerChallenge, BearerError};

/// A failure answered from the catalog.
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display, derive_more::Error)]
#[display("{}: {}", code.code(), code.description())]
pub struct AppError {
    code: ErrorCode,
    debug: Option<Cow<'static, str>>,
    retry_after_secs: Option<u64>,
    required_scope: Option<Cow<'static, str>>,
}

impl AppError {
    pub const fn new(code: ErrorCode) -> Self {
        AppError { code, debug: None, retry_after_secs: None, required_scope: None }
    }

    /// Adds the `debug` field (the catalog's claims and path-role failures carry one).
    /// Never pass a token or a secret value here: the text goes to the caller.
    pub fn with_debug(mut self, debug: impl Into<Cow<'static, str>>) -> Self {
        self.debug = Some(debug.into());
        self
    }

    /// Adds a `Retry-After` header (seconds).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(seconds);
        self
    }

    /// Names what a 403 caller lacks in the challenge's `scope` parameter.
    pub fn with_required_scope(mut self, scope: impl Into<Cow<'static, str>>) -> Self {
        self.required_scope = Some(scope.into());
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The JSON body, as sent (`code`, `description`, then `debug` when set).
    fn body_text(&self) -> String {
        let result = match self.code.body_shape() {
            BodyShape::Message => serde_json::to_string(&MessageBody { message: self.code.description() }),
            BodyShape::CodeAndDescription => serde_json::to_string(&ErrorBody {
                code: self.code.code(),
                description: self.code.description(),
                debug: self.debug.as_deref(),
            }),
        };
        result.expect("an error body always serialises")
    }

    /// The `WWW-Authenticate` value, for 401 and 403 answers.
    pub fn challenge(&self) -> Option<String> {
        let challenge = match self.code.challenge() {
            Challenge::None => return None,
            Challenge::Bearer => BearerChallenge::default(),
            Challenge::InvalidToken => BearerChallenge {
                error: Some(BearerError::InvalidToken),
                error_description: Some(self.code.description()),
                scope: None,
            },
            Challenge::InsufficientScope => BearerChallenge {
                error: Some(BearerError::InsufficientScope),
                error_description: None,
                scope: self.required_scope.as_deref(),
            },
        };
        Some(challenge.to_string())
    }
}

impl From<ErrorCode> for AppError {
    fn from(code: ErrorCode) -> Self {
        AppError::new(code)
    }
}

#[derive(Serialize)]
struct MessageBody {
    message: &'static str,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'static str,
    description: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    debug: Option<&'a str>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).expect("catalog statuses are valid HTTP statuses")
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(challenge) = self.challenge()
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            response.insert_header((header::WWW_AUTHENTICATE, value));
        }
        if let Some(seconds) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        response.content_type(mime::APPLICATION_JSON).body(self.body_text())
    }
}

#[cfg(test)]
mod tests;
