//! OpenAPI tool servers (`transport_type: "openapi"`): every operation of an OpenAPI 3.0 or 3.1
//! document is a tool. The tools are served by an MCP server inside Toolhub, connected to the
//! session over an in-memory pipe, so supervision, deadlines, cancellation and discovery are
//! the same as for every other upstream; its calls are HTTP requests to the service, through the
//! egress policy (the address checked once and pinned, no proxy, no redirects).

use std::{
    collections::{BTreeMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use reqwest::{
    Method,
    header::{HeaderMap, HeaderName, HeaderValue},
};
use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, JsonObject,
        ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
    },
    service::RequestContext,
};
use serde_json::{Map, Value, json};
use toolhub_domain::{server::ToolServer, upstream::UpstreamError};

use crate::{Settings, http::read_limited};

/// Characters of a failed call's body quoted in the tool error.
const ERROR_QUOTE_MAX: usize = 2_000;
/// How deep `$ref`s are followed (a deeper, or circular, one becomes `{}`).
const REF_DEPTH_MAX: usize = 24;
/// Longest tool name MCP allows.
const NAME_MAX: usize = 128;
/// The document's path under `base_url` when `openapi_spec` does not say.
const DEFAULT_SPEC_PATH: &str = "openapi.json";

/// Where an argument goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Path,
    Query,
    Header,
}

/// How the JSON body is made from the arguments.
#[derive(Debug, Clone, PartialEq)]
enum Body {
    None,
    /// The body's properties are arguments of their own (these names).
    Merged(Vec<String>),
    /// The whole body is the `body` argument.
    Whole,
}

/// One operation, as a tool and as the request it makes.
#[derive(Debug, Clone)]
struct Operation {
    tool: Tool,
    method: Method,
    /// The path template, e.g. `/pets/{petId}`.
    path: String,
    parameters: Vec<(String, Location)>,
    body: Body,
    /// The tool declares an output schema: object answers go in `structuredContent`.
    structured: bool,
}

/// What calls need of the service: its base URL and an HTTP client pinned to its address.
struct Service {
    base_url: url::Url,
    client: reqwest::Client,
    operations: Mutex<Vec<Operation>>,
    /// The operations were just read (at open): the first listing uses them; later listings
    /// (a refresh) read the document again.
    fresh: AtomicBool,
    source: Source,
}

/// Where the document comes from.
#[derive(Debug, Clone)]
enum Source {
    Inline(String),
    Url(String),
}

/// The in-process MCP server of one OpenAPI service.
#[derive(Clone)]
pub struct OpenApiServer {
    service: Arc<Service>,
    server: Arc<ToolServer>,
    settings: Arc<Settings>,
    bearer: Option<String>,
}

impl OpenApiServer {
    /// Reads the server's OpenAPI document and prepares its tools; the reason when the
    /// document cannot be read or used.
    pub async fn open(server: &ToolServer, settings: &Settings, bearer: Option<String>) -> Result<Self, UpstreamError> {
        let base = server.base_url.as_deref().ok_or_else(|| UpstreamError::Unavailable("no base_url".into()))?;
        let base_url = url::Url::parse(base).map_err(|e| UpstreamError::Unavailable(format!("base_url: {e}")))?;
        let source = match server.openapi.spec.as_deref() {
            Some(spec) if toolhub_domain::server::OpenApiSettings::is_inline(spec) => Source::Inline(spec.to_owned()),
            Some(spec) if spec.contains("://") => Source::Url(spec.to_owned()),
            spec => Source::Url(format!(
                "{}/{}",
                base.trim_end_matches('/'),
                spec.unwrap_or(DEFAULT_SPEC_PATH).trim_start_matches('/')
            )),
        };
        let client = settings.egress.server_client(server, base, bearer.as_deref()).await?;
        let this = Self {
            service: Arc::new(Service {
                base_url,
                client,
                operations: Mutex::new(Vec::new()),
                fresh: AtomicBool::new(false),
                source,
            }),
            server: Arc::new(server.clone()),
            settings: Arc::new(settings.clone()),
            bearer,
        };
        let operations = this.read_operations().await?;
        *this.service.operations.lock().unwrap_or_else(|p| p.into_inner()) = operations;
        this.service.fresh.store(true, Ordering::SeqCst);
        Ok(this)
    }

