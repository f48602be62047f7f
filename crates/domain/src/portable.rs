//! A tenant's configuration as a portable document: servers (with their tools' states),
//! toolkits (with their tools), grants, role rules and category switches, all named by name so
//! that the document moves between Toolhubs. Secret values are left out, or sealed with a
//! passphrase. Also the `mcpServers` JSON of Claude Desktop, Cursor and VS Code, read as
//! servers.

// The entries' fields are their entities' (server.rs, toolkit.rs, access/model.rs), documented
// there; only what differs is documented here.
#![allow(missing_docs)]

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `format` of documents this version writes and reads.
pub const FORMAT: &str = "toolhub-export/1";

/// Items of each kind one document may carry.
pub const ITEMS_MAX: usize = 1_000;

/// A tenant's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// [`FORMAT`].
    pub format: String,
    /// Present when secret values are sealed with a passphrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealing>,
    /// Servers, by name (the built-in one is every Toolhub's and is left out).
    #[serde(default)]
    pub servers: Vec<ServerEntry>,
    /// Toolkits, by name.
    #[serde(default)]
    pub toolkits: Vec<ToolkitEntry>,
    /// Grants, by subject and target.
    #[serde(default)]
    pub grants: Vec<GrantEntry>,
    /// Role rules.
    #[serde(default)]
    pub role_rules: Vec<RuleEntry>,
    /// Category switches that are off, or were set.
    #[serde(default)]
    pub categories: Vec<CategoryEntry>,
}

/// How secret values were sealed: a random salt for the passphrase's key, and a known text
/// sealed with it (a wrong passphrase is told at once, before anything is read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealing {
    /// Base64 of the salt.
    pub salt: String,
    /// [`SEALING_CHECK`], sealed.
    pub check: String,
}

/// The text a [`Sealing`] seals to check a passphrase.
pub const SEALING_CHECK: &str = "toolhub";

/// Salt bytes of a sealed export.
const SALT_LEN: usize = 16;

/// Seals or opens a document's secret values with a passphrase. Making one derives the key
/// (600,000 rounds of PBKDF2): do it off the async threads.
pub struct Sealer {
    sealing: Sealing,
    cipher: crate::cipher::AeadCipher,
}

impl Sealer {
    /// A sealer for a new export: a fresh salt.
    pub fn new(passphrase: &str) -> Self {
        use crate::ports::SecretCipher;
        let salt: [u8; SALT_LEN] = rand::random();
        let cipher = crate::cipher::AeadCipher::from_passphrase(passphrase, &salt);
        let check = cipher.seal(&crate::secret::Secret::new(SEALING_CHECK));
        Self { sealing: Sealing { salt: base64_engine().encode(salt), check }, cipher }
    }

    /// The sealer that opens a document sealed so, once `passphrase` is checked against it.
    pub fn opening(sealing: &Sealing, passphrase: &str) -> crate::error::DomainResult<Self> {
        use crate::{DomainError, ports::SecretCipher};
        let salt =
            base64_engine().decode(&sealing.salt).map_err(|_| DomainError::invalid("sealed.salt", "is not base64"))?;
        let cipher = crate::cipher::AeadCipher::from_passphrase(passphrase, &salt);
        match cipher.open(&sealing.check) {
            Ok(check) if check.expose() == SEALING_CHECK => Ok(Self { sealing: sealing.clone(), cipher }),
            _ => Err(DomainError::invalid("passphrase", "is not the one the document was sealed with")),
        }
    }

    /// How the document says it was sealed.
    pub fn sealing(&self) -> &Sealing {
        &self.sealing
    }

    /// A secret value, sealed.
    pub fn seal(&self, secret: &crate::secret::Secret) -> String {
        crate::ports::SecretCipher::seal(&self.cipher, secret)
    }

    /// A sealed value, opened.
    pub fn open(&self, sealed: &str) -> crate::error::DomainResult<String> {
        crate::ports::SecretCipher::open(&self.cipher, sealed)
            .map(|s| s.expose().to_owned())
            .map_err(|_| crate::DomainError::invalid("passphrase", "a sealed value does not open with it"))
    }
}

