//! Running servers through the API: lifecycle, discovery, supervision and the tool operations,
//! against our fixture server and npm server-everything.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolhub_domain::Role;
use toolhub_test_support as support;

use crate::harness::{Backend, TestApp, spawn_app, spawn_app_with};

toolhub_test_support::on_both_databases!(
    start_discover_page_and_stop,
    admin_choices_survive_refresh_and_list_changes,
    crash_restarts_then_crash_loop_ends_in_error,
    a_dead_direct_child_ends_the_server_while_a_grandchild_holds_its_pipes,
);

const SERVERS: &str = "/api/v1/toolservers/servers";

/// Registers the fixture over stdio, with extra environment, not started.
async fn fixture_server(app: &TestApp, name: &str, env: Value, max_failures: i32) -> String {
    let body = json!({
        "name": name,
        "display_name": name,
        "transport_type": "stdio",
        "command": support::fixture_bin().display().to_string(),
        "env": env,
        "auto_start": false,
        "max_failures": max_failures,
    });
    let reply = app.post(SERVERS, &app.admin_key, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

async fn server(app: &TestApp, id: &str) -> Value {
    app.get(&format!("{SERVERS}/{id}"), &app.admin_key).await.body
}

async fn tool_names(app: &TestApp, id: &str) -> Vec<(String, bool, String)> {
    let page = app.get(&format!("{SERVERS}/{id}/tools?limit=1000"), &app.admin_key).await.body;
    page["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["is_available"].as_bool().unwrap(),
                t["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn read_pid(path: &std::path::Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

async fn start_discover_page_and_stop(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = fixture_server(&app, "fixture", json!({"FIXTURE_PID_FILE": "pid"}), 3).await;
    let pid_file = app.child_file(&id, "pid");
    let path = format!("{SERVERS}/{id}");

    let health = app.get(&format!("{path}/health"), &app.admin_key).await;
    assert_eq!((health.body["is_running"].as_bool(), health.body["status"].as_str()), (Some(false), Some("disabled")));

    let started = app.post(&format!("{path}/start"), &app.admin_key, json!({})).await;
    assert_eq!(started.body, json!({"success": true, "message": "Server started successfully"}));
    let stored = server(&app, &id).await;
    assert_eq!(
        (stored["status"].as_str(), stored["tools"].as_array().unwrap().len()),
        (Some("enabled"), support::FIXTURE_TOOLS)
    );
    assert!(stored["last_startup_success"].is_string());

    let health = app.get(&format!("{path}/health"), &app.admin_key).await.body;
    assert_eq!(
        (health["is_running"].as_bool(), health["is_responsive"].as_bool(), health["tools_count"].as_i64()),
        (Some(true), Some(true), Some(support::FIXTURE_TOOLS as i64))
    );

    // Paging happens in the database, in the server's listing order.
    let first = app.get(&format!("{path}/tools?limit=4"), &app.admin_key).await.body;
    assert_eq!(
        (first["total_count"].as_i64(), first["limit"].as_i64(), first["offset"].as_i64()),
        (Some(support::FIXTURE_TOOLS as i64), Some(4), Some(0))
    );
    let names: Vec<&str> = first["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["echo", "add", "slow", "hang"]);
    let last = app.get(&format!("{path}/tools?limit=4&offset=8"), &app.admin_key).await.body;
    assert_eq!(last["tools"].as_array().unwrap().len(), support::FIXTURE_TOOLS - 8);
    assert_eq!(last["tools"][0]["inputSchema"], last["tools"][0]["args_schema"]);
    for bad in ["limit=0", "limit=1001", "offset=-1", "limit=x"] {
        assert_eq!(
            app.get(&format!("{path}/tools?{bad}"), &app.admin_key).await.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }

    let all = app.get("/api/v1/toolservers/tools/all", &app.admin_key).await.body;
    let mine: Vec<&Value> = all.as_array().unwrap().iter().filter(|t| t["server_id"] == id.as_str()).collect();
    assert_eq!(mine.len(), support::FIXTURE_TOOLS);
    assert_eq!((mine[0]["server_name"].as_str(), mine[0]["enabled"].as_bool()), (Some("fixture"), Some(true)));

    let pid = read_pid(&pid_file).expect("the fixture wrote its pid");
    assert!(support::pid_alive(pid));
    let probe = app.post(&format!("{path}/test-connectivity"), &app.admin_key, json!({})).await.body;
    assert_eq!(
        (probe["success"].as_bool(), probe["status"].as_str(), probe["server_type"].as_str()),
        (Some(true), Some("connected"), Some("remote"))
    );
    assert!(support::pid_alive(pid), "a probe leaves the running server alone");
    let stopped = app.post(&format!("{path}/stop"), &app.admin_key, json!({})).await;
    assert_eq!(stopped.body["success"], true);
    assert_eq!(server(&app, &id).await["status"], "disabled");
    assert!(support::live_in_group(pid).is_empty(), "stop leaves no process");
    assert_eq!(
        app.post(&format!("{path}/refresh-tools"), &app.admin_key, json!({})).await.status,
        StatusCode::CONFLICT
    );

    let enabled = app.post(&format!("{path}/enable"), &app.admin_key, json!({})).await;
    assert_eq!(enabled.body["message"], "Server enabled successfully");
    let restarted = app.post(&format!("{path}/restart"), &app.admin_key, json!({})).await;
    assert_eq!(restarted.body["message"], "Server restarted successfully");
    let pid = read_pid(&pid_file).unwrap();
    let disabled = app.post(&format!("{path}/disable"), &app.admin_key, json!({})).await;
    assert_eq!(disabled.body["message"], "Server disabled successfully");
    assert!(support::live_in_group(pid).is_empty());

    // Deleting a running server ends its process too.
    app.post(&format!("{path}/start"), &app.admin_key, json!({})).await;
    let pid = read_pid(&pid_file).unwrap();
    assert_eq!(app.delete(&path, &app.admin_key).await.status, StatusCode::OK);
    assert!(support::live_in_group(pid).is_empty(), "delete leaves no process");
    app.stop().await;
}

async fn admin_choices_survive_refresh_and_list_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let env = json!({"FIXTURE_ADD_TOOL": "late_tool", "FIXTURE_ADD_TOOL_AFTER_MS": "1500"});
    let id = fixture_server(&app, "changing", env, 3).await;
    let path = format!("{SERVERS}/{id}");
    app.post(&format!("{path}/start"), &app.admin_key, json!({})).await;

    let tools = app.get(&format!("{path}/tools?limit=100"), &app.admin_key).await.body;
    let echo = tools["tools"].as_array().unwrap().iter().find(|t| t["name"] == "echo").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let disabled = app.post(&format!("/api/v1/toolservers/tools/{echo}/disable"), &app.admin_key, json!({})).await;
    assert_eq!(disabled.body, json!({"success": true, "message": "Tool disabled successfully"}));
    let refreshed = app.post(&format!("{path}/refresh-tools"), &app.admin_key, json!({})).await;
    assert_eq!(
        (refreshed.status, refreshed.body["tools_count"].as_i64()),
        (StatusCode::OK, Some(support::FIXTURE_TOOLS as i64))
    );
    assert!(
        tool_names(&app, &id).await.contains(&("echo".into(), true, "disabled".into())),
        "disabled survives refresh"
    );

    // The fixture adds a tool and announces tools/list_changed; Toolhub re-discovers.
    let seen = support::eventually_async(Duration::from_secs(10), || async {
        tool_names(&app, &id).await.iter().any(|(n, _, _)| n == "late_tool")
    })
    .await;
    assert!(seen, "list_changed was followed: {:?}", tool_names(&app, &id).await);
    assert!(tool_names(&app, &id).await.contains(&("echo".into(), true, "disabled".into())));

    // A restarted fixture no longer lists late_tool: it is kept but unavailable.
    let restart_env = json!({"env": {}});
    assert_eq!(
        app.put(&path, &app.admin_key, restart_env).await.status,
        StatusCode::OK,
        "a running server reconnects on update"
    );
    app.post(&format!("{path}/refresh-tools"), &app.admin_key, json!({})).await;
    assert!(tool_names(&app, &id).await.contains(&("late_tool".into(), false, "enabled".into())));

    let enabled = app.post(&format!("/api/v1/toolservers/tools/{echo}/enable"), &app.admin_key, json!({})).await;
    assert_eq!(enabled.body["message"], "Tool enabled successfully");
    app.stop().await;
}

async fn crash_restarts_then_crash_loop_ends_in_error(backend: Backend) {
    let app = spawn_app_with(backend, |serve| {
        serve.upstream.restart_backoff_ms = 50;
        serve.upstream.restart_backoff_max_secs = 1;
    })
    .await;
    let id = fixture_server(&app, "crashy", json!({"FIXTURE_PID_FILE": "pid"}), 3).await;
    let pid_file = app.child_file(&id, "pid");
    let path = format!("{SERVERS}/{id}");
    app.post(&format!("{path}/start"), &app.admin_key, json!({})).await;
    let first = read_pid(&pid_file).unwrap();

    // Killed by hand: Toolhub restarts it and counts the failure.
    kill_by_hand(first);
    // Running again, and recorded so (the stored state follows the reconnection a moment later).
    let restarted = support::eventually_some(Duration::from_secs(10), || async {
        let pid = read_pid(&pid_file).filter(|p| *p != first)?;
        let running = app.get(&format!("{path}/health"), &app.admin_key).await.body["is_running"] == true;
        let recorded = server(&app, &id).await["status"] == "enabled";
        (running && recorded).then_some(pid)
    })
    .await;
    let second = restarted.expect("restarted after the kill");
    let stored = server(&app, &id).await;
    assert_eq!((stored["status"].as_str(), stored["consecutive_failures"].as_i64()), (Some("enabled"), Some(1)));

    // A server that keeps crashing ends in `error` after max_failures and is not restarted.
    let looping = fixture_server(&app, "loop", json!({"FIXTURE_CRASH_AFTER_MS": "100"}), 2).await;
    app.post(&format!("{SERVERS}/{looping}/start"), &app.admin_key, json!({})).await;
    let state = support::eventually_some(Duration::from_secs(10), || async {
        Some(server(&app, &looping).await).filter(|s| s["status"] == "error")
    })
    .await
    .unwrap_or_else(|| panic!("the crash loop did not end in error"));
    assert_eq!(state["consecutive_failures"], 2);
    assert!(state["last_startup_error"].as_str().unwrap().contains("2 times"), "{state}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server(&app, &looping).await["consecutive_failures"], 2, "no more restarts");
    assert_eq!(app.get(&format!("{SERVERS}/{looping}/health"), &app.admin_key).await.body["is_running"], false);

    app.stop().await;
    let gone = support::eventually(Duration::from_secs(5), || support::live_in_group(second).is_empty()).await;
    assert!(gone, "shutdown ends every process: {:?}", support::live_in_group(second));
    assert!(support::own_children_running("toolhub-fixture-mcp").is_empty());
}

/// As `npm exec` runs node: the direct child is a shell that waits for the server it started,
/// which inherits the pipes. When the shell dies, the server is restarted, the orphan killed
/// with its group, and no zombie is left.
async fn a_dead_direct_child_ends_the_server_while_a_grandchild_holds_its_pipes(backend: Backend) {
    let app = spawn_app_with(backend, |serve| serve.upstream.restart_backoff_ms = 50).await;
    let fixture = support::fixture_bin().display().to_string();
    let body = json!({
        "name": "wrapped", "display_name": "wrapped", "transport_type": "stdio", "auto_start": false,
        // `; true` keeps the shell from exec-ing the fixture: the fixture is its child.
        "command": "sh", "args": ["-c", format!("'{fixture}'; true")],
        "env": {"FIXTURE_PID_FILE": "pid"},
    });
    let reply = app.post(SERVERS, &app.admin_key, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    app.post(&format!("{SERVERS}/{id}/start"), &app.admin_key, json!({})).await;
    let pid_file = app.child_file(&id, "pid");
    let fixture_pid = read_pid(&pid_file).expect("the fixture started");
    let shell = support::processes().into_iter().find(|p| p.pid == fixture_pid).unwrap().group;
    assert_ne!(shell, fixture_pid, "the fixture runs under the shell");

    support::kill_process(shell);
    let restarted = support::eventually_some(Duration::from_secs(10), || async {
        let pid = read_pid(&pid_file).filter(|p| *p != fixture_pid)?;
        let running = app.get(&format!("{SERVERS}/{id}/health"), &app.admin_key).await.body["is_running"] == true;
        running.then_some(pid)
    })
    .await;
    assert!(restarted.is_some(), "the server was restarted after its direct child died");
    assert!(support::live_in_group(shell).is_empty(), "the orphaned fixture was killed with its group");
    let reaped = support::eventually(Duration::from_secs(5), || {
        !support::own_zombies().iter().any(|z| z.pid == shell || z.pid == fixture_pid)
    })
    .await;
    assert!(reaped, "the dead shell was reaped: {:?}", support::own_zombies());
    assert_eq!(server(&app, &id).await["consecutive_failures"], 1);
    app.stop().await;
}

/// Lifecycle operations on one server run one at a time: a refresh racing a disable either
/// refreshes the running server or says it is not running (409), never a closed transport.
#[tokio::test]
async fn refresh_racing_disable_sees_running_or_stopped() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = fixture_server(&app, "racing", json!({}), 3).await;
    for _ in 0..5 {
        let enabled = app.post(&format!("{SERVERS}/{id}/enable"), &app.admin_key, json!({})).await;
        assert_eq!(enabled.body["success"], true, "{}", enabled.body);
        let (refresh, disable) = (format!("{SERVERS}/{id}/refresh-tools"), format!("{SERVERS}/{id}/disable"));
        let (refreshed, disabled) = tokio::join!(
            async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                app.post(&refresh, &app.admin_key, json!({})).await
            },
            app.post(&disable, &app.admin_key, json!({})),
        );
        assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
        assert!(
            refreshed.status == StatusCode::OK
                || (refreshed.status == StatusCode::CONFLICT && refreshed.code() == "CONFLICT"),
            "{} {}",
            refreshed.status,
            refreshed.body
        );
    }
    app.stop().await;
}

fn kill_by_hand(pid: i32) {
    support::kill_process(pid);
}

#[tokio::test]
async fn operations_check_ids_roles_and_bulk_reports_each() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = fixture_server(&app, "bulk", json!({}), 3).await;
    let unknown = "01JAAAAAAAAAAAAAAAAAAAAAAA";
    for op in ["start", "stop", "restart", "enable", "disable", "test-connectivity", "refresh-tools"] {
        let reply = app.post(&format!("{SERVERS}/{unknown}/{op}"), &app.admin_key, json!({})).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "SERVER_NOT_FOUND"), "{op}");
    }
    for op in ["health", "tools"] {
        assert_eq!(
            app.get(&format!("{SERVERS}/{unknown}/{op}"), &app.admin_key).await.status,
            StatusCode::NOT_FOUND,
            "{op}"
        );
    }
    for op in ["enable", "disable"] {
        let reply = app.post(&format!("/api/v1/toolservers/tools/{unknown}/{op}"), &app.admin_key, json!({})).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "TOOL_NOT_FOUND"), "{op}");
    }

    let user = app.key("reader", Role::User, "default").await;
    for op in ["start", "refresh-tools"] {
        let reply = app.post(&format!("{SERVERS}/{id}/{op}"), &user, json!({})).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{op}: an invisible server does not exist for the caller");
    }
    assert_eq!(app.get(&format!("{SERVERS}/{id}/health"), &user).await.status, StatusCode::NOT_FOUND);
    let grant = json!({"subject": "user:reader", "server_id": id, "access_level": "read"});
    assert_eq!(app.post("/api/v1/grants", &app.admin_key, grant).await.status, StatusCode::CREATED);
    assert_eq!(app.get(&format!("{SERVERS}/{id}/health"), &user).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("{SERVERS}/{id}/tools"), &user).await.status, StatusCode::OK);
    for op in ["start", "stop", "restart", "enable", "disable", "test-connectivity", "refresh-tools"] {
        let reply = app.post(&format!("{SERVERS}/{id}/{op}"), &user, json!({})).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::FORBIDDEN, "ACCESS_DENIED"),
            "{op}: reading is not managing"
        );
    }

    let bulk = app
        .post(&format!("{SERVERS}/bulk"), &app.admin_key, json!({"server_ids": [id, unknown], "operation": "start"}))
        .await
        .body;
    assert_eq!(
        (bulk["total_requested"].as_i64(), bulk["successful"].as_i64(), bulk["failed"].as_i64()),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(bulk["results"][0], json!({"server_id": id, "success": true, "message": "Server started successfully"}));
    assert!(bulk["errors"][0].as_str().unwrap().starts_with(&format!("Server {unknown}:")));
    let odd =
        app.post(&format!("{SERVERS}/bulk"), &app.admin_key, json!({"server_ids": [id], "operation": "explode"})).await;
    assert_eq!((odd.status, odd.code()), (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"), "{}", odd.body);
    assert_eq!(odd.body["errors"][0]["field"], "operation");
    assert_eq!(
        app.post(&format!("{SERVERS}/bulk"), &app.admin_key, json!({"server_ids": [], "operation": "stop"}))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let stopped = app
        .post(&format!("{SERVERS}/bulk"), &app.admin_key, json!({"server_ids": [id], "operation": "stop"}))
        .await
        .body;
    assert_eq!(stopped["successful"], 1);

    let broken = app
        .post(SERVERS, &app.admin_key, json!({"name": "broken", "display_name": "B", "transport_type": "stdio", "command": "/nonexistent/mcp", "auto_start": false}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let probe = app.post(&format!("{SERVERS}/{broken}/test-connectivity"), &app.admin_key, json!({})).await.body;
    assert_eq!((probe["success"].as_bool(), probe["status"].as_str()), (Some(false), Some("failed")));
    let start = app.post(&format!("{SERVERS}/{broken}/start"), &app.admin_key, json!({})).await.body;
    assert_eq!(start["success"], false);
    let stored = server(&app, &broken).await;
    assert_eq!((stored["status"].as_str(), stored["consecutive_failures"].as_i64()), (Some("error"), Some(1)));
    app.stop().await;
}

#[tokio::test]
async fn auto_start_servers_start_on_create_and_builtins_run() {
    let app = spawn_app(Backend::Sqlite).await;
    let body = json!({
        "name": "eager", "display_name": "Eager", "transport_type": "stdio",
        "command": support::fixture_bin().display().to_string(),
    });
    let created = app.post(SERVERS, &app.admin_key, body).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(
        (created.body["status"].as_str(), created.body["tools"].as_array().unwrap().len()),
        (Some("enabled"), support::FIXTURE_TOOLS)
    );

    let listed = app.get(SERVERS, &app.admin_key).await.body;
    let builtin =
        listed.as_array().unwrap().iter().find(|s| s["name"] == "builtin_tools").expect("built-in server").clone();
    assert_eq!(builtin["is_builtin"], true);
    let tools = support::eventually_some(Duration::from_secs(5), || async {
        Some(tool_names(&app, builtin["id"].as_str().unwrap()).await).filter(|t| !t.is_empty())
    })
    .await
    .unwrap_or_default();
    assert_eq!(tools.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(), ["calculator", "get_time"]);
    let health = app.get(&format!("{SERVERS}/{}/health", builtin["id"].as_str().unwrap()), &app.admin_key).await.body;
    assert_eq!((health["is_running"].as_bool(), health["tools_count"].as_i64()), (Some(true), Some(2)));
    // It is always there and running, as the docs say.
    let path = format!("{SERVERS}/{}", builtin["id"].as_str().unwrap());
    for reply in [
        app.post(&format!("{path}/stop"), &app.admin_key, json!({})).await,
        app.post(&format!("{path}/disable"), &app.admin_key, json!({})).await,
        app.delete(&path, &app.admin_key).await,
    ] {
        assert_eq!((reply.status, reply.code()), (StatusCode::CONFLICT, "CONFLICT"), "{}", reply.body);
    }
    app.stop().await;
}

/// The acceptance scenario: register `npx @modelcontextprotocol/server-everything` (here its
/// installed binary), start it, see its 13 tools, kill the process by hand, watch Toolhub
/// restart it, and stop it with nothing left running.
#[tokio::test]
async fn server_everything_is_supervised_end_to_end() {
    let app = spawn_app(Backend::Sqlite).await;
    let body = json!({
        "name": "everything", "display_name": "Everything", "transport_type": "stdio",
        "command": support::everything_bin().display().to_string(), "args": ["stdio"], "auto_start": false,
    });
    let id = app.post(SERVERS, &app.admin_key, body).await.body["id"].as_str().unwrap().to_owned();
    let path = format!("{SERVERS}/{id}");
    let started = app.post(&format!("{path}/start"), &app.admin_key, json!({})).await;
    assert_eq!(started.body["success"], true, "{}", started.body);
    assert_eq!(app.get(&format!("{path}/tools"), &app.admin_key).await.body["total_count"], 13);

    let node = support::own_children_running("mcp-server-everything");
    assert_eq!(node.len(), 1, "one process serves every request");
    let first = node[0].pid;
    kill_by_hand(first);
    let restarted = support::eventually_async(Duration::from_secs(15), || async {
        let now = support::own_children_running("mcp-server-everything");
        now.len() == 1
            && now[0].pid != first
            && app.get(&format!("{path}/health"), &app.admin_key).await.body["is_responsive"] == true
    })
    .await;
    assert!(restarted, "Toolhub restarted server-everything");
    let group = support::own_children_running("mcp-server-everything")[0].group;

    assert_eq!(app.post(&format!("{path}/stop"), &app.admin_key, json!({})).await.body["success"], true);
    assert!(support::own_children_running("mcp-server-everything").is_empty());
    assert!(support::live_in_group(group).is_empty(), "nothing left running");
    app.stop().await;
}