    /// Reads the document again (a refresh) and lists its operations as tools.
    pub async fn refresh(&self) -> Result<Vec<Tool>, UpstreamError> {
        let operations = self.read_operations().await?;
        let tools = operations.iter().map(|o| o.tool.clone()).collect();
        *self.service.operations.lock().unwrap_or_else(|p| p.into_inner()) = operations;
        Ok(tools)
    }

    /// Reads the document (again) and turns it into operations.
    async fn read_operations(&self) -> Result<Vec<Operation>, UpstreamError> {
        let document = match &self.service.source {
            Source::Inline(text) => parse_document(text).map_err(|e| unusable("the inline document", &e))?,
            Source::Url(url) => {
                let client = if same_origin(url, &self.service.base_url) {
                    self.service.client.clone()
                } else {
                    self.settings.egress.server_client(&self.server, url, self.bearer.as_deref()).await?
                };
                let text = fetch_document(&client, url, timeout_of(&self.server)).await?;
                parse_document(&text).map_err(|e| unusable(url, &e))?
            }
        };
        let place = match &self.service.source {
            Source::Inline(_) => "the inline document".to_owned(),
            Source::Url(url) => url.clone(),
        };
        operations(&document, &self.server.openapi).map_err(|e| unusable(&place, &e))
    }

    /// Calls an operation by its tool name, as the session's `tools/call` would (used by the
    /// connector to skip the in-process MCP hop).
    pub async fn call_by_name(&self, name: &str, arguments: JsonObject) -> Result<CallToolResult, ErrorData> {
        match self.operation(name) {
            Some(operation) => Ok(self.call(&operation, arguments).await),
            None => Err(ErrorData::invalid_params(format!("unknown tool: {name}"), None)),
        }
    }

    fn operation(&self, name: &str) -> Option<Operation> {
        let operations = self.service.operations.lock().unwrap_or_else(|p| p.into_inner());
        operations.iter().find(|o| o.tool.name == name).cloned()
    }

    async fn call(&self, operation: &Operation, arguments: JsonObject) -> CallToolResult {
        let request = match build_request(&self.service, operation, arguments) {
            Ok(request) => request,
            Err(message) => return tool_error(message),
        };
        let response = match request.timeout(timeout_of(&self.server)).send().await {
            Ok(response) => response,
            Err(e) if e.is_timeout() => return tool_error("the service did not answer in time".into()),
            Err(e) => return tool_error(format!("the request failed: {}", e.without_url())),
        };
        let status = response.status();
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("json"));
        let body = match read_limited(response).await {
            Ok(body) => body,
            Err(message) => return tool_error(message),
        };
        let text = String::from_utf8_lossy(&body).into_owned();
        if !status.is_success() {
            let quoted: String = text.chars().take(ERROR_QUOTE_MAX).collect();
            return tool_error(format!("HTTP {}: {quoted}", status.as_u16()));
        }
        match (is_json, serde_json::from_slice::<Value>(&body)) {
            (true, Ok(value @ Value::Object(_))) if operation.structured => CallToolResult::structured(value),
            _ => CallToolResult::success(vec![ContentBlock::text(text)]),
        }
    }
}

impl ServerHandler for OpenApiServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("toolhub-openapi", env!("CARGO_PKG_VERSION")))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        if !self.service.fresh.swap(false, Ordering::SeqCst) {
            let operations =
                self.read_operations().await.map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
            *self.service.operations.lock().unwrap_or_else(|p| p.into_inner()) = operations;
        }
        let operations = self.service.operations.lock().unwrap_or_else(|p| p.into_inner());
        Ok(ListToolsResult::with_all_items(operations.iter().map(|o| o.tool.clone()).collect()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        Ok(self.call_by_name(&request.name, request.arguments.unwrap_or_default()).await?.into())
    }
}

fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

