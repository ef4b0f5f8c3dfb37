//! `GET /health`: open to all; each component's state, healthy only when every one is up.
//! `GET /health/live`: 200 while the process serves (for liveness probes).

use crate::AppError;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use vaultgate_config::ErrorCode;

use crate::app_state::AppState;
use crate::auth::signing_keys::KeysStatus;
use crate::route_table::{Answer, OperationDoc, SchemaOf, Tag};
use crate::secrets::SecretStore;

/// vaultgate is healthy: every component is up.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `healthy`
    status: &'static str,
    components: Components,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = HealthComponents)]
struct Components {
    signing_keys: KeysComponent,
    secret_store: StoreComponent,
}

#[derive(Serialize, utoipa::ToSchema)]
struct KeysComponent {
    /// `up`
    status: &'static str,
    #[serde(flatten)]
    keys: KeysStatus,
}

#[derive(Serialize, utoipa::ToSchema)]
struct StoreComponent {
    /// `up`
    status: &'static str,
    /// `directory` or `key-vault`
    kind: &'static str,
    /// Seconds since the store was last probed (probes are `HEALTH_PROBE_INTERVAL_SECS` apart).
    checked_secs_ago: u64,
}

/// The process serves.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Live {
    /// `live`
    status: &'static str,
}

pub async fn health(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let store: &dyn SecretStore = state.secrets.as_ref();
    let keys = state.validator.keys().status();
    if keys.loaded == 0 {
        return Err(AppError::new(ErrorCode::HealthCheckFailed).with_debug("signing_keys: none loaded"));
    }
    let (outcome, age) = state.probe.check(store).await;
    if let Err(reason) = outcome {
        log::warn!("health: the {} secret store is unusable: {reason}", store.kind());
        return Err(AppError::new(ErrorCode::HealthCheckFailed).with_debug("secret_store: unreachable"));
    }
    Ok(HttpResponse::Ok().json(Health {
        status: "healthy",
        components: Components {
            signing_keys: KeysComponent { status: "up", keys },
            secret_store: StoreComponent { status: "up", kind: store.kind(), checked_secs_ago: age.as_secs() },
        },
    }))
}

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Live { status: "live" })
}

pub const HEALTH: OperationDoc = OperationDoc {
    summary: "Health of every component",
    description: "Healthy when signing keys are loaded and the secret store answers its probe; \
                  otherwise 500 with `debug` naming the component that is down. For readiness probes.",
    tag: Tag::Operations,
    params: &[],
    body: None,
    answer: Answer::Json { description: "Every component is up", schema: SchemaOf::of::<Health>(), headers: &[] },
    errors: &[&[ErrorCode::HealthCheckFailed]],
};

pub const LIVE: OperationDoc = OperationDoc {
    summary: "Liveness",
    description: "200 while the process serves, whatever its components say. For liveness probes.",
    tag: Tag::Operations,
    params: &[],
    body: None,
    answer: Answer::Json { description: "The process serves", schema: SchemaOf::of::<Live>(), headers: &[] },
    errors: &[],
};