fn base64_engine() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A secret value: sealed with the passphrase, or left out (`null`).
pub type SecretValue = Option<String>;

/// A server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerEntry {
    pub name: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub transport_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Plain environment values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Secret environment values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secret_env: BTreeMap<String, SecretValue>,
    /// Plain header values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Secret header values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secret_headers: BTreeMap<String, SecretValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_start: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_update: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_failures: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi_spec: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub function_filter: Vec<String>,
    /// Whether it runs (default: as `auto_start`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The tools an administrator disabled, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled_tools: Vec<String>,
}

/// OAuth client credentials of a server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthEntry {
    pub client_id: String,
    pub client_secret: SecretValue,
    pub token_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// A toolkit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolkitEntry {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    /// The server it is linked to, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default)]
    pub tools: Vec<ToolkitToolEntry>,
}

/// A tool of a toolkit: a server tool (`server` and `tool`), or a custom one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolkitToolEntry {
    /// For a server tool: its server's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// For a server tool: its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Its name in the toolkit (a server tool's own when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A custom tool's type (`api-request`, ...).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// A custom tool's config without secrets, as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    /// A custom tool's config holding secrets, sealed whole (absent without a passphrase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_config: Option<String>,
    #[serde(default)]
    pub sort_order: i32,
}

/// A grant. Its target is a server (`server`), a tool (`server` and `tool`) or a toolkit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantEntry {
    /// `user:<id>`, `group:<name>` or `*`.
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkit: Option<String>,
    pub access_level: String,
    #[serde(flatten)]
    pub conditions: ConditionsEntry,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<crate::Timestamp>,
}

/// Quotas and time windows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConditionsEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_hour: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_day: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_hours: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_days: Option<Vec<u8>>,
}

impl From<&crate::access::Conditions> for ConditionsEntry {
    fn from(c: &crate::access::Conditions) -> Self {
        Self {
            rate_limit_per_hour: c.rate_limit_per_hour,
            rate_limit_per_day: c.rate_limit_per_day,
            allowed_hours: c.allowed_hours.clone(),
            allowed_days: c.allowed_days.clone(),
        }
    }
}

impl From<ConditionsEntry> for crate::access::Conditions {
    fn from(c: ConditionsEntry) -> Self {
        Self {
            rate_limit_per_hour: c.rate_limit_per_hour,
            rate_limit_per_day: c.rate_limit_per_day,
            allowed_hours: c.allowed_hours,
            allowed_days: c.allowed_days,
        }
    }
}

/// A role rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry {
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_pattern: Option<String>,
    pub access_level: String,
    #[serde(flatten)]
    pub conditions: ConditionsEntry,
}

/// A category's switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryEntry {
    pub name: String,
    pub enabled: bool,
}

/// One server of an `mcpServers` document (Claude Desktop, Cursor, VS Code).
#[derive(Debug, Clone, Deserialize)]
pub struct McpServerConfig {
    /// A stdio server's program.
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A remote server's URL.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `stdio`, `sse`, `http` or `streamable-http` (VS Code); guessed when absent.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Cursor's and VS Code's switch.
    #[serde(default)]
    pub disabled: bool,
}

/// An `mcpServers` document.
#[derive(Debug, Clone, Deserialize)]
pub struct McpServersFile {
    /// Servers by name.
    #[serde(rename = "mcpServers", alias = "servers")]
    pub mcp_servers: BTreeMap<String, McpServerConfig>,
}

