//! `POST /events/keyvault`: Key Vault events from Azure Event Grid (Event Grid schema or
//! CloudEvents 1.0) drop the cached entries of the secrets they name; `OPTIONS` answers the
//! CloudEvents webhook handshake. Secured as Event Grid's Entra ID webhook delivery is: a
//! token for our app registration with the role `EVENT_GRID_ROLE`, issued to Event Grid's
//! own application. Only the home tenant's Event Grid (`tid` = `TENANT_ID`) counts: another
//! tenant a multi-tenant app accepts (`ALLOWED_TENANTS`) gets no handshake, and its events
//! are ignored.

use crate::AppError;
use actix_web::http::Method;
use actix_web::http::header::{ALLOW, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use vaultgate_config::ErrorCode;

use super::body::{has_media_type, read_bounded};
use super::events_schema::KeyVaultDelivery;
use crate::app_state::AppState;
use crate::auth::{Authorized, Requirement, Rule};
use crate::route_table::{Answer, OperationDoc, RequestBody, ResponseHeader, SchemaOf, Tag};
use crate::secrets::events::{DeliveredBy, Delivery};

/// Event Grid's first-party application: Azure public cloud, then Azure Government.
pub const EVENT_GRID_APP_IDS: &[&str] =
    &["4962773b-9cdb-44cf-a8bf-237846a00ab7", "54316b56-3481-47f9-8f30-0300f5542a7b"];

/// A delivery is at most about 1 MB (`preferredBatchSizeInKilobytes` ≤ 1024), or one event of
/// up to 1 MB delivered alone; twice that leaves room for either.
pub const MAX_DELIVERY_BYTES: usize = 2 * 1024 * 1024;

const REQUEST_ORIGIN: HeaderName = HeaderName::from_static("webhook-request-origin");
const ALLOWED_ORIGIN: HeaderName = HeaderName::from_static("webhook-allowed-origin");
const ALLOWED_RATE: HeaderName = HeaderName::from_static("webhook-allowed-rate");

/// The media types deliveries come in: the Event Grid schema's, then CloudEvents' own.
const MEDIA_TYPES: &[&str] =
    &["application/json", "application/cloudevents+json", "application/cloudevents-batch+json"];

/// The role `EVENT_GRID_ROLE` names, which the events route requires.
pub struct EventGridRole;

impl Requirement for EventGridRole {
    const RULE: Rule = Rule::EVENT_GRID_ROLE;
}

/// Written as `#[protected]` writes a handler: the requirement is checked (by `Authorized`)
/// before the body is read.
pub async fn keyvault_events(
    authorized: Authorized<EventGridRole>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let caller = authorized.caller();
    // `Authorized` resolved the role from this state: it is there.
    let state = request.app_data::<web::Data<AppState>>().cloned().ok_or_else(|| {
        log::error!("no AppState registered as app data: Key Vault events cannot be applied");
        AppError::new(ErrorCode::AuthorizationServiceUnavailable)
    })?;
    // The role alone is not enough: it must be Event Grid that holds it.
    if !caller.appid.as_deref().is_some_and(|appid| EVENT_GRID_APP_IDS.contains(&appid)) {
        return Err(AppError::new(ErrorCode::MissingPathRole)
            .with_debug("Key Vault events are accepted from Azure Event Grid's application only"));
    }
    // Another tenant's Event Grid could route its own vaults' events here: no consent to it.
    let delivered_by = state.events.delivered_by(caller.tid.as_deref());
    if request.method() == Method::OPTIONS {
        if delivered_by == DeliveredBy::OtherTenant {
            return Err(AppError::new(ErrorCode::MissingPathRole)
                .with_debug("Key Vault events are accepted from the home tenant's Event Grid only"));
        }
        return handshake(&request);
    }
    check_content_type(&request)?;
    let body = read_bounded(&request, payload, MAX_DELIVERY_BYTES).await?;
    if delivered_by == DeliveredBy::OtherTenant {
        log::warn!("Key Vault events delivered from another tenant's Event Grid are ignored (only TENANT_ID's count)");
    }
    match state.events.read(&body, delivered_by)? {
        Delivery::Validation { code } => {
            log::info!("Event Grid subscription validation answered");
            Ok(HttpResponse::Ok().json(ValidationResponse { validation_response: code }))
        }
        Delivery::Events { invalidate, ignored, total } => {
            state.events.apply(&invalidate, ignored);
            Ok(HttpResponse::Ok().json(Received { events: total, invalidated: invalidate.len(), ignored }))
        }
    }
}

/// The CloudEvents 1.0 webhook handshake: consent is `WebHook-Allowed-Origin`.
fn handshake(request: &HttpRequest) -> Result<HttpResponse, AppError> {
    let origin =
        request.headers().get(REQUEST_ORIGIN).filter(|origin| is_host_name(origin.as_bytes())).ok_or_else(|| {
            AppError::new(ErrorCode::InvalidRequest)
                .with_debug("the handshake needs WebHook-Request-Origin: a host name")
        })?;
    Ok(HttpResponse::Ok()
        .insert_header((ALLOW, HeaderValue::from_static("POST")))
        .insert_header((ALLOWED_ORIGIN, origin.clone()))
        .insert_header((ALLOWED_RATE, HeaderValue::from_static("*")))
        .finish())
}

fn is_host_name(value: &[u8]) -> bool {
    !value.is_empty() && value.len() <= 253 && value.iter().all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(b))
}

