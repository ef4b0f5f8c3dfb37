//! `POST /vault`: many secrets in one call, for a client loading its configuration at start.
//! Every name must pass the name rule, else the whole batch is 400. Each name is then read
//! through `SecretAccess::read_in_batch`, the single read's path (exposure policy, miss
//! budget, cache); names served or answered by the cache or a store get their own audit line,
//! names refused before any store one summary line for the batch. The batch only adds a
//! bounded body, one read per name in any casing, and bounded concurrency.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use crate::AppError;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vaultgate_config::ErrorCode;

use super::body::{has_media_type, read_bounded};
use super::secret_access::{BatchRead, SecretAccess};
use crate::app_state::AppState;
use crate::protected;
use crate::route_table::{Answer, OperationDoc, RequestBody, ResponseHeader, SchemaOf, Tag};
use crate::secrets::audit::{self, Refusals};
use crate::secrets::{Secret, SecretName, SecretValue};

/// Names per request: enough for an application's whole configuration, few enough that one
/// request cannot monopolise the vault.
pub const MAX_NAMES: usize = 100;
/// The body's limit: 100 names of 127 characters, quoted and separated, fit in 14 KiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Characters of a bad name quoted back in the 400's `debug`.
const SHOWN_NAME_CHARS: usize = 64;
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
    let started = Instant::now();
    check_content_type(&request)?;
    let body = read_bounded(&request, payload, MAX_BODY_BYTES).await?;
    let names = parse(&body)?;
    let checked = check_names(&names)?;
    if let Some(state) = request.app_data::<web::Data<AppState>>() {
        state.metrics.http.batch_names.observe(names.len() as f64);
    }

    // One read per name in any casing; every casing asked gets that read's outcome.
    let mut reads: Vec<(SecretName, Vec<&str>)> = Vec::new();
    let mut by_name: HashMap<SecretName, usize> = HashMap::new();
    for (asked, name) in names.iter().zip(checked) {
        match by_name.get(&name) {
            Some(&index) => reads[index].1.push(asked),
            None => {
                by_name.insert(name.clone(), reads.len());
                reads.push((name, vec![asked]));
            }
        }
    }
    let access = &access;
    let outcomes: Vec<(usize, BatchRead)> = futures_util::stream::iter(reads.iter().enumerate())
        .map(|(index, (name, _))| async move { (index, access.read_in_batch(name).await) })
        .buffer_unordered(CONCURRENT_READS)
        .collect()
        .await;

    let mut answer = BatchAnswer { secrets: BTreeMap::new(), errors: BTreeMap::new() };
    let mut refusals = Refusals::default();
    for (index, outcome) in outcomes {
        let outcome = match outcome {
            BatchRead::Answered(outcome) => outcome,
            BatchRead::Refused(refusal, error) => {
                refusals.count(refusal);
                Err(error)
            }
        };
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
    audit::record_refusals(access.caller(), refusals, started.elapsed());
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

/// Every name as a `SecretName`; else 400 naming the first that is not one (quoted escaped and
/// cut short: the caller wrote it).
fn check_names(names: &[String]) -> Result<Vec<SecretName>, AppError> {
    names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            SecretName::parse(name).map_err(|_| {
                AppError::new(ErrorCode::InvalidRequest).with_debug(format!(
                    "names[{index}] is not a secret name (1 to 127 letters, digits and dashes): {}",
                    quoted(name)
                ))
            })
        })
        .collect()
}

/// `text` in quotes with its special characters escaped, its first `SHOWN_NAME_CHARS`
/// characters only (then `…`).
fn quoted(text: &str) -> String {
    let shown: String = text.chars().take(SHOWN_NAME_CHARS).collect();
    let cut = if shown.len() < text.len() { "…" } else { "" };
    format!("{shown:?}{cut}")
}

pub const SECRETS_BATCH: OperationDoc = OperationDoc {
    summary: "Read many secrets at once",
    description: "Body `{\"names\": [...]}`: 1 to 100 names, at most 16 KiB, `application/json`. A name \
                  that is not a secret name (1 to 127 letters, digits and dashes) makes the whole batch 400 \
                  `InvalidRequest`, its `debug` naming the first such name. Each name is read as \
                  `GET /vault/{name}` reads it (`EXPOSED_SECRETS`, `SECRET_ROLES`, miss budget, cache); names \
                  differing only in case are read once. Each name served or answered by the store has its own \
                  audit line; names refused before any store (exposure, role, miss budget) are counted on one \
                  audit line for the batch. The answer is 200 with each name as asked under `secrets` (value, \
                  version, `contentType`, `validity` when outside its window) or under `errors` (the catalog's \
                  `code` and `description` a single read would answer).",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bad_name_is_named_escaped_and_cut_short() {
        let names = ["demo".to_owned(), "a\"b\nc\u{1b}".to_owned(), "also bad".to_owned()];
        assert_eq!(
            check_names(&names).unwrap_err(),
            AppError::new(ErrorCode::InvalidRequest).with_debug(
                "names[1] is not a secret name (1 to 127 letters, digits and dashes): \"a\\\"b\\nc\\u{1b}\""
            )
        );
        let long = "é".repeat(SHOWN_NAME_CHARS + 1);
        assert_eq!(quoted(&long), format!("\"{}\"…", "é".repeat(SHOWN_NAME_CHARS)), "cut by characters");
        assert_eq!(quoted(&"é".repeat(SHOWN_NAME_CHARS)), format!("\"{}\"", "é".repeat(SHOWN_NAME_CHARS)));
        assert_eq!(check_names(&["demo".to_owned(), "DB-password".to_owned()]).unwrap().len(), 2);
    }
}
