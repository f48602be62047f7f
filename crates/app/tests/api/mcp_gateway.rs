//! The MCP gateway (`/mcp`), through rmcp's own Streamable HTTP client: what each principal
//! sees and may call, the scoped endpoint, refusals as tool errors, and the 401 challenge.

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use reqwest::StatusCode;
use rmcp::{
    ClientHandler, RoleClient, ServiceExt,
    model::CallToolRequestParams,
    service::{NotificationContext, RunningService},
    transport::{StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig},
};
use serde_json::{Value, json};
use toolhub_domain::Role;

use crate::harness::{Backend, TestApp, spawn_app};

toolhub_test_support::on_both_databases!(
    each_principal_sees_and_calls_what_its_grants_allow,
    list_changed_reaches_the_sessions_whose_tools_changed,
    third_party_clients_see_and_call_what_each_principal_may,
    resources_and_prompts_of_readable_servers,
    a_cancelled_call_and_a_crash_mid_call,
    upstream_progress_reaches_the_client_that_asked,
    upstream_notices_reach_those_who_may_hear_them,
);

const SERVERS: &str = "/api/v1/toolservers/servers";

/// The fixture registered over stdio as `fixture` (started): its id and its tools' ids by name.
pub struct Fixture {
    pub id: String,
    tools: Value,
}

impl Fixture {
    pub async fn register(app: &TestApp) -> Self {
        let body = json!({
            "name": "fixture", "display_name": "Fixture", "transport_type": "stdio",
            "command": toolhub_test_support::fixture_bin().display().to_string(),
        });
        let created = app.post(SERVERS, &app.admin_key, body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let tools = app.get(&format!("{SERVERS}/{id}/tools"), &app.admin_key).await.body;
        Self { id, tools }
    }

    pub fn tool_id(&self, name: &str) -> Value {
        self.tools["tools"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["id"].clone()
    }
}

pub async fn connect(app: &TestApp, path: &str, key: &str) -> RunningService<RoleClient, ()> {
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}{path}", app.base)).auth_header(key);
    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
    ().serve(transport).await.expect("the MCP handshake succeeds")
}

pub async fn names(client: &RunningService<RoleClient, ()>) -> BTreeSet<String> {
    client.list_all_tools().await.unwrap().into_iter().map(|t| t.name.into_owned()).collect()
}

pub async fn call(client: &RunningService<RoleClient, ()>, name: &str, arguments: Value) -> Result<Value, String> {
    let params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments.as_object().unwrap().clone());
    match client.call_tool(params).await {
        Ok(result) => Ok(serde_json::to_value(result).unwrap()),
        Err(error) => Err(error.to_string()),
    }
}