impl McpServersFile {
    /// The servers as a document: stdio for a `command`, else `sse` when the type or the URL
    /// says so, else Streamable HTTP. Values are taken as given (credential-like names become
    /// secret when stored).
    pub fn into_document(self) -> Document {
        let servers = self
            .mcp_servers
            .into_iter()
            .map(|(name, c)| {
                let transport = match (&c.command, c.kind.as_deref(), c.url.as_deref()) {
                    (Some(_), _, _) | (_, Some("stdio"), _) => "stdio",
                    (_, Some("sse"), _) => "sse",
                    (_, None, Some(url)) if url.trim_end_matches('/').ends_with("/sse") => "sse",
                    _ => "http",
                };
                ServerEntry {
                    display_name: name.clone(),
                    name,
                    transport_type: transport.to_owned(),
                    base_url: c.url,
                    command: c.command,
                    args: c.args,
                    env: c.env,
                    headers: c.headers,
                    auto_start: Some(!c.disabled),
                    ..Default::default()
                }
            })
            .collect();
        Document { format: FORMAT.to_owned(), servers, ..Default::default() }
    }
}

/// What a document is: Toolhub's own, or `mcpServers`.
pub fn read_document(value: Value) -> Result<Document, String> {
    if value.get("mcpServers").is_some() || (value.get("servers").is_some_and(Value::is_object)) {
        let file: McpServersFile = serde_json::from_value(value).map_err(|e| format!("mcpServers: {e}"))?;
        return Ok(file.into_document());
    }
    let document: Document = serde_json::from_value(value).map_err(|e| e.to_string())?;
    if document.format != FORMAT {
        return Err(format!("format must be '{FORMAT}'"));
    }
    Ok(document)
}

/// Opens a secret value of an entry (unseals it, or takes it as given).
pub type Opener<'a> = &'a dyn Fn(&str) -> crate::error::DomainResult<String>;

impl ServerEntry {
    /// The entry of a server as its manager sees it; `seal` writes each secret value (or
    /// leaves it out, `None`). `disabled_tools` come from its tools.
    pub fn of(server: &crate::server::ToolServer, seal: &dyn Fn(&crate::secret::Secret) -> SecretValue) -> Self {
        use crate::secret::ConfigValue;
        let split = |map: &crate::secret::ConfigMap| {
            let mut plain = BTreeMap::new();
            let mut secret = BTreeMap::new();
            for (name, value) in map {
                match value {
                    ConfigValue::Plain(v) => {
                        plain.insert(name.clone(), v.clone());
                    }
                    ConfigValue::Secret(s) => {
                        secret.insert(name.clone(), seal(s));
                    }
                }
            }
            (plain, secret)
        };
        let (env, secret_env) = split(&server.env);
        let (headers, secret_headers) = split(&server.headers);
        Self {
            name: server.name.clone(),
            display_name: server.display_name.clone(),
            description: server.description.clone(),
            transport_type: server.transport_type.as_str().to_owned(),
            base_url: server.base_url.clone(),
            command: server.command.clone(),
            args: server.args.clone(),
            env,
            secret_env,
            headers,
            secret_headers,
            oauth: server.oauth_config.as_ref().map(|o| OAuthEntry {
                client_id: o.client_id.clone(),
                client_secret: seal(&o.client_secret),
                token_url: o.token_url.clone(),
                scope: o.scope.clone(),
            }),
            timeout: Some(server.timeout),
            auto_start: Some(server.auto_start),
            auto_update: Some(server.auto_update),
            max_failures: Some(server.max_failures),
            category: server.category.clone(),
            tags: server.tags.clone(),
            openapi_spec: server.openapi.spec.clone(),
            function_filter: server.openapi.function_filter.clone(),
            enabled: Some(server.status == crate::server::ServerStatus::Enabled),
            disabled_tools: Vec::new(),
        }
    }

    fn transport(&self) -> crate::error::DomainResult<crate::server::TransportType> {
        self.transport_type.parse().map_err(|_| {
            crate::DomainError::invalid("transport_type", "must be one of http, sse, stdio, websocket, openapi")
        })
    }

