//! Token verification: the key by `kid`, RS256 only, then the claims rules. Every failure
//! maps to the catalog entry the seed tutorial would answer with.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vaultgate_config::{AppError, ErrorCode};

use super::claims::{Claims, RawClaims};
use super::issuers::{IssuerRule, invalid_claims};
use super::keys::{KeyLookup, SigningKeys};
use super::token::{self, UnverifiedToken};
use super::token_cache::{TokenCache, Verdict, digest};

/// The only algorithm accepted, whatever the token's header says (Entra signs with RS256).
const ALGORITHM: &str = "RS256";

/// The `Retry-After` of a 503 while no signing keys are loaded (the background retry's pace).
pub const SERVICE_UNAVAILABLE_RETRY_SECS: u64 = 5;

/// What a token must say to be accepted, beyond its signature.
pub struct ClaimRules {
    /// Where tokens may come from.
    pub issuers: IssuerRule,
    /// `aud` must contain one of these.
    pub audiences: Vec<String>,
    pub leeway: Duration,
}

/// Default bound of the verified-token cache.
pub const TOKEN_CACHE_CAPACITY: usize = vaultgate_config::defaults::DEFAULT_TOKEN_CACHE_MAX_ENTRIES;
/// How long a remembered refusal is kept.
const REFUSAL_TTL_SECS: i64 = 300;

pub struct Validator {
    keys: Arc<dyn SigningKeys>,
    rules: ClaimRules,
    cache: TokenCache,
}

/// Why a token was refused, and whether to remember it. Only refusals that cost a signature
/// verification and can never turn into acceptance are remembered: a cheap one (bad shape,
/// wrong algorithm) is faster to redo than to cache, and a flood of distinct garbage must not
/// push valid tokens out of the cache; a passing one (unknown kid before a rotation, keys not
/// loaded yet, `nbf` ahead) could succeed on the next try.
struct Refusal {
    error: AppError,
    remember: bool,
}

impl<E: Into<AppError>> From<E> for Refusal {
    fn from(error: E) -> Self {
        Refusal { error: error.into(), remember: true }
    }
}

fn unremembered(error: impl Into<AppError>) -> Refusal {
    Refusal { error: error.into(), remember: false }
}

impl Validator {
    pub fn new(keys: Arc<dyn SigningKeys>, rules: ClaimRules) -> Self {
        Validator::with_cache_capacity(keys, rules, TOKEN_CACHE_CAPACITY)
    }

    pub fn with_cache_capacity(keys: Arc<dyn SigningKeys>, rules: ClaimRules, capacity: usize) -> Self {
        Validator { keys, rules, cache: TokenCache::new(capacity) }
    }

    pub fn keys(&self) -> &dyn SigningKeys {
        self.keys.as_ref()
    }

    pub fn token_cache(&self) -> &TokenCache {
        &self.cache
    }