async fn each_principal_sees_and_calls_what_its_grants_allow(backend: Backend) {
    let app = spawn_app(backend).await;
    let fixture = Fixture::register(&app).await;
    let tool_id = |name: &str| fixture.tool_id(name);
    let (alice, bob) = (app.key("alice", Role::User, "default").await, app.key("bob", Role::User, "default").await);
    for (tool, level) in [("echo", "execute"), ("fail", "execute"), ("add", "read")] {
        let grant = json!({"subject": "user:alice", "tool_id": tool_id(tool), "access_level": level});
        assert_eq!(app.post("/api/v1/grants", &app.admin_key, grant).await.status, StatusCode::CREATED);
    }
    let quota =
        json!({"subject": "user:bob", "tool_id": tool_id("echo"), "access_level": "execute", "rate_limit_per_hour": 1});
    assert_eq!(app.post("/api/v1/grants", &app.admin_key, quota).await.status, StatusCode::CREATED);

    // Each sees exactly the tools it may execute, named <server>__<tool>.
    let as_alice = connect(&app, "/mcp", &alice).await;
    assert_eq!(names(&as_alice).await, BTreeSet::from(["fixture__echo".to_owned(), "fixture__fail".to_owned()]));
    let as_bob = connect(&app, "/mcp", &bob).await;
    assert_eq!(names(&as_bob).await, BTreeSet::from(["fixture__echo".to_owned()]));

    let echoed = call(&as_alice, "fixture__echo", json!({"message": "hi"})).await.unwrap();
    assert_eq!(echoed["content"][0]["text"], "hi", "{echoed}");
    let failed = call(&as_alice, "fixture__fail", json!({"message": "boom"})).await.unwrap();
    assert_eq!((failed["isError"].as_bool(), &failed["content"][0]["text"]), (Some(true), &json!("boom")));
    // Readable but not executable: the refusal is the model's to read, with its code.
    let refused = call(&as_alice, "fixture__add", json!({"a": 1, "b": 2})).await.unwrap();
    assert_eq!(refused["isError"], true, "{refused}");
    assert!(refused["content"][0]["text"].as_str().unwrap().starts_with("ACCESS_DENIED:"), "{refused}");
    // Invisible or unknown: a protocol error (invalid params).
    let unknown = call(&as_bob, "fixture__add", json!({"a": 1, "b": 2})).await.unwrap_err();
    assert!(unknown.contains("unknown tool"), "{unknown}");
    // The quota of Bob's grant: the second call is refused as a tool error.
    assert!(call(&as_bob, "fixture__echo", json!({"message": "1"})).await.unwrap()["isError"] != true);
    let limited = call(&as_bob, "fixture__echo", json!({"message": "2"})).await.unwrap();
    assert!(limited["content"][0]["text"].as_str().unwrap().starts_with("RATE_LIMITED:"), "{limited}");

    // The call went the REST path's way: it is in the call log.
    let logged = toolhub_test_support::eventually_async(Duration::from_secs(5), || async {
        let log = app.get("/api/v1/toolservers/calls?user=alice", &app.admin_key).await;
        log.body["total"].as_u64().unwrap() >= 3
    })
    .await;
    assert!(logged, "alice's three calls are in the call log");
    let log = app.get("/api/v1/toolservers/calls?user=alice", &app.admin_key).await;
    let origin = log.body["items"][0]["correlation_id"].as_str().unwrap().to_owned();
    assert!(origin.starts_with("mcp:") && origin.contains('@'), "the record names the MCP client: {origin}");

    // One server's endpoint: its tools under their own names.
    let scoped = connect(&app, "/mcp/servers/fixture", &alice).await;
    assert_eq!(names(&scoped).await, BTreeSet::from(["echo".to_owned(), "fail".to_owned()]));
    let echoed = call(&scoped, "echo", json!({"message": "scoped"})).await.unwrap();
    assert_eq!(echoed["content"][0]["text"], "scoped");
    for client in [as_alice, as_bob, scoped] {
        client.cancel().await.unwrap();
    }
    app.stop().await;
}

/// Without a token: 401 with the challenge that names the protected resource metadata, which
/// is public and names the resource.
#[tokio::test]
async fn unauthenticated_clients_learn_where_to_authenticate() {
    let app = spawn_app(Backend::Sqlite).await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let reply = app
        .client
        .post(format!("{}/mcp", app.base))
        .header("accept", "application/json, text/event-stream")
        .json(&initialize)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    let challenge = reply.headers()["www-authenticate"].to_str().unwrap().to_owned();
    let metadata_url = format!("{}/.well-known/oauth-protected-resource", app.base);
    assert_eq!(challenge, format!("Bearer resource_metadata=\"{metadata_url}\""));
    let metadata: Value = app.client.get(&metadata_url).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["resource"], format!("{}/mcp", app.base));

    // A browser page of another origin cannot drive the gateway (DNS rebinding).
    let foreign = app
        .client
        .post(format!("{}/mcp", app.base))
        .bearer_auth(&app.admin_key)
        .header("accept", "application/json, text/event-stream")
        .header("origin", "http://evil.example")
        .json(&initialize)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    // Nor a name that resolves to it without being one of its names (DNS rebinding).
    let rebound = app
        .client
        .post(format!("{}/mcp", app.base))
        .bearer_auth(&app.admin_key)
        .header("accept", "application/json, text/event-stream")
        .header("host", "attacker.example")
        .json(&initialize)
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

