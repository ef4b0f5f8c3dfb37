//! The secret routes: `/vault/{name}`, `/vault/{name}/{version}` and the seed's
//! `/vault?secret={name}`. Each needs the `GetSecret` role, then what the exposure policy
//! asks for that name.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use vaultgate_config::{AppError, ErrorCode};

use super::secret_access::SecretAccess;
use crate::protected;

#[protected(role = "GetSecret")]
pub async fn secret_by_name(name: web::Path<String>, access: SecretAccess) -> Result<HttpResponse, AppError> {
    access.answer(&name, None).await
}

#[protected(role = "GetSecret")]
pub async fn secret_by_version(
    path: web::Path<(String, String)>,
    access: SecretAccess,
) -> Result<HttpResponse, AppError> {
    let (name, version) = path.into_inner();
    access.answer(&name, Some(&version)).await
}

/// The seed's form. As in the seed, the token is checked before the missing-name answer.
#[protected(role = "GetSecret")]
pub async fn secret_by_query(
    query: web::Query<HashMap<String, String>>,
    access: SecretAccess,
) -> Result<HttpResponse, AppError> {
    let name = query.get("secret").filter(|name| !name.is_empty()).ok_or(ErrorCode::SecretNameMissing)?;
    access.answer(name, None).await
}
