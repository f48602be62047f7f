//! The seed systems' own APIs over real HTTP, replaying their documented examples: Open
//! WebUI's `/api/v1/tools` (seed 001), ChatAI's `/api/tools` (seed 002) and Emporix's
//! `/ai-service/{tenant}/agentic/tools` (seed 003).

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolhub_domain::Role;

use crate::harness::{Backend, TestApp, spawn_app};

toolhub_test_support::on_both_databases!(
    the_chatai_tools_api_works_as_documented,
    the_emporix_tools_api_works_as_documented,
    the_open_webui_tools_api_works_as_documented
);

const SERVERS: &str = "/api/v1/toolservers/servers";

/// Registers a stdio server in a category and returns its id.
async fn register(app: &TestApp, name: &str, category: &str, command: &str, args: &[&str]) -> String {
    let body = json!({
        "name": name, "display_name": name, "transport_type": "stdio", "category": category,
        "command": command, "args": args,
    });
    let created = app.post(SERVERS, &app.admin_key, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

/// The names of the tools a ChatAI list shows, with their `enabled`.
fn listed(body: &Value) -> Vec<(String, bool)> {
    assert_eq!(body["success"], true, "{body}");
    let tools = body["data"]["tools"].as_array().unwrap_or_else(|| panic!("tools: {body}"));
    tools.iter().map(|t| (t["name"].as_str().unwrap().to_owned(), t["enabled"].as_bool().unwrap())).collect()
}

fn shows(body: &Value, name: &str) -> Option<bool> {
    listed(body).into_iter().find(|(n, _)| n == name).map(|(_, enabled)| enabled)
}

/// A ChatAI error: the status, and `{success: false, error, code}` with that code.
fn refused(reply: &crate::harness::Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json"), "ChatAI's envelope, not a problem");
    assert_eq!(reply.body["success"], false, "{}", reply.body);
    assert_eq!(reply.body["code"], code, "{}", reply.body);
    assert!(reply.body["error"].as_str().is_some_and(|e| !e.is_empty()), "{}", reply.body);
}

async fn the_chatai_tools_api_works_as_documented(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = &app.admin_key;
    let python = toolhub_test_support::time_server_python();
    let time = register(&app, "time", "basic", python.to_str().unwrap(), &["-m", "mcp_server_time"]).await;
    let fixture = register(&app, "fixture", "admin", toolhub_test_support::fixture_bin().to_str().unwrap(), &[]).await;
    let alice = app.key("alice", Role::User, "default").await;
    for server in [&time, &fixture] {
        let grant = json!({"subject": "user:alice", "server_id": server, "access_level": "execute"});
        assert_eq!(app.post("/api/v1/grants", admin, grant).await.status, StatusCode::CREATED);
    }

    // The list, as seed 002 shows it: tools with category and enabled, categories by name.
    let list = app.get("/api/tools", admin).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let time_tool = list.body["data"]["tools"].as_array().unwrap().iter().find(|t| t["name"] == "get_current_time");
    let time_tool = time_tool.unwrap_or_else(|| panic!("get_current_time is listed: {}", list.body));
    assert_eq!((&time_tool["category"], &time_tool["enabled"]), (&json!("basic"), &json!(true)));
    assert!(time_tool["description"].is_string());
    assert_eq!(
        list.body["data"]["categories"],
        json!({"admin": {"name": "Admin", "enabled": true}, "basic": {"name": "Basic", "enabled": true}})
    );
    assert_eq!(shows(&list.body, "echo"), Some(true));

    // Details with the input schema.
    let detail = app.get("/api/tools/get_current_time", admin).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert_eq!(detail.body["data"]["name"], "get_current_time");
    assert_eq!(detail.body["data"]["category"], "basic");
    assert!(detail.body["data"]["inputSchema"]["properties"]["timezone"].is_object(), "{}", detail.body);
    assert_eq!(app.get("/api/tools/time__get_current_time", admin).await.body["data"]["name"], "get_current_time");
    refused(&app.get("/api/tools/no_such_tool", admin).await, StatusCode::NOT_FOUND, "TOOL_NOT_FOUND");
    refused(
        &app.request(reqwest::Method::GET, "/api/tools", None, None).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    );

    // A disabled category hides its tools from users and refuses their calls, on every API.
    let toggled = app.put("/api/tools/category/admin/toggle", admin, json!({"enabled": false})).await;
    assert_eq!(toggled.status, StatusCode::OK, "{}", toggled.body);
    assert_eq!(
        toggled.body,
        json!({"success": true, "data": {"category": "admin", "name": "Admin", "enabled": false}})
    );
    let seen_by_alice = app.get("/api/tools", &alice).await.body;
    assert_eq!(shows(&seen_by_alice, "echo"), None, "{seen_by_alice}");
    assert_eq!(shows(&seen_by_alice, "get_current_time"), Some(true));
    assert_eq!(seen_by_alice["data"]["categories"], json!({"basic": {"name": "Basic", "enabled": true}}));
    let seen_by_admin = app.get("/api/tools", admin).await.body;
    assert_eq!(shows(&seen_by_admin, "echo"), Some(false), "administrators still see it, disabled");
    assert_eq!(seen_by_admin["data"]["categories"]["admin"]["enabled"], false);
    let call = json!({"name": "echo", "args": {"message": "hi"}});
    refused(&app.post("/api/tools/call", &alice, call.clone()).await, StatusCode::CONFLICT, "TOOL_DISABLED");
    let native = app
        .post(
            "/api/v1/toolservers/call",
            &alice,
            json!({"server_name": "fixture", "tool_name": "echo", "arguments": {"message": "hi"}}),
        )
        .await;
    assert_eq!((native.status, native.code()), (StatusCode::CONFLICT, "TOOL_DISABLED"), "{}", native.body);
    let tools = app.get(&format!("{SERVERS}/{fixture}/tools"), &alice).await;
    assert_eq!(tools.body["tools"], json!([]), "the native list hides them too: {}", tools.body);
    refused(
        &app.put("/api/tools/category/admin/toggle", &alice, json!({"enabled": true})).await,
        StatusCode::FORBIDDEN,
        "ACCESS_DENIED",
    );
    refused(
        &app.put("/api/tools/category/nothing/toggle", admin, json!({"enabled": true})).await,
        StatusCode::NOT_FOUND,
        "CATEGORY_NOT_FOUND",
    );
    let enabled = app.put("/api/tools/category/admin/toggle", admin, json!({"enabled": true})).await;
    assert_eq!(enabled.body["data"]["enabled"], true, "{}", enabled.body);
    assert_eq!(shows(&app.get("/api/tools", &alice).await.body, "echo"), Some(true));

    // A tool's own switch, by those who manage its server.
    let toggled = app.put("/api/tools/echo/toggle", admin, json!({"enabled": false})).await;
    assert_eq!(toggled.body, json!({"success": true, "data": {"name": "echo", "enabled": false}}));
    assert_eq!(shows(&app.get("/api/tools", &alice).await.body, "echo"), None);
    refused(
        &app.put("/api/tools/add/toggle", &alice, json!({"enabled": false})).await,
        StatusCode::FORBIDDEN,
        "ACCESS_DENIED",
    );
    refused(
        &app.put("/api/tools/echo/toggle", admin, json!({"enabled": "yes"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    );
    app.put("/api/tools/echo/toggle", admin, json!({"enabled": true})).await;

    // Debug calls: the seed's own body (whose `format` the time server does not take), a
    // valid call, a tool's error.
    let seed_call = json!({"name": "get_current_time", "args": {"format": "full"}});
    refused(&app.post("/api/tools/call", admin, seed_call).await, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_ARGS");
    let called =
        app.post("/api/tools/call", &alice, json!({"name": "get_current_time", "args": {"timezone": "UTC"}})).await;
    assert_eq!(called.status, StatusCode::OK, "{}", called.body);
    assert_eq!(called.body["success"], true);
    assert!(called.body["data"]["duration"].as_f64().is_some_and(|d| d >= 0.0), "{}", called.body);
    assert!(called.body["data"]["result"].to_string().contains("UTC"), "{}", called.body);
    let echoed = app.post("/api/tools/call", &alice, json!({"name": "fixture__echo", "args": {"message": "hi"}})).await;
    assert_eq!(echoed.body["data"]["result"]["content"][0]["text"], "hi", "{}", echoed.body);
    let failed = app.post("/api/tools/call", &alice, json!({"name": "fail", "args": {"message": "boom"}})).await;
    refused(&failed, StatusCode::BAD_GATEWAY, "EXECUTION_ERROR");
    assert_eq!(failed.body["error"], "boom");

    // The logs: the calls above, newest first, with the seed's fields; users read their own.
    app.put("/api/tools/echo/toggle", admin, json!({"enabled": true})).await;
    let logs = wait_for_logs(&app, "/api/tools/logs?limit=2", admin, 4).await;
    assert_eq!(logs["data"]["logs"].as_array().unwrap().len(), 2, "{logs}");
    let newest = &logs["data"]["logs"][0];
    assert_eq!(
        (&newest["tool"], &newest["userId"], &newest["success"]),
        (&json!("fail"), &json!("alice"), &json!(false))
    );
    assert_eq!(newest["args"], json!({"message": "boom"}));
    assert!(newest["timestamp"].as_i64().is_some_and(|t| t > 1_700_000_000_000), "milliseconds: {newest}");
    assert!(newest["duration"].is_number() && newest["groupId"].is_null() && newest["id"].is_string());
    let of_echo = app.get("/api/tools/logs?tool=echo", admin).await.body;
    let tools: Vec<&Value> = of_echo["data"]["logs"].as_array().unwrap().iter().map(|l| &l["tool"]).collect();
    assert!(!tools.is_empty() && tools.iter().all(|t| *t == "echo"), "{of_echo}");
    let page_two = app.get("/api/tools/logs?limit=1&offset=1", admin).await.body;
    assert_eq!(page_two["data"]["logs"][0]["id"], logs["data"]["logs"][1]["id"]);
    let bob = app.key("bob", Role::User, "default").await;
    assert_eq!(app.get("/api/tools/logs", &bob).await.body["data"], json!({"logs": [], "total": 0}));
    refused(&app.get("/api/tools/logs?limit=0", admin).await, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED");
}

/// The logs once at least `count` calls are written (the call log writes in batches).
async fn wait_for_logs(app: &TestApp, path: &str, key: &str, count: u64) -> Value {
    for _ in 0..100 {
        let body = app.get(path, key).await.body;
        if body["data"]["total"].as_u64().unwrap_or(0) >= count {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the call log never held {count} calls");
}

const EMPORIX: &str = "/ai-service/default/agentic/tools";

fn ids(body: &Value) -> Vec<&str> {
    body.as_array().unwrap_or_else(|| panic!("a list: {body}")).iter().map(|t| t["id"].as_str().unwrap()).collect()
}

async fn the_emporix_tools_api_works_as_documented(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = &app.admin_key;
    let fixture = toolhub_test_support::fixture_bin().display().to_string();

    // Upsert creates (201 with the id), then replaces (204).
    let tool = json!({
        "name": "Fixture", "type": "stdio", "enabled": true,
        "config": {"command": fixture, "env": {"API_TOKEN": "s3cret-value", "MODE": "test"}},
    });
    let created = app.put(&format!("{EMPORIX}/fixture-tool"), admin, tool.clone()).await;
    assert_eq!((created.status, &created.body), (StatusCode::CREATED, &json!({"id": "fixture-tool"})));
    assert_eq!(created.header("location"), Some("/ai-service/default/agentic/tools/fixture-tool"));
    let docs = json!({"name": "Support Docs", "type": "http", "config": {"url": "http://127.0.0.1:9/mcp"}});
    assert_eq!(app.put(&format!("{EMPORIX}/docs"), admin, docs).await.status, StatusCode::CREATED);

    let got = app.get(&format!("{EMPORIX}/fixture-tool"), admin).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(
        (&got.body["type"], &got.body["name"], &got.body["enabled"]),
        (&json!("stdio"), &json!("Fixture"), &json!(true))
    );
    assert_eq!(got.body["config"]["env"], json!({"MODE": "test"}), "secret values are write-only");
    assert_eq!(got.body["config"]["secretEnv"], json!(["API_TOKEN"]));
    assert!(!got.body.to_string().contains("s3cret"), "{}", got.body);
    let version = got.body["metadata"]["version"].as_i64().unwrap();
    assert!(got.body["metadata"]["createdAt"].is_string() && got.body["metadata"]["modifiedAt"].is_string());

    // Lists and searches, with the seed's own search body.
    let list = app.get(&format!("{EMPORIX}?q=enabled:true%20type:stdio&sort=id:desc"), admin).await;
    assert_eq!(ids(&list.body), ["fixture-tool"], "{}", list.body);
    let list = app.get(&format!("{EMPORIX}?q=type:(http,stdio)&sort=id:desc&pageSize=1&pageNumber=2"), admin).await;
    assert_eq!(ids(&list.body), ["docs"], "{}", list.body);
    let found = app.post(&format!("{EMPORIX}/search"), admin, json!({"q": "name:~Support"})).await;
    assert_eq!(ids(&found.body), ["docs"], "{}", found.body);
    let bad = app.get(&format!("{EMPORIX}?q=colour:red"), admin).await;
    assert_eq!((bad.status, bad.code()), (StatusCode::BAD_REQUEST, "INVALID_QUERY"));

    // Optimistic locking: a stale version is a 409; the current one replaces, secrets kept.
    let mut replacement = tool.clone();
    replacement["config"]["env"] = json!({"MODE": "prod"});
    replacement["metadata"] = json!({"version": version + 5});
    let stale = app.put(&format!("{EMPORIX}/fixture-tool"), admin, replacement.clone()).await;
    assert_eq!((stale.status, stale.code()), (StatusCode::CONFLICT, "VERSION_MISMATCH"), "{}", stale.body);
    replacement["metadata"] = json!({"version": version});
    let replaced = app.put(&format!("{EMPORIX}/fixture-tool"), admin, replacement).await;
    assert_eq!(replaced.status, StatusCode::NO_CONTENT, "{}", replaced.body);
    let got = app.get(&format!("{EMPORIX}/fixture-tool"), admin).await.body;
    assert_eq!((&got["config"]["env"], &got["config"]["secretEnv"]), (&json!({"MODE": "prod"}), &json!(["API_TOKEN"])));
    assert!(got["metadata"]["version"].as_i64().unwrap() > version);

    // PATCH as the seed writes it: REPLACE of a name and a config value; ADD and REMOVE on a list.
    let patch = json!([
        {"op": "REPLACE", "path": "/config/env/MODE", "value": "patched"},
        {"op": "REPLACE", "path": "/name", "value": "New fixture name"},
        {"op": "add", "path": "/config/tags", "value": "emporix"},
        {"op": "Add", "path": "/config/tags", "value": "seed"},
        {"op": "remove", "path": "/config/tags", "value": "seed"},
    ]);
    let patched =
        app.request(reqwest::Method::PATCH, &format!("{EMPORIX}/fixture-tool"), Some(admin), Some(patch)).await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.body);
    let got = app.get(&format!("{EMPORIX}/fixture-tool"), admin).await.body;
    assert_eq!(got["name"], "New fixture name");
    assert_eq!((&got["config"]["env"]["MODE"], &got["config"]["tags"]), (&json!("patched"), &json!(["emporix"])));
    for (bad, says) in [
        (json!([{"op": "REPLACE", "path": "/metadata/version", "value": 9}]), "cannot be patched"),
        (json!([{"op": "MOVE", "path": "/name", "value": "x"}]), "ADD, REMOVE or REPLACE"),
        (json!([{"op": "REPLACE", "path": "/config/botToken", "value": "x"}]), "botToken"),
        (json!({"op": "REPLACE"}), "JSON array"),
    ] {
        let reply =
            app.request(reqwest::Method::PATCH, &format!("{EMPORIX}/fixture-tool"), Some(admin), Some(bad)).await;
        assert!(reply.status.is_client_error(), "{}", reply.body);
        assert!(reply.body.to_string().contains(says), "{says}: {}", reply.body);
    }

    // A toolkit that uses the tool: disabling or deleting it needs force, which unassigns it.
    let kit =
        app.post("/api/v1/toolkits", admin, json!({"name": "agent"})).await.body["id"].as_str().unwrap().to_owned();
    let server = app.get("/api/v1/toolservers/servers", admin).await.body;
    let server_id = server.as_array().unwrap().iter().find(|s| s["name"] == "fixture-tool").unwrap()["id"].clone();
    let tools =
        app.get(&format!("/api/v1/toolservers/servers/{}/tools", server_id.as_str().unwrap()), admin).await.body;
    let echo = tools["tools"].as_array().unwrap().iter().find(|t| t["name"] == "echo").unwrap()["id"].clone();
    let member = app.post(&format!("/api/v1/toolkits/{kit}/tools"), admin, json!({"tool_id": echo})).await;
    assert_eq!(member.status, StatusCode::CREATED, "{}", member.body);
    let disable = json!([{"op": "REPLACE", "path": "/enabled", "value": false}]);
    let refused_disable = app
        .request(reqwest::Method::PATCH, &format!("{EMPORIX}/fixture-tool"), Some(admin), Some(disable.clone()))
        .await;
    assert_eq!((refused_disable.status, refused_disable.code()), (StatusCode::CONFLICT, "CONFLICT"));
    assert!(refused_disable.body["detail"].as_str().unwrap().contains("agent"), "{}", refused_disable.body);
    let refused_delete = app.delete(&format!("{EMPORIX}/fixture-tool"), admin).await;
    assert_eq!((refused_delete.status, refused_delete.code()), (StatusCode::CONFLICT, "CONFLICT"));
    let forced = app
        .request(reqwest::Method::PATCH, &format!("{EMPORIX}/fixture-tool?force=true"), Some(admin), Some(disable))
        .await;
    assert_eq!(forced.status, StatusCode::NO_CONTENT, "{}", forced.body);
    assert_eq!(app.get(&format!("{EMPORIX}/fixture-tool"), admin).await.body["enabled"], false);
    let deleted = app.delete(&format!("{EMPORIX}/fixture-tool?force=true"), admin).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(app.get(&format!("{EMPORIX}/fixture-tool"), admin).await.status, StatusCode::NOT_FOUND);
    let left = app.get(&format!("/api/v1/toolkits/{kit}/tools"), admin).await.body;
    assert_eq!(left.as_array().map(Vec::len), Some(0), "the toolkit no longer holds it: {left}");

    // Tenants and roles: another tenant's path is missing; users read what they may see.
    let tenant_admin = app.key("tenant-admin", Role::Admin, "default").await;
    assert_eq!(app.get(EMPORIX, &tenant_admin).await.status, StatusCode::OK);
    let other = app.get("/ai-service/globex/agentic/tools", &tenant_admin).await;
    assert_eq!((other.status, other.code()), (StatusCode::NOT_FOUND, "TENANT_NOT_FOUND"));
    let operator = app.get("/ai-service/globex/agentic/tools", admin).await;
    assert_eq!((operator.status, &operator.body), (StatusCode::OK, &json!([])), "the operator names any tenant");
    let alice = app.key("alice", Role::User, "default").await;
    assert_eq!(app.get(EMPORIX, &alice).await.body, json!([]));
    let by_alice = app
        .put(
            &format!("{EMPORIX}/mine"),
            &alice,
            json!({"name": "Mine", "type": "http", "config": {"url": "http://127.0.0.1:9/mcp"}}),
        )
        .await;
    assert_eq!((by_alice.status, by_alice.code()), (StatusCode::FORBIDDEN, "ACCESS_DENIED"));

    // The seed's own PUT names an Emporix integration type, which Toolhub does not run.
    let seed =
        json!({"name": "Slack Native Tool", "type": "slack", "config": {"teamId": "12345", "botToken": "xoxb-35354"}});
    let reply = app.put(&format!("{EMPORIX}/slack"), admin, seed).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert!(!reply.body.to_string().contains("xoxb"), "secrets are not echoed: {}", reply.body);
}

const OPEN_WEBUI: &str = "/api/v1/tools";

/// The items of an Open WebUI list by id.
fn by_id(body: &Value) -> std::collections::BTreeMap<String, Value> {
    let items = body.as_array().unwrap_or_else(|| panic!("a list: {body}"));
    items.iter().map(|t| (t["id"].as_str().unwrap().to_owned(), t.clone())).collect()
}

fn grants_of(item: &Value) -> Vec<(String, String, String)> {
    let mut grants: Vec<(String, String, String)> = item["access_grants"]
        .as_array()
        .unwrap_or_else(|| panic!("access_grants: {item}"))
        .iter()
        .map(|g| {
            let text = |k: &str| g[k].as_str().unwrap().to_owned();
            (text("principal_type"), text("principal_id"), text("permission"))
        })
        .collect();
    grants.sort();
    grants
}

fn grant(kind: &str, id: &str, permission: &str) -> (String, String, String) {
    (kind.to_owned(), id.to_owned(), permission.to_owned())
}

async fn the_open_webui_tools_api_works_as_documented(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = &app.admin_key;
    let fixture = register(&app, "fixture", "demo", toolhub_test_support::fixture_bin().to_str().unwrap(), &[]).await;
    let bot = app.key("bot", Role::Admin, "default").await;
    let own_api = json!({
        "name": "self", "display_name": "Toolhub itself", "transport_type": "openapi", "base_url": app.base,
        "headers": {"Authorization": format!("Bearer {bot}")}, "function_name_filter_list": "healthz",
    });
    assert_eq!(app.post(SERVERS, admin, own_api).await.status, StatusCode::CREATED);
    let idle =
        json!({"name": "idle", "display_name": "Idle", "base_url": "http://127.0.0.1:9/mcp", "auto_start": false});
    assert_eq!(app.post(SERVERS, admin, idle).await.status, StatusCode::CREATED);
    let research = app.post("/api/v1/toolkits", admin, json!({"name": "research", "description": "Find things"})).await;
    let research_id = research.body["id"].as_str().unwrap().to_owned();
    let tools = app.get(&format!("{SERVERS}/{fixture}/tools"), admin).await.body;
    let echo = tools["tools"].as_array().unwrap().iter().find(|t| t["name"] == "echo").unwrap()["id"].clone();
    let member = app.post(&format!("/api/v1/toolkits/{research_id}/tools"), admin, json!({"tool_id": echo})).await;
    assert_eq!(member.status, StatusCode::CREATED, "{}", member.body);
    let pat = app.key("pat", Role::PowerUser, "default").await;
    assert_eq!(app.post("/api/v1/toolkits", &pat, json!({"name": "pats-kit"})).await.status, StatusCode::CREATED);
    let (alice, bob) = (app.key("alice", Role::User, "default").await, app.key("bob", Role::User, "default").await);

    // One list: running MCP servers, OpenAPI servers and toolkits, with the seed's fields.
    let list = app.get(&format!("{OPEN_WEBUI}/"), admin).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let items = by_id(&list.body);
    for id in ["server:mcp:fixture", "server:self", "research", "pats-kit"] {
        assert!(items.contains_key(id), "{id} is listed: {:?}", items.keys());
    }
    assert!(!items.contains_key("server:mcp:idle"), "a stopped server is not offered");
    let mcp = &items["server:mcp:fixture"];
    assert_eq!(
        (&mcp["user_id"], &mcp["name"], &mcp["write_access"]),
        (&json!("server:mcp:fixture"), &json!("fixture"), &json!(true))
    );
    let created = mcp["created_at"].as_i64().unwrap();
    assert!((1_700_000_000..10_000_000_000).contains(&created), "unix seconds: {created}");
    assert!(mcp.get("authenticated").is_none(), "no per-user OAuth here");
    let kit = &items["research"];
    assert_eq!((&kit["meta"]["description"], &kit["has_user_valves"]), (&json!("Find things"), &json!(false)));
    assert_eq!(items["pats-kit"]["user_id"], "pat");

    // Replacing grants: read is execute, write is admin, one per principal, invalid entries dropped.
    let update = json!({"access_grants": [
        {"principal_type": "user", "principal_id": "alice", "permission": "read"},
        {"principal_type": "user", "principal_id": "alice", "permission": "write"},
        {"principal_type": "group", "principal_id": "eng", "permission": "read"},
        {"principal_type": "user", "principal_id": "*", "permission": "read"},
        {"principal_type": "robot", "principal_id": "r2", "permission": "read"},
        {"principal_type": "user", "principal_id": "carol", "permission": "own"},
    ]});
    let updated = app.post(&format!("{OPEN_WEBUI}/id/research/access/update"), admin, update).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(
        grants_of(&updated.body),
        [grant("group", "eng", "read"), grant("user", "*", "read"), grant("user", "alice", "write")]
    );
    let native = app.get(&format!("/api/v1/grants?toolkit_id={research_id}"), admin).await.body;
    assert_eq!(native.as_array().map(Vec::len), Some(3), "real grants: {native}");

    // Alice, a writer, sees and shares it; her grant to everyone is dropped, as Open WebUI does.
    let seen = by_id(&app.get(&format!("{OPEN_WEBUI}/"), &alice).await.body);
    assert_eq!(seen["research"]["write_access"], true);
    let shared = app
        .post(
            &format!("{OPEN_WEBUI}/id/research/access/update"),
            &alice,
            json!({"access_grants": [
                {"principal_type": "user", "principal_id": "alice", "permission": "write"},
                {"principal_type": "user", "principal_id": "bob", "permission": "read"},
                {"principal_type": "user", "principal_id": "*", "permission": "read"},
            ]}),
        )
        .await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.body);
    assert_eq!(grants_of(&shared.body), [grant("user", "alice", "write"), grant("user", "bob", "read")]);
    let bobs = by_id(&app.get(&format!("{OPEN_WEBUI}/list"), &bob).await.body);
    assert_eq!(bobs.keys().collect::<Vec<_>>(), ["research"], "bob reads it now");
    assert_eq!((&bobs["research"]["write_access"], &bobs["research"]["access_grants"]), (&json!(false), &json!([])));
    let by_bob = app.post(&format!("{OPEN_WEBUI}/id/research/access/update"), &bob, json!({"access_grants": []})).await;
    assert_eq!((by_bob.status, by_bob.code()), (StatusCode::FORBIDDEN, "ACCESS_DENIED"));

    // A server's grants are an administrator's; they are real grants the engine decides by.
    let by_bob = app
        .post(&format!("{OPEN_WEBUI}/id/server:mcp:fixture/access/update"), &bob, json!({"access_grants": []}))
        .await;
    assert_eq!(by_bob.status, StatusCode::FORBIDDEN, "bob sees it through the toolkit: {}", by_bob.body);
    let read = json!({"access_grants": [{"principal_type": "user", "principal_id": "alice", "permission": "read"}]});
    let shared = app.post(&format!("{OPEN_WEBUI}/id/server:mcp:fixture/access/update"), admin, read).await;
    assert_eq!(grants_of(&shared.body), [grant("user", "alice", "read")]);
    let call = json!({"server_name": "fixture", "tool_name": "echo", "arguments": {"message": "hi"}});
    let called = app.post("/api/v1/toolservers/call", &alice, call).await;
    assert_eq!(called.status, StatusCode::OK, "read is Toolhub's execute: {}", called.body);
    let item = app.get(&format!("{OPEN_WEBUI}/id/server:mcp:fixture"), &alice).await;
    assert_eq!((&item.body["write_access"], &item.body["access_grants"]), (&json!(false), &json!([])));
    let by_alice = app
        .post(&format!("{OPEN_WEBUI}/id/server:mcp:fixture/access/update"), &alice, json!({"access_grants": []}))
        .await;
    assert_eq!((by_alice.status, by_alice.code()), (StatusCode::FORBIDDEN, "ACCESS_DENIED"));
    assert_eq!(app.get(&format!("{OPEN_WEBUI}/id/server:mcp:nothing"), admin).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("{OPEN_WEBUI}/id/server:fixture"), admin).await.status,
        StatusCode::NOT_FOUND,
        "an MCP server is server:mcp:"
    );

    // Export: toolkits whole, for power users (their own) and administrators (all).
    let refused = app.get(&format!("{OPEN_WEBUI}/export"), &alice).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "ACCESS_DENIED"));
    let pats = app.get(&format!("{OPEN_WEBUI}/export"), &pat).await.body;
    assert_eq!(by_id(&pats).keys().collect::<Vec<_>>(), ["pats-kit"]);
    let all = by_id(&app.get(&format!("{OPEN_WEBUI}/export"), admin).await.body);
    assert_eq!(all.keys().collect::<Vec<_>>(), ["pats-kit", "research"]);
    assert_eq!(all["research"]["specs"][0]["name"], "echo");
    assert_eq!(all["research"]["specs"][0]["parameters"]["required"], json!(["message"]));
}
