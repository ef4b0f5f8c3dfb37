//! Why a bearer token was refused: one variant per reason, each answered with its catalog
//! entry and, where the catalog's contract has one, a `debug` text.

use crate::AppError;
use vaultgate_config::ErrorCode;

/// The `Retry-After` of a 503 while no signing keys are loaded (the background retry's pace).
pub const SERVICE_UNAVAILABLE_RETRY_SECS: u64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Not a compact JWS with a JSON header and payload.
    Malformed,
    /// No `kid` in the header.
    NoKeyId,
    /// No trusted key has the token's `kid`.
    UnknownKey,
    /// No key set has loaded yet (the identity provider has not answered).
    KeysUnavailable,
    AlgorithmNotAllowed,
    CriticalHeader,
    BadSignature,
    ClaimType,
    MissingExpiry,
    Expired,
    NotYetValid,
    IssuedInFuture,
    MissingIssuer,
    InvalidTenant,
    InvalidIssuer,
    InvalidVersion,
    /// The signing key is published for another issuer than the token's.
    KeyIssuerMismatch,
    MissingAudience,
    InvalidAudience,
    /// A `nonce` claim: an id token, not an access token for this API.
    Nonce,
    /// A `ver` 1.0 token without `appid`: an id token (access tokens always name the client).
    MissingAppId,
    /// A `ver` 2.0 token without `azp`: an id token, for the same reason.
    MissingAzp,
}

impl TokenRefusal {
    pub const fn code(self) -> ErrorCode {
        match self {
            TokenRefusal::Malformed => ErrorCode::InvalidAuthHeader,
            TokenRefusal::NoKeyId | TokenRefusal::UnknownKey => ErrorCode::InvalidHeader,
            TokenRefusal::KeysUnavailable => ErrorCode::AuthorizationServiceUnavailable,
            TokenRefusal::Expired => ErrorCode::TokenExpired,
            _ => ErrorCode::InvalidClaims,
        }
    }

    /// The `debug` text of the answer.
    pub const fn debug(self) -> Option<&'static str> {
        Some(match self {
            TokenRefusal::Malformed
            | TokenRefusal::NoKeyId
            | TokenRefusal::UnknownKey
            | TokenRefusal::KeysUnavailable
            | TokenRefusal::Expired => return None,
            TokenRefusal::AlgorithmNotAllowed => "The specified alg value is not allowed",
            TokenRefusal::CriticalHeader => "Unsupported critical header parameter",
            TokenRefusal::BadSignature => "Signature verification failed",
            TokenRefusal::ClaimType => "A claim has an invalid type",
            TokenRefusal::MissingExpiry => "Token is missing the \"exp\" claim",
            TokenRefusal::NotYetValid => "The token is not yet valid (nbf)",
            TokenRefusal::IssuedInFuture => "The token is not yet valid (iat)",
            TokenRefusal::MissingIssuer => "Token is missing the \"iss\" claim",
            TokenRefusal::InvalidTenant => "Invalid tenant",
            TokenRefusal::InvalidIssuer => "Invalid issuer",
            TokenRefusal::InvalidVersion => "Invalid token version",
            TokenRefusal::KeyIssuerMismatch => "The signing key is not bound to the token's issuer",
            TokenRefusal::MissingAudience => "Token is missing the \"aud\" claim",
            TokenRefusal::InvalidAudience => "Invalid audience",
            TokenRefusal::Nonce => "Token has a nonce: not an access token for this API",
            TokenRefusal::MissingAppId => "Token is missing the \"appid\" claim: not an access token",
            TokenRefusal::MissingAzp => "Token is missing the \"azp\" claim: not an access token",
        })
    }

    /// Whether the same token can never pass later, and is worth remembering: only refusals
    /// that cost a signature check. A cheap one (bad shape, wrong algorithm) is faster to redo
    /// than to cache, and a flood of distinct garbage must not push valid tokens out; a passing
    /// one (unknown kid before a rotation, keys not loaded yet, `nbf` ahead) may pass next time.
    pub const fn is_lasting(self) -> bool {
        !matches!(
            self,
            TokenRefusal::Malformed
                | TokenRefusal::NoKeyId
                | TokenRefusal::UnknownKey
                | TokenRefusal::KeysUnavailable
                | TokenRefusal::AlgorithmNotAllowed
                | TokenRefusal::CriticalHeader
                | TokenRefusal::NotYetValid
                | TokenRefusal::IssuedInFuture
        )
    }
}

impl From<TokenRefusal> for AppError {
    fn from(refusal: TokenRefusal) -> Self {
        let error = AppError::new(refusal.code());
        let error = match refusal.debug() {
            Some(debug) => error.with_debug(debug),
            None => error,
        };
        match refusal {
            TokenRefusal::KeysUnavailable => error.with_retry_after(SERVICE_UNAVAILABLE_RETRY_SECS),
            _ => error,
        }
    }
}
