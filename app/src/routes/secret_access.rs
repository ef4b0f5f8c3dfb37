//! `SecretAccess`: what every secret route needs beside its own parameters (the secret cache,
//! the exposure policy, the verified caller, the request's path), taken as one extractor, and
//! the one way a secret is read and answered: name check, policy, the caller's miss budget and
//! the cache in front of the store, audit line.

use std::sync::Arc;
use std::time::Instant;

use crate::AppError;
use actix_web::dev::Payload;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::future::{Either, LocalBoxFuture, Ready, ready};
use vaultgate_config::ErrorCode;

use crate::app_state::AppState;
use crate::auth::Caller;
use crate::secrets::audit::Refusal;
use crate::secrets::catalog::{ListError, SecretItem};
use crate::secrets::miss_budget::CallerId;
use crate::secrets::miss_budget::MissBudget;
use crate::secrets::{Secret, SecretName, SecretVersion, StoreError, audit};

/// Says a secret was served outside its own `nbf`..`exp` window.
const SECRET_VALIDITY: HeaderName = HeaderName::from_static("vaultgate-secret-validity");

pub struct SecretAccess {
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
}

impl FromRequest for SecretAccess {
    type Error = AppError;
    type Future = Either<Ready<Result<Self, AppError>>, LocalBoxFuture<'static, Result<Self, AppError>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            log::error!("no AppState registered as app data: secret routes cannot serve");
            return Either::Left(ready(Err(ErrorCode::VaultError.into())));
        };
        let (state, request) = (state.clone(), req.clone());
        match Caller::from_request(req, payload) {
            // The common case: `#[protected]` verified the caller already.
            Either::Left(caller) => {
                Either::Left(ready(caller.into_inner().map(|caller| SecretAccess { state, caller, request })))
            }
            Either::Right(caller) => {
                Either::Right(Box::pin(async move { Ok(SecretAccess { state, caller: caller.await?, request }) }))
            }
        }
    }
}

