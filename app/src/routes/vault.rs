//! The secret routes: `/vault/{name}`, `/vault/{name}/{version}` and the query form
//! `/vault?secret={name}`. Each needs the `GetSecret` role, then what the exposure policy
//! asks for that name.

use std::collections::HashMap;

use crate::AppError;
use actix_web::{HttpResponse, web};
use vaultgate_config::ErrorCode;

use super::secret_access::SecretAccess;
use crate::protected;
use crate::route_table::{Answer, OperationDoc, Param, ParamIn, ResponseHeader, SchemaOf, Tag};
use crate::secrets::Secret;

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

/// The query form. The token is checked before the missing-name answer, so a caller without
/// one learns nothing from it.
#[protected(role = "GetSecret")]
pub async fn secret_by_query(
    query: web::Query<HashMap<String, String>>,
    access: SecretAccess,
) -> Result<HttpResponse, AppError> {
    let name = query.get("secret").filter(|name| !name.is_empty()).ok_or(ErrorCode::SecretNameMissing)?;
    access.answer(name, None).await
}

pub const NAME: Param = Param {
    name: "name",
    location: ParamIn::Path,
    description: "The secret's name, as in Key Vault (case-insensitive)",
    pattern: Some("^[0-9A-Za-z-]{1,127}$"),
    required: true,
};

const SECRET: Answer = Answer::Json {
    description: "The secret; with a `Vaultgate-Secret-Validity: expired` or `not-yet-valid` header when Key \
                  Vault returned it outside its `nbf`..`exp` window (served unless `SECRET_EXPIRY=enforce`)",
    schema: SchemaOf::of::<Secret>(),
    headers: &[ResponseHeader { name: "Cache-Control", description: "`no-store`: never cached on the way" }],
};

pub const VERSION_PARAM: Param = Param {
    name: "version",
    location: ParamIn::Path,
    description: "The version: 32 hexadecimal characters",
    pattern: Some("^[0-9a-fA-F]{32}$"),
    required: true,
};

pub const SECRET_BY_NAME: OperationDoc = OperationDoc {
    summary: "Read a secret's current version",
    description: "Checks the name, the exposure policy (`EXPOSED_SECRETS`, `SECRET_ROLES`), then reads \
                  the store through the cache; one audit line per read.",
    tag: Tag::Secrets,
    params: &[NAME],
    body: None,
    answer: SECRET,
    errors: &[SecretAccess::ERRORS],
};

pub const SECRET_BY_VERSION: OperationDoc = OperationDoc {
    summary: "Read one version of a secret",
    description: "As the current version, for the version named.",
    tag: Tag::Secrets,
    params: &[NAME, VERSION_PARAM],
    body: None,
    answer: SECRET,
    errors: &[SecretAccess::ERRORS, &[ErrorCode::InvalidSecretVersion]],
};

pub const SECRET_BY_QUERY: OperationDoc = OperationDoc {
    summary: "Read a secret's current version (query form)",
    description: "Reads a secret named by the `secret` query parameter, as `/vault/{name}` does. Without \
                  `secret` it answers 400 with a `{\"message\"}` body, after the token is checked.",
    tag: Tag::Secrets,
    params: &[Param {
        name: "secret",
        location: ParamIn::Query,
        description: "The secret's name (without it: 400 `SecretNameMissing`)",
        pattern: None,
        required: false,
    }],
    body: None,
    answer: SECRET,
    errors: &[SecretAccess::ERRORS, &[ErrorCode::SecretNameMissing]],
};
