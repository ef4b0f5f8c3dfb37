//! Credential tokens, cached per request. A token is renewed ahead of its expiry in the
//! background (at its `refresh_at`), so no request waits on the identity endpoint while a
//! usable token is held, and a failed renewal leaves the current token in use until it
//! expires. Fetches run one at a time per request (single flight).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vaultgate_config::secrets_settings::CredentialSource;

use super::{AccessToken, CredentialError, TokenRequest, fetch};
use crate::single_flight::SingleFlight;
use crate::sync;

/// A token this close to expiry is no longer handed out (the call it goes on may take that long).
const USABLE_MARGIN: Duration = Duration::from_secs(30);
/// After a failed background renewal, the next try waits at least this long.
const RENEWAL_RETRY_PAUSE: Duration = Duration::from_secs(30);

struct Held {
    token: AccessToken,
    /// No background renewal starts before this (set after a failed one).
    next_renewal: Instant,
}

pub struct AccessTokenCache {
    source: CredentialSource,
    timeout: Duration,
    tokens: Mutex<HashMap<TokenRequest, Held>>,
    flights: SingleFlight<TokenRequest, Result<AccessToken, CredentialError>>,
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

    /// A usable token: the held one (starting its renewal in the background when due), or a
    /// new one when none is usable.
    pub async fn token(self: &Arc<Self>, request: &TokenRequest) -> Result<AccessToken, CredentialError> {
        if let Some((token, renew)) = self.held(request) {
            if renew {
                let cache = Arc::clone(self);
                let request = request.clone();
                actix_web::rt::spawn(async move {
                    let _ = cache.renew(&request).await;
                });
            }
            return Ok(token);
        }
        self.renew(request).await
    }

    /// Forgets the token for `request` (Key Vault refused it).
    pub fn forget(&self, request: &TokenRequest) {
        sync::lock(&self.tokens).remove(request);
    }

    /// The held usable token, and whether a background renewal should start now.
    fn held(&self, request: &TokenRequest) -> Option<(AccessToken, bool)> {
        let tokens = sync::lock(&self.tokens);
        let held = tokens.get(request).filter(|held| held.token.valid_for(USABLE_MARGIN))?;
        let renew =
            held.token.due_for_renewal() && Instant::now() >= held.next_renewal && !self.flights.is_running(request);
        Some((held.token.clone(), renew))
    }

    /// Fetches a new token (one fetch at a time per request). On failure the held token, if
    /// still usable, stays in use and the error is logged; without one, the error is returned.
    async fn renew(&self, request: &TokenRequest) -> Result<AccessToken, CredentialError> {
        self.flights
            .run(request, || async {
                // A fetch that ended just before this one began may have renewed the token.
                if let Some((token, _)) = self.held(request).filter(|(token, _)| !token.due_for_renewal()) {
                    return Ok(token);
                }
                self.fetches.fetch_add(1, Ordering::Relaxed);
                match fetch(&self.source, request, self.timeout).await {
                    Ok(token) => {
                        let held = Held { token: token.clone(), next_renewal: Instant::now() };
                        sync::lock(&self.tokens).insert(request.clone(), held);
                        Ok(token)
                    }
                    Err(reason) => self.keep_after_failure(request, reason),
                }
            })
            .await
    }

    fn keep_after_failure(
        &self,
        request: &TokenRequest,
        reason: CredentialError,
    ) -> Result<AccessToken, CredentialError> {
        let mut tokens = sync::lock(&self.tokens);
        match tokens.get_mut(request).filter(|held| held.token.valid_for(USABLE_MARGIN)) {
            Some(held) => {
                held.next_renewal = Instant::now() + RENEWAL_RETRY_PAUSE;
                let left = held.token.expires_at.duration_since(std::time::SystemTime::now()).unwrap_or_default();
                log::warn!(
                    "credential: renewing the token failed, the current one stays in use ({}s left): {reason}",
                    left.as_secs()
                );
                Ok(held.token.clone())
            }
            None => Err(reason),
        }
    }
}