fn unusable(place: &str, reason: &str) -> UpstreamError {
    UpstreamError::Unusable(format!("the OpenAPI document at {place} cannot be used: {reason}"))
}

/// Checks a server's document when it is given inline (no I/O): the reason it cannot be used.
pub fn check_inline(server: &ToolServer) -> Result<(), UpstreamError> {
    match server.openapi.spec.as_deref() {
        Some(spec) if toolhub_domain::server::OpenApiSettings::is_inline(spec) => {
            let document = parse_document(spec).map_err(|e| unusable("the inline document", &e))?;
            operations(&document, &server.openapi).map(|_| ()).map_err(|e| unusable("the inline document", &e))
        }
        _ => Ok(()),
    }
}

fn timeout_of(server: &ToolServer) -> Duration {
    Duration::from_secs(u64::try_from(server.timeout).unwrap_or(30))
}

fn same_origin(url: &str, base: &url::Url) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.origin() == base.origin())
}

async fn fetch_document(client: &reqwest::Client, url: &str, timeout: Duration) -> Result<String, UpstreamError> {
    let response = client.get(url).timeout(timeout).send().await.map_err(|e| {
        if e.is_timeout() {
            UpstreamError::Timeout(timeout)
        } else {
            UpstreamError::Unavailable(format!("cannot read the OpenAPI document: {}", e.without_url()))
        }
    })?;
    if !response.status().is_success() {
        return Err(UpstreamError::Unavailable(format!(
            "the OpenAPI document at {url} answered HTTP {}",
            response.status().as_u16()
        )));
    }
    let body = read_limited(response).await.map_err(UpstreamError::Unavailable)?;
    String::from_utf8(body).map_err(|_| unusable(url, "it is not UTF-8 text"))
}

/// A document as JSON, from JSON or YAML text.
fn parse_document(text: &str) -> Result<Value, String> {
    let document: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(json_error) => serde_yaml_ng::from_str(text)
            .map_err(|yaml_error| format!("neither JSON ({json_error}) nor YAML ({yaml_error})"))?,
    };
    let version = document["openapi"].as_str().unwrap_or_default();
    if !(version.starts_with("3.0") || version.starts_with("3.1")) {
        return Err(format!("openapi: '{version}' is not 3.0 or 3.1"));
    }
    if !document["paths"].is_object() {
        return Err("paths: missing".into());
    }
    Ok(document)
}

/// The methods an OpenAPI path item may hold operations for.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Every operation of the document the filter allows, as tools with unique names.
fn operations(document: &Value, settings: &toolhub_domain::server::OpenApiSettings) -> Result<Vec<Operation>, String> {
    let resolver = Resolver { document };
    let mut taken = HashSet::new();
    let mut out = Vec::new();
    let paths = document["paths"].as_object().into_iter().flatten();
    for (path, item) in paths {
        let item = resolver.resolve(item, 0);
        for method in METHODS {
            let Some(op) = item.get(method).filter(|o| o.is_object()) else { continue };
            let place = format!("paths.{path}.{method}");
            let name = op["operationId"].as_str().map(str::to_owned).unwrap_or_else(|| name_from(method, path));
            let name: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') { c } else { '_' })
                .take(NAME_MAX)
                .collect();
            if !settings.allows(&name) {
                continue;
            }
            if !taken.insert(name.clone()) {
                return Err(format!("{place}: the operation name '{name}' is used twice"));
            }
            out.push(operation(&resolver, &place, name, method, path, &item, op)?);
        }
    }
    Ok(out)
}

/// A name for an operation without `operationId`: `get_pets_petId`.
fn name_from(method: &str, path: &str) -> String {
    let words: Vec<&str> = path.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    format!("{method}_{}", words.join("_"))
}

