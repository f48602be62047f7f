//! Liveness and readiness, open to anyone.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{AppState, problem::ApiError};

crate::problems! {
    ReadyzErrors = [NotReady];
}

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    pub status: String,
}

/// Liveness
///
/// Answers while the process serves HTTP.
#[utoipa::path(
    operation_id = "healthz",
    tag = "Health",
    security(()),
    responses((status = 200, description = "The process is alive", body = HealthStatus))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok".into() })
}

/// Readiness
///
/// Ready when the database answers and every migration is applied.
#[utoipa::path(
    operation_id = "readyz",
    tag = "Health",
    security(()),
    responses(
        (status = 200, description = "Ready to serve", body = HealthStatus),
        ReadyzErrors,
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.readiness.check().await {
        Ok(()) => Ok(HttpResponse::Ok().json(HealthStatus { status: "ready".into() })),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            Err(ApiError::new(toolhub_domain::ErrorCode::NotReady, "not ready to serve"))
        }
    }
}