impl SecretAccess {
    /// What reading a secret can answer beyond the route's own protection: a bad name, the
    /// exposure policy's answers (404 for a hidden name, 403 for a missing per-secret role)
    /// and the store's.
    pub const ERRORS: &'static [ErrorCode] = &[
        ErrorCode::InvalidSecretName,
        ErrorCode::MissingPathRole,
        ErrorCode::SecretNotFound,
        ErrorCode::SecretDisabled,
        ErrorCode::VaultError,
        ErrorCode::VaultThrottled,
        ErrorCode::SecretMissBudgetExceeded,
    ];

    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// Reads and answers one secret, with its audit line (under the stored name once found).
    pub async fn answer(&self, name: &str, version: Option<&str>) -> Result<HttpResponse, AppError> {
        let secret = self.read_audited(name, version).await?;
        Ok(Self::respond(&secret, &*secret))
    }

    /// A 200 carrying `body` for `secret`: never cached on the way, and flagged when Key
    /// Vault returned it outside its `nbf`..`exp` window.
    pub fn respond(secret: &Secret, body: &impl serde::Serialize) -> HttpResponse {
        let mut answer = HttpResponse::Ok();
        answer.insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")));
        // Key Vault returned it outside its nbf..exp window (served unless SECRET_EXPIRY=enforce).
        if let Some(validity) = secret.validity {
            answer.insert_header((SECRET_VALIDITY, HeaderValue::from_static(validity.header_value())));
        }
        // Sized for the value plus an envelope, so a large answer is not grown step by step.
        let mut json = Vec::with_capacity(256 + secret.value.expose().len());
        match serde_json::to_writer(&mut json, body) {
            // A static value: `mime` would be formatted and parsed into a header on every read.
            Ok(()) => answer.insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json"))).body(json),
            Err(_) => AppError::new(ErrorCode::VaultError).error_response(),
        }
    }

    /// Reads one secret through the one path every read takes (name check, exposure policy,
    /// the caller's miss budget, the cache), and writes its audit line (under the stored
    /// name once found).
    pub async fn read_audited(&self, name: &str, version: Option<&str>) -> Result<Arc<Secret>, AppError> {
        let started = Instant::now();
        let outcome = self.read(name, version).await;
        let audited = outcome.as_ref().map_or(name, |secret| secret.name.as_str());
        audit::record(&self.caller, audited, version, &outcome, started.elapsed());
        outcome
    }

    /// Whether the exposure policy lets this caller read `name` (for listings: the same
    /// decision a read would take, without reading).
    pub fn may_read(&self, name: &SecretName) -> bool {
        self.check_policy(name).is_ok()
    }

    /// The exposure policy's answer for `name` and this caller: what a read would refuse with.
    pub fn check_policy(&self, name: &SecretName) -> Result<(), AppError> {
        self.state.policy.check(name, &self.caller, self.request.path())
    }

    /// The base of the ids and links this caller is given: see `base_url`.
    pub fn base_url(&self) -> Result<String, AppError> {
        // Room for the ids built on it (`/secrets/<name>/<version>`) without growing.
        let mut base = String::with_capacity(256);
        write_base_url(&mut base, &self.request, self.state.public_url.as_deref())?;
        Ok(base)
    }

    /// The store's versions of `name`, charged to this caller's miss budget as a listing.
    pub async fn versions(&self, name: &SecretName) -> Result<Vec<SecretItem>, ListError> {
        self.state.secrets.versions_for(&CallerId::of(&self.caller), name).await
    }

    /// This caller's miss budget, which a listing that goes to the store is charged to.
    pub fn miss_budget(&self) -> (&MissBudget, CallerId) {
        (self.state.secrets.miss_budget(), CallerId::of(&self.caller))
    }

    pub fn request(&self) -> &HttpRequest {
        &self.request
    }

    /// Reads one name of a batch (already checked against the name rule). A refusal that
    /// touched no store (exposure policy, per-secret role, miss budget) is handed back for the
    /// batch's one summary line; anything else gets its own audit line, as a single read does.
    pub async fn read_in_batch(&self, name: &SecretName) -> BatchRead {
        let started = Instant::now();
        if let Err(refusal) = self.state.policy.check(name, &self.caller, self.request.path()) {
            let reason = if refusal.code() == ErrorCode::MissingPathRole { Refusal::Role } else { Refusal::Policy };
            return BatchRead::Refused(reason, refusal);
        }
        let outcome = match self.fetch(name, None).await {
            Err(spent @ StoreError::MissBudgetSpent { .. }) => {
                return BatchRead::Refused(Refusal::Budget, spent.into());
            }
            outcome => outcome.map_err(|error| store_error(name, error)),
        };
        let audited = outcome.as_ref().map_or(name.as_str(), |secret| secret.name.as_str());
        audit::record(&self.caller, audited, None, &outcome, started.elapsed());
        BatchRead::Answered(outcome)
    }

    async fn read(&self, name: &str, version: Option<&str>) -> Result<Arc<Secret>, AppError> {
        let name = SecretName::parse(name)?;
        let version = version.map(SecretVersion::parse).transpose()?;
        self.state.policy.check(&name, &self.caller, self.request.path())?;
        self.fetch(&name, version.as_ref()).await.map_err(|error| store_error(&name, error))
    }

    /// Through the cache, charged to this caller's miss budget.
    async fn fetch(&self, name: &SecretName, version: Option<&SecretVersion>) -> Result<Arc<Secret>, StoreError> {
        let caller = CallerId::of(&self.caller);
        self.state.secrets.read_for(Some(&caller), name, version).await
    }
}

/// `PUBLIC_URL`, else the scheme this connection uses and the request's `Host`. Never the
/// `Forwarded`/`X-Forwarded-*` headers: anyone can send those. A caller sending a `Host` of
/// its choice only misleads itself (the answer is `no-store`, for that caller alone).
fn write_base_url(out: &mut String, request: &HttpRequest, public_url: Option<&str>) -> Result<(), AppError> {
    if let Some(public) = public_url {
        out.push_str(public);
        return Ok(());
    }
    let host = request
        .headers()
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| request.uri().authority().map(|authority| authority.as_str()))
        .filter(|host| is_plain_host(host))
        .ok_or_else(|| {
            AppError::new(ErrorCode::InvalidRequest)
                .with_debug("The request has no usable Host header (PUBLIC_URL is not set)")
        })?;
    out.push_str(if request.app_config().secure() { "https://" } else { "http://" });
    out.push_str(host);
    Ok(())
}

/// A host and port as a `Host` header carries them (a name, an IPv4 or a bracketed IPv6
/// address): nothing else, so no user info or path can slip into an id.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

/// What became of one name of a batch.
pub enum BatchRead {
    /// Served, or answered by the cache or the store (audited on a line of its own).
    Answered(Result<Arc<Secret>, AppError>),
    /// Refused before any store, with the answer for that name (counted, not audited per name).
    Refused(Refusal, AppError),
}

/// The caller's answer for a store failure; the cause goes to the log only.
fn store_error(name: &SecretName, error: StoreError) -> AppError {
    match &error {
        StoreError::Failed { .. } | StoreError::Credential(_) | StoreError::Throttled { .. } => {
            log::warn!("secret {name}: {error}")
        }
        StoreError::MissBudgetSpent { .. } => log::info!("secret {name}: {error}"),
        StoreError::NotFound | StoreError::Disabled(_) => {}
    }
    error.into()
}
