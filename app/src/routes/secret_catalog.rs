//! `GET /secrets`: the secrets this caller may read, in Key Vault's own list shape (Get
//! Secrets), so Key Vault clients can page through it. Names only, never a value: each item
//! is shown when the exposure policy and the per-secret roles would let this caller read it
//! (the very check a read takes). The store's list is loaded once per `SECRET_CACHE_TTL`
//! (`SecretCatalog`, which charges the load to the caller's miss budget); this answer pages
//! it by name with `maxresults` and `nextLink`.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use crate::AppError;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;
use vaultgate_config::ErrorCode;

use super::secret_access::SecretAccess;
use crate::app_state::AppState;
use crate::protected;
use crate::route_table::{Answer, OperationDoc, Param, ParamIn, ResponseHeader, SchemaOf, Tag};
use crate::secrets::catalog::{ListError, SecretItem};
use crate::secrets::keyvault::API_VERSION;
use crate::secrets::{SecretName, audit};

/// Key Vault's own page size, and its default.
pub const MAX_RESULTS: usize = 25;

/// A page of the list, as Key Vault answers Get Secrets.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SecretListPage)]
pub struct ListPage {
    pub value: Vec<ListItem>,
    /// The next page (`null` on the last one), to be followed as given.
    #[serde(rename = "nextLink")]
    #[schema(schema_with = string_or_null)]
    pub next_link: Option<String>,
}

/// A string or `null`, written as `oneOf` (API Management refuses 3.1's type lists).
fn string_or_null() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some("The next page (`null` on the last one), to be followed as given"))
            .build(),
    )
}

/// Key Vault's `SecretItem`, with an `id` pointing at vaultgate.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SecretListItem)]
pub struct ListItem {
    /// `<vaultgate's URL>/secrets/<name>`
    pub id: String,
    pub attributes: ListAttributes,
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub tags: Option<BTreeMap<String, String>>,
}

/// Key Vault's secret attributes (times in seconds since the epoch), each when known.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SecretListAttributes)]
pub struct ListAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub created: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub updated: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub nbf: Option<i64>,
}

#[protected(role = "GetSecret")]
pub async fn secret_catalog(
    query: web::Query<HashMap<String, String>>,
    access: SecretAccess,
) -> Result<HttpResponse, AppError> {
    let started = Instant::now();
    let outcome = page(&query, &access).await;
    let shown = outcome.as_ref().map_or(0, |page| page.value.len());
    audit::record_listing(access.caller(), shown, outcome.as_ref().map(|_| ()), started.elapsed());
    Ok(HttpResponse::Ok().insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store"))).json(outcome?))
}

async fn page(query: &HashMap<String, String>, access: &SecretAccess) -> Result<ListPage, AppError> {
    let max = max_results(query)?;
    let after = skip_token(query)?;
    let base = access.base_url()?;
    let Some(catalog) = access.request().app_data::<web::Data<AppState>>().map(|state| &state.catalog) else {
        log::error!("no secret catalog registered as app data: GET /secrets cannot serve");
        return Err(ErrorCode::VaultError.into());
    };
    let (budget, caller) = access.miss_budget();
    let items = catalog.items(Some((budget, &caller))).await.map_err(list_error)?;
    // The names this caller may read, in the catalog's (case-insensitive) order.
    let visible = items.iter().filter(|item| SecretName::parse(&item.name).is_ok_and(|name| access.may_read(&name)));
    let list = format!("{base}/secrets");
    Ok(page_of(visible, |item| item.name.to_ascii_lowercase(), after.as_deref(), max, &base, &list))
}

/// The page of `items` (in the order of `key`, lower-cased) that starts past `after`: at most
/// `max` items, and a `nextLink` to `list` carrying the last one's key when more follow.
pub(super) fn page_of<'a>(
    items: impl Iterator<Item = &'a SecretItem>,
    key: impl Fn(&SecretItem) -> String,
    after: Option<&str>,
    max: usize,
    base: &str,
    list: &str,
) -> ListPage {
    let mut rest = items.filter(|item| after.is_none_or(|after| key(item).as_str() > after));
    let shown: Vec<&SecretItem> = rest.by_ref().take(max).collect();
    let next_link = match (shown.last(), rest.next()) {
        (Some(last), Some(_)) => {
            Some(format!("{list}?api-version={API_VERSION}&maxresults={max}&$skiptoken={}", key(last)))
        }
        _ => None,
    };
    ListPage { value: shown.into_iter().map(|item| list_item(base, item)).collect(), next_link }
}

