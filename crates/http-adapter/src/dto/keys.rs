//! API key bodies: never the secret, but once, when a key is issued or rotated.

use crate::dto::common::UtcTime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use toolhub_domain::{api_key::ApiKey, secret::Secret};
use utoipa::ToSchema;

use super::UserRole;

/// An API key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyResponse {
    pub id: String,
    pub tenant: String,
    /// The principal the key authenticates as.
    pub principal_id: String,
    pub role: UserRole,
    pub name: String,
    /// The key's first characters, to recognise it.
    pub key_prefix: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyResponse {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            tenant: k.tenant,
            principal_id: k.principal_id,
            role: k.role.into(),
            name: k.name,
            key_prefix: k.key_prefix,
            expires_at: k.expires_at,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A key to issue for a principal of the caller's tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyCreate {
    pub principal_id: String,
    pub role: UserRole,
    /// A label to tell keys apart.
    pub name: String,
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<UtcTime>,
}

/// A key just issued: `key` is its secret, shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyIssued {
    #[serde(flatten)]
    pub api_key: ApiKeyResponse,
    pub key: String,
}

impl From<(ApiKey, Secret)> for ApiKeyIssued {
    fn from((key, secret): (ApiKey, Secret)) -> Self {
        Self { api_key: key.into(), key: secret.expose().to_owned() }
    }
}