    /// The plain values with the opened secret ones, and the names of the secret ones; a
    /// secret left out (`None`) is left out here too (an update then keeps the stored value).
    fn merged(
        plain: &BTreeMap<String, String>,
        secret: &BTreeMap<String, SecretValue>,
        open: Opener<'_>,
        keep_missing: bool,
    ) -> crate::error::DomainResult<(BTreeMap<String, String>, Vec<String>)> {
        let mut values = plain.clone();
        for (name, value) in secret {
            match value {
                Some(sealed) => values.insert(name.clone(), open(sealed)?),
                None if keep_missing => values.insert(name.clone(), crate::secret::MASK.to_owned()),
                None => None,
            };
        }
        Ok((values, secret.keys().cloned().collect()))
    }

    fn oauth_input(
        &self,
        open: Opener<'_>,
        keep_missing: bool,
    ) -> crate::error::DomainResult<Option<crate::server::OAuthInput>> {
        let Some(o) = &self.oauth else { return Ok(None) };
        let client_secret = match &o.client_secret {
            Some(sealed) => open(sealed)?,
            None if keep_missing => crate::secret::MASK.to_owned(),
            None => return Err(crate::DomainError::invalid("oauth.client_secret", "is left out of the document")),
        };
        Ok(Some(crate::server::OAuthInput {
            client_id: o.client_id.clone(),
            client_secret,
            token_url: o.token_url.clone(),
            scope: o.scope.clone(),
        }))
    }

    /// The server this entry registers (secrets left out are left out).
    pub fn to_new_server(&self, open: Opener<'_>) -> crate::error::DomainResult<crate::server::NewToolServer> {
        let (env, secret_env) = Self::merged(&self.env, &self.secret_env, open, false)?;
        let (headers, secret_headers) = Self::merged(&self.headers, &self.secret_headers, open, false)?;
        Ok(crate::server::NewToolServer {
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            base_url: self.base_url.clone(),
            transport_type: Some(self.transport()?),
            command: self.command.clone(),
            args: self.args.clone(),
            env,
            secret_env,
            headers,
            secret_headers,
            oauth_config: self.oauth_input(open, false)?,
            timeout: self.timeout,
            auto_start: self.auto_start.or(self.enabled),
            auto_update: self.auto_update,
            max_failures: self.max_failures,
            category: self.category.clone(),
            tags: self.tags.clone(),
            openapi_spec: self.openapi_spec.clone(),
            function_filter: self.function_filter.clone(),
        })
    }

    /// The change that makes a stored server this entry: every field replaced; secrets left
    /// out keep their stored values.
    pub fn replacement(&self, open: Opener<'_>) -> crate::error::DomainResult<crate::server::ServerPatch> {
        use crate::Patch;
        let optional = |value: &Option<String>| value.clone().map_or(Patch::Null, Patch::Value);
        let (env, secret_env) = Self::merged(&self.env, &self.secret_env, open, true)?;
        let (headers, secret_headers) = Self::merged(&self.headers, &self.secret_headers, open, true)?;
        Ok(crate::server::ServerPatch {
            display_name: Patch::Value(self.display_name.clone()),
            description: optional(&self.description),
            base_url: optional(&self.base_url),
            transport_type: Patch::Value(self.transport()?),
            command: optional(&self.command),
            args: Patch::Value(self.args.clone()),
            env: Patch::Value(env),
            secret_env,
            headers: Patch::Value(headers),
            secret_headers,
            oauth_config: self.oauth_input(open, true)?.map_or(Patch::Null, Patch::Value),
            timeout: Patch::Value(self.timeout.unwrap_or(crate::server::limits::TIMEOUT_DEFAULT)),
            auto_start: self.auto_start.map_or(Patch::Absent, Patch::Value),
            auto_update: self.auto_update.map_or(Patch::Absent, Patch::Value),
            max_failures: self.max_failures.map_or(Patch::Absent, Patch::Value),
            category: optional(&self.category),
            tags: Patch::Value(self.tags.clone()),
            openapi_spec: optional(&self.openapi_spec),
            function_filter: Patch::Value(self.function_filter.clone()),
            expected_version: None,
        })
    }
}
