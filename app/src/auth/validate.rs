//! Token verification: the key by `kid`, RS256 only, then the claims rules. Every failure
//! maps to its catalog entry (`TokenRefusal`).

use std::sync::Arc;
use std::time::Duration;

use super::claims::{Claims, RawClaims};
use super::issuers::IssuerRule;
use super::refusal::TokenRefusal;
use super::signing_keys::{KeyLookup, SigningKeys};
use super::token::{self, UnverifiedToken};
use super::verdict_cache::{Verdict, VerdictCache, digest};

/// The only algorithm accepted, whatever the token's header says (Entra signs with RS256).
const ALGORITHM: &str = "RS256";

/// What a token must say to be accepted, beyond its signature.
pub struct ClaimRules {
    /// Where tokens may come from.
    pub issuers: IssuerRule,
    /// `aud` must contain one of these.
    pub audiences: Vec<String>,
    pub leeway: Duration,
}

/// How long a remembered refusal is kept.
const REFUSAL_TTL_SECS: i64 = 300;

pub struct Validator {
    keys: Arc<dyn SigningKeys>,
    rules: ClaimRules,
    cache: VerdictCache,
}

impl Validator {
    /// A validator trusting `keys` under `rules`, remembering up to `cache_capacity` verdicts.
    pub fn new(keys: Arc<dyn SigningKeys>, rules: ClaimRules, cache_capacity: usize) -> Self {
        Validator { keys, rules, cache: VerdictCache::new(cache_capacity) }
    }

    pub fn keys(&self) -> &dyn SigningKeys {
        self.keys.as_ref()
    }

    pub fn verdict_cache(&self) -> &VerdictCache {
        &self.cache
    }

    /// Verifies `token` and returns its claims, or why it was refused. A token seen before
    /// is answered from the cache, which still enforces `exp` and the signing key's presence.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, TokenRefusal> {
        self.verify_at(token, crate::clock::unix_now()).await
    }

    /// `verify` as if the clock read `now` (Unix seconds).
    pub(crate) async fn verify_at(&self, token: &str, now: i64) -> Result<Arc<Claims>, TokenRefusal> {
        let digest = digest(token);
        match self.cache.get(&digest, now) {
            Some(Verdict::Valid { claims, kid }) if matches!(self.keys.cached(&kid), KeyLookup::Found(_)) => {
                return Ok(claims);
            }
            Some(Verdict::Refused(refusal)) => return Err(refusal),
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
            Err(refusal) => {
                if refusal.is_lasting() {
                    self.cache.insert(digest, Verdict::Refused(refusal), now + REFUSAL_TTL_SECS);
                }
                Err(refusal)
            }
        }
    }

    async fn verify_in_full(&self, token: &str, now: i64) -> Result<(Claims, String), TokenRefusal> {
        let token = token::split(token).ok_or(TokenRefusal::Malformed)?;
        let kid = token.header.kid.as_deref().ok_or(TokenRefusal::NoKeyId)?;
        let key = match self.keys.cached(kid) {
            KeyLookup::Found(key) => KeyLookup::Found(key),
            // An unknown kid may be a rotation not seen yet; no keys may be an outage ending.
            KeyLookup::Unknown | KeyLookup::Unavailable => self.keys.clone().refresh_for(kid.to_owned()).await,
        };
        let key = match key {
            KeyLookup::Found(key) => key,
            KeyLookup::Unknown => return Err(TokenRefusal::UnknownKey),
            KeyLookup::Unavailable => return Err(TokenRefusal::KeysUnavailable),
        };
        check_header(&token)?;
        if !key.verify(token.signed_part.as_bytes(), &token.signature) {
            return Err(TokenRefusal::BadSignature);
        }
        let raw: RawClaims = serde_json::from_slice(&token.payload).map_err(|_| TokenRefusal::ClaimType)?;
        let claims = self.check_claims(raw, now, key.issuer())?;
        Ok((claims, kid.to_owned()))
    }

    fn check_claims(&self, raw: RawClaims, now: i64, key_issuer: Option<&str>) -> Result<Claims, TokenRefusal> {
        let leeway = self.rules.leeway.as_secs() as i64;
        let exp = raw.exp.ok_or(TokenRefusal::MissingExpiry)?;
        if exp.saturating_add(leeway) < now {
            return Err(TokenRefusal::Expired);
        }
        if raw.nbf.is_some_and(|nbf| nbf.saturating_sub(leeway) > now) {
            return Err(TokenRefusal::NotYetValid);
        }
        if raw.iat.is_some_and(|iat| iat.saturating_sub(leeway) > now) {
            return Err(TokenRefusal::IssuedInFuture);
        }
        let issuer = raw.iss.clone().ok_or(TokenRefusal::MissingIssuer)?;
        self.rules.issuers.check(&raw, &issuer)?;
        self.rules.issuers.check_key_issuer(key_issuer, &raw, &issuer)?;
        let audiences = raw.aud.as_deref().ok_or(TokenRefusal::MissingAudience)?;
        if !audiences.iter().any(|aud| self.rules.audiences.contains(aud)) {
            return Err(TokenRefusal::InvalidAudience);
        }
        if raw.nonce.is_some() {
            return Err(TokenRefusal::Nonce);
        }
        check_access_token_claims(&raw)?;
        Ok(raw.into_claims(issuer, exp))
    }
}

