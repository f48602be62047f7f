//! The real `toolhub` binary: first start, the admin key it prints, a server registered with
//! it, the key CLI, and a clean exit on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_toolhub");

/// Sends a request and reads its JSON answer.
trait JsonReply {
    async fn json_reply(self) -> Value;
}

impl JsonReply for reqwest::RequestBuilder {
    async fn json_reply(self) -> Value {
        self.send().await.unwrap().json().await.unwrap()
    }
}

struct Running {
    child: Child,
    base: String,
    admin_key: Option<String>,
}

/// A test that fails does not leave its Toolhub running.
impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `toolhub serve` on a free port and reads what it prints until it listens.
fn start(data_dir: &std::path::Path) -> Running {
    start_with(data_dir, &[])
}

/// Where the binary started on `data_dir` runs its stdio children: beside the data directory.
fn children_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.with_extension("children")
}

/// As [`start`], with more environment.
fn start_with(data_dir: &std::path::Path, env: &[(&str, &str)]) -> Running {
    start_at(data_dir, env, "127.0.0.1:0")
}

/// As [`start_with`], listening on `bind`.
fn start_at(data_dir: &std::path::Path, env: &[(&str, &str)], bind: &str) -> Running {
    let mut child = Command::new(BIN)
        .envs(env.iter().copied())
        .env("TOOLHUB_CHILDREN_DIR", children_dir(data_dir))
        .args(["--data-dir", data_dir.to_str().unwrap(), "serve", "--bind", bind, "--workers", "2"])
        .args(["--rate-limit-per-minute", "1000000", "--rate-limit-per-hour", "10000000"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("toolhub starts");
    let stdout = child.stdout.take().unwrap();
    let mut admin_key = None;
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().expect("toolhub prints its address").unwrap();
        if let Some(key) = line.strip_prefix("admin API key: ") {
            admin_key = Some(key.to_owned());
        }
        if let Some(address) = line.strip_prefix("Toolhub listening on ") {
            break address.to_owned();
        }
    };
    Running { child, base, admin_key }
}

fn stop(mut running: Running) -> std::process::ExitStatus {
    // SIGTERM, as a service manager would send.
    let pid = running.child.id().to_string();
    Command::new("kill").args(["-s", "TERM", &pid]).status().unwrap();
    running.child.wait().unwrap()
}

#[tokio::test]
async fn first_start_prints_a_working_admin_key_and_sigterm_stops_cleanly() {
    crate::harness::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();

    let first = start(dir.path());
    let key = first.admin_key.clone().expect("the first start prints an admin key");
    let created = client
        .post(format!("{}/api/v1/toolservers/servers", first.base))
        .bearer_auth(&key)
        .json(&json!({"name": "weather", "display_name": "Weather", "base_url": "https://weather.example/mcp", "auto_start": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let status = stop(first);
    assert!(status.success(), "exit status after SIGTERM: {status:?}");

    // The data survives a restart, and no second key is printed.
    let second = start(dir.path());
    assert!(second.admin_key.is_none(), "the admin key is shown only once");
    let listed: Value = client
        .get(format!("{}/api/v1/toolservers/servers?include_builtin=false", second.base))
        .bearer_auth(&key)
        .json_reply()
        .await;
    assert_eq!(listed[0]["name"], "weather");
    assert!(stop(second).success());
}

/// Registers the fixture over stdio as `fixture` (started, writing its pid to a file, with
/// `env` added); returns the server and the file of its pid, whose process is alive.
async fn start_fixture(
    client: &reqwest::Client,
    (running, key): (&Running, &str),
    data_dir: &std::path::Path,
    mut env: Value,
) -> (Value, std::path::PathBuf) {
    env["FIXTURE_PID_FILE"] = json!("fixture.pid");
    // One failure gives a child up (the replica test crashes one on purpose).
    let body = json!({
        "name": "fixture", "display_name": "Fixture", "transport_type": "stdio",
        "command": toolhub_test_support::fixture_bin().display().to_string(), "env": env, "max_failures": 1,
    });
    let created: Value = client
        .post(format!("{}/api/v1/toolservers/servers", running.base))
        .bearer_auth(key)
        .json(&body)
        .json_reply()
        .await;
    assert_eq!(created["status"], "enabled", "{created}");
    let pid_file = children_dir(data_dir).join(created["id"].as_str().unwrap()).join("fixture.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert!(toolhub_test_support::pid_alive(pid));
    (created, pid_file)
}

/// Stdio servers end with Toolhub (SIGTERM), and `auto_start` ones come back with it.
#[tokio::test]
async fn upstream_processes_end_on_sigterm_and_resume_on_start() {
    crate::harness::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let first = start(dir.path());
    let key = first.admin_key.clone().unwrap();
    let (created, pid_file) = start_fixture(&client, (&first, &key), dir.path(), json!({})).await;
    let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert!(stop(first).success());
    assert!(toolhub_test_support::live_in_group(pid).is_empty(), "SIGTERM ends the upstream processes");

    let second = start(dir.path());
    let health = format!("{}/api/v1/toolservers/servers/{}/health", second.base, created["id"].as_str().unwrap());
    let resumed = toolhub_test_support::eventually_async(Duration::from_secs(10), || async {
        let reply: Value = client.get(&health).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
        reply["is_running"] == true
    })
    .await;
    assert!(resumed, "the auto_start server was started again");
    let new_pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert_ne!(new_pid, pid);
    assert!(stop(second).success());
    assert!(toolhub_test_support::live_in_group(new_pid).is_empty());
}

/// A Toolhub killed with SIGKILL (no chance to stop anything) leaves no stdio server behind,
/// even one that does not end when its stdin closes: the kernel kills its children with it.
#[tokio::test]
async fn a_killed_toolhub_leaves_no_stdio_server_running() {
    crate::harness::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let mut running = start(dir.path());
    let key = running.admin_key.clone().unwrap();
    let (_, pid_file) = start_fixture(&client, (&running, &key), dir.path(), json!({"FIXTURE_LINGER": "1"})).await;
    let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();

    running.child.kill().unwrap();
    running.child.wait().unwrap();
    let gone = toolhub_test_support::eventually(Duration::from_secs(5), || !toolhub_test_support::pid_alive(pid)).await;
    assert!(gone, "the fixture (pid {pid}) outlived the Toolhub that started it");
}

/// A grant's hourly quota holds across a restart: the calls of the last day are counted again
/// from the call log when Toolhub starts.
#[tokio::test]
async fn a_quota_holds_across_a_restart() {
    crate::harness::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let first = start(dir.path());
    let admin = first.admin_key.clone().unwrap();
    let created = Command::new(BIN)
        .args(["--data-dir", dir.path().to_str().unwrap(), "keys", "create", "--subject", "quota-user"])
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let user = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    // The built-in server starts in the background.
    let calculator = toolhub_test_support::eventually_some(Duration::from_secs(10), || async {
        let tools: Value =
            client.get(format!("{}/api/v1/toolservers/tools/all", first.base)).bearer_auth(&admin).json_reply().await;
        tools.as_array()?.iter().find(|t| t["name"] == "calculator").map(|t| t["id"].clone())
    })
    .await
    .expect("the built-in calculator is listed");
    let grant = json!({"subject": "user:quota-user", "tool_id": calculator, "access_level": "execute", "rate_limit_per_hour": 2});
    let granted = client.post(format!("{}/api/v1/grants", first.base)).bearer_auth(&admin).json(&grant).send().await;
    assert_eq!(granted.unwrap().status(), StatusCode::CREATED);
    let call = |base: String| {
        let (client, user, calculator) = (client.clone(), user.clone(), calculator.clone());
        async move {
            let path = format!("{base}/api/v1/toolservers/tools/{}/call", calculator.as_str().unwrap());
            let body = json!({"arguments": {"expression": "1+1"}});
            client.post(path).bearer_auth(&user).json(&body).send().await.unwrap().status()
        }
    };
    assert_eq!(call(first.base.clone()).await, StatusCode::OK);
    assert_eq!(call(first.base.clone()).await, StatusCode::OK);
    assert!(stop(first).success());

    let second = start(dir.path());
    // Once the built-in server runs again (503 before), the quota is still used up.
    let status = toolhub_test_support::eventually_some(Duration::from_secs(10), || async {
        Some(call(second.base.clone()).await).filter(|s| *s != StatusCode::SERVICE_UNAVAILABLE)
    })
    .await;
    assert_eq!(status, Some(StatusCode::TOO_MANY_REQUESTS), "the restart did not reset the quota");
    assert!(stop(second).success());
}

/// SIGTERM waits for a call in flight to a server started through the API, then ends that
/// server's whole process group (a child it started included).
#[tokio::test]
async fn sigterm_drains_calls_then_ends_every_process_of_api_started_servers() {
    crate::harness::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let running = start(dir.path());
    let (base, key) = (running.base.clone(), running.admin_key.clone().unwrap());
    let body = json!({
        "name": "fixture", "display_name": "Fixture", "transport_type": "stdio",
        "command": toolhub_test_support::fixture_bin().display().to_string(),
    });
    let created: Value =
        client.post(format!("{base}/api/v1/toolservers/servers")).bearer_auth(&key).json(&body).json_reply().await;
    let tools: Value = client
        .get(format!("{base}/api/v1/toolservers/servers/{}/tools", created["id"].as_str().unwrap()))
        .bearer_auth(&key)
        .json_reply()
        .await;
    let tool = |name: &str| {
        let id = tools["tools"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["id"].clone();
        format!("{base}/api/v1/toolservers/tools/{}/call", id.as_str().unwrap())
    };
    let call = |url: String, arguments: Value| {
        let (client, key) = (client.clone(), key.clone());
        async move {
            let reply = client.post(url).bearer_auth(key).json(&json!({"arguments": arguments})).send().await.unwrap();
            (reply.status(), reply.json::<Value>().await.unwrap())
        }
    };
    let (_, spawned) = call(tool("spawn_child"), json!({})).await;
    let sleeper: i32 = spawned["content"][0]["text"].as_str().unwrap().parse().unwrap();
    assert!(toolhub_test_support::pid_alive(sleeper));

    let in_flight = tokio::spawn(call(tool("slow"), json!({"ms": 2500})));
    tokio::time::sleep(Duration::from_millis(700)).await;
    let status = stop(running);
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    let (code, answer) = in_flight.await.unwrap();
    assert_eq!(code, StatusCode::OK, "the call in flight was answered: {answer}");
    assert_eq!(answer["content"][0]["text"], "done", "{answer}");
    assert!(!toolhub_test_support::pid_alive(sleeper), "the server's own child ended with it");
}

/// SIGTERM under load: every call that was answered is in the call log after the restart.
#[tokio::test]
async fn no_call_record_is_lost_on_sigterm_under_load() {
    crate::harness::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let first = start(dir.path());
    let key = first.admin_key.clone().unwrap();
    let base = first.base.clone();
    let calculator = toolhub_test_support::eventually_some(Duration::from_secs(5), || async {
        let all = client.get(format!("{base}/api/v1/toolservers/tools/all")).bearer_auth(&key).send().await.ok()?;
        let tools: Value = all.json().await.ok()?;
        tools.as_array()?.iter().find(|t| t["name"] == "calculator").map(|t| t["id"].as_str().unwrap().to_owned())
    })
    .await;
    let url = format!("{base}/api/v1/toolservers/tools/{}/call", calculator.expect("built-in calculator"));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (client, url, key) = (client.clone(), url.clone(), key.clone());
            tokio::spawn(async move {
                let mut answered = 0u64;
                loop {
                    let sent = client
                        .post(&url)
                        .bearer_auth(&key)
                        .json(&json!({"arguments": {"expression": "6*7"}}))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == StatusCode::OK => answered += 1,
                        _ => return answered,
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(stop(first).success());
    let mut answered = 0;
    for worker in workers {
        answered += worker.await.unwrap();
    }
    assert!(answered > 100, "the load reached Toolhub: {answered} answered");

    let second = start(dir.path());
    let page: Value =
        client.get(format!("{}/api/v1/toolservers/calls?limit=1", second.base)).bearer_auth(&key).json_reply().await;
    let logged = page["total"].as_u64().unwrap();
    assert!(logged >= answered, "{answered} calls were answered, {logged} logged");
    assert!(stop(second).success());
}

#[tokio::test]
async fn keys_create_and_migrate_commands_work() {
    crate::harness::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    // Without the server's database, a key would be written to a new one the server never reads.
    let nowhere = dir.path().join("elsewhere");
    let refused = Command::new(BIN)
        .args(["--data-dir", nowhere.to_str().unwrap(), "keys", "create", "--subject", "lost"])
        .output()
        .unwrap();
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("no Toolhub database"));
    assert!(!nowhere.join("toolhub.db").exists(), "nothing was created");
    let migrate = Command::new(BIN).args(["--data-dir", data_dir, "migrate"]).output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));

    let created = Command::new(BIN)
        .args([
            "--data-dir",
            data_dir,
            "keys",
            "create",
            "--subject",
            "ci-bot",
            "--role",
            "power-user",
            "--tenant",
            "acme",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("th_") && key.len() == 46, "{key}");

    let running = start(dir.path());
    let client = reqwest::Client::new();
    let reply =
        client.get(format!("{}/api/v1/toolservers/servers", running.base)).bearer_auth(&key).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK, "the CLI-issued key authenticates");
    let denied = client
        .post(format!("{}/api/v1/toolservers/servers", running.base))
        .bearer_auth(&key)
        .json(&json!({"name": "x", "display_name": "X", "base_url": "https://x.example", "auto_start": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN, "a power user is no admin");
    assert!(stop(running).success());
}

/// A stdio child (our fixture, told to probe) tries what an attacker's command would: Toolhub's
/// secret key and database, Toolhub's environment and another child's. Each read fails; what the
/// system offers everyone still reads; the child works in a directory of its own.
#[tokio::test]
async fn children_cannot_reach_the_key_the_database_or_other_environments() {
    crate::harness::install_crypto();
    if !toolhub_mcp::sandbox::available() {
        eprintln!("this kernel has no Landlock: children cannot be confined here (see docs/operations.md)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let running = start_with(dir.path(), &[("TOOLHUB_PROBE_SECRET", "never-seen-by-children")]);
    let key = running.admin_key.clone().unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let api = |path: &str| format!("{}/api/v1/toolservers{path}", running.base);
    let mut ids = Vec::new();
    for name in ["probe-a", "probe-b"] {
        let body = json!({"name": name, "display_name": name, "transport_type": "stdio",
            "command": toolhub_test_support::fixture_bin().display().to_string(), "env": {"FIXTURE_PROBE": "1"}});
        let created: Value =
            client.post(api("/servers")).bearer_auth(&key).json(&body).send().await.unwrap().json().await.unwrap();
        assert_eq!(created["status"], "enabled", "{created}");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let call = |server: &'static str, tool: &'static str, arguments: Value| {
        let (client, key, url) = (client.clone(), key.clone(), api("/call"));
        async move {
            let body = json!({"server_name": server, "tool_name": tool, "arguments": arguments});
            let reply: Value =
                client.post(url).bearer_auth(&key).json(&body).send().await.unwrap().json().await.unwrap();
            (reply["isError"] == true, reply["content"][0]["text"].as_str().unwrap_or_default().to_owned())
        }
    };
    let sibling: u32 = call("probe-b", "pid", json!({})).await.1.parse().unwrap();
    let toolhub = running.child.id();
    for path in [
        dir.path().join("secret.key").display().to_string(),
        dir.path().join("toolhub.db").display().to_string(),
        format!("/proc/{toolhub}/environ"),
        format!("/proc/{sibling}/environ"),
    ] {
        let (refused, text) = call("probe-a", "read_file", json!({"path": path})).await;
        assert!(refused, "a child read {path}: {text}");
        assert!(!text.contains("never-seen-by-children"), "{text}");
    }
    let (refused, passwd) = call("probe-a", "read_file", json!({"path": "/etc/passwd"})).await;
    assert!(!refused && passwd.contains("root"), "what everyone may read still reads: {passwd}");
    let (_, cwd) = call("probe-a", "cwd", json!({})).await;
    assert_eq!(cwd, children_dir(dir.path()).join(&ids[0]).display().to_string());
    assert!(stop(running).success());
}

/// With no subcommand Toolhub serves, and reads its flags (before or after) and environment as
/// `serve` does.
#[tokio::test]
async fn the_default_command_reads_serve_flags_and_environment() {
    crate::harness::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["--bind", "127.0.0.1:0", "--data-dir", dir.path().to_str().unwrap()])
        .env("TOOLHUB_RATE_LIMIT_PER_MINUTE", "7")
        .env("TOOLHUB_CHILDREN_DIR", children_dir(dir.path()))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut key, mut base) = (String::new(), String::new());
    while let Some(Ok(line)) = lines.next() {
        if let Some(k) = line.strip_prefix("admin API key: ") {
            key = k.to_owned();
        }
        if let Some(b) = line.strip_prefix("Toolhub listening on ") {
            base = b.to_owned();
            break;
        }
    }
    let running = Running { child, base, admin_key: Some(key.clone()) };
    let servers = format!("{}/api/v1/toolservers/servers", running.base);
    let reply = reqwest::Client::new().get(servers).bearer_auth(&key).send().await.unwrap();
    assert_eq!(reply.headers()["x-ratelimit-limit-minute"], "7", "the environment was read");
    assert!(stop(running).success());
}

/// An MCP session opened before a restart keeps working after it: the same session id lists
/// the same tools (it is kept in the database, not in the process); an unknown id is a 404.
#[tokio::test]
async fn an_mcp_session_survives_a_restart() {
    crate::harness::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    // No pooled connection outlives the first Toolhub: the session alone must carry over.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).pool_max_idle_per_host(0).build().unwrap();
    let bind = format!("127.0.0.1:{}", toolhub_test_support::free_port());
    let first = start_at(dir.path(), &[], &bind);
    let key = first.admin_key.clone().unwrap();
    let url = format!("{}/mcp", first.base);
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "restart-test", "version": "1"}}});
    let (status, session, _) = crate::harness::mcp_post(&client, &url, &key, None, initialize).await;
    assert_eq!(status, StatusCode::OK);
    let session = session.expect("a session id");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(
        crate::harness::mcp_post(&client, &url, &key, Some(&session), initialized).await.0,
        StatusCode::ACCEPTED
    );
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    // The tools of the built-in server, once it has started (in the background, with Toolhub).
    let listed = || async {
        let (status, _, answer) = crate::harness::mcp_post(&client, &url, &key, Some(&session), list.clone()).await;
        assert_eq!(status, StatusCode::OK, "the session is known");
        answer?["result"]["tools"].as_array().filter(|t| !t.is_empty()).cloned()
    };
    let before = toolhub_test_support::eventually_some(Duration::from_secs(5), listed).await.expect("tools listed");
    assert!(stop(first).success());

    let second = start_at(dir.path(), &[], &bind);
    let after = toolhub_test_support::eventually_some(Duration::from_secs(5), listed).await;
    assert_eq!(after, Some(before), "the same session lists the same tools after the restart");
    let (status, _, _) = crate::harness::mcp_post(&client, &url, &key, Some("no-such-session"), list).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(stop(second).success());
}

/// `toolhub connect`: a client that only launches stdio servers lists and calls through it
/// what the key may use.
#[tokio::test]
async fn connect_relays_stdio_to_the_gateway() {
    use rmcp::{ServiceExt, model::CallToolRequestParams, transport::TokioChildProcess};
    crate::harness::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path());
    let key = running.admin_key.clone().unwrap();
    let mut command = tokio::process::Command::new(BIN);
    command.args(["connect", "--url", &running.base]).env("TOOLHUB_KEY", &key);
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.expect("the bridge speaks MCP");
    // The built-in server starts in the background with Toolhub.
    let names = toolhub_test_support::eventually_some(Duration::from_secs(5), || async {
        let names: Vec<String> = client.list_all_tools().await.ok()?.into_iter().map(|t| t.name.into()).collect();
        (!names.is_empty()).then_some(names)
    })
    .await;
    assert_eq!(names.unwrap(), ["builtin_tools__calculator", "builtin_tools__get_time"]);
    let arguments = json!({"expression": "6*7"}).as_object().unwrap().clone();
    let result = client
        .call_tool(CallToolRequestParams::new("builtin_tools__calculator").with_arguments(arguments))
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&result).unwrap()["content"][0]["text"], "42");
    let unknown = client.call_tool(CallToolRequestParams::new("nothing__here")).await.unwrap_err();
    assert!(unknown.to_string().contains("unknown tool"), "{unknown}");
    client.cancel().await.unwrap();

    // `--toolkit`: one toolkit's tools, under its names.
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{}{path}", running.base);
    let tools: serde_json::Value =
        http.get(api("/api/v1/toolservers/tools/all")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    let calculator = tools.as_array().unwrap().iter().find(|t| t["name"] == "calculator").unwrap()["id"].clone();
    let made = http.post(api("/api/v1/toolkits")).bearer_auth(&key).json(&json!({"name": "maths"})).send().await;
    assert_eq!(made.unwrap().status(), reqwest::StatusCode::CREATED);
    let member = json!({"tool_id": calculator, "name": "calc"});
    let added = http.post(api("/api/v1/toolkits/maths/tools")).bearer_auth(&key).json(&member).send().await;
    assert_eq!(added.unwrap().status(), reqwest::StatusCode::CREATED);
    let mut command = tokio::process::Command::new(BIN);
    command.args(["connect", "--url", &running.base, "--toolkit", "maths"]).env("TOOLHUB_KEY", &key);
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.expect("the bridge speaks MCP");
    let names: Vec<String> = client.list_all_tools().await.unwrap().into_iter().map(|t| t.name.into()).collect();
    assert_eq!(names, ["calc"]);
    let arguments = json!({"expression": "6*7"}).as_object().unwrap().clone();
    let result = client.call_tool(CallToolRequestParams::new("calc").with_arguments(arguments)).await.unwrap();
    assert_eq!(serde_json::to_value(&result).unwrap()["content"][0]["text"], "42");
    client.cancel().await.unwrap();
    assert!(stop(running).success());
}

/// `toolhub import FILE` sends a Claude Desktop file to a running Toolhub: a dry run first,
/// then the import; a refusal exits non-zero with the problem's detail.
#[tokio::test]
async fn import_command_brings_an_mcp_servers_file_in() {
    crate::harness::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path());
    let key = running.admin_key.clone().unwrap();
    let file = dir.path().join("claude_desktop_config.json");
    let desktop = json!({"mcpServers": {
        "fixture": {"command": toolhub_test_support::fixture_bin(), "env": {"API_KEY": "desk-secret"}},
    }});
    std::fs::write(&file, desktop.to_string()).unwrap();
    let import = |extra: &[&str]| {
        Command::new(BIN)
            .args(["import", file.to_str().unwrap(), "--url", &running.base])
            .args(extra)
            .env("TOOLHUB_KEY", &key)
            .output()
            .unwrap()
    };
    let dry = import(&["--dry-run"]);
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    let report: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!((&report["dry_run"], &report["changes"][0]["action"]), (&json!(true), &json!("create")));

    let done = import(&[]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let servers: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/toolservers/servers", running.base))
        .bearer_auth(&key)
        .json_reply()
        .await;
    let fixture = servers.as_array().unwrap().iter().find(|s| s["name"] == "fixture").expect("imported").clone();
    assert_eq!((&fixture["status"], &fixture["env"]["API_KEY"]), (&json!("enabled"), &json!("********")));

    let again = import(&["--conflicts", "sideways"]);
    assert!(!again.status.success(), "clap refuses an unknown conflict mode");
    std::fs::write(&file, "{\"mcpServers\": {\"nowhere\": {}}}").unwrap();
    let refused = import(&[]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("refused (422"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(stop(running).success());
}

/// The pid a stdio child writes to `file` once it is not `old` (a new child started).
async fn eventually_new_pid(file: &std::path::Path, old: i32) -> i32 {
    let read = || std::fs::read_to_string(file).ok()?.trim().parse::<i32>().ok().filter(|pid| *pid != old);
    toolhub_test_support::eventually_some(Duration::from_secs(10), || async { read() })
        .await
        .expect("a new child writes its pid")
}

/// Two replicas on a fresh database of the throwaway PostgreSQL, sharing the secret key, each
/// with a data directory of its own (A first: it makes the admin key).
async fn start_replicas() -> (Running, Running, (tempfile::TempDir, tempfile::TempDir), Vec<(&'static str, String)>) {
    crate::harness::install_crypto();
    let database = toolhub_storage::testing::create_postgres_database().await;
    let secret_key = toolhub_storage::AeadCipher::generate_key();
    let env = [
        ("DATABASE_URL", database.as_str()),
        ("TOOLHUB_SECRET_KEY", secret_key.as_str()),
        // A replica silent for 3 s is dead.
        ("TOOLHUB_REPLICA_HEARTBEAT_SECS", "1"),
    ];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start_with(dir_a.path(), &env);
    let b = start_with(dir_b.path(), &env);
    // B resumes its servers in the background; once its built-in tools answer, it has listed
    // what to resume, so servers registered later are ones it follows, not ones it resumes.
    let key = a.admin_key.clone().expect("the first replica makes the admin key");
    let body = json!({"server_name": "builtin_tools", "tool_name": "calculator", "arguments": {"expression": "1+1"}});
    let client = reqwest::Client::new();
    let resumed = toolhub_test_support::eventually_async(Duration::from_secs(10), || async {
        let reply = client.post(format!("{}/api/v1/toolservers/call", b.base)).bearer_auth(&key).json(&body).send();
        reply.await.is_ok_and(|r| r.status() == StatusCode::OK)
    })
    .await;
    assert!(resumed, "B starts its built-in tools");
    let env = env.iter().map(|(name, value)| (*name, value.to_string())).collect();
    (a, b, (dir_a, dir_b), env)
}

/// Two replicas on one PostgreSQL act as one service: a server started through one runs on
/// both (each its own child); health shows each replica's state; one replica's failed child
/// leaves the server `enabled` and the other serving; a restart through one and a change of
/// configuration through the other connect both anew; a grant's quota counts the calls of both
/// and survives a restart; a grant or a key revoked through one stops working on the other;
/// stopping through the other ends both children; a replica killed with SIGKILL leaves no child,
/// its records expire and the other serves on. How long each took is printed
/// (docs/operations.md gives the figures); the test waits at most 10 s for each.
#[tokio::test]
async fn replicas_on_one_postgresql_act_as_one_service() {
    let (a, b, (dir_a, _dir_b), env) = start_replicas().await;
    let key = a.admin_key.clone().expect("the first replica makes the admin key");
    let client = reqwest::Client::new();
    let within = Duration::from_secs(10);

    // Registered (and started) through A: B runs its own child, and calls through B work.
    let (created, pid_file_a) = start_fixture(&client, (&a, &key), dir_a.path(), json!({})).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let call = |replica: &Running, key: &str, tool: &str| {
        let body = json!({"server_name": "fixture", "tool_name": tool, "arguments": {"message": "hi"}});
        client.post(format!("{}/api/v1/toolservers/call", replica.base)).bearer_auth(key.to_owned()).json(&body).send()
    };
    // B's child's process id, once B answers calls of the server.
    let pid_on_b = || {
        toolhub_test_support::eventually_some(within, || async {
            let reply = call(&b, &key, "pid").await.ok()?;
            if reply.status() != StatusCode::OK {
                return None;
            }
            reply.json::<Value>().await.ok()?["content"][0]["text"].as_str()?.parse::<i32>().ok()
        })
    };
    let pid_in = |file: &std::path::Path| -> i32 { std::fs::read_to_string(file).unwrap().trim().parse().unwrap() };
    let started = std::time::Instant::now();
    let pid_b = pid_on_b().await.expect("B runs the server started through A");
    eprintln!("replicas: a start reached the other replica in {:?}", started.elapsed());
    let pid_a = pid_in(&pid_file_a);
    assert_ne!(pid_a, pid_b, "each replica runs its own child");
    // Health shows each replica's own connection; the status combines them.
    let health = |replica: &Running| {
        let url = format!("{}/api/v1/toolservers/servers/{id}/health", replica.base);
        client.get(url).bearer_auth(key.clone()).json_reply()
    };
    let states = |health: &Value| -> Vec<String> {
        health["replicas"].as_array().unwrap().iter().map(|r| r["state"].as_str().unwrap().to_owned()).collect()
    };
    let both_running = toolhub_test_support::eventually_async(within, || async {
        states(&health(&a).await) == ["running", "running"]
    })
    .await;
    assert!(both_running, "{}", health(&a).await);
    let replicas = |replica: &Running| {
        let listed = client.get(format!("{}/api/v1/replicas", replica.base)).bearer_auth(key.clone()).json_reply();
        async move {
            let listed: Value = listed.await;
            let current: Vec<bool> =
                listed["replicas"].as_array().unwrap().iter().map(|r| r["current"] == true).collect();
            current
        }
    };
    assert_eq!(replicas(&a).await, [true, false], "both replicas live, A (the older) answering");

    // B's child crashes and B gives it up (max_failures 1): A's child serves on, the server
    // stays `enabled`, and health says which replica failed.
    let _ = call(&b, &key, "crash").await;
    let b_failed = toolhub_test_support::eventually_some(within, || async {
        let health = health(&a).await;
        let failed = health["replicas"].as_array().unwrap().iter().any(|r| r["state"] == "failed");
        failed.then_some(health)
    });
    let health_after = b_failed.await.expect("B reports its child failed");
    assert_eq!(health_after["status"], "enabled", "one replica's failure leaves the server enabled: {health_after}");
    assert_eq!(states(&health_after), ["running", "failed"], "{health_after}");
    assert_eq!(call(&a, &key, "echo").await.unwrap().status(), StatusCode::OK, "A serves calls");
    // Restarted through B: both replicas run it again.
    let restart = client.post(format!("{}/api/v1/toolservers/servers/{id}/restart", b.base)).bearer_auth(&key).send();
    assert!(restart.await.unwrap().status().is_success());
    let pid_b = pid_on_b().await.expect("B runs the server again");
    let both_running = toolhub_test_support::eventually_async(within, || async {
        states(&health(&b).await) == ["running", "running"]
    })
    .await;
    assert!(both_running, "{}", health(&b).await);
    let pid_a = eventually_new_pid(&pid_file_a, pid_a).await;
    // A change of its configuration through A connects B anew too: B's child is a new one.
    let update = client.put(format!("{}/api/v1/toolservers/servers/{id}", a.base)).bearer_auth(&key);
    assert!(update.json(&json!({"description": "changed"})).send().await.unwrap().status().is_success());
    let renewed = toolhub_test_support::eventually_some(within, || async {
        let reply = call(&b, &key, "pid").await.ok()?;
        let pid = reply.json::<Value>().await.ok()?["content"][0]["text"].as_str()?.parse::<i32>().ok()?;
        (pid != pid_b).then_some(pid)
    });
    let pid_b = renewed.await.expect("B reconnects after a change through A");
    let pid_a = eventually_new_pid(&pid_file_a, pid_a).await;
    // A tool disabled through B is refused through A; enabled again through A, B calls it.
    let tools: Value =
        client.get(format!("{}/api/v1/toolservers/servers/{id}/tools", a.base)).bearer_auth(&key).json_reply().await;
    let echo = tools["tools"].as_array().unwrap().iter().find(|t| t["name"] == "echo").unwrap()["id"].clone();
    let echo = echo.as_str().unwrap();
    let switch = |replica: &Running, action: &str| {
        let url = format!("{}/api/v1/toolservers/tools/{echo}/{action}", replica.base);
        client.post(url).bearer_auth(key.clone()).send()
    };
    assert!(switch(&b, "disable").await.unwrap().status().is_success());
    let disabled = std::time::Instant::now();
    let refused = toolhub_test_support::eventually_async(within, || async {
        call(&a, &key, "echo").await.is_ok_and(|r| r.status() != StatusCode::OK)
    })
    .await;
    assert!(refused, "a tool disabled through B is refused on A");
    eprintln!("replicas: a tool switch reached the other replica in {:?}", disabled.elapsed());
    assert!(switch(&a, "enable").await.unwrap().status().is_success());
    let enabled = toolhub_test_support::eventually_async(within, || async {
        call(&b, &key, "echo").await.is_ok_and(|r| r.status() == StatusCode::OK)
    })
    .await;
    assert!(enabled, "a tool enabled through A works on B");

    // A grant made through A lets alice call through B; revoked through A, it stops there.
    let alice = client
        .post(format!("{}/api/v1/keys", a.base))
        .bearer_auth(&key)
        .json(&json!({"principal_id": "alice", "role": "user", "name": "alice"}))
        .json_reply()
        .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let grant = json!({"subject": "user:alice", "server_id": id, "access_level": "execute", "rate_limit_per_hour": 4});
    let grant: Value =
        client.post(format!("{}/api/v1/grants", a.base)).bearer_auth(&key).json(&grant).json_reply().await;
    let granted = std::time::Instant::now();
    let allowed = toolhub_test_support::eventually_async(within, || async {
        call(&b, &alice, "echo").await.is_ok_and(|r| r.status() == StatusCode::OK)
    })
    .await;
    assert!(allowed, "a grant made through A works on B");
    eprintln!("replicas: a grant reached the other replica in {:?}", granted.elapsed());
    // Its quota (4 an hour) is one across the replicas: three more calls, then 429 on either.
    for replica in [&a, &b, &a] {
        assert_eq!(call(replica, &alice, "echo").await.unwrap().status(), StatusCode::OK);
    }
    for replica in [&b, &a] {
        assert_eq!(call(replica, &alice, "echo").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    }
    // And across a restart of A: still none left.
    assert!(stop(a).success());
    let env: Vec<(&str, &str)> = env.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let a = start_with(dir_a.path(), &env);
    let pid_a = eventually_new_pid(&pid_file_a, pid_a).await;
    let limited = toolhub_test_support::eventually_async(within, || async {
        call(&a, &alice, "echo").await.is_ok_and(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
    })
    .await;
    assert!(limited, "a restart does not reset the quota");
    let revoked = std::time::Instant::now();
    let deleted = client
        .delete(format!("{}/api/v1/grants/{}", a.base, grant["id"].as_str().unwrap()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    let refused = toolhub_test_support::eventually_async(within, || async {
        let status = call(&b, &alice, "echo").await.map(|r| r.status());
        status.is_ok_and(|s| s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN)
    })
    .await;
    assert!(refused, "a grant revoked through A stops working on B");
    eprintln!("replicas: a revocation reached the other replica in {:?}", revoked.elapsed());

    // A key revoked through B stops authenticating on A (which had it cached).
    let keys: Value = client.get(format!("{}/api/v1/keys", a.base)).bearer_auth(&alice).json_reply().await;
    assert!(keys.is_array() || keys.is_object(), "alice authenticates on A: {keys}");
    let key_id = client.get(format!("{}/api/v1/keys", b.base)).bearer_auth(&key).json_reply().await;
    let key_id = key_id.as_array().unwrap().iter().find(|k| k["principal_id"] == "alice").unwrap()["id"].clone();
    let revoke = client
        .delete(format!("{}/api/v1/keys/{}", b.base, key_id.as_str().unwrap()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert!(revoke.status().is_success());
    let locked_out = toolhub_test_support::eventually_async(within, || async {
        let reply = client.get(format!("{}/api/v1/keys", a.base)).bearer_auth(&alice).send().await;
        reply.is_ok_and(|r| r.status() == StatusCode::UNAUTHORIZED)
    })
    .await;
    assert!(locked_out, "a key revoked through B fails on A");

    // Stopped through B: both children end. Started again through A, then deleted through B:
    // both end again, and nothing is left running.
    let stopped =
        client.post(format!("{}/api/v1/toolservers/servers/{id}/stop", b.base)).bearer_auth(&key).send().await;
    assert!(stopped.unwrap().status().is_success());
    let both_gone = toolhub_test_support::eventually(within, || {
        !toolhub_test_support::pid_alive(pid_a) && !toolhub_test_support::pid_alive(pid_b)
    })
    .await;
    assert!(both_gone, "a stop through B ends A's child too");
    let start = client.post(format!("{}/api/v1/toolservers/servers/{id}/start", a.base)).bearer_auth(&key).send().await;
    assert!(start.unwrap().status().is_success());
    let pid_b = pid_on_b().await.expect("B follows a start through A");
    let pid_a = pid_in(&pid_file_a);

    // kill -9 of B: its child goes with it, and A serves on.
    let mut b = b;
    b.child.kill().unwrap();
    b.child.wait().unwrap();
    let gone = toolhub_test_support::eventually(within, || !toolhub_test_support::pid_alive(pid_b)).await;
    assert!(gone, "a killed replica leaves no child");
    assert_eq!(call(&a, &key, "echo").await.unwrap().status(), StatusCode::OK, "A serves on");
    // B's records expire (three missed heartbeats): only A's connection is left.
    let expired =
        toolhub_test_support::eventually_async(within, || async { states(&health(&a).await) == ["running"] }).await;
    assert!(expired, "the killed replica's records expire: {}", health(&a).await);
    assert_eq!(replicas(&a).await, [true], "only A is live");
    assert_eq!(health(&a).await["status"], "enabled");

    // Deleted through A: its child ends too, and nothing is left running.
    let delete = client.delete(format!("{}/api/v1/toolservers/servers/{id}", a.base)).bearer_auth(&key).send().await;
    assert!(delete.unwrap().status().is_success());
    let gone = toolhub_test_support::eventually(within, || !toolhub_test_support::pid_alive(pid_a)).await;
    assert!(gone, "a delete ends the child");
    assert!(stop(a).success());
}

/// Figures, not a test (`bench/replicas.sh` runs it): how long a grant and its revocation made
/// through one replica take to apply on the other, polled every 2 ms, p50 and p99 of 50 each.
#[tokio::test]
#[ignore = "a benchmark: bench/replicas.sh"]
async fn replica_propagation_figures() {
    let (a, b, (dir_a, _dir_b), _) = start_replicas().await;
    let key = a.admin_key.clone().unwrap();
    let client = reqwest::Client::new();
    let (created, _) = start_fixture(&client, (&a, &key), dir_a.path(), json!({})).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let alice: Value = client
        .post(format!("{}/api/v1/keys", a.base))
        .bearer_auth(&key)
        .json(&json!({"principal_id": "alice", "role": "user", "name": "alice"}))
        .json_reply()
        .await;
    let alice = alice["key"].as_str().unwrap().to_owned();
    let status_on_b = || async {
        let body = json!({"server_name": "fixture", "tool_name": "echo", "arguments": {"message": "x"}});
        let reply = client.post(format!("{}/api/v1/toolservers/call", b.base)).bearer_auth(&alice).json(&body).send();
        reply.await.map(|r| r.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    };
    let until = |wanted: fn(StatusCode) -> bool| async move {
        let started = std::time::Instant::now();
        while !wanted(status_on_b().await) {
            assert!(started.elapsed() < Duration::from_secs(30), "never applied");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        started.elapsed()
    };
    let (mut granted, mut revoked) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        let grant = json!({"subject": "user:alice", "server_id": id, "access_level": "execute"});
        let started = std::time::Instant::now();
        let made: Value =
            client.post(format!("{}/api/v1/grants", a.base)).bearer_auth(&key).json(&grant).json_reply().await;
        until(|s| s == StatusCode::OK).await;
        granted.push(started.elapsed());
        let started = std::time::Instant::now();
        let url = format!("{}/api/v1/grants/{}", a.base, made["id"].as_str().unwrap());
        assert!(client.delete(url).bearer_auth(&key).send().await.unwrap().status().is_success());
        until(|s| s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN).await;
        revoked.push(started.elapsed());
    }
    for (what, mut times) in [("grant", granted), ("revocation", revoked)] {
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        println!("replicas: a {what} through A applies on B: p50 {:?}, p99 {:?}, max {:?}", at(0.5), at(0.99), at(1.0));
    }
    assert!(stop(a).success());
    assert!(stop(b).success());
}