/// With a JWT issuer configured, the metadata names it as the authorization server.
#[tokio::test]
async fn the_resource_metadata_names_the_jwt_issuer() {
    let app = crate::harness::spawn_app_with(Backend::Sqlite, |serve| {
        serve.jwt.jwt_secret = Some("a-secret-of-at-least-thirty-two-bytes!".into());
        serve.jwt.jwt_issuer = Some("https://login.example".into());
        serve.jwt.jwt_audience = Some("toolhub".into());
    })
    .await;
    let url = format!("{}/.well-known/oauth-protected-resource", app.base);
    let metadata: Value = app.client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["authorization_servers"], json!(["https://login.example"]));
    app.stop().await;
}

/// Counts the `notifications/tools/list_changed` a client receives.
#[derive(Clone, Default)]
struct Listener(Arc<AtomicUsize>);

impl ClientHandler for Listener {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

async fn listen(app: &TestApp, key: &str) -> (RunningService<RoleClient, Listener>, Listener) {
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", app.base)).auth_header(key);
    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
    let listener = Listener::default();
    (listener.clone().serve(transport).await.expect("the MCP handshake succeeds"), listener)
}

/// A grant, a tool disabled, a server stopped: each session whose set changed hears of it; a
/// session whose set did not change hears nothing.
async fn list_changed_reaches_the_sessions_whose_tools_changed(backend: Backend) {
    let app = spawn_app(backend).await;
    let fixture = Fixture::register(&app).await;
    let (server_id, echo) = (fixture.id.clone(), fixture.tool_id("echo"));
    let (alice, bob) = (app.key("alice", Role::User, "default").await, app.key("bob", Role::User, "default").await);
    let (as_alice, heard_by_alice) = listen(&app, &alice).await;
    let (as_bob, heard_by_bob) = listen(&app, &bob).await;
    assert!(as_alice.list_all_tools().await.unwrap().is_empty());
    let heard = |listener: &Listener, count: usize| {
        let listener = listener.clone();
        toolhub_test_support::eventually(Duration::from_secs(5), move || listener.0.load(Ordering::SeqCst) >= count)
    };

    let grant = json!({"subject": "user:alice", "tool_id": echo, "access_level": "execute"});
    assert_eq!(app.post("/api/v1/grants", &app.admin_key, grant).await.status, StatusCode::CREATED);
    assert!(heard(&heard_by_alice, 1).await, "a grant reaches the session it changes");
    let names: Vec<String> = as_alice.list_all_tools().await.unwrap().into_iter().map(|t| t.name.into()).collect();
    assert_eq!(names, ["fixture__echo"]);

    app.post(&format!("/api/v1/toolservers/tools/{}/disable", echo.as_str().unwrap()), &app.admin_key, json!({})).await;
    assert!(heard(&heard_by_alice, 2).await, "disabling the tool does too");
    assert!(as_alice.list_all_tools().await.unwrap().is_empty());
    app.post(&format!("/api/v1/toolservers/tools/{}/enable", echo.as_str().unwrap()), &app.admin_key, json!({})).await;
    assert!(heard(&heard_by_alice, 3).await);
    app.post(&format!("{SERVERS}/{server_id}/stop"), &app.admin_key, json!({})).await;
    assert!(heard(&heard_by_alice, 4).await, "stopping the server does too");

    // Bob could call nothing before and after every change: he heard nothing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(heard_by_bob.0.load(Ordering::SeqCst), 0);
    as_alice.cancel().await.unwrap();
    as_bob.cancel().await.unwrap();
    app.stop().await;
}

/// Runs a client nobody here wrote; returns what it printed on stdout.
async fn run_client(program: &std::path::Path, args: &[&str]) -> String {
    let output = tokio::process::Command::new(program).args(args).output().await.expect("the client runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{program:?} failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// The official Python SDK (PyPI `mcp`) and the MCP Inspector CLI (npm), as two principals
/// with different grants: each sees and calls its own set.
async fn third_party_clients_see_and_call_what_each_principal_may(backend: Backend) {
    let app = spawn_app(backend).await;
    let fixture = Fixture::register(&app).await;
    let tool_id = |name: &str| fixture.tool_id(name);
    let (alice, bob) = (app.key("alice", Role::User, "default").await, app.key("bob", Role::User, "default").await);
    for (subject, tool) in [("user:alice", "echo"), ("user:bob", "add")] {
        let grant = json!({"subject": subject, "tool_id": tool_id(tool), "access_level": "execute"});
        assert_eq!(app.post("/api/v1/grants", &app.admin_key, grant).await.status, StatusCode::CREATED);
    }
    let url = format!("{}/mcp", app.base);
    let python = toolhub_test_support::time_server_python();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/python_sdk.py");

    let seen: Value = serde_json::from_str(
        &run_client(&python, &[script, &url, &alice, "fixture__echo", r#"{"message": "from python"}"#]).await,
    )
    .unwrap();
    assert_eq!(seen["tools"], json!(["fixture__echo"]), "{seen}");
    assert_eq!(seen["call"]["content"][0]["text"], "from python", "{seen}");
    let seen: Value =
        serde_json::from_str(&run_client(&python, &[script, &url, &bob, "fixture__add", r#"{"a": 2, "b": 40}"#]).await)
            .unwrap();
    assert_eq!(seen["tools"], json!(["fixture__add"]), "{seen}");
    assert_eq!(seen["call"]["content"][0]["text"], "42", "{seen}");

    let inspector = toolhub_test_support::inspector_bin();
    let auth = |key: &str| format!("Authorization: Bearer {key}");
    let base_args = |key: &str| {
        vec!["--cli".to_owned(), url.clone(), "--transport".into(), "http".into(), "--header".into(), auth(key)]
    };
    for (key, expected) in [(&alice, "fixture__echo"), (&bob, "fixture__add")] {
        let mut args = base_args(key);
        args.extend(["--method".into(), "tools/list".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let listed: Value = serde_json::from_str(&run_client(&inspector, &args).await).unwrap();
        let names: Vec<&str> =
            listed["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, [expected]);
    }
    let mut args = base_args(&alice);
    args.extend(
        ["--method", "tools/call", "--tool-name", "fixture__echo", "--tool-arg", "message=from inspector"]
            .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let called: Value = serde_json::from_str(&run_client(&inspector, &args).await).unwrap();
    assert_eq!(called["content"][0]["text"], "from inspector", "{called}");
    app.stop().await;
}

/// A session id is no credential: another principal presenting it is refused, and the owner
/// goes on using it.
#[tokio::test]
async fn a_session_belongs_to_the_principal_that_opened_it() {
    let app = spawn_app(Backend::Sqlite).await;
    let (alice, mallory) =
        (app.key("alice", Role::User, "default").await, app.key("mallory", Role::User, "default").await);
    let url = format!("{}/mcp", app.base);
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let (_, session, _) = crate::harness::mcp_post(&app.client, &url, &alice, None, initialize).await;
    let session = session.unwrap();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    crate::harness::mcp_post(&app.client, &url, &alice, Some(&session), initialized).await;
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let (_, _, stolen) = crate::harness::mcp_post(&app.client, &url, &mallory, Some(&session), list.clone()).await;
    let stolen = stolen.unwrap();
    assert!(stolen["error"]["message"].as_str().unwrap().contains("another principal"), "{stolen}");
    let (_, _, own) = crate::harness::mcp_post(&app.client, &url, &alice, Some(&session), list).await;
    assert!(own.unwrap()["result"]["tools"].is_array());
    app.stop().await;
}

/// Resources and prompts of npm server-everything, for a principal with a server-level read
/// grant: listed under the server's prefix, read and got through the gateway; a principal
/// with only a tool grant sees none.
async fn resources_and_prompts_of_readable_servers(backend: Backend) {
    use rmcp::model::{GetPromptRequestParams, ReadResourceRequestParams};
    let app = spawn_app(backend).await;
    let body = json!({
        "name": "everything", "display_name": "Everything", "transport_type": "stdio",
        "command": toolhub_test_support::everything_bin().display().to_string(), "args": ["stdio"],
    });
    let created = app.post(SERVERS, &app.admin_key, body).await;
    assert_eq!(created.body["status"], "enabled", "{}", created.body);
    let server_id = created.body["id"].as_str().unwrap().to_owned();
    let tools = app.get(&format!("{SERVERS}/{server_id}/tools"), &app.admin_key).await;
    let a_tool = tools.body["tools"][0]["id"].clone();
    let (reader, tool_user) =
        (app.key("reader", Role::User, "default").await, app.key("tooler", Role::User, "default").await);
    let grant = json!({"subject": "user:reader", "server_id": server_id, "access_level": "read"});
    assert_eq!(app.post("/api/v1/grants", &app.admin_key, grant).await.status, StatusCode::CREATED);
    let grant = json!({"subject": "user:tooler", "tool_id": a_tool, "access_level": "execute"});
    assert_eq!(app.post("/api/v1/grants", &app.admin_key, grant).await.status, StatusCode::CREATED);

    let as_reader = connect(&app, "/mcp", &reader).await;
    let prompts = as_reader.list_all_prompts().await.unwrap();
    assert!(!prompts.is_empty() && prompts.iter().all(|p| p.name.starts_with("everything__")), "{prompts:?}");
    let simple = prompts
        .iter()
        .find(|p| p.arguments.as_ref().is_none_or(|a| a.iter().all(|a| a.required != Some(true))))
        .expect("a prompt without required arguments");
    let got = as_reader.get_prompt(GetPromptRequestParams::new(simple.name.clone())).await.unwrap();
    assert!(!got.messages.is_empty(), "{got:?}");
    // Completions go to the prompt's server under its own name; an unknown prompt is an error.
    let with_arguments = prompts.iter().find(|p| p.arguments.as_ref().is_some_and(|a| !a.is_empty())).unwrap();
    let argument = with_arguments.arguments.as_ref().unwrap()[0].name.clone();
    let completed = as_reader.complete_prompt_argument(with_arguments.name.clone(), argument.clone(), "", None).await;
    assert!(completed.is_ok(), "{completed:?}");
    assert!(as_reader.complete_prompt_argument("everything__nothing", argument, "", None).await.is_err());
    let resources = as_reader.list_all_resources().await.unwrap();
    assert!(!resources.is_empty() && resources.iter().all(|r| r.name.starts_with("everything__")));
    let read = as_reader.read_resource(ReadResourceRequestParams::new(resources[0].uri.clone())).await.unwrap();
    assert!(!read.contents.is_empty(), "{read:?}");
    // The reader may not execute the tools: it lists none.
    assert!(as_reader.list_all_tools().await.unwrap().is_empty());

    let as_tool_user = connect(&app, "/mcp", &tool_user).await;
    assert!(as_tool_user.list_all_prompts().await.unwrap().is_empty(), "a tool grant opens no prompts");
    assert!(as_tool_user.list_all_resources().await.unwrap().is_empty());
    assert!(as_tool_user.read_resource(ReadResourceRequestParams::new(resources[0].uri.clone())).await.is_err());
    as_reader.cancel().await.unwrap();
    as_tool_user.cancel().await.unwrap();
    app.stop().await;
}

/// A 2026-07-28 client needs no session: `server/discover`, then each request on its own with
/// its protocol metadata; nothing is stored.
#[tokio::test]
async fn stateless_2026_07_28_clients_need_no_session() {
    let app = spawn_app(Backend::Sqlite).await;
    let url = format!("{}/mcp", app.base);
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "stateless-test", "version": "1.0.0"},
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let post = |method: &'static str, id: u32| {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {"_meta": meta.clone()}});
        app.client
            .post(&url)
            .bearer_auth(&app.admin_key)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", method)
            .json(&body)
            .send()
    };
    let discovered = post("server/discover", 1).await.unwrap();
    assert_eq!(discovered.status(), StatusCode::OK);
    assert!(discovered.headers().get("mcp-session-id").is_none(), "no session");
    let discovered = sse_or_json(discovered.text().await.unwrap());
    assert!(
        discovered["result"]["supportedVersions"].as_array().unwrap().contains(&json!("2026-07-28")),
        "{discovered}"
    );
    // The built-in server starts in the background with Toolhub.
    let names = toolhub_test_support::eventually_some(Duration::from_secs(5), || async {
        let listed = post("tools/list", 2).await.unwrap();
        assert_eq!(listed.status(), StatusCode::OK);
        let listed = sse_or_json(listed.text().await.unwrap());
        let names: Vec<String> = listed["result"]["tools"].as_array()?.iter().map(|t| t["name"].to_string()).collect();
        (!names.is_empty()).then_some(names)
    })
    .await;
    assert_eq!(names.unwrap(), [r#""builtin_tools__calculator""#, r#""builtin_tools__get_time""#]);
    app.stop().await;
}

/// A JSON-RPC answer from a JSON body or from the SSE event that carries it.
fn sse_or_json(body: String) -> Value {
    serde_json::from_str(&body).ok().unwrap_or_else(|| {
        body.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .find_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .unwrap_or_else(|| panic!("no JSON-RPC answer in {body}"))
    })
}

/// `notifications/cancelled` ends a hung call, upstream too, and the call log says so; an
/// upstream that crashes mid-call is a tool error naming the failure, and Toolhub restarts it.
async fn a_cancelled_call_and_a_crash_mid_call(backend: Backend) {
    use rmcp::model::{CallToolRequest, ClientRequest};
    let app = crate::harness::spawn_app_with(backend, |serve| serve.upstream.restart_backoff_ms = 50).await;
    Fixture::register(&app).await;
    let client = connect(&app, "/mcp", &app.admin_key).await;

    let hang = ClientRequest::CallToolRequest(CallToolRequest::new(CallToolRequestParams::new("fixture__hang")));
    let handle = client.peer().send_cancellable_request(hang, Default::default()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    handle.cancel(Some("the user gave up".into())).await.unwrap();
    let recorded = toolhub_test_support::eventually_some(Duration::from_secs(5), || async {
        let log = app.get("/api/v1/toolservers/calls?tool=hang", &app.admin_key).await;
        log.body["items"].as_array().and_then(|items| items.first().cloned())
    })
    .await
    .expect("the cancelled call is in the call log");
    assert_eq!((&recorded["status"], &recorded["error_code"]), (&json!("failed"), &json!("CALL_CANCELLED")));

    let crashed = call(&client, "fixture__crash", json!({"code": 3})).await.unwrap();
    assert_eq!(crashed["isError"], true, "{crashed}");
    let text = crashed["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("UPSTREAM_UNAVAILABLE:") || text.starts_with("EXECUTION_ERROR:"), "{text}");
    let back = toolhub_test_support::eventually_async(Duration::from_secs(10), || async {
        call(&client, "fixture__echo", json!({"message": "again"})).await.is_ok_and(|r| r["isError"] != true)
    })
    .await;
    assert!(back, "the server was restarted and answers through the same session");
    client.cancel().await.unwrap();
    app.stop().await;
}

/// One progress notification: progress, total, message.
type Report = (f64, Option<f64>, Option<String>);

/// Records the progress notifications a client receives.
#[derive(Clone, Default)]
struct ProgressRecorder(Arc<std::sync::Mutex<Vec<Report>>>);

impl ClientHandler for ProgressRecorder {
    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.0.lock().unwrap().push((params.progress, params.total, params.message));
    }
}

async fn upstream_progress_reaches_the_client_that_asked(backend: Backend) {
    let app = spawn_app(backend).await;
    Fixture::register(&app).await;
    let recorder = ProgressRecorder::default();
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", app.base)).auth_header(&app.admin_key);
    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
    let client = recorder.clone().serve(transport).await.expect("the MCP handshake succeeds");

    // rmcp's client gives every request a progress token of its own.
    let params = CallToolRequestParams::new("fixture__progress")
        .with_arguments(json!({"steps": 3}).as_object().unwrap().clone());
    let answer = client.call_tool(params).await.unwrap();
    assert_eq!(serde_json::to_value(&answer).unwrap()["content"][0]["text"], "3 steps");
    // The client's own handlers run on tasks of their own: they may still be running.
    let reports = toolhub_test_support::eventually_some(Duration::from_secs(5), || async {
        let reports = recorder.0.lock().unwrap().clone();
        (reports.len() == 3).then_some(reports)
    })
    .await
    .unwrap_or_else(|| panic!("three progress reports reach the client, got {:?}", recorder.0.lock().unwrap()));
    assert_eq!(reports[2], (3.0, Some(3.0), Some("step 3".into())), "in order, as the upstream sent them");

    client.cancel().await.unwrap();
    app.stop().await;
}

/// A log message as a client heard it: level, logger, data.
type Heard = (String, Option<String>, Value);

/// What a client hears of the servers besides tools: log messages and list changes.
#[derive(Clone, Default)]
struct NoticeRecorder {
    logs: Arc<std::sync::Mutex<Vec<Heard>>>,
    resources: Arc<AtomicUsize>,
    prompts: Arc<AtomicUsize>,
}

#[allow(deprecated)] // MCP logging, which rmcp marks deprecated (SEP-2577), is what is tested.
impl ClientHandler for NoticeRecorder {
    async fn on_logging_message(
        &self,
        params: rmcp::model::LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let level = serde_json::to_value(params.level).unwrap().as_str().unwrap().to_owned();
        self.logs.lock().unwrap().push((level, params.logger, params.data));
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.resources.fetch_add(1, Ordering::SeqCst);
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.prompts.fetch_add(1, Ordering::SeqCst);
    }
}

impl NoticeRecorder {
    async fn connect(app: &TestApp, path: &str, key: &str, level: &str) -> (RunningService<RoleClient, Self>, Self) {
        let config = StreamableHttpClientTransportConfig::with_uri(format!("{}{path}", app.base)).auth_header(key);
        let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
        let recorder = Self::default();
        let client = recorder.clone().serve(transport).await.expect("the MCP handshake succeeds");
        let level = serde_json::from_value(json!(level)).unwrap();
        #[allow(deprecated)]
        client.set_level(rmcp::model::SetLevelRequestParams::new(level)).await.expect("the gateway takes the level");
        (client, recorder)
    }

    fn logs(&self) -> Vec<Heard> {
        self.logs.lock().unwrap().clone()
    }
}

/// A server's log messages reach the sessions of those who may administer it, each at its
/// own level (the server is asked for the least severe any session wants), under the server's
/// name on `/mcp`; its resource and prompt changes reach those who may read it; a principal
/// with no access hears nothing. A revoked grant is a change of what the reader may list.
async fn upstream_notices_reach_those_who_may_hear_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let fixture = Fixture::register(&app).await;
    let (reader, outsider) =
        (app.key("reader", Role::User, "default").await, app.key("outsider", Role::User, "default").await);
    let grant = json!({"subject": "user:reader", "server_id": fixture.id, "access_level": "read"});
    let grant = app.post("/api/v1/grants", &app.admin_key, grant).await;
    assert_eq!(grant.status, StatusCode::CREATED);

    let (as_admin, admin_heard) = NoticeRecorder::connect(&app, "/mcp", &app.admin_key, "warning").await;
    let (scoped, scoped_heard) = NoticeRecorder::connect(&app, "/mcp/servers/fixture", &app.admin_key, "error").await;
    let (as_reader, reader_heard) = NoticeRecorder::connect(&app, "/mcp", &reader, "debug").await;
    let (as_outsider, outsider_heard) = NoticeRecorder::connect(&app, "/mcp", &outsider, "debug").await;
    assert!(as_reader.list_all_resources().await.unwrap().is_empty(), "the fixture offers no resources");

    let announce = |message: &str, level: &str| {
        let params = CallToolRequestParams::new("fixture__announce")
            .with_arguments(json!({"message": message, "level": level}).as_object().unwrap().clone());
        let client = as_admin.peer().clone();
        async move {
            let answer = serde_json::to_value(client.call_tool(params).await.unwrap()).unwrap();
            answer["content"][0]["text"].as_str().unwrap().to_owned()
        }
    };
    // The fixture was asked for the least severe level any session wants.
    assert_eq!(announce("quiet", "info").await, "debug");
    assert_eq!(announce("loud", "error").await, "debug");

    let loud = (String::from("error"), Some(String::from("fixture/fixture")), json!("loud"));
    let logged = |recorder: &NoticeRecorder| {
        let recorder = recorder.clone();
        toolhub_test_support::eventually(Duration::from_secs(5), move || !recorder.logs().is_empty())
    };
    assert!(logged(&admin_heard).await && logged(&scoped_heard).await, "the administrator's sessions hear it");
    assert_eq!(admin_heard.logs(), vec![loud], "named after the server on /mcp, and nothing below warning");
    let scoped_logs = scoped_heard.logs();
    assert_eq!(scoped_logs.len(), 1, "{scoped_logs:?}");
    assert_eq!(scoped_logs[0].1.as_deref(), Some("fixture"), "the server's own logger on its own endpoint");

    let both_changed = |recorder: &NoticeRecorder, count: usize| {
        let recorder = recorder.clone();
        toolhub_test_support::eventually(Duration::from_secs(5), move || {
            recorder.resources.load(Ordering::SeqCst) >= count && recorder.prompts.load(Ordering::SeqCst) >= count
        })
    };
    assert!(both_changed(&reader_heard, 2).await, "the reader hears the server's resource and prompt changes");
    assert!(reader_heard.logs().is_empty(), "but not its log, which is for those who administer it");
    assert!(both_changed(&admin_heard, 2).await);

    // Revoking the reader's grant changes which servers' resources and prompts it may list.
    let grant_id = grant.body["id"].as_str().unwrap();
    let revoked = app.delete(&format!("/api/v1/grants/{grant_id}"), &app.admin_key).await;
    assert!(revoked.status.is_success(), "{}", revoked.body);
    assert!(both_changed(&reader_heard, 3).await, "a revoked grant is a change of what it may list");

    // Once the chatty sessions are gone, the fixture is asked for the least severe level left.
    as_reader.cancel().await.unwrap();
    as_outsider.cancel().await.unwrap();
    let level_rose = toolhub_test_support::eventually_async(Duration::from_secs(10), || async {
        announce("again", "debug").await == "warning"
    })
    .await;
    assert!(level_rose, "the fixture is asked for warning once only the administrator's sessions are left");
    assert_eq!(outsider_heard.logs(), vec![]);
    assert_eq!(outsider_heard.resources.load(Ordering::SeqCst), 0, "no access, nothing heard");
    as_admin.cancel().await.unwrap();
    scoped.cancel().await.unwrap();
    app.stop().await;
}
