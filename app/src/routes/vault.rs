//! The secret routes: `/vault/{name}`, `/vault/{name}/{version}` and the seed's
//! `/vault?secret={name}`. Each needs the `GetSecret` role, then what the exposure policy
//! asks for that name.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use vaultgate_config::{AppError, ErrorCode};

use crate::auth::authenticate;
use crate::protected;
use crate::secrets::policy::ExposurePolicy;
use crate::secrets::{Secret, SecretName, SecretStore, SecretVersion, audit};
use crate::{Claims, routes};

/// What every secret route needs beside its own parameters.
pub struct SecretRead<'a> {
    store: &'a dyn SecretStore,
    policy: &'a ExposurePolicy,
    caller: &'a Claims,
    path: &'a str,
}

#[protected(role = "GetSecret")]
pub async fn secret_by_name(
    req: HttpRequest,
    name: web::Path<String>,
    store: web::Data<dyn SecretStore>,
    policy: web::Data<ExposurePolicy>,
) -> Result<HttpResponse, AppError> {
    let caller = authenticate(&req).await?;
    let read = SecretRead { store: store.get_ref(), policy: &policy, caller: &caller, path: req.path() };
    read.answer(&name, None).await
}

#[protected(role = "GetSecret")]
pub async fn secret_by_version(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    store: web::Data<dyn SecretStore>,
    policy: web::Data<ExposurePolicy>,
) -> Result<HttpResponse, AppError> {
    let (name, version) = path.into_inner();
    let caller = authenticate(&req).await?;
    let read = SecretRead { store: store.get_ref(), policy: &policy, caller: &caller, path: req.path() };
    read.answer(&name, Some(&version)).await
}

/// The seed's form. As in the seed, the token is checked before the missing-name answer.
#[protected(role = "GetSecret")]
pub async fn secret_by_query(
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    store: web::Data<dyn SecretStore>,
    policy: web::Data<ExposurePolicy>,
) -> Result<HttpResponse, AppError> {
    let name = query.get("secret").filter(|name| !name.is_empty()).ok_or(ErrorCode::SecretNameMissing)?;
    let caller = authenticate(&req).await?;
    let read = SecretRead { store: store.get_ref(), policy: &policy, caller: &caller, path: req.path() };
    read.answer(name, None).await
}

impl SecretRead<'_> {
    /// Reads and answers one secret, with its audit line.
    async fn answer(&self, name: &str, version: Option<&str>) -> Result<HttpResponse, AppError> {
        let started = Instant::now();
        let outcome = self.read(name, version).await;
        audit::record(self.caller, name, version, &outcome, started.elapsed());
        let secret = outcome?;
        Ok(HttpResponse::Ok().insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store"))).json(&*secret))
    }

    async fn read(&self, name: &str, version: Option<&str>) -> Result<Arc<Secret>, AppError> {
        let name = SecretName::parse(name)?;
        let version = version.map(SecretVersion::parse).transpose()?;
        self.policy.check(&name, self.caller, self.path)?;
        self.store.get(&name, version.as_ref()).await.map_err(|error| routes::store_error(&name, error))
    }
}
