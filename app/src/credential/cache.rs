//! Credential tokens, cached per request and renewed about 5 minutes before they expire,
//! one fetch at a time per scope (single flight).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use vaultgate_config::secrets_settings::CredentialSource;

use super::{AccessToken, TokenRequest, fetch};
use crate::single_flight::SingleFlight;

/// Renew this long before expiry, as the Azure SDKs do.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

pub struct AccessTokenCache {
    source: CredentialSource,
    timeout: Duration,
    tokens: Mutex<HashMap<TokenRequest, AccessToken>>,
    flights: SingleFlight<TokenRequest, Result<AccessToken, String>>,
    fetches: AtomicU64,
}

impl AccessTokenCache {
    pub fn new(source: CredentialSource, timeout: Duration) -> Self {
        AccessTokenCache {
            source,
            timeout,
            tokens: Mutex::new(HashMap::new()),
            flights: SingleFlight::default(),
            fetches: AtomicU64::new(0),
        }
    }

    pub fn source(&self) -> &CredentialSource {
        &self.source
    }

    /// Tokens fetched from the credential's endpoint so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A token good for at least 5 more minutes.
    pub async fn token(&self, request: &TokenRequest) -> Result<AccessToken, String> {
        if let Some(token) = self.cached(request) {
            return Ok(token);
        }
        self.flights
            .run(request, || async {
                // A run that finished just before this one began may have stored a token.
                if let Some(token) = self.cached(request) {
                    return Ok(token);
                }
                self.fetches.fetch_add(1, Ordering::Relaxed);
                let token = fetch(&self.source, request, self.timeout).await?;
                self.lock().insert(request.clone(), token.clone());
                Ok(token)
            })
            .await
    }

    /// Forgets the token for `request` (Key Vault refused it).
    pub fn forget(&self, request: &TokenRequest) {
        self.lock().remove(request);
    }

    fn cached(&self, request: &TokenRequest) -> Option<AccessToken> {
        self.lock().get(request).filter(|token| token.valid_for(RENEW_BEFORE_EXPIRY)).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenRequest, AccessToken>> {
        crate::sync::lock(&self.tokens)
    }
}