/// Only access tokens carry the calling client: `appid` in `ver` 1.0, `azp` in `ver` 2.0 (local
/// tokens are v2-shaped). An id token of the same app registration has the right `aud`, `iss`,
/// `tid` and even `roles`, and not always a `nonce`, but never these.
fn check_access_token_claims(raw: &RawClaims) -> Result<(), TokenRefusal> {
    let present = |claim: &Option<String>| claim.as_deref().is_some_and(|value| !value.is_empty());
    match raw.ver.as_deref() {
        Some("1.0") if !present(&raw.appid) => Err(TokenRefusal::MissingAppId),
        Some("1.0") => Ok(()),
        _ if !present(&raw.azp) => Err(TokenRefusal::MissingAzp),
        _ => Ok(()),
    }
}

/// Refuses tokens whose header asks for anything but plain RS256.
fn check_header(token: &UnverifiedToken<'_>) -> Result<(), TokenRefusal> {
    if token.header.alg != ALGORITHM {
        return Err(TokenRefusal::AlgorithmNotAllowed);
    }
    if token.header.crit.is_some() {
        // No critical extension is understood, so any `crit` must be refused (RFC 7515 4.1.11).
        return Err(TokenRefusal::CriticalHeader);
    }
    Ok(())
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
            "exp": exp, "roles": ["GetSecret"], "azp": "client"
        });
        key.sign(&claims)
    }

    #[actix_web::test]
    async fn a_cached_token_still_expires() {
        let key = key();
        let validator = local_validator(&key, Duration::from_secs(60), 10_000);
        let token = token(&key, 1_000_000);
        assert!(validator.verify_at(&token, 999_000).await.is_ok());
        assert!(validator.verify_at(&token, 1_000_060).await.is_ok(), "within the leeway, from the cache");
        let late = validator.verify_at(&token, 1_000_061).await.unwrap_err();
        assert_eq!(late, TokenRefusal::Expired);
    }

    #[actix_web::test]
    async fn only_costly_lasting_refusals_are_remembered() {
        let key = key();
        let validator = local_validator(&key, Duration::from_secs(0), 10_000);
        let tampered = format!("{}AAAA", token(&key, 2_000_000).trim_end_matches(|c: char| c != '.'));
        for _ in 0..2 {
            assert_eq!(validator.verify_at(&tampered, 1_000_000).await.unwrap_err(), TokenRefusal::BadSignature);
        }
        assert_eq!(validator.verdict_cache().len(), 1, "the bad signature is remembered");
        assert!(validator.verify_at("not.a.token", 1_000_000).await.is_err());
        assert_eq!(validator.verdict_cache().len(), 1, "garbage, cheap to refuse again, is not");

        let early = key.sign(&serde_json::json!({
            "aud": crate::auth::dev_key::LOCAL_AUDIENCE, "iss": crate::auth::dev_key::LOCAL_ISSUER,
            "exp": 2_000_000, "nbf": 1_500_000, "azp": "client"
        }));
        assert!(validator.verify_at(&early, 1_000_000).await.is_err());
        assert_eq!(validator.verdict_cache().len(), 1, "a not-yet-valid token is not remembered");
        assert!(validator.verify_at(&early, 1_600_000).await.is_ok(), "and passes once valid");
    }
}
