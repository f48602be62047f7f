//! API keys: issue, list, revoke, rotate.

use actix_web::{HttpResponse, delete, get, post, web};

use crate::{
    AppState,
    auth::Caller,
    dto::{ApiKeyCreate, ApiKeyIssued, ApiKeyResponse},
    extract::Json,
    problem::ApiError,
};

crate::problems! {
    ListApiKeysErrors = [] + PROTECTED;
    CreateApiKeyErrors = [] + BODY + PROTECTED;
    RevokeApiKeyErrors = [ApiKeyNotFound, Conflict] + PROTECTED;
    RotateApiKeyErrors = [ApiKeyNotFound] + PROTECTED;
}

/// List API keys
///
/// The tenant's keys (administrators) or the caller's own; never their secrets.
#[utoipa::path(
    operation_id = "list_api_keys",
    tag = "API Keys",
    responses((status = 200, description = "The keys", body = Vec<ApiKeyResponse>), ListApiKeysErrors)
)]
#[get("")]
pub async fn list_api_keys(state: web::Data<AppState>, Caller(caller): Caller) -> Result<HttpResponse, ApiError> {
    let keys = state.services.auth.list_keys(&caller).await?;
    Ok(HttpResponse::Ok().json(keys.into_iter().map(ApiKeyResponse::from).collect::<Vec<_>>()))
}

/// Issue an API key
///
/// Issues a key for a principal of the tenant (administrators; never a role above their own).
/// The answer holds the key's secret, shown only now.
#[utoipa::path(
    operation_id = "create_api_key",
    tag = "API Keys",
    request_body = ApiKeyCreate,
    responses((status = 201, description = "The key and its secret", body = ApiKeyIssued), CreateApiKeyErrors)
)]
#[post("")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Json<ApiKeyCreate>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let issued = state
        .services
        .auth
        .issue_key(&caller, b.principal_id, b.role.into(), b.name, b.expires_at.map(Into::into))
        .await?;
    Ok(HttpResponse::Created().json(ApiKeyIssued::from(issued)))
}

/// Revoke an API key
///
/// Revokes a key (its owner or an administrator); it stops working at once. The tenant's last
/// administrator key cannot be revoked.
#[utoipa::path(
    operation_id = "revoke_api_key",
    tag = "API Keys",
    params(("key_id" = String, Path, description = "Key ID")),
    responses((status = 200, description = "The revoked key", body = ApiKeyResponse), RevokeApiKeyErrors)
)]
#[delete("/{key_id}")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    key_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = state.services.auth.revoke_key(&caller, &key_id).await?;
    Ok(HttpResponse::Ok().json(ApiKeyResponse::from(key)))
}

/// Rotate an API key
///
/// Replaces a key with a new one (same principal, role, name and expiry) and revokes the old.
#[utoipa::path(
    operation_id = "rotate_api_key",
    tag = "API Keys",
    params(("key_id" = String, Path, description = "Key ID")),
    responses((status = 201, description = "The new key and its secret", body = ApiKeyIssued), RotateApiKeyErrors)
)]
#[post("/{key_id}/rotate")]
pub async fn rotate_api_key(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    key_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let issued = state.services.auth.rotate_key(&caller, &key_id).await?;
    Ok(HttpResponse::Created().json(ApiKeyIssued::from(issued)))
}