fn operation(
    resolver: &Resolver,
    place: &str,
    name: String,
    method: &str,
    path: &str,
    item: &Value,
    op: &Value,
) -> Result<Operation, String> {
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut parameters: Vec<(String, Location)> = Vec::new();
    // Path-item parameters apply unless the operation redefines them (same name and place).
    let declared: Vec<Value> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(item["parameters"].as_array().into_iter().flatten())
        .map(|p| resolver.resolve(p, 0))
        .collect();
    for (i, parameter) in declared.iter().enumerate() {
        let (Some(pname), Some(location)) = (parameter["name"].as_str(), parameter["in"].as_str()) else {
            return Err(format!("{place}.parameters[{i}]: needs name and in"));
        };
        let location = match location {
            "path" => Location::Path,
            "query" => Location::Query,
            "header" => Location::Header,
            _ => continue, // cookies are not sent
        };
        if parameters.iter().any(|(n, l)| n == pname && *l == location) || properties.contains_key(pname) {
            continue;
        }
        let mut schema = resolver.schema(&parameter["schema"]);
        if let (Some(description), Value::Object(map)) = (parameter["description"].as_str(), &mut schema) {
            map.entry("description").or_insert_with(|| description.into());
        }
        properties.insert(pname.to_owned(), schema);
        if location == Location::Path || parameter["required"] == true {
            required.push(pname.into());
        }
        parameters.push((pname.to_owned(), location));
    }
    let request_body = resolver.resolve(&op["requestBody"], 0);
    let body_schema = request_body["content"]
        .as_object()
        .and_then(|content| content.iter().find(|(media, _)| media.contains("json")).map(|(_, m)| &m["schema"]))
        .map(|schema| resolver.schema(schema));
    let body = match body_schema {
        None => Body::None,
        Some(schema) => {
            let merged = schema["properties"].as_object().filter(|props| {
                schema["type"].as_str().is_none_or(|t| t == "object")
                    && !props.keys().any(|k| properties.contains_key(k))
            });
            match merged {
                Some(props) => {
                    let names: Vec<String> = props.keys().cloned().collect();
                    properties.extend(props.clone());
                    required.extend(schema["required"].as_array().into_iter().flatten().cloned());
                    Body::Merged(names)
                }
                None => {
                    properties.insert("body".into(), schema);
                    if request_body["required"] == true {
                        required.push("body".into());
                    }
                    Body::Whole
                }
            }
        }
    };
    let mut input = JsonObject::new();
    input.insert("type".into(), "object".into());
    input.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        input.insert("required".into(), Value::Array(required));
    }
    let description =
        [op["summary"].as_str(), op["description"].as_str()].into_iter().flatten().collect::<Vec<_>>().join("\n\n");
    let mut tool = Tool::new(name, description, Arc::new(input));
    let output = success_schema(resolver, op);
    let structured = output.is_some();
    if let Some(output) = output {
        tool = tool.with_raw_output_schema(Arc::new(output));
    }
    let upper = method.to_ascii_uppercase();
    let annotations = ToolAnnotations::default()
        .read_only(matches!(method, "get" | "head" | "options"))
        .destructive(method == "delete")
        .idempotent(matches!(method, "get" | "head" | "options" | "put" | "delete"))
        .open_world(true);
    tool = tool.with_annotations(annotations);
    Ok(Operation {
        tool,
        method: Method::from_bytes(upper.as_bytes()).map_err(|_| format!("{place}: bad method"))?,
        path: path.to_owned(),
        parameters,
        body,
        structured,
    })
}

/// The JSON schema of the first 2xx answer, when it is an object (MCP's output schemas are).
fn success_schema(resolver: &Resolver, op: &Value) -> Option<JsonObject> {
    let responses = op["responses"].as_object()?;
    let (_, response) = responses.iter().find(|(code, _)| code.starts_with('2'))?;
    let response = resolver.resolve(response, 0);
    let (_, media) = response["content"].as_object()?.iter().find(|(media, _)| media.contains("json"))?;
    match resolver.schema(&media["schema"]) {
        Value::Object(schema) if schema.get("type").and_then(Value::as_str) == Some("object") => Some(schema),
        _ => None,
    }
}

/// Follows `$ref`s inside the document (`#/...`).
struct Resolver<'a> {
    document: &'a Value,
}

