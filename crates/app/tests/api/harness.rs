//! Starts the application in-process on 127.0.0.1:0 and talks to it with reqwest.

use std::sync::{Arc, Once};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use toolhub_app::{Application, ServeArgs, StorageArgs, config::JwtArgs};
use toolhub_domain::{
    Role,
    ports::SystemClock,
    services::{AuthService, NewApiKey},
};

pub const JWT_SECRET: &str = "test-jwt-secret-of-sufficient-length";

pub use toolhub_test_support::Backend;

pub struct TestApp {
    pub base: String,
    pub admin_key: String,
    pub client: reqwest::Client,
    pub storage: StorageArgs,
    /// Where stdio children work (`<children_dir>/<server id>`), outside the data directory.
    pub children_dir: std::path::PathBuf,
    running: toolhub_app::RunningApp,
    _dir: tempfile::TempDir,
    _children: tempfile::TempDir,
}

/// A response with its body read.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut ServeArgs)) -> TestApp {
    spawn_app_on(backend, configure, Arc::new(SystemClock)).await
}

/// An application whose services read `clock`.
pub async fn spawn_app_on(
    backend: Backend,
    configure: impl FnOnce(&mut ServeArgs),
    clock: Arc<dyn toolhub_domain::ports::Clock>,
) -> TestApp {
    install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(toolhub_storage::testing::create_postgres_database().await),
        Backend::Memory => unreachable!("the application keeps its data in a database"),
    };
    let storage = StorageArgs { data_dir: dir.path().to_path_buf(), database_url, secret_key: None };
    let mut serve = ServeArgs {
        bind: "127.0.0.1:0".into(),
        workers: Some(2),
        rate_limit_per_minute: 10_000,
        rate_limit_per_hour: 100_000,
        jwt: JwtArgs { jwt_secret: Some(JWT_SECRET.into()), ..JwtArgs::default() },
        ..ServeArgs::default()
    };
    let children = tempfile::tempdir().unwrap();
    serve.upstream.children_dir = Some(children.path().to_path_buf());
    configure(&mut serve);
    let app = Application::build_with_clock(&storage, &serve, clock).await.expect("application starts");
    let admin_key = app.bootstrap_admin_key.as_ref().expect("first start creates an admin key").expose().to_owned();
    let base = format!("http://127.0.0.1:{}", app.port());
    let running = app.spawn();
    let children_dir = children.path().to_path_buf();
    TestApp {
        base,
        admin_key,
        client: reqwest::Client::new(),
        storage,
        children_dir,
        running,
        _dir: dir,
        _children: children,
    }
}

impl TestApp {
    /// A file a stdio child of this server wrote in its own directory.
    pub fn child_file(&self, server_id: &str, name: &str) -> std::path::PathBuf {
        self.children_dir.join(server_id).join(name)
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    /// Issues an API key through the same database, as `toolhub keys create` does.
    pub async fn key(&self, subject: &str, role: Role, tenant: &str) -> String {
        let store = Arc::new(toolhub_app::open_store(&self.storage).await.unwrap());
        let auth = AuthService::new(store.clone(), store, Arc::new(SystemClock));
        let request = NewApiKey {
            tenant: tenant.into(),
            principal_id: subject.into(),
            role,
            name: "test".into(),
            expires_at: None,
        };
        auth.create_key(request).await.unwrap().1.expose().to_owned()
    }

    /// Registers a server as the bootstrap admin and returns its JSON.
    pub async fn create_server(&self, name: &str) -> Value {
        let reply = self.post("/api/v1/toolservers/servers", &self.admin_key, server_body(name)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }
}

impl TestApp {
    /// Stops serving and ends every upstream process, as SIGTERM does.
    pub async fn stop(&self) {
        self.running.stop().await;
    }
}

pub fn server_body(name: &str) -> Value {
    json!({
        "name": name,
        "display_name": format!("{name} server"),
        "base_url": format!("https://{name}.example/mcp"),
        "auto_start": false,
    })
}

/// A signed HS256 token with the given claims (plus `exp` one hour ahead unless given).
pub fn jwt(mut claims: Value, secret: &str) -> String {
    if claims.get("exp").is_none() {
        claims["exp"] = json!(chrono::Utc::now().timestamp() + 3600);
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// One MCP message posted to the gateway; returns the status, the session id header and the
/// JSON-RPC answer (from a JSON body or the SSE event that carries it).
pub async fn mcp_post(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    session: Option<&str>,
    message: Value,
) -> (StatusCode, Option<String>, Option<Value>) {
    let mut request = client
        .post(url)
        .bearer_auth(key)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&message);
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    let reply = request.send().await.unwrap();
    let status = reply.status();
    let session = reply.headers().get("mcp-session-id").map(|v| v.to_str().unwrap().to_owned());
    let body = reply.text().await.unwrap();
    let answer = serde_json::from_str(&body).ok().or_else(|| {
        body.lines().filter_map(|l| l.strip_prefix("data:")).find_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
    });
    (status, session, answer)
}
