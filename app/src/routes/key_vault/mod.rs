//! Key Vault's secrets API for reads, so an application using an official Key Vault client
//! (`SecretClient`) reads through vaultgate by changing only the vault URL: Get Secret
//! (`/secrets/{name}`, `/secrets/{name}/` and `/secrets/{name}/{version}`) and Get Secret
//! Versions (`/secrets/{name}/versions`), in Key Vault's shapes. Each read takes the path
//! every read takes (`SecretAccess`); errors are Key Vault's (the route table's `KeyVault`
//! lines); writes answer 405 and nothing is forwarded. `api-version` is accepted in any form,
//! or none.

mod bundle;
pub mod errors;

use std::collections::HashMap;
use std::time::Instant;

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use vaultgate_config::ErrorCode;

use self::bundle::SecretBundle;
use super::secret_access::SecretAccess;
use super::secret_catalog::{ListPage, MAX_RESULTS_PARAM, SKIP_TOKEN_PARAM, list_error, max_results, page_of};
use super::vault::{NAME, VERSION_PARAM};
use crate::AppError;
use crate::protected;
use crate::route_table::{Answer, OperationDoc, Param, ParamIn, ResponseHeader, SchemaOf, Tag};
use crate::secrets::catalog::SecretItem;
use crate::secrets::{SecretName, SecretVersion, audit};

#[protected(role = "GetSecret")]
pub async fn get_secret(name: web::Path<String>, access: SecretAccess) -> Result<HttpResponse, AppError> {
    answer(&access, &name, None).await
}

/// `/secrets/{name}/`: the latest version, as the Python client asks for it.
#[protected(role = "GetSecret")]
pub async fn get_secret_slash(name: web::Path<String>, access: SecretAccess) -> Result<HttpResponse, AppError> {
    answer(&access, &name, None).await
}

#[protected(role = "GetSecret")]
pub async fn get_secret_version(
    path: web::Path<(String, String)>,
    access: SecretAccess,
) -> Result<HttpResponse, AppError> {
    let (name, version) = path.into_inner();
    answer(&access, &name, Some(&version)).await
}

#[protected(role = "GetSecret")]
pub async fn get_secret_versions(
    name: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    access: SecretAccess,
) -> Result<HttpResponse, AppError> {
    let started = Instant::now();
    let outcome = versions_page(&name, &query, &access).await;
    let shown = outcome.as_ref().map_or(0, |page| page.value.len());
    audit::record_listing(access.caller(), shown, outcome.as_ref().map(|_| ()), started.elapsed());
    Ok(HttpResponse::Ok().insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store"))).json(outcome?))
}

/// One secret as Key Vault's SecretBundle, its `id` on vaultgate.
async fn answer(access: &SecretAccess, name: &str, version: Option<&str>) -> Result<HttpResponse, AppError> {
    let mut id = access.base_url()?;
    let secret = access.read_audited(name, version).await?;
    for part in ["/secrets/", &secret.name, "/", &secret.version] {
        id.push_str(part);
    }
    Ok(SecretAccess::respond(&secret, &SecretBundle::of(&secret, id)))
}

/// A page of `name`'s versions, by version, after `$skiptoken`: only for a name this caller
/// may read (the policy answers as a read would), and charged as a listing.
async fn versions_page(
    name: &str,
    query: &HashMap<String, String>,
    access: &SecretAccess,
) -> Result<ListPage, AppError> {
    let name = SecretName::parse(name)?;
    let max = max_results(query)?;
    let after = match query.get("$skiptoken") {
        None => None,
        Some(token) => Some(SecretVersion::parse(token)?.as_str().to_ascii_lowercase()),
    };
    let base = access.base_url()?;
    access.check_policy(&name)?;
    let mut versions = access.versions(&name).await.map_err(list_error)?;
    let version = |item: &SecretItem| item.version.as_deref().unwrap_or_default().to_ascii_lowercase();
    versions.sort_by_cached_key(version);
    // The link names the secret as stored, as the items' ids do.
    let stored = versions.first().map_or(name.as_str(), |item| item.name.as_str());
    let list = format!("{base}/secrets/{stored}/versions");
    Ok(page_of(versions.iter(), version, after.as_deref(), max, &base, &list))
}

const API_VERSION_PARAM: Param = Param {
    name: "api-version",
    location: ParamIn::Query,
    description: "Accepted in any form Key Vault takes (`7.6`, `2025-07-01`), or none",
    pattern: None,
    required: false,
};

const BUNDLE: Answer = Answer::Json {
    description: "The secret as Key Vault's SecretBundle, its `id` on vaultgate; with a \
                  `Vaultgate-Secret-Validity` header when served outside its `nbf`..`exp` window",
    schema: SchemaOf::of::<SecretBundle>(),
    headers: &[ResponseHeader { name: "Cache-Control", description: "`no-store`: never cached on the way" }],
};

const READ_ERRORS: &[ErrorCode] = &[ErrorCode::InvalidSecretName, ErrorCode::InvalidSecretVersion];

pub const GET_SECRET: OperationDoc = OperationDoc {
    summary: "Key Vault's Get Secret: the current version",
    description: "For Key Vault's official clients: answers as Key Vault's Get Secret does, through the same \
                  checks as `/vault/{name}` (name, exposure policy, per-secret roles, miss budget, cache, \
                  audit). Errors are in Key Vault's shape (`{\"error\":{\"code\",\"message\"}}`); a 401 \
                  carries Key Vault's challenge (`authorization`, `resource`). Writes (PUT, PATCH, DELETE, \
                  POST) answer 405.",
    tag: Tag::Secrets,
    params: &[NAME, API_VERSION_PARAM],
    body: None,
    answer: BUNDLE,
    errors: &[SecretAccess::ERRORS, READ_ERRORS],
};

pub const GET_SECRET_SLASH: OperationDoc = OperationDoc {
    summary: "Key Vault's Get Secret: the current version (with an empty version)",
    description: "As `/secrets/{name}`: the form the Python client sends for the current version.",
    ..GET_SECRET
};

pub const GET_SECRET_VERSION: OperationDoc = OperationDoc {
    summary: "Key Vault's Get Secret: one version",
    description: "As `/secrets/{name}`, for the version named.",
    params: &[NAME, VERSION_PARAM, API_VERSION_PARAM],
    ..GET_SECRET
};

pub const GET_SECRET_VERSIONS: OperationDoc = OperationDoc {
    summary: "Key Vault's Get Secret Versions",
    description: "The versions of a secret this caller may read (as a read of the name decides), without \
                  values, in Key Vault's list shape with `id`s on vaultgate; follow `nextLink` for the next \
                  page. Every call lists the store and costs the caller one unit of its miss budget.",
    tag: Tag::Secrets,
    params: &[NAME, MAX_RESULTS_PARAM, SKIP_TOKEN_PARAM, API_VERSION_PARAM],
    body: None,
    answer: Answer::Json {
        description: "One page of the versions",
        schema: SchemaOf::of::<ListPage>(),
        headers: &[ResponseHeader { name: "Cache-Control", description: "`no-store`: never cached on the way" }],
    },
    errors: &[SecretAccess::ERRORS, READ_ERRORS],
};