impl Resolver<'_> {
    /// The value with its own `$ref` (if any) followed.
    fn resolve(&self, value: &Value, depth: usize) -> Value {
        match value["$ref"].as_str() {
            Some(reference) if depth < REF_DEPTH_MAX => {
                let target = reference.strip_prefix('#').and_then(|pointer| self.document.pointer(pointer));
                match target {
                    Some(target) => self.resolve(target, depth + 1),
                    None => json!({}),
                }
            }
            Some(_) => json!({}),
            None => value.clone(),
        }
    }

    /// A schema with every `$ref` inside it followed (a missing schema is `{}`).
    fn schema(&self, schema: &Value) -> Value {
        if schema.is_null() {
            return json!({});
        }
        self.inline(schema, 0)
    }

    fn inline(&self, value: &Value, depth: usize) -> Value {
        if depth >= REF_DEPTH_MAX {
            return json!({});
        }
        match value {
            Value::Object(map) if map.contains_key("$ref") => {
                let target = self.resolve(value, 0);
                self.inline(&target, depth + 1)
            }
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), self.inline(v, depth + 1))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.inline(v, depth + 1)).collect()),
            other => other.clone(),
        }
    }
}

/// The HTTP request an operation makes with these arguments.
fn build_request(
    service: &Service,
    operation: &Operation,
    mut arguments: JsonObject,
) -> Result<reqwest::RequestBuilder, String> {
    let mut url = service.base_url.clone();
    {
        let mut segments = url.path_segments_mut().map_err(|_| "the base_url cannot take a path".to_owned())?;
        segments.pop_if_empty();
        for segment in operation.path.split('/').filter(|s| !s.is_empty()) {
            let mut filled = segment.to_owned();
            for (name, location) in &operation.parameters {
                let placeholder = format!("{{{name}}}");
                if *location == Location::Path && filled.contains(&placeholder) {
                    let value = arguments.remove(name).ok_or_else(|| format!("the argument '{name}' is missing"))?;
                    filled = filled.replace(&placeholder, &plain(&value));
                }
            }
            segments.push(&filled);
        }
    }
    let mut headers = HeaderMap::new();
    for (name, location) in &operation.parameters {
        let Some(value) = arguments.remove(name) else { continue };
        match location {
            Location::Path => {}
            Location::Query => match &value {
                Value::Array(items) => {
                    for item in items {
                        url.query_pairs_mut().append_pair(name, &plain(item));
                    }
                }
                value => {
                    url.query_pairs_mut().append_pair(name, &plain(value));
                }
            },
            Location::Header => {
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("bad header name {name}"))?;
                let value = HeaderValue::from_str(&plain(&value)).map_err(|_| format!("bad value of header {name}"))?;
                headers.insert(name, value);
            }
        }
    }
    let mut request = service.client.request(operation.method.clone(), url).headers(headers);
    match &operation.body {
        Body::None => {}
        Body::Merged(names) => {
            let body: BTreeMap<&String, &Value> =
                names.iter().filter_map(|n| arguments.get(n).map(|v| (n, v))).collect();
            request = request.json(&body);
        }
        Body::Whole => {
            if let Some(body) = arguments.get("body") {
                request = request.json(body);
            }
        }
    }
    Ok(request)
}

/// A value as it is written in a path, query or header: strings bare, the rest as JSON.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Serves `server` over an in-memory pipe: the transport the MCP client of the session uses.
pub fn serve(
    server: OpenApiServer,
) -> rmcp::transport::async_rw::AsyncRwTransport<
    rmcp::RoleClient,
    tokio::io::ReadHalf<tokio::io::DuplexStream>,
    tokio::io::WriteHalf<tokio::io::DuplexStream>,
> {
    use rmcp::ServiceExt;
    let (client_end, server_end) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_end).await {
            let _ = running.waiting().await;
        }
    });
    let (read, write) = tokio::io::split(client_end);
    rmcp::transport::async_rw::AsyncRwTransport::new_client(read, write)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PETSTORE: &str = r##"
