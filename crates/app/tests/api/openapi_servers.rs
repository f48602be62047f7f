//! OpenAPI tool servers (`transport_type: "openapi"`): Toolhub's own API registered as one
//! (listing servers through a tool, as a user with a grant), and a third-party mock of the
//! Petstore (npm Prism) from an inline YAML document, on both databases.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolhub_domain::Role;

use crate::{
    harness::{Backend, TestApp, spawn_app},
    mcp_gateway::{call, connect, names},
};

toolhub_test_support::on_both_databases!(
    toolhubs_own_api_is_a_tool_server,
    a_third_party_api_from_an_inline_yaml_document,
);

const SERVERS: &str = "/api/v1/toolservers/servers";
const LIST_SERVERS: &str = "list_tool_servers_api_v1_toolservers_servers_get";

async fn register(app: &TestApp, body: Value) -> Value {
    let created = app.post(SERVERS, &app.admin_key, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body
}

fn tool_id(server: &Value, name: &str) -> String {
    let tools = server["tools"].as_array().unwrap();
    let tool = tools.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no tool {name} in {server}"));
    tool["id"].as_str().unwrap().to_owned()
}

async fn toolhubs_own_api_is_a_tool_server(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.key("bot", Role::Admin, "default").await;
    let server = register(
        &app,
        json!({
            "name": "self", "display_name": "Toolhub itself", "transport_type": "openapi",
            "base_url": app.base, "headers": {"Authorization": format!("Bearer {bot}")},
            "function_name_filter_list": "servers_get,!by_name",
        }),
    )
    .await;
    assert_eq!(server["status"], "enabled", "{server}");
    assert_eq!(server["headers"]["Authorization"], "********");
    assert_eq!(server["function_name_filter_list"], json!(["servers_get", "!by_name"]));
    let tools: Vec<&str> = server["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tools, [LIST_SERVERS], "only what the filter allows");
    let tool = &server["tools"][0];
    assert_eq!(tool["inputSchema"]["properties"]["status"]["enum"].as_array().map(Vec::len), Some(5), "{tool}");

    // A user with a grant lists Toolhub's servers through the tool, over REST and MCP.
    let alice = app.key("alice", Role::User, "default").await;
    let grant = json!({"subject": "user:alice", "tool_id": tool_id(&server, LIST_SERVERS), "access_level": "execute"});
    assert_eq!(app.post("/api/v1/grants", &app.admin_key, grant).await.status, StatusCode::CREATED);
    let body = json!({"server_name": "self", "tool_name": LIST_SERVERS, "arguments": {"include_builtin": false}});
    let answer = app.post("/api/v1/toolservers/call", &alice, body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let listed: Value = serde_json::from_str(answer.body["content"][0]["text"].as_str().unwrap()).unwrap();
    let listed: Vec<&str> = listed.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(listed, ["self"], "builtins left out by the query argument");
    let as_alice = connect(&app, "/mcp", &alice).await;
    assert!(names(&as_alice).await.contains(&format!("self__{LIST_SERVERS}")));
    let over_mcp = call(&as_alice, &format!("self__{LIST_SERVERS}"), json!({"status": "bogus"})).await.unwrap();
    assert_eq!(over_mcp["isError"], true, "the argument check refuses a value outside the enum: {over_mcp}");

    // The service's own refusal is the tool's error, with the HTTP status.
    let update = json!({"headers": {"Authorization": "Bearer th_wrong"}});
    assert_eq!(
        app.put(&format!("{SERVERS}/{}", server["id"].as_str().unwrap()), &app.admin_key, update).await.status,
        StatusCode::OK
    );
    let refused = toolhub_test_support::eventually_some(Duration::from_secs(10), || async {
        let body = json!({"server_name": "self", "tool_name": LIST_SERVERS, "arguments": {}});
        let answer = app.post("/api/v1/toolservers/call", &alice, body).await;
        let text = answer.body["content"][0]["text"].as_str().unwrap_or_default().to_owned();
        (answer.body["isError"] == true && text.starts_with("HTTP 401")).then_some(text)
    })
    .await;
    assert!(refused.is_some(), "a wrong key is the service's 401, as a tool error");

    // A document Toolhub cannot use is a 422 that says where: given inline, at registration
    // (nothing is stored); at a URL, when it is read (a start reports it, a refresh answers it).
    let inline = json!({"name": "broken", "display_name": "B", "transport_type": "openapi", "base_url": app.base,
                        "openapi_spec": "{\"openapi\": \"2.0\", \"paths\": {}}"});
    let refused = app.post(SERVERS, &app.admin_key, inline).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_SPEC"),
        "{}",
        refused.body
    );
    assert!(refused.body["detail"].as_str().unwrap().contains("the inline document"), "{}", refused.body);
    let at_url = json!({"name": "elsewhere", "display_name": "E", "transport_type": "openapi", "base_url": app.base,
                        "openapi_spec": "healthz"});
    let started = app.post(SERVERS, &app.admin_key, at_url).await;
    assert_eq!(started.body["status"], "error", "{}", started.body);
    assert!(
        started.body["last_startup_error"].as_str().unwrap().contains("/healthz cannot be used"),
        "{}",
        started.body
    );
    let id = server["id"].as_str().unwrap();
    let broken = json!({"openapi_spec": "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"});
    let unchanged = app.put(&format!("{SERVERS}/{id}"), &app.admin_key, broken).await;
    assert_eq!(
        (unchanged.status, unchanged.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_SPEC"),
        "{}",
        unchanged.body
    );
    assert!(unchanged.body["detail"].as_str().unwrap().contains("paths: missing"), "{}", unchanged.body);
    assert_eq!(
        app.get(&format!("{SERVERS}/{id}"), &app.admin_key).await.body["openapi_spec"],
        Value::Null,
        "nothing changed"
    );
    app.stop().await;
}

async fn a_third_party_api_from_an_inline_yaml_document(backend: Backend) {
    let port = toolhub_test_support::free_port();
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/data/petstore.yaml");
    let _prism = toolhub_test_support::spawn(
        &toolhub_test_support::prism_bin(),
        &["mock", "--host", "127.0.0.1", "--port", &port.to_string(), "--dynamic", "false", spec.to_str().unwrap()],
        &[],
    );
    assert!(toolhub_test_support::wait_for_port(port, Duration::from_secs(60)).await, "Prism did not start");
    let app = spawn_app(backend).await;
    let document = std::fs::read_to_string(&spec).unwrap();
    let server = register(
        &app,
        json!({"name": "petstore", "display_name": "Petstore", "transport_type": "openapi",
               "base_url": format!("http://127.0.0.1:{port}"), "openapi_spec": document}),
    )
    .await;
    let names: Vec<&str> = server["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["listPets", "createPets", "showPetById"], "{server}");
    let show = server["tools"].as_array().unwrap().iter().find(|t| t["name"] == "showPetById").unwrap();
    assert_eq!(show["output_schema"]["required"], json!(["id", "name"]), "the $ref resolved");

    let call = |tool: &'static str, arguments: Value| {
        let app = &app;
        async move {
            let body = json!({"server_name": "petstore", "tool_name": tool, "arguments": arguments});
            app.post("/api/v1/toolservers/call", &app.admin_key, body).await
        }
    };
    let pet = call("showPetById", json!({"petId": "7"})).await;
    assert_eq!(pet.status, StatusCode::OK, "{}", pet.body);
    assert_eq!(pet.body["structuredContent"], json!({"id": 7, "name": "Rex", "tag": "dog"}), "{}", pet.body);
    let created = call("createPets", json!({"id": 8, "name": "Tom"})).await;
    assert_eq!((created.status, &created.body["isError"]), (StatusCode::OK, &json!(false)), "{}", created.body);
    // Prism validates requests against the document: a wrong query value is its 422.
    let invalid = call("listPets", json!({"limit": 1000})).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "Toolhub checks the schema first: {}", invalid.body);
    let listed = call("listPets", json!({"limit": 2})).await;
    assert!(listed.body["content"][0]["text"].as_str().unwrap().starts_with('['), "{}", listed.body);

    // Refresh reads the document again (here unchanged): the tools stay.
    let refreshed = app
        .post(&format!("{SERVERS}/{}/refresh-tools", server["id"].as_str().unwrap()), &app.admin_key, json!({}))
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    app.stop().await;
}
