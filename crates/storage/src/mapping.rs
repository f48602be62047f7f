//! Conversions between domain values and rows. Secret values are sealed on the way in and
//! opened on the way out; enums are stored as their wire strings.

use serde_json::{Map, Value, json};
use toolhub_domain::{
    DomainError, Role,
    api_key::ApiKey,
    ports::SecretCipher,
    principal::User,
    secret::{ConfigMap, ConfigValue},
    server::{OAuthConfig, OpenApiSettings, ToolServer},
    tool::Tool,
};

use crate::entities::{api_keys, tool_servers, tools, users};

type Result<T> = std::result::Result<T, DomainError>;

/// A stored value the domain cannot read back.
pub(crate) fn corrupt(what: &str) -> DomainError {
    DomainError::Storage(format!("stored {what} is malformed"))
}

fn parse<T: std::str::FromStr>(value: &str, what: &str) -> Result<T> {
    value.parse().map_err(|_| corrupt(what))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T> {
    serde_json::from_value(value).map_err(|_| corrupt(what))
}

/// `{"NAME": {"value": "..."}}` for plain values, `{"NAME": {"sealed": "v1:..."}}` for secrets.
fn config_map_to_json(map: &ConfigMap, cipher: &dyn SecretCipher) -> Value {
    let entries: Map<String, Value> = map
        .iter()
        .map(|(name, value)| {
            let stored = match value {
                ConfigValue::Plain(v) => json!({ "value": v }),
                ConfigValue::Secret(s) => json!({ "sealed": cipher.seal(s) }),
            };
            (name.clone(), stored)
        })
        .collect();
    Value::Object(entries)
}

fn config_map_from_json(value: Value, cipher: &dyn SecretCipher, what: &str) -> Result<ConfigMap> {
    let Value::Object(entries) = value else { return Err(corrupt(what)) };
    entries
        .into_iter()
        .map(|(name, stored)| {
            let value = match (stored.get("value"), stored.get("sealed")) {
                (Some(Value::String(v)), None) => ConfigValue::Plain(v.clone()),
                (None, Some(Value::String(sealed))) => ConfigValue::Secret(cipher.open(sealed)?),
                _ => return Err(corrupt(what)),
            };
            Ok((name, value))
        })
        .collect()
}

fn oauth_to_json(oauth: &OAuthConfig, cipher: &dyn SecretCipher) -> Value {
    json!({
        "client_id": oauth.client_id,
        "client_secret_sealed": cipher.seal(&oauth.client_secret),
        "token_url": oauth.token_url,
        "scope": oauth.scope,
    })
}

fn oauth_from_json(value: Value, cipher: &dyn SecretCipher) -> Result<OAuthConfig> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    Ok(OAuthConfig {
        client_id: text("client_id").ok_or_else(|| corrupt("oauth_config"))?,
        client_secret: cipher.open(&text("client_secret_sealed").ok_or_else(|| corrupt("oauth_config"))?)?,
        token_url: text("token_url").ok_or_else(|| corrupt("oauth_config"))?,
        scope: text("scope"),
    })
}

pub fn server_to_row(s: &ToolServer, cipher: &dyn SecretCipher) -> tool_servers::Model {
    tool_servers::Model {
        id: s.id.clone(),
        tenant: s.tenant.clone(),
        name: s.name.clone(),
        display_name: s.display_name.clone(),
        description: s.description.clone(),
        base_url: s.base_url.clone(),
        transport_type: s.transport_type.as_str().to_owned(),
        command: s.command.clone(),
        args: json!(s.args),
        env: config_map_to_json(&s.env, cipher),
        headers: config_map_to_json(&s.headers, cipher),
        oauth_config: s.oauth_config.as_ref().map(|o| oauth_to_json(o, cipher)),
        timeout: s.timeout,
        auto_start: s.auto_start,
        auto_update: s.auto_update,
        max_failures: s.max_failures,
        status: s.status.as_str().to_owned(),
        is_builtin: s.is_builtin,
        last_health_check: s.last_health_check,
        last_startup_success: s.last_startup_success,
        last_startup_error: s.last_startup_error.clone(),
        consecutive_failures: s.consecutive_failures,
        category: s.category.clone(),
        tags: json!(s.tags),
        openapi: (s.openapi != OpenApiSettings::default())
            .then(|| json!({"spec": s.openapi.spec, "function_filter": s.openapi.function_filter})),
        version: s.version,
        created_at: s.created_at,
        updated_at: s.updated_at,
        created_by: s.created_by.clone(),
    }
}