    /// Verifies `token` and returns its claims, or the catalog's answer. A token seen before
    /// is answered from the cache, which still enforces `exp` and the signing key's presence.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, AppError> {
        self.verify_at(token, now()).await
    }

    /// `verify` as if the clock read `now` (Unix seconds).
    pub(crate) async fn verify_at(&self, token: &str, now: i64) -> Result<Arc<Claims>, AppError> {
        let digest = digest(token);
        match self.cache.get(&digest, now) {
            Some(Verdict::Valid { claims, kid }) if matches!(self.keys.cached(&kid), KeyLookup::Found(_)) => {
                return Ok(claims);
            }
            Some(Verdict::Refused(error)) => return Err(error),
            _ => {}
        }
        let leeway = self.rules.leeway.as_secs() as i64;
        match self.verify_in_full(token, now).await {
            Ok((claims, kid)) => {
                let claims = Arc::new(claims);
                let until = claims.expires_at.saturating_add(leeway);
                self.cache.insert(digest, Verdict::Valid { claims: claims.clone(), kid: Arc::from(kid) }, until);
                Ok(claims)
            }
            Err(Refusal { error, remember }) => {
                if remember {
                    self.cache.insert(digest, Verdict::Refused(error.clone()), now + REFUSAL_TTL_SECS);
                }
                Err(error)
            }
        }
    }

    async fn verify_in_full(&self, token: &str, now: i64) -> Result<(Claims, String), Refusal> {
        let token = token::split(token).ok_or_else(|| unremembered(ErrorCode::InvalidAuthHeader))?;
        let kid = token.header.kid.as_deref().ok_or_else(|| unremembered(ErrorCode::InvalidHeader))?;
        let key = match self.keys.cached(kid) {
            KeyLookup::Found(key) => KeyLookup::Found(key),
            // An unknown kid may be a rotation not seen yet; no keys may be an outage ending.
            KeyLookup::Unknown | KeyLookup::Unavailable => self.keys.refresh_for(kid).await,
        };
        let key = match key {
            KeyLookup::Found(key) => key,
            KeyLookup::Unknown => return Err(unremembered(ErrorCode::InvalidHeader)),
            KeyLookup::Unavailable => {
                return Err(unremembered(
                    AppError::new(ErrorCode::AuthorizationServiceUnavailable)
                        .with_retry_after(SERVICE_UNAVAILABLE_RETRY_SECS),
                ));
            }
        };
        check_header(&token).map_err(unremembered)?;
        if !key.verify(token.signed_part.as_bytes(), &token.signature) {
            return Err(invalid_claims("Signature verification failed").into());
        }
        let raw: RawClaims =
            serde_json::from_slice(&token.payload).map_err(|_| invalid_claims("A claim has an invalid type"))?;
        let claims = self.check_claims(raw, now)?;
        Ok((claims, kid.to_owned()))
    }

    fn check_claims(&self, raw: RawClaims, now: i64) -> Result<Claims, Refusal> {
        let leeway = self.rules.leeway.as_secs() as i64;
        let exp = raw.exp.ok_or_else(|| invalid_claims("Token is missing the \"exp\" claim"))?;
        if exp.saturating_add(leeway) < now {
            return Err(ErrorCode::TokenExpired.into());
        }
        if raw.nbf.is_some_and(|nbf| nbf.saturating_sub(leeway) > now) {
            return Err(unremembered(invalid_claims("The token is not yet valid (nbf)")));
        }
        if raw.iat.is_some_and(|iat| iat.saturating_sub(leeway) > now) {
            return Err(unremembered(invalid_claims("The token is not yet valid (iat)")));
        }
        let issuer = raw.iss.clone().ok_or_else(|| invalid_claims("Token is missing the \"iss\" claim"))?;
        self.rules.issuers.check(&raw, &issuer)?;
        let audiences = raw.aud.as_deref().ok_or_else(|| invalid_claims("Token is missing the \"aud\" claim"))?;
        if !audiences.iter().any(|aud| self.rules.audiences.contains(aud)) {
            return Err(invalid_claims("Invalid audience").into());
        }
        if raw.nonce.is_some() {
            return Err(invalid_claims("Token has a nonce: not an access token for this API").into());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::dev_key::{DevKey, local_validator};

    fn key() -> DevKey {
        crate::crypto::install_providers();
        let dir = tempfile::tempdir().unwrap();
        DevKey::load_or_create(dir.path()).unwrap()
    }

    fn token(key: &DevKey, exp: i64) -> String {
        let claims = serde_json::json!({
            "aud": crate::auth::dev_key::LOCAL_AUDIENCE, "iss": crate::auth::dev_key::LOCAL_ISSUER,
            "exp": exp, "roles": ["GetSecret"]
        });
        key.sign(&claims)
    }

    #[actix_web::test]
    async fn a_cached_token_still_expires() {
        let key = key();
        let validator = local_validator(&key, Duration::from_secs(60));
        let token = token(&key, 1_000_000);
        assert!(validator.verify_at(&token, 999_000).await.is_ok());
        assert!(validator.verify_at(&token, 1_000_060).await.is_ok(), "within the leeway, from the cache");
        let late = validator.verify_at(&token, 1_000_061).await.unwrap_err();
        assert_eq!(late.code(), ErrorCode::TokenExpired);
    }

    #[actix_web::test]
    async fn only_costly_lasting_refusals_are_remembered() {
        let key = key();
        let validator = local_validator(&key, Duration::from_secs(0));
        let tampered = format!("{}AAAA", token(&key, 2_000_000).trim_end_matches(|c: char| c != '.'));
        for _ in 0..2 {
            assert_eq!(validator.verify_at(&tampered, 1_000_000).await.unwrap_err().code(), ErrorCode::InvalidClaims);
        }
        assert_eq!(validator.token_cache().len(), 1, "the bad signature is remembered");
        assert!(validator.verify_at("not.a.token", 1_000_000).await.is_err());
        assert_eq!(validator.token_cache().len(), 1, "garbage, cheap to refuse again, is not");

        let early = key.sign(&serde_json::json!({
            "aud": crate::auth::dev_key::LOCAL_AUDIENCE, "iss": crate::auth::dev_key::LOCAL_ISSUER,
            "exp": 2_000_000, "nbf": 1_500_000
        }));
        assert!(validator.verify_at(&early, 1_000_000).await.is_err());
        assert_eq!(validator.token_cache().len(), 1, "a not-yet-valid token is not remembered");
        assert!(validator.verify_at(&early, 1_600_000).await.is_ok(), "and passes once valid");
    }
}