openapi: 3.0.3
info: {title: Petstore, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      summary: List pets
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}}}}
    post:
      operationId: createPet
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}
      responses: {"201": {description: created}}
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, schema: {type: string}}
    get:
      operationId: showPetById
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}}
    delete:
      responses: {"204": {description: gone}}
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties: {id: {type: integer}, name: {type: string}, tag: {type: string}}
"##;

    fn tools(filter: &[&str]) -> Vec<Operation> {
        let settings = toolhub_domain::server::OpenApiSettings {
            spec: None,
            function_filter: filter.iter().map(|s| s.to_string()).collect(),
        };
        operations(&parse_document(PETSTORE).unwrap(), &settings).unwrap()
    }

    #[test]
    fn every_operation_is_a_tool_with_its_arguments_merged_and_refs_resolved() {
        let ops = tools(&[]);
        let names: Vec<&str> = ops.iter().map(|o| o.tool.name.as_ref()).collect();
        assert_eq!(names, ["listPets", "createPet", "showPetById", "delete_pets_petId"]);
        let create = &ops[1];
        assert_eq!(create.body, Body::Merged(vec!["id".into(), "name".into(), "tag".into()]));
        assert_eq!(create.tool.input_schema["required"], json!(["id", "name"]));
        let show = &ops[2];
        assert_eq!(show.parameters, [("petId".to_owned(), Location::Path)]);
        assert_eq!(show.tool.input_schema["required"], json!(["petId"]));
        assert!(show.structured, "an object answer has an output schema");
        assert_eq!(show.tool.output_schema.as_ref().unwrap()["properties"]["name"], json!({"type": "string"}));
        assert!(!ops[0].structured, "an array answer has none");
        assert_eq!(ops[3].tool.annotations.as_ref().unwrap().destructive_hint, Some(true));
    }

    #[test]
    fn the_filter_allows_by_suffix_and_blocks_always() {
        let names = |filter: &[&str]| tools(filter).into_iter().map(|o| o.tool.name.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&["Pets"]), ["listPets"]);
        assert_eq!(names(&["!Pets", "!ById"]), ["createPet", "delete_pets_petId"]);
        assert_eq!(names(&["Pet", "!createPet"]), Vec::<String>::new());
    }

    #[test]
    fn unusable_documents_say_where() {
        assert!(parse_document("openapi: 2.0\npaths: {}").unwrap_err().contains("not 3.0"));
        assert!(parse_document("{\"openapi\": \"3.1.0\"}").unwrap_err().contains("paths"));
        let twice = "openapi: 3.1.0\npaths:\n  /a: {get: {operationId: x}}\n  /b: {get: {operationId: x}}\n";
        let error = operations(&parse_document(twice).unwrap(), &Default::default()).unwrap_err();
        assert!(error.starts_with("paths./b.get"), "{error}");
    }

    #[test]
    fn requests_put_arguments_in_path_query_and_body() {
        crate::install_tls_provider();
        let service = Service {
            base_url: url::Url::parse("http://api.example/v1/").unwrap(),
            client: reqwest::Client::new(),
            operations: Mutex::new(Vec::new()),
            fresh: AtomicBool::new(false),
            source: Source::Inline(String::new()),
        };
        let ops = tools(&[]);
        let args = |v: Value| v.as_object().unwrap().clone();
        let show = build_request(&service, &ops[2], args(json!({"petId": "a b/c"}))).unwrap().build().unwrap();
        assert_eq!(show.url().as_str(), "http://api.example/v1/pets/a%20b%2Fc");
        let list = build_request(&service, &ops[0], args(json!({"limit": 5}))).unwrap().build().unwrap();
        assert_eq!(list.url().as_str(), "http://api.example/v1/pets?limit=5");
        let create = build_request(&service, &ops[1], args(json!({"id": 1, "name": "Rex", "extra": true})))
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(create.method(), Method::POST);
        let body: Value = serde_json::from_slice(create.body().unwrap().as_bytes().unwrap()).unwrap();
        assert_eq!(body, json!({"id": 1, "name": "Rex"}));
        assert!(build_request(&service, &ops[2], JsonObject::new()).is_err(), "a missing path argument");
    }
}