fn check_content_type(request: &HttpRequest) -> Result<(), AppError> {
    if has_media_type(request, MEDIA_TYPES) {
        return Ok(());
    }
    Err(AppError::new(ErrorCode::UnsupportedContentType)
        .with_debug("deliveries are application/json or application/cloudevents(-batch)+json"))
}

/// The Event Grid schema's handshake answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ValidationResponse {
    #[serde(rename = "validationResponse")]
    validation_response: String,
}

/// What a delivery did: events read, of which dropped a cached secret or were ignored.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Received {
    events: usize,
    invalidated: usize,
    ignored: usize,
}

pub const KEYVAULT_EVENTS: OperationDoc = OperationDoc {
    summary: "Key Vault events from Azure Event Grid (push invalidation)",
    description: "For Azure Event Grid's webhook delivery with Microsoft Entra ID, in the Event Grid schema \
                  (`application/json`, a JSON array) or as CloudEvents 1.0 (`application/cloudevents+json`, \
                  an event or an array), at most 5000 events and 2 MiB. `SecretNewVersionCreated`, \
                  `SecretNearExpiry` and `SecretExpired` from this server's vault (`topic`, CloudEvents \
                  `source`, the vault's resource id `/subscriptions/*/resourceGroups/*/providers/\
                  Microsoft.KeyVault/vaults/<the first label of KEY_VAULT_URL's host>`, in any case) and about \
                  it (`data.Id` under `KEY_VAULT_URL`, else `data.VaultName`) drop the cached entries of \
                  `data.ObjectName`; other events are accepted and ignored, and so is every event of a token \
                  whose `tid` is not `TENANT_ID` (a tenant of `ALLOWED_TENANTS`), which also gets no \
                  handshake (no `validationResponse`; 403 to `OPTIONS`). The Event Grid schema's \
                  `Microsoft.EventGrid.SubscriptionValidationEvent` is answered with \
                  `{\"validationResponse\": <validationCode>}` (a `ValidationResponse`); `OPTIONS` answers \
                  the CloudEvents handshake (`WebHook-Request-Origin` → `WebHook-Allowed-Origin`, empty body). \
                  The token must also be Event Grid's own (`appid` \
                  4962773b-9cdb-44cf-a8bf-237846a00ab7, or 54316b56-3481-47f9-8f30-0300f5542a7b in Azure \
                  Government), else 403.",
    tag: Tag::Operations,
    params: &[],
    body: Some(RequestBody {
        description: "A delivery: Event Grid schema events (an array), or CloudEvents 1.0 (an event or an array); at \
                      most 5000 events and 2 MiB",
        schema: SchemaOf::of::<KeyVaultDelivery>(),
    }),
    answer: Answer::Json {
        description: "The delivery was read: how many events, how many dropped a cached secret, how many were \
                      ignored (or, for the validation event, `{\"validationResponse\"}`)",
        schema: SchemaOf::of::<Received>(),
        headers: &[ResponseHeader {
            name: "WebHook-Allowed-Origin",
            description: "`OPTIONS` only: the handshake's consent, the request's `WebHook-Request-Origin`",
        }],
    },
    errors: &[&[ErrorCode::InvalidRequest, ErrorCode::UnsupportedContentType, ErrorCode::RequestBodyTooLarge]],
};
