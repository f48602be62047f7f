//! The seed systems' own APIs over real HTTP, replaying their documented examples: ChatAI's
//! `/api/tools` (seed 002).

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolhub_domain::Role;

use crate::harness::{Backend, TestApp, spawn_app};

toolhub_test_support::on_both_databases!(the_chatai_tools_api_works_as_documented);

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
