//! The secret routes: `/vault/{name}`, `/vault/{name}/{version}` and the seed's
//! `/vault?secret={name}`. Each needs the `GetSecret` role.

use std::collections::HashMap;

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use vaultgate_config::{AppError, ErrorCode};

use crate::protected;
use crate::secrets::{SecretName, SecretStore, SecretVersion};

#[protected(role = "GetSecret")]
pub async fn secret_by_name(
    path: web::Path<String>,
    store: web::Data<dyn SecretStore>,
) -> Result<HttpResponse, AppError> {
    read(store.get_ref(), &path, None).await
}

#[protected(role = "GetSecret")]
pub async fn secret_by_version(
    path: web::Path<(String, String)>,
    store: web::Data<dyn SecretStore>,
) -> Result<HttpResponse, AppError> {
    let (name, version) = path.into_inner();
    read(store.get_ref(), &name, Some(&version)).await
}

/// The seed's form. As in the seed, the token is checked before the missing-name answer.
#[protected(role = "GetSecret")]
pub async fn secret_by_query(
    query: web::Query<HashMap<String, String>>,
    store: web::Data<dyn SecretStore>,
) -> Result<HttpResponse, AppError> {
    let name = query.get("secret").filter(|name| !name.is_empty()).ok_or(ErrorCode::SecretNameMissing)?;
    read(store.get_ref(), name, None).await
}

async fn read(store: &dyn SecretStore, name: &str, version: Option<&str>) -> Result<HttpResponse, AppError> {
    let name = SecretName::parse(name)?;
    let version = version.map(SecretVersion::parse).transpose()?;
    let secret = store.get(&name, version.as_ref()).await?;
    Ok(HttpResponse::Ok().insert_header(CacheControl(vec![CacheDirective::NoStore])).json(secret))
}
