//! Liveness and readiness, open to anyone; the replicas, for the operator.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{AppState, auth::Caller, problem::ApiError};

crate::problems! {
    ReadyzErrors = [NotReady];
    ListReplicasErrors = [] + PROTECTED;
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

/// A Toolhub process sharing the database.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplicaInfo {
    pub id: String,
    /// Host name and process id.
    pub label: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Its last heartbeat; one silent for three heartbeats is dead and no longer listed.
    pub heartbeat_at: chrono::DateTime<chrono::Utc>,
    /// The replica that answered this request.
    pub current: bool,
}

/// The live replicas.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplicaList {
    pub replicas: Vec<ReplicaInfo>,
}

/// List Replicas
///
/// The Toolhub processes sharing this database that are alive (super administrators). Each
/// server's state on each replica is in the server's health.
#[utoipa::path(
    operation_id = "list_replicas",
    tag = "Health",
    responses((status = 200, description = "The live replicas, oldest first", body = ReplicaList), ListReplicasErrors)
)]
#[get("/api/v1/replicas")]
pub async fn list_replicas(state: web::Data<AppState>, Caller(caller): Caller) -> Result<HttpResponse, ApiError> {
    let lifecycle = &state.services.lifecycle;
    let replicas = lifecycle.replicas(&caller).await?;
    let replicas = replicas
        .into_iter()
        .map(|replica| ReplicaInfo {
            current: replica.id == lifecycle.replica_id(),
            id: replica.id,
            label: replica.label,
            started_at: replica.started_at,
            heartbeat_at: replica.heartbeat_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(ReplicaList { replicas }))
}
