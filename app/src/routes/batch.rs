//! `POST /vault`: many secrets in one call, for a client loading its configuration at start.
//! Each name is read through `SecretAccess::read_audited`, the one path every read takes
//! (name check, exposure policy, miss budget, cache, audit line); the batch only adds a
//! bounded body, one read per name in any casing, and bounded concurrency.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vaultgate_config::{AppError, ErrorCode};

use super::body::{has_media_type, read_bounded};
use super::secret_access::SecretAccess;
use crate::metrics::HttpMetrics;
use crate::protected;
use crate::route_table::{Answer, OperationDoc, RequestBody, ResponseHeader, SchemaOf, Tag};
use crate::secrets::{Secret, SecretName, SecretValue};

/// Names per request: enough for an application's whole configuration, few enough that one
/// request cannot monopolise the vault.
pub const MAX_NAMES: usize = 100;
/// The body's limit: 100 names of 127 characters, quoted and separated, fit in 14 KiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Reads of one batch running at once: a cold batch costs at most this many vault calls in
/// flight, so one caller's batch cannot take the whole of `KEY_VAULT_MAX_GETS_PER_10S` at once.
pub const CONCURRENT_READS: usize = 8;

/// The request: `{"names": ["a", "b", ...]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BatchReadRequest)]
pub struct BatchRequest {
    /// 1 to 100 secret names (case-insensitive; names differing only in case are read once).
    #[schema(min_items = 1, max_items = 100)]
    pub names: Vec<String>,
}

/// The answer: each name as asked, under `secrets` or `errors`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BatchReadAnswer)]
pub struct BatchAnswer {
    pub secrets: BTreeMap<String, BatchSecret>,
    pub errors: BTreeMap<String, BatchError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchSecret {
    #[schema(value_type = String)]
    pub value: SecretValue,
    pub version: String,
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub content_type: Option<String>,
    /// `expired` or `not-yet-valid` when Key Vault returned the secret outside its `nbf`..`exp`
    /// window (what the single read says in `Vaultgate-Secret-Validity`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub validity: Option<&'static str>,
}

/// A name that could not be read: the catalog's code and description, as a single read answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchError {
    pub code: &'static str,
    pub description: &'static str,
}

impl From<&Secret> for BatchSecret {
    fn from(secret: &Secret) -> Self {
        BatchSecret {
            value: secret.value.clone(),
            version: secret.version.clone(),
            content_type: secret.content_type.clone(),
            validity: secret.validity.map(|v| v.header_value()),
        }
    }
}

impl From<&AppError> for BatchError {
    fn from(error: &AppError) -> Self {
        BatchError { code: error.code().code(), description: error.code().description() }
    }
}

#[protected(role = "GetSecret")]
pub async fn secrets_batch(
    request: HttpRequest,
    payload: web::Payload,
    access: SecretAccess,
) -> Result<HttpResponse, AppError> {
    check_content_type(&request)?;
    let body = read_bounded(&request, payload, MAX_BODY_BYTES).await?;
    let names = parse(&body)?;
    if let Some(metrics) = request.app_data::<web::Data<Arc<HttpMetrics>>>() {
        metrics.batch_names.observe(names.len() as f64);
    }

    // One read per name in any casing; every casing asked gets that read's outcome. Names that
    // are not names at all stay apart (each gets its own `InvalidSecretName` and audit line).
    let mut reads: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for name in &names {
        let key = if SecretName::parse(name).is_ok() { name.to_ascii_lowercase() } else { name.clone() };
        match by_key.get(&key) {
            Some(&index) => reads[index].1.push(name),
            None => {
                by_key.insert(key, reads.len());
                reads.push((name, vec![name]));
            }
        }
    }
    let access = &access;
    let outcomes: Vec<(usize, Result<Arc<Secret>, AppError>)> = futures_util::stream::iter(reads.iter().enumerate())
        .map(|(index, (name, _))| async move { (index, access.read_audited(name, None).await) })
        .buffer_unordered(CONCURRENT_READS)
        .collect()
        .await;

    let mut answer = BatchAnswer { secrets: BTreeMap::new(), errors: BTreeMap::new() };
    for (index, outcome) in outcomes {
        for asked in &reads[index].1 {
            match &outcome {
                Ok(secret) => {
                    answer.secrets.insert((*asked).to_owned(), BatchSecret::from(&**secret));
                }
                Err(error) => {
                    answer.errors.insert((*asked).to_owned(), BatchError::from(error));
                }
            }
        }
    }
    Ok(HttpResponse::Ok().insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store"))).json(answer))
}

/// JSON only (`application/json`, any parameters); anything else is 415 before the body is read.
fn check_content_type(request: &HttpRequest) -> Result<(), AppError> {
    if has_media_type(request, &["application/json"]) { Ok(()) } else { Err(ErrorCode::UnsupportedContentType.into()) }
}

/// `{"names": [...]}` with 1 to `MAX_NAMES` strings; else 400 saying which rule failed.
fn parse(body: &[u8]) -> Result<Vec<String>, AppError> {
    let request: BatchRequest = serde_json::from_slice(body).map_err(|_| {
        AppError::new(ErrorCode::InvalidRequest)
            .with_debug("The body must be JSON of the form {\"names\": [\"name\", ...]}")
    })?;
    if request.names.is_empty() || request.names.len() > MAX_NAMES {
        return Err(AppError::new(ErrorCode::InvalidRequest)
            .with_debug(format!("names must hold 1 to {MAX_NAMES} secret names, got {}", request.names.len())));
    }
    Ok(request.names)
}

pub const SECRETS_BATCH: OperationDoc = OperationDoc {
    summary: "Read many secrets at once",
    description: "Body `{\"names\": [...]}`: 1 to 100 names, at most 16 KiB, `application/json`. Each name \
                  is read as `GET /vault/{name}` reads it (name check, `EXPOSED_SECRETS`, `SECRET_ROLES`, \
                  miss budget, cache, one audit line per name); names differing only in case are read once. \
                  The answer is 200 with each name as asked under `secrets` (value, version, `contentType`, \
                  `validity` when outside its window) or under `errors` (the catalog's `code` and \
                  `description` a single read would answer).",
    tag: Tag::Secrets,
    params: &[],
    body: Some(RequestBody {
        description: "The names to read (1 to 100; at most 16 KiB)",
        schema: SchemaOf::of::<BatchRequest>(),
    }),
    answer: Answer::Json {
        description: "Each name asked, under `secrets` or `errors`",
        schema: SchemaOf::of::<BatchAnswer>(),
        headers: &[ResponseHeader { name: "Cache-Control", description: "`no-store`: never cached on the way" }],
    },
    errors: &[],
};
