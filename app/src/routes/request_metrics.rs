//! Counts every answer by route label and status, and refused authentications by catalog
//! code. The labels are the route table's paths, so callers cannot grow the label space.

use std::sync::Arc;

use crate::AppError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use vaultgate_config::Challenge;

use crate::app_state::AppState;
use crate::metrics::{CodeLabels, RequestLabels};

/// Counts every answer by route and status, and refused authentications by catalog code.
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let http = req.app_data::<web::Data<AppState>>().map(|state| Arc::clone(&state.metrics.http));
    let response = next.call(req).await?;
    if let Some(http) = http {
        let route = response.request().app_data::<RouteLabel>().map_or("unmatched", |label| label.0);
        http.requests.get_or_create(&RequestLabels { route, status: response.status().as_u16() }).inc();
        if let Some(error) = response.response().error().and_then(|e| e.as_error::<AppError>())
            && (error.code().challenge() != Challenge::None
                || error.code().key() == "authorization_service_unavailable")
        {
            http.auth_failures.get_or_create(&CodeLabels { code: error.code().key() }).inc();
        }
    }
    Ok(response)
}

/// The route table's path of the resource that answered, set on each resource as its data:
/// read back without matching the path again (actix's `match_pattern` re-runs the router), and
/// a fixed set, so callers cannot grow the label space.
#[derive(Clone, Copy)]
pub struct RouteLabel(pub &'static str);
