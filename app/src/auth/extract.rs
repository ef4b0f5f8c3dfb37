//! The extractors: `Authorized<R>` (added by `#[protected]`) and `Claims`.

use std::marker::PhantomData;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use vaultgate_config::{AppError, ErrorCode};

use super::requirement::Requirement;
use super::{Claims, Validator, bearer};

/// Proof that the request carries a valid token meeting `R`. `#[protected]` adds it as
/// the handler's first parameter, so the body runs only for authorised callers.
pub struct Authorized<R: Requirement> {
    claims: Arc<Claims>,
    requirement: PhantomData<R>,
}

impl<R: Requirement> Authorized<R> {
    pub fn claims(&self) -> &Claims {
        &self.claims
    }
}

impl<R: Requirement> FromRequest for Authorized<R> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let claims = authenticate(&req).await?;
            R::RULE.check(&claims, req.path())?;
            Ok(Authorized { claims, requirement: PhantomData })
        })
    }
}

impl FromRequest for Claims {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await.map(|claims| Claims::clone(&claims)) })
    }
}

/// Verifies the request's bearer token once per request; later extractors reuse the result.
pub async fn authenticate(req: &HttpRequest) -> Result<Arc<Claims>, AppError> {
    if let Some(claims) = req.extensions().get::<Arc<Claims>>() {
        return Ok(claims.clone());
    }
    let validator = req.app_data::<web::Data<Validator>>().ok_or_else(|| {
        log::error!("no Validator registered as app data: protected routes cannot verify tokens");
        AppError::new(ErrorCode::AuthorizationServiceUnavailable)
    })?;
    let token = bearer::token(req.headers())?;
    let claims = validator.verify(token).await?;
    req.extensions_mut().insert(claims.clone());
    Ok(claims)
}

/// The claims `#[protected]` (or an earlier `Claims` extractor) verified for this request.
pub fn authenticated(req: &HttpRequest) -> Option<Arc<Claims>> {
    req.extensions().get::<Arc<Claims>>().cloned()
}
