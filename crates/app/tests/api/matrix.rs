//! The authorization matrix: every operation of the OpenAPI document, as a guest, a user, an
//! administrator, another tenant's administrator and the operator (super administrator), on
//! the default tenant's resources. Expected outcomes are written once, in `ROWS`; an operation
//! of the document without a row fails the test, so every new endpoint gets one.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use toolhub_domain::Role;

use crate::harness::{Backend, TestApp, spawn_app};

/// What a caller gets: `A` allowed (anything but 401, 403 and 404: the request reached the
/// operation), `D` denied (403), `H` hidden (404, as if it did not exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    A,
    D,
    H,
}
use Outcome::*;

/// The callers, in the order of each row's outcomes.
const CALLERS: [&str; 5] = ["guest", "user", "admin", "foreign admin", "operator"];

/// Resources a destructive operation needs anew for each caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fresh {
    No,
    Server,
    /// A server, named (Emporix names tools by their server's name).
    ServerName,
    Grant,
    Rule,
    Key,
    Toolkit,
    /// A custom tool of the world's toolkit.
    KitTool,
}

/// (method, path as documented, fresh resource, body, outcomes per caller). In paths and
/// bodies, `{server}`, `{tool}`, `{grant}`, `{rule}`, `{key}`, `{toolkit_id}` (and Informer's
/// `{id}`) and `{caller}` are substituted; under a toolkit, `{tool_id}` is the toolkit's tool.
type Row = (&'static str, &'static str, Fresh, &'static str, [Outcome; 5]);

const ROWS: &[Row] = &[
    ("GET", "/healthz", Fresh::No, "", [A, A, A, A, A]),
    ("GET", "/readyz", Fresh::No, "", [A, A, A, A, A]),
    ("GET", "/metrics", Fresh::No, "", [D, D, D, D, A]),
    ("GET", "/api/v1/replicas", Fresh::No, "", [D, D, D, D, A]),
    ("GET", "/api/v1/grants", Fresh::No, "", [D, D, A, A, A]),
    ("POST", "/api/v1/grants/search", Fresh::No, r#"{"q": "access_level:read"}"#, [D, D, A, A, A]),
    (
        "POST",
        "/api/v1/grants",
        Fresh::No,
        r#"{"subject": "user:g-{caller}", "server_id": "{server}", "access_level": "read"}"#,
        [D, D, A, H, A],
    ),
    ("GET", "/api/v1/grants/{grant_id}", Fresh::No, "", [H, H, A, H, A]),
    ("PUT", "/api/v1/grants/{grant_id}", Fresh::No, r#"{"access_level": "execute"}"#, [D, D, A, H, A]),
    ("DELETE", "/api/v1/grants/{grant_id}", Fresh::Grant, "", [D, D, A, H, A]),
    ("GET", "/api/v1/keys", Fresh::No, "", [A, A, A, A, A]),
    (
        "POST",
        "/api/v1/keys",
        Fresh::No,
        r#"{"principal_id": "k-{caller}", "role": "user", "name": "k"}"#,
        [D, D, A, A, A],
    ),
    ("DELETE", "/api/v1/keys/{key_id}", Fresh::Key, "", [H, H, A, H, A]),
    ("POST", "/api/v1/keys/{key_id}/rotate", Fresh::Key, "{}", [H, H, A, H, A]),
    (
        "POST",
        "/api/v1/toolservers/access-check",
        Fresh::No,
        r#"{"user_id": "target", "tool_name": "calculator"}"#,
        [D, D, A, H, A],
    ),
    (
        "POST",
        "/api/v1/toolservers/call",
        Fresh::No,
        r#"{"server_name": "builtin_tools", "tool_name": "calculator", "arguments": {"expression": "1+1"}}"#,
        [H, H, A, H, A],
    ),
    ("GET", "/api/v1/toolservers/calls", Fresh::No, "", [A, A, A, A, A]),
    ("POST", "/api/v1/toolservers/calls/search", Fresh::No, r#"{"q": "status:success"}"#, [A, A, A, A, A]),
    (
        "POST",
        "/api/v1/toolservers/permissions",
        Fresh::No,
        r#"{"user_id": "p-{caller}", "server_id": "{server}", "access_level": "read"}"#,
        [D, D, A, H, A],
    ),
    (
        "PUT",
        "/api/v1/toolservers/permissions/{permission_id}",
        Fresh::No,
        r#"{"access_level": "execute"}"#,
        [D, D, A, H, A],
    ),
    ("DELETE", "/api/v1/toolservers/permissions/{permission_id}", Fresh::Grant, "", [D, D, A, H, A]),
    ("GET", "/api/v1/toolservers/role-access", Fresh::No, "", [D, D, A, A, A]),
    ("POST", "/api/v1/toolservers/role-access/search", Fresh::No, r#"{"q": "role:user"}"#, [D, D, A, A, A]),
    (
        "POST",
        "/api/v1/toolservers/role-access",
        Fresh::No,
        r#"{"role": "power_user", "tool_pattern": "t-{caller}", "access_level": "read"}"#,
        [D, D, A, A, A],
    ),
    (
        "PUT",
        "/api/v1/toolservers/role-access/{rule_id}",
        Fresh::No,
        r#"{"role": "power_user", "tool_pattern": "u-{caller}", "access_level": "execute"}"#,
        [D, D, A, H, A],
    ),
    ("DELETE", "/api/v1/toolservers/role-access/{rule_id}", Fresh::Rule, "", [D, D, A, H, A]),
    ("GET", "/api/v1/toolservers/servers", Fresh::No, "", [A, A, A, A, A]),
    (
        "POST",
        "/api/v1/toolservers/servers",
        Fresh::No,
        r#"{"name": "s-{caller}", "display_name": "S", "base_url": "https://s.example/mcp", "auto_start": false}"#,
        [D, D, A, A, A],
    ),
    (
        "POST",
        "/api/v1/toolservers/servers/bulk",
        Fresh::No,
        r#"{"server_ids": ["{server}"], "operation": "stop"}"#,
        [A, A, A, A, A],
    ),
    ("GET", "/api/v1/toolservers/servers/{server_id}", Fresh::No, "", [H, H, A, H, A]),
    ("PUT", "/api/v1/toolservers/servers/{server_id}", Fresh::No, r#"{"timeout": 60}"#, [H, H, A, H, A]),
    ("DELETE", "/api/v1/toolservers/servers/{server_id}", Fresh::Server, "", [H, H, A, H, A]),
    ("POST", "/api/v1/toolservers/servers/{server_id}/disable", Fresh::No, "{}", [H, H, A, H, A]),
    ("POST", "/api/v1/toolservers/servers/{server_id}/enable", Fresh::No, "{}", [H, H, A, H, A]),
    ("POST", "/api/v1/toolservers/servers/{server_id}/start", Fresh::No, "{}", [H, H, A, H, A]),
    ("POST", "/api/v1/toolservers/servers/{server_id}/stop", Fresh::No, "{}", [H, H, A, H, A]),
    ("POST", "/api/v1/toolservers/servers/{server_id}/restart", Fresh::No, "{}", [H, H, A, H, A]),
    ("POST", "/api/v1/toolservers/servers/{server_id}/test-connectivity", Fresh::No, "{}", [H, H, A, H, A]),
    ("POST", "/api/v1/toolservers/servers/{server_id}/refresh-tools", Fresh::No, "{}", [H, H, A, H, A]),
    ("GET", "/api/v1/toolservers/servers/{server_id}/health", Fresh::No, "", [H, H, A, H, A]),
    ("GET", "/api/v1/toolservers/servers/{server_id}/metrics", Fresh::No, "", [H, H, A, H, A]),
    ("GET", "/api/v1/toolservers/servers/{server_id}/tools", Fresh::No, "", [H, H, A, H, A]),
    ("GET", "/api/v1/toolservers/tools/all", Fresh::No, "", [A, A, A, A, A]),
    ("POST", "/api/v1/toolservers/servers/search", Fresh::No, r#"{"q": "name:~a"}"#, [A, A, A, A, A]),
    ("POST", "/api/v1/toolservers/tools/search", Fresh::No, r#"{"q": "name:calculator"}"#, [A, A, A, A, A]),
    (
        "POST",
        "/api/v1/toolservers/tools/{tool_id}/call",
        Fresh::No,
        r#"{"arguments": {"expression": "1+1"}}"#,
        [H, H, A, H, A],
    ),
    ("POST", "/api/v1/toolservers/tools/{tool_id}/disable", Fresh::No, "{}", [H, H, A, H, A]),
    ("POST", "/api/v1/toolservers/tools/{tool_id}/enable", Fresh::No, "{}", [H, H, A, H, A]),
    ("GET", "/api/v1/toolservers/users/{user_id}/permissions", Fresh::No, "", [D, D, A, A, A]),
    ("GET", "/api/v1/users", Fresh::No, "", [D, D, A, A, A]),
    ("GET", "/api/v1/users/{user_id}", Fresh::No, "", [D, D, A, H, A]),
    ("PUT", "/api/v1/users/{user_id}", Fresh::No, r#"{"display_name": "T {caller}"}"#, [D, D, A, H, A]),
    // Toolkits: power users and above make them; the rest needs the toolkit to be visible
    // (owner, grant, administrator) and, to change it, admin on it.
    ("GET", "/api/v1/toolkits", Fresh::No, "", [A, A, A, A, A]),
    ("POST", "/api/v1/toolkits/search", Fresh::No, r#"{"q": "name:~kit"}"#, [A, A, A, A, A]),
    ("POST", "/api/v1/toolkits", Fresh::No, r#"{"name": "k-{caller}"}"#, [D, D, A, A, A]),
    ("GET", "/api/v1/toolkits/{toolkit_id}", Fresh::No, "", [H, H, A, H, A]),
    ("PUT", "/api/v1/toolkits/{toolkit_id}", Fresh::No, r#"{"description": "d {caller}"}"#, [H, H, A, H, A]),
    ("DELETE", "/api/v1/toolkits/{toolkit_id}", Fresh::Toolkit, "", [H, H, A, H, A]),
    ("GET", "/api/v1/toolkits/{toolkit_id}/tools", Fresh::No, "", [H, H, A, H, A]),
    (
        "POST",
        "/api/v1/toolkits/{toolkit_id}/tools",
        Fresh::No,
        r#"{"tool_id": "{tool_id}", "name": "m-{caller}"}"#,
        [H, H, A, H, A],
    ),
    ("DELETE", "/api/v1/toolkits/{toolkit_id}/tools/{tool_id}", Fresh::KitTool, "", [H, H, A, H, A]),
    (
        "POST",
        "/api/v1/toolkits/{toolkit_id}/tools/{tool_id}/call",
        Fresh::No,
        r#"{"arguments": {"expression": "1+1"}}"#,
        [H, H, A, H, A],
    ),
    ("GET", "/api/toolkits/{id}/tools", Fresh::No, "", [H, H, A, H, A]),
    ("POST", "/api/toolkits/{id}/tools", Fresh::No, r#"{"name": "c-{caller}"}"#, [H, H, A, H, A]),
    ("PUT", "/api/toolkits/{id}/tools", Fresh::Toolkit, r#"{"tools": [{"name": "s"}]}"#, [H, H, A, H, A]),
    ("GET", "/api/toolkits/{id}/tools/{tool_id}", Fresh::No, "", [H, H, A, H, A]),
    ("PUT", "/api/toolkits/{id}/tools/{tool_id}", Fresh::No, r#"{"name": "r-{caller}"}"#, [H, H, A, H, A]),
    ("DELETE", "/api/toolkits/{id}/tools/{tool_id}", Fresh::KitTool, "", [H, H, A, H, A]),
    ("GET", "/api/tools", Fresh::No, "", [A, A, A, A, A]),
    ("GET", "/api/tools/logs", Fresh::No, "", [A, A, A, A, A]),
    ("POST", "/api/tools/call", Fresh::No, r#"{"name": "calculator", "args": {"expression": "1+1"}}"#, [H, H, A, H, A]),
    ("PUT", "/api/tools/category/{category}/toggle", Fresh::No, r#"{"enabled": true}"#, [D, D, A, H, A]),
    ("GET", "/api/tools/{name}", Fresh::No, "", [H, H, A, H, A]),
    ("PUT", "/api/tools/{name}/toggle", Fresh::No, r#"{"enabled": true}"#, [H, H, A, H, A]),
    ("GET", "/ai-service/{tenant}/agentic/tools", Fresh::No, "", [A, A, A, H, A]),
    ("POST", "/ai-service/{tenant}/agentic/tools/search", Fresh::No, r#"{"q": "enabled:false"}"#, [A, A, A, H, A]),
    ("GET", "/ai-service/{tenant}/agentic/tools/{tool_id}", Fresh::No, "", [H, H, A, H, A]),
    (
        "PUT",
        "/ai-service/{tenant}/agentic/tools/{tool_id}",
        Fresh::No,
        r#"{"name": "M {caller}", "type": "http", "config": {"url": "http://127.0.0.1:9/mcp", "category": "matrix"}}"#,
        [D, D, A, H, A],
    ),
    (
        "PATCH",
        "/ai-service/{tenant}/agentic/tools/{tool_id}",
        Fresh::No,
        r#"[{"op": "replace", "path": "/name", "value": "P {caller}"}]"#,
        [H, H, A, H, A],
    ),
    ("DELETE", "/ai-service/{tenant}/agentic/tools/{tool_id}", Fresh::ServerName, "", [H, H, A, H, A]),
    ("GET", "/api/v1/tools/", Fresh::No, "", [A, A, A, A, A]),
    ("GET", "/api/v1/tools/list", Fresh::No, "", [A, A, A, A, A]),
    ("GET", "/api/v1/tools/export", Fresh::No, "", [D, D, A, A, A]),
    ("GET", "/api/v1/tools/id/{id}", Fresh::No, "", [H, H, A, H, A]),
    ("POST", "/api/v1/tools/id/{id}/access/update", Fresh::No, r#"{"access_grants": []}"#, [H, H, A, H, A]),
    ("GET", "/api/v1/export", Fresh::No, "", [D, D, A, A, A]),
    ("POST", "/api/v1/import?dry_run=true", Fresh::No, r#"{"format": "toolhub-export/1"}"#, [D, D, A, A, A]),
];

/// The default tenant's resources the matrix works on.
struct World {
    app: TestApp,
    server: String,
    tool: String,
    grant: String,
    rule: String,
    toolkit: String,
    /// The world toolkit's tool (the calculator).
    kit_tool: String,
}

impl World {
    async fn fresh(&self, kind: Fresh, n: usize) -> String {
        let operator = &self.app.admin_key;
        let created = match kind {
            Fresh::No => return String::new(),
            Fresh::Server | Fresh::ServerName => {
                let body = json!({"name": format!("fresh-{n}"), "display_name": "F", "base_url": "https://f.example/mcp", "auto_start": false});
                self.app.post("/api/v1/toolservers/servers", operator, body).await
            }
            Fresh::Grant => {
                let body =
                    json!({"subject": format!("user:fresh-{n}"), "server_id": self.server, "access_level": "read"});
                self.app.post("/api/v1/grants", operator, body).await
            }
            Fresh::Rule => {
                let body = json!({"role": "guest", "tool_pattern": format!("fresh-{n}"), "access_level": "read"});
                self.app.post("/api/v1/toolservers/role-access", operator, body).await
            }
            Fresh::Key => {
                let body = json!({"principal_id": "target", "role": "user", "name": format!("fresh-{n}")});
                self.app.post("/api/v1/keys", operator, body).await
            }
            Fresh::Toolkit => self.app.post("/api/v1/toolkits", operator, json!({"name": format!("fresh-{n}")})).await,
            Fresh::KitTool => {
                let path = format!("/api/toolkits/{}/tools", self.toolkit);
                self.app.post(&path, operator, json!({"name": format!("fresh-{n}")})).await
            }
        };
        assert!(created.status.is_success(), "{kind:?}: {}", created.body);
        let key = if kind == Fresh::ServerName { "name" } else { "id" };
        created.body[key].as_str().unwrap().to_owned()
    }

    fn fill(&self, text: &str, fresh: &str, caller: usize) -> String {
        let pick = |own: &str| if fresh.is_empty() { own.to_owned() } else { fresh.to_owned() };
        let text = if text.starts_with("/api/v1/tools/id/") {
            text.replace("{id}", "matrix-kit")
        } else if text.starts_with("/ai-service/") {
            text.replace("{tenant}", "default").replace("{tool_id}", &pick("matrix"))
        } else if text.contains("toolkits/") {
            let kit = if text.ends_with("{tool_id}") { self.toolkit.clone() } else { pick(&self.toolkit) };
            text.replace("{toolkit_id}", &kit).replace("{id}", &kit).replace("{tool_id}", &pick(&self.kit_tool))
        } else {
            text.to_owned()
        };
        text.replace("{server_id}", &pick(&self.server))
            .replace("{server}", &self.server)
            .replace("{tool_id}", &self.tool)
            .replace("{grant_id}", &pick(&self.grant))
            .replace("{permission_id}", &pick(&self.grant))
            .replace("{rule_id}", &pick(&self.rule))
            .replace("{key_id}", fresh)
            .replace("{user_id}", "target")
            .replace("{name}", "calculator")
            .replace("{category}", "matrix")
            .replace("{caller}", &caller.to_string())
    }
}

/// A row's path without its query (a row may send one, e.g. a dry run).
fn path_of(row_path: &str) -> &str {
    row_path.split('?').next().unwrap_or(row_path)
}

#[tokio::test]
async fn every_operation_has_a_row_and_every_caller_gets_its_outcome() {
    let spec = serde_json::to_value(toolhub_http::openapi()).unwrap();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    let missing: Vec<_> =
        documented.iter().filter(|(m, p)| !ROWS.iter().any(|(rm, rp, ..)| rm == m && path_of(rp) == p)).collect();
    assert!(missing.is_empty(), "operations without a row in the authorization matrix: {missing:?}");
    let stale: Vec<_> =
        ROWS.iter().filter(|(m, p, ..)| !documented.contains(&(m.to_string(), path_of(p).to_string()))).collect();
    assert!(stale.is_empty(), "rows for operations the document does not have: {stale:?}");

    let app = spawn_app(Backend::Sqlite).await;
    let operator = app.admin_key.clone();
    let tokens = [
        app.key("guest", Role::Guest, "default").await,
        app.key("user", Role::User, "default").await,
        app.key("tenant-admin", Role::Admin, "default").await,
        app.key("globex-admin", Role::Admin, "globex").await,
        operator.clone(),
    ];
    app.key("target", Role::User, "default").await;
    let server = app
        .post(
            "/api/v1/toolservers/servers",
            &operator,
            json!({"name": "matrix", "display_name": "M", "base_url": "http://127.0.0.1:9/mcp", "auto_start": false, "category": "matrix"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tools = app.get("/api/v1/toolservers/tools/all", &operator).await.body;
    let tool = tools.as_array().unwrap().iter().find(|t| t["name"] == "calculator").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let grant_body = json!({"subject": "user:target", "server_id": server, "access_level": "read"});
    let grant = app.post("/api/v1/grants", &operator, grant_body).await.body["id"].as_str().unwrap().to_owned();
    let rule_body = json!({"role": "power_user", "tool_pattern": "matrix_*", "access_level": "read"});
    let rule =
        app.post("/api/v1/toolservers/role-access", &operator, rule_body).await.body["id"].as_str().unwrap().to_owned();
    let toolkit = app.post("/api/v1/toolkits", &operator, json!({"name": "matrix-kit"})).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let member = json!({"tool_id": tool, "name": "calculator"});
    let kit_tool = app.post(&format!("/api/v1/toolkits/{toolkit}/tools"), &operator, member).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let world = World { app, server, tool, grant, rule, toolkit, kit_tool };

    let mut wrong = Vec::new();
    let mut foreign_sent = String::new();
    let mut n = 0;
    for (method, path, fresh, body, outcomes) in ROWS {
        for (caller, token) in tokens.iter().enumerate() {
            n += 1;
            let fresh_id = world.fresh(*fresh, n).await;
            let url = world.fill(path, &fresh_id, caller);
            let body: Option<Value> =
                (!body.is_empty()).then(|| serde_json::from_str(&world.fill(body, &fresh_id, caller)).unwrap());
            let sent = format!("{url} {}", body.as_ref().map(Value::to_string).unwrap_or_default());
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let reply = world.app.request(method.clone(), &url, Some(token), body).await;
            let got = match reply.status {
                StatusCode::FORBIDDEN => D,
                StatusCode::NOT_FOUND => H,
                StatusCode::UNAUTHORIZED => {
                    wrong.push(format!("{method} {path} as {}: 401 {}", CALLERS[caller], reply.body));
                    continue;
                }
                _ => A,
            };
            if got != outcomes[caller] {
                wrong.push(format!(
                    "{method} {path} as {}: expected {:?}, got {} {}",
                    CALLERS[caller], outcomes[caller], reply.status, reply.body
                ));
            }
            // Another tenant's administrator learns nothing of this tenant's resources (beyond
            // the ids it sent itself, which its own call log may quote).
            if caller == 3 {
                foreign_sent.push_str(&sent);
                let text = reply.body.to_string();
                for secret in [&world.server, &world.tool, &world.grant, &world.rule, &world.toolkit, &world.kit_tool] {
                    if text.contains(secret.as_str()) && !foreign_sent.contains(secret.as_str()) {
                        wrong.push(format!("{method} {path} as foreign admin shows {secret}"));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} unexpected outcomes:\n{}", wrong.len(), wrong.join("\n"));
}

/// The MCP gateway's row (it is not an operation of the OpenAPI document): every authenticated
/// caller may open a session, and lists only what it may call in its own tenant: nothing for
/// the guest, the user and the other tenant's administrator; the built-in tools for the tenant's
/// administrator and the operator (administrators use every tool of their tenant).
#[tokio::test]
async fn the_mcp_gateway_row() {
    let app = spawn_app(Backend::Sqlite).await;
    let tokens = [
        app.key("guest", Role::Guest, "default").await,
        app.key("user", Role::User, "default").await,
        app.key("tenant-admin", Role::Admin, "default").await,
        app.key("globex-admin", Role::Admin, "globex").await,
        app.admin_key.clone(),
    ];
    let expected = [false, false, true, false, true];
    let url = format!("{}/mcp", app.base);
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "matrix", "version": "1"}}});
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let mut wrong = Vec::new();
    for ((caller, token), sees_builtins) in CALLERS.iter().zip(&tokens).zip(expected) {
        let (status, session, _) = crate::harness::mcp_post(&app.client, &url, token, None, initialize.clone()).await;
        if status != StatusCode::OK {
            wrong.push(format!("{caller}: initialize answered {status}"));
            continue;
        }
        let session = session.unwrap();
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        crate::harness::mcp_post(&app.client, &url, token, Some(&session), initialized).await;
        // The built-in server starts in the background: wait for it where it is expected.
        let names = toolhub_test_support::eventually_some(std::time::Duration::from_secs(5), || async {
            let (_, _, answer) = crate::harness::mcp_post(&app.client, &url, token, Some(&session), list.clone()).await;
            let names: Vec<String> =
                answer?["result"]["tools"].as_array()?.iter().map(|t| t["name"].to_string()).collect();
            (names.is_empty() != sees_builtins).then_some(names)
        })
        .await;
        match names {
            Some(names) if names.iter().all(|n| n.contains("builtin_tools__")) => {}
            other => wrong.push(format!("{caller}: expected builtins {sees_builtins}, listed {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    app.stop().await;
}