pub fn server_from_row(r: tool_servers::Model, cipher: &dyn SecretCipher) -> Result<ToolServer> {
    Ok(ToolServer {
        transport_type: parse(&r.transport_type, "transport_type")?,
        status: parse(&r.status, "status")?,
        args: from_json(r.args, "args")?,
        env: config_map_from_json(r.env, cipher, "env")?,
        headers: config_map_from_json(r.headers, cipher, "headers")?,
        oauth_config: r.oauth_config.map(|o| oauth_from_json(o, cipher)).transpose()?,
        tags: from_json(r.tags, "tags")?,
        openapi: match r.openapi {
            Some(o) => OpenApiSettings {
                spec: o["spec"].as_str().map(str::to_owned),
                function_filter: from_json(o["function_filter"].clone(), "openapi.function_filter")?,
            },
            None => OpenApiSettings::default(),
        },
        id: r.id,
        tenant: r.tenant,
        name: r.name,
        display_name: r.display_name,
        description: r.description,
        base_url: r.base_url,
        command: r.command,
        timeout: r.timeout,
        auto_start: r.auto_start,
        auto_update: r.auto_update,
        max_failures: r.max_failures,
        is_builtin: r.is_builtin,
        last_health_check: r.last_health_check,
        last_startup_success: r.last_startup_success,
        last_startup_error: r.last_startup_error,
        consecutive_failures: r.consecutive_failures,
        category: r.category,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
        created_by: r.created_by,
    })
}

pub fn tool_from_row(r: tools::Model) -> Result<Tool> {
    Ok(Tool {
        status: parse(&r.status, "tool status")?,
        id: r.id,
        tenant: r.tenant,
        server_id: r.server_id,
        name: r.name,
        display_name: r.display_name,
        description: r.description,
        args_schema: r.args_schema,
        output_schema: r.output_schema,
        annotations: r.annotations,
        is_available: r.is_available,
        bypass_when_unavailable: r.bypass_when_unavailable,
        category: r.category,
        sort_order: r.sort_order,
        discovered_at: r.discovered_at,
        discovered_by: r.discovered_by,
        total_calls: r.total_calls,
        total_errors: r.total_errors,
        last_called: r.last_called,
        last_error: r.last_error,
        avg_response_time_ms: r.avg_response_time_ms,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub fn tool_to_row(t: &Tool) -> tools::Model {
    tools::Model {
        id: t.id.clone(),
        tenant: t.tenant.clone(),
        server_id: t.server_id.clone(),
        name: t.name.clone(),
        display_name: t.display_name.clone(),
        description: t.description.clone(),
        args_schema: t.args_schema.clone(),
        output_schema: t.output_schema.clone(),
        annotations: t.annotations.clone(),
        status: t.status.as_str().to_owned(),
        is_available: t.is_available,
        bypass_when_unavailable: t.bypass_when_unavailable,
        category: t.category.clone(),
        sort_order: t.sort_order,
        discovered_at: t.discovered_at,
        discovered_by: t.discovered_by.clone(),
        total_calls: t.total_calls,
        total_errors: t.total_errors,
        last_called: t.last_called,
        last_error: t.last_error.clone(),
        avg_response_time_ms: t.avg_response_time_ms,
        created_at: t.created_at,
        updated_at: t.updated_at,
    }
}

pub fn user_to_row(u: &User) -> users::Model {
    users::Model {
        tenant: u.tenant.clone(),
        id: u.id.clone(),
        role: u.role.as_str().to_owned(),
        groups: json!(u.groups),
        display_name: u.display_name.clone(),
        disabled: u.disabled,
        created_at: u.created_at,
        updated_at: u.updated_at,
    }
}

pub fn user_from_row(r: users::Model) -> Result<User> {
    Ok(User {
        role: r.role.parse::<Role>().map_err(|_| corrupt("role"))?,
        groups: from_json(r.groups, "groups")?,
        tenant: r.tenant,
        id: r.id,
        display_name: r.display_name,
        disabled: r.disabled,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub fn key_to_row(k: &ApiKey) -> api_keys::Model {
    api_keys::Model {
        id: k.id.clone(),
        tenant: k.tenant.clone(),
        principal_id: k.principal_id.clone(),
        role: k.role.as_str().to_owned(),
        name: k.name.clone(),
        key_hash: k.key_hash.clone(),
        key_prefix: k.key_prefix.clone(),
        expires_at: k.expires_at,
        created_at: k.created_at,
        last_used_at: k.last_used_at,
        revoked_at: k.revoked_at,
    }
}

pub fn key_from_row(r: api_keys::Model) -> Result<ApiKey> {
    Ok(ApiKey {
        role: r.role.parse::<Role>().map_err(|_| corrupt("role"))?,
        id: r.id,
        tenant: r.tenant,
        principal_id: r.principal_id,
        name: r.name,
        key_hash: r.key_hash,
        key_prefix: r.key_prefix,
        expires_at: r.expires_at,
        created_at: r.created_at,
        last_used_at: r.last_used_at,
        revoked_at: r.revoked_at,
    })
}
