//! The middleware of the Key Vault-compatible routes: any catalog error their handlers,
//! `#[protected]` or their 405 answer is rendered again in Key Vault's shape, with Key
//! Vault's challenge on a 401 (an `Allow` header is kept). A plain `Transform` rather than
//! `from_fn`: a hot read pays no allocation for it.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderValue};
use actix_web::web;
use futures_util::future::{MapOk, Ready, TryFutureExt, ready};

use crate::AppError;
use crate::app_state::AppState;

/// Wraps a resource whose errors take Key Vault's shape.
pub struct InKeyVaultShape;

impl<S, B> Transform<S, ServiceRequest> for InKeyVaultShape
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = InKeyVaultShapeService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(InKeyVaultShapeService { service }))
    }
}

pub struct InKeyVaultShapeService<S> {
    service: S,
}

type Reshape<B> = fn(ServiceResponse<B>) -> ServiceResponse<EitherBody<B>>;

impl<S, B> Service<ServiceRequest> for InKeyVaultShapeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = MapOk<S::Future, Reshape<B>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        self.service.call(request).map_ok(reshape::<B> as Reshape<B>)
    }
}

/// The answer as is, unless it carries a catalog error: then that error in Key Vault's shape.
fn reshape<B: MessageBody>(response: ServiceResponse<B>) -> ServiceResponse<EitherBody<B>> {
    let Some(error) = response.response().error().and_then(|error| error.as_error::<AppError>()) else {
        return response.map_into_left_body();
    };
    let bearer = HeaderValue::from_static("Bearer");
    let state = response.request().app_data::<web::Data<AppState>>();
    let mut rendered = error.key_vault_response(state.map_or(&bearer, |state| &state.key_vault_challenge));
    if let Some(allow) = response.headers().get(header::ALLOW) {
        rendered.headers_mut().insert(header::ALLOW, allow.clone());
    }
    response.into_response(rendered).map_into_right_body()
}
