//! The extractors: `Authorized<R>` (taken by the handler `#[protected]` writes) and `Caller`
//! (the verified caller, for the handler's own parameters).

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use crate::AppError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::{Either, LocalBoxFuture, Ready, ready};
use vaultgate_config::ErrorCode;

use super::requirement::{Requirement, Rule};
use super::{Claims, Validator, bearer};
use crate::app_state::AppState;

/// Proof that the request carries a valid token meeting `R`: the handler `#[protected]`
/// writes takes it first, so the body and the other extractors run only for authorised callers.
pub struct Authorized<R: Requirement> {
    caller: Caller,
    requirement: PhantomData<R>,
}

impl<R: Requirement> Authorized<R> {
    pub fn caller(&self) -> &Caller {
        &self.caller
    }
}

impl<R: Requirement> FromRequest for Authorized<R> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let rule = configured_rule(&req, &R::RULE)?;
            let caller = authenticate(&req).await?;
            rule.check(&caller, req.path())?;
            Ok(Authorized { caller, requirement: PhantomData })
        })
    }
}

/// `rule` with a role named by a setting put in place; without the settings' roles, such a
/// route refuses every request (it cannot fail open).
fn configured_rule(req: &HttpRequest, rule: &Rule) -> Result<Rule, AppError> {
    if !rule.takes_event_grid_role {
        return Ok(*rule);
    }
    req.app_data::<web::Data<AppState>>().map(|state| state.configured_roles.resolve(rule)).ok_or_else(|| {
        log::error!("no configured EVENT_GRID_ROLE: the route refuses every caller");
        AppError::new(ErrorCode::AuthorizationServiceUnavailable)
    })
}

/// The verified caller: its claims, shared (cloning costs a reference count). As a handler
/// parameter it reuses what `#[protected]` verified; on an unprotected route it verifies the
/// token itself (and refuses the request without a valid one), but checks no requirement.
#[derive(Debug, Clone)]
pub struct Caller(Arc<Claims>);

impl Deref for Caller {
    type Target = Claims;

    fn deref(&self) -> &Claims {
        &self.0
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Either<Ready<Result<Caller, AppError>>, LocalBoxFuture<'static, Result<Caller, AppError>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(caller) = req.extensions().get::<Caller>() {
            return Either::Left(ready(Ok(caller.clone())));
        }
        let req = req.clone();
        Either::Right(Box::pin(async move { authenticate(&req).await }))
    }
}

/// Verifies the request's bearer token once per request; later extractors reuse the result.
async fn authenticate(req: &HttpRequest) -> Result<Caller, AppError> {
    if let Some(caller) = req.extensions().get::<Caller>() {
        return Ok(caller.clone());
    }
    // The server's AppState, or a Validator of their own for handlers outside vaultgate's server.
    let validator = req
        .app_data::<web::Data<AppState>>()
        .map(|state| &state.validator)
        .or_else(|| req.app_data::<web::Data<Validator>>().map(|validator| validator.get_ref()))
        .ok_or_else(|| {
            log::error!("no AppState or Validator registered as app data: protected routes cannot verify tokens");
            AppError::new(ErrorCode::AuthorizationServiceUnavailable)
        })?;
    let token = bearer::token(req.headers())?;
    let caller = Caller(validator.verify(token).await?);
    req.extensions_mut().insert(caller.clone());
    Ok(caller)
}
