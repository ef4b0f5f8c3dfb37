//! `GET /health`: open to all; each component's state, healthy only when every one is up.
//! `GET /health/live`: 200 while the process serves (for liveness probes).

use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use serde::Serialize;
use vaultgate_config::{AppError, ErrorCode};

use crate::auth::Validator;
use crate::auth::signing_keys::KeysStatus;
use crate::secrets::SecretStore;
use crate::single_flight::SingleFlight;

/// The secret store's last probe, reused for `interval` so health checks never hammer it.
pub struct StoreProbe {
    interval: Duration,
    last: std::sync::Mutex<Option<(Instant, Result<(), String>)>>,
    flight: SingleFlight<(), Result<(), String>>,
}

impl StoreProbe {
    pub fn new(interval: Duration) -> Self {
        StoreProbe { interval, last: std::sync::Mutex::new(None), flight: SingleFlight::default() }
    }

    /// The probe's outcome and its age.
    async fn check(&self, store: &dyn SecretStore) -> (Result<(), String>, Duration) {
        if let Some((at, outcome)) = self.recent() {
            return (outcome, at.elapsed());
        }
        let outcome = self
            .flight
            .run(&(), || async {
                let outcome = store.probe().await;
                *crate::sync::lock(&self.last) = Some((Instant::now(), outcome.clone()));
                outcome
            })
            .await;
        (outcome, Duration::ZERO)
    }

    fn recent(&self) -> Option<(Instant, Result<(), String>)> {
        let last = crate::sync::lock(&self.last);
        last.as_ref().filter(|(at, _)| at.elapsed() < self.interval).cloned()
    }
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    components: Components,
}

#[derive(Serialize)]
struct Components {
    signing_keys: KeysComponent,
    secret_store: StoreComponent,
}

#[derive(Serialize)]
struct KeysComponent {
    status: &'static str,
    #[serde(flatten)]
    keys: KeysStatus,
}

#[derive(Serialize)]
struct StoreComponent {
    status: &'static str,
    kind: &'static str,
    checked_secs_ago: u64,
}

pub async fn health(
    validator: web::Data<Validator>,
    store: web::Data<dyn SecretStore>,
    probe: web::Data<StoreProbe>,
) -> Result<HttpResponse, AppError> {
    let keys = validator.keys().status();
    if keys.loaded == 0 {
        return Err(AppError::new(ErrorCode::HealthCheckFailed).with_debug("signing_keys: none loaded"));
    }
    let (outcome, age) = probe.check(store.get_ref()).await;
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
    HttpResponse::Ok().json(serde_json::json!({"status": "live"}))
}
