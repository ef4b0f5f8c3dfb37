//! `GET /metrics`: the registry's metrics in OpenMetrics text.

use actix_web::{HttpResponse, web};

use crate::app_state::AppState;

/// `GET /metrics`.
pub async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type(OPENMETRICS).body(state.metrics.encode())
}

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub const SCRAPE: crate::route_table::OperationDoc = crate::route_table::OperationDoc {
    summary: "Prometheus metrics",
    description: "OpenMetrics text: requests by route and status, refused authentications by code, \
                  signing-key fetches, Key Vault calls and latency, secret cache hits, misses and stale \
                  answers. `METRICS=off` removes it.",
    tag: crate::route_table::Tag::Operations,
    params: &[],
    body: None,
    answer: crate::route_table::Answer::Body { description: "The metrics", media_types: &[OPENMETRICS] },
    errors: &[],
};
