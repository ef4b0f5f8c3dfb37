//! Token verification: the key by `kid`, RS256 only, then the claims rules. Every failure
//! maps to the catalog entry the seed tutorial would answer with.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::Algorithm;
use vaultgate_config::{AppError, ErrorCode};

use super::claims::{Claims, RawClaims};
use super::issuers::{IssuerRule, invalid_claims};
use super::keys::{KeyLookup, SigningKeys};
use super::token::{self, UnverifiedToken};

/// The only algorithm accepted, whatever the token's header says (Entra signs with RS256).
const ALGORITHM: &str = "RS256";

/// Seconds an `Authorization` header's token may wait for a key refresh before answering.
pub const SERVICE_UNAVAILABLE_RETRY_SECS: u64 = 5;

/// What a token must say to be accepted, beyond its signature.
pub struct ClaimRules {
    /// Where tokens may come from.
    pub issuers: IssuerRule,
    /// `aud` must contain one of these.
    pub audiences: Vec<String>,
    pub leeway: Duration,
}

pub struct Validator {
    keys: Arc<dyn SigningKeys>,
    rules: ClaimRules,
}

impl Validator {
    pub fn new(keys: Arc<dyn SigningKeys>, rules: ClaimRules) -> Self {
        Validator { keys, rules }
    }

    pub fn keys(&self) -> &dyn SigningKeys {
        self.keys.as_ref()
    }

    /// Verifies `token` and returns its claims, or the catalog's answer.
    pub async fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let token = token::split(token).ok_or(ErrorCode::InvalidAuthHeader)?;
        let kid = token.header.kid.as_deref().ok_or(ErrorCode::InvalidHeader)?;
        let key = match self.keys.cached(kid) {
            KeyLookup::Found(key) => KeyLookup::Found(key),
            // An unknown kid may be a rotation not seen yet; no keys may be an outage ending.
            KeyLookup::Unknown | KeyLookup::Unavailable => self.keys.refresh_for(kid).await,
        };
        let key = match key {
            KeyLookup::Found(key) => key,
            KeyLookup::Unknown => return Err(ErrorCode::InvalidHeader.into()),
            KeyLookup::Unavailable => {
                return Err(AppError::new(ErrorCode::AuthorizationServiceUnavailable)
                    .with_retry_after(SERVICE_UNAVAILABLE_RETRY_SECS));
            }
        };
        check_header(&token)?;
        let signature_ok =
            jsonwebtoken::crypto::verify(token.signature, token.signed_part.as_bytes(), &key, Algorithm::RS256)
                .unwrap_or(false);
        if !signature_ok {
            return Err(invalid_claims("Signature verification failed"));
        }
        let raw: RawClaims =
            serde_json::from_slice(&token.payload).map_err(|_| invalid_claims("A claim has an invalid type"))?;
        self.check_claims(raw, now())
    }

    fn check_claims(&self, raw: RawClaims, now: i64) -> Result<Claims, AppError> {
        let leeway = self.rules.leeway.as_secs() as i64;
        let exp = raw.exp.ok_or_else(|| invalid_claims("Token is missing the \"exp\" claim"))?;
        if exp.saturating_add(leeway) < now {
            return Err(ErrorCode::TokenExpired.into());
        }
        if raw.nbf.is_some_and(|nbf| nbf.saturating_sub(leeway) > now) {
            return Err(invalid_claims("The token is not yet valid (nbf)"));
        }
        if raw.iat.is_some_and(|iat| iat.saturating_sub(leeway) > now) {
            return Err(invalid_claims("The token is not yet valid (iat)"));
        }
        let issuer = raw.iss.clone().ok_or_else(|| invalid_claims("Token is missing the \"iss\" claim"))?;
        self.rules.issuers.check(&raw, &issuer)?;
        let audiences = raw.aud.as_deref().ok_or_else(|| invalid_claims("Token is missing the \"aud\" claim"))?;
        if !audiences.iter().any(|aud| self.rules.audiences.contains(aud)) {
            return Err(invalid_claims("Invalid audience"));
        }
        if raw.nonce.is_some() {
            return Err(invalid_claims("Token has a nonce: not an access token for this API"));
        }
        Ok(raw.into_claims(issuer, exp))
    }
}

/// Refuses tokens whose header asks for anything but plain RS256.
fn check_header(token: &UnverifiedToken<'_>) -> Result<(), AppError> {
    if token.header.alg != ALGORITHM {
        return Err(invalid_claims("The specified alg value is not allowed"));
    }
    if token.header.crit.is_some() {
        // No critical extension is understood, so any `crit` must be refused (RFC 7515 4.1.11).
        return Err(invalid_claims("Unsupported critical header parameter"));
    }
    Ok(())
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