/// An item with its `id` on vaultgate: `<base>/secrets/<name>`, and `/<version>` in a list of
/// versions.
pub fn list_item(base: &str, item: &SecretItem) -> ListItem {
    let id = match &item.version {
        None => format!("{base}/secrets/{}", item.name),
        Some(version) => format!("{base}/secrets/{}/{version}", item.name),
    };
    let attributes = &item.properties.attributes;
    ListItem {
        id,
        attributes: ListAttributes {
            enabled: attributes.enabled,
            created: attributes.created,
            updated: attributes.updated,
            exp: attributes.exp,
            nbf: attributes.nbf,
        },
        content_type: item.content_type.clone(),
        tags: item.properties.tags.clone(),
    }
}

/// `maxresults`: 1 to 25, as Key Vault takes it; 25 when absent.
pub(super) fn max_results(query: &HashMap<String, String>) -> Result<usize, AppError> {
    let Some(value) = query.get("maxresults") else { return Ok(MAX_RESULTS) };
    value.parse().ok().filter(|max| (1..=MAX_RESULTS).contains(max)).ok_or_else(|| {
        AppError::new(ErrorCode::InvalidRequest)
            .with_debug(format!("maxresults must be a whole number from 1 to {MAX_RESULTS}"))
    })
}

/// `$skiptoken`: where the previous page ended (a name, from this list's own `nextLink`).
fn skip_token(query: &HashMap<String, String>) -> Result<Option<String>, AppError> {
    let Some(token) = query.get("$skiptoken") else { return Ok(None) };
    SecretName::parse(token).map(|name| Some(name.as_str().to_ascii_lowercase())).map_err(|_| {
        AppError::new(ErrorCode::InvalidRequest).with_debug("$skiptoken must come from a nextLink of this list")
    })
}

/// The caller's answer for a list that failed (the catalog logged the cause, once per
/// `SECRET_NEGATIVE_TTL`).
pub(super) fn list_error(error: ListError) -> AppError {
    match error {
        ListError::Forbidden(_) => AppError::new(ErrorCode::VaultError).with_debug(
            "vaultgate's identity may not list the vault's secrets: grant it the role Key Vault Secrets User \
             (or the list permission in the vault's access policy)",
        ),
        ListError::Failed(error) => error.into(),
        ListError::Unsupported(_) => ErrorCode::VaultError.into(),
    }
}

/// `maxresults` and `$skiptoken`, as Key Vault's lists take them.
pub const MAX_RESULTS_PARAM: Param = Param {
    name: "maxresults",
    location: ParamIn::Query,
    description: "Items per page, 1 to 25 (default 25)",
    pattern: Some("^[0-9]{1,2}$"),
    required: false,
};

pub const SKIP_TOKEN_PARAM: Param = Param {
    name: "$skiptoken",
    location: ParamIn::Query,
    description: "Where the previous page ended, as this list's `nextLink` gives it",
    pattern: None,
    required: false,
};

pub const SECRET_CATALOG: OperationDoc = OperationDoc {
    summary: "List the secrets this caller may read",
    description: "The secrets this caller may read (the exposure policy and per-secret roles applied with \
                  the caller's roles), names and attributes only, never a value, in Key Vault's own list \
                  shape (Get Secrets) so that Key Vault clients can read it: `id` is \
                  `<PUBLIC_URL or this request's scheme and host>/secrets/<name>`; follow `nextLink` for \
                  the next page. The store's list is cached for `SECRET_CACHE_TTL`, a failure to list it \
                  for `SECRET_NEGATIVE_TTL`. A call that lists the store costs the caller one unit of its \
                  miss budget (`SECRET_MISS_BUDGET`): past it, 429 until the cached list serves again. 502 \
                  with a `debug` when vaultgate's identity may not list the vault (it needs the list \
                  permission).",
    tag: Tag::Secrets,
    params: &[
        MAX_RESULTS_PARAM,
        SKIP_TOKEN_PARAM,
        Param {
            name: "api-version",
            location: ParamIn::Query,
            description: "Accepted and ignored, as Key Vault clients send it",
            pattern: None,
            required: false,
        },
    ],
    body: None,
    answer: Answer::Json {
        description: "One page of the list",
        schema: SchemaOf::of::<ListPage>(),
        headers: &[ResponseHeader { name: "Cache-Control", description: "`no-store`: never cached on the way" }],
    },
    errors: &[&[ErrorCode::VaultError, ErrorCode::VaultThrottled, ErrorCode::SecretMissBudgetExceeded]],
};
