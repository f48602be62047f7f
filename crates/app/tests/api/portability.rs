//! Export and import over HTTP: a round trip into an empty Toolhub gives the same document,
//! conflicts, dry runs, all-or-nothing, sealed secrets, and `mcpServers` files.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use toolhub_domain::{Role, cipher::AeadCipher, ports::SecretCipher};

use crate::harness::{Backend, TestApp, spawn_app};

toolhub_test_support::on_both_databases!(an_export_imports_into_an_empty_toolhub_as_the_same_document);

const SERVERS: &str = "/api/v1/toolservers/servers";
const PASSPHRASE: &str = "correct horse battery staple";

async fn export(app: &TestApp, passphrase: Option<&str>) -> Value {
    let mut request = app.client.get(format!("{}/api/v1/export", app.base)).bearer_auth(&app.admin_key);
    if let Some(passphrase) = passphrase {
        request = request.header("X-Toolhub-Passphrase", passphrase);
    }
    let reply = request.send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    reply.json().await.unwrap()
}

async fn import(app: &TestApp, query: &str, passphrase: Option<&str>, document: &Value) -> (StatusCode, Value) {
    let mut request =
        app.client.post(format!("{}/api/v1/import?{query}", app.base)).bearer_auth(&app.admin_key).json(document);
    if let Some(passphrase) = passphrase {
        request = request.header("X-Toolhub-Passphrase", passphrase);
    }
    let reply = request.send().await.unwrap();
    (reply.status(), reply.json().await.unwrap())
}

/// The document with every sealed value opened (sealing takes a fresh salt and nonces).
fn opened(mut document: Value, passphrase: &str) -> Value {
    use base64::Engine;
    let salt = base64::engine::general_purpose::STANDARD.decode(document["sealed"]["salt"].as_str().unwrap()).unwrap();
    let cipher = AeadCipher::from_passphrase(passphrase, &salt);
    fn open_all(value: &mut Value, cipher: &AeadCipher) {
        match value {
            Value::String(text) if text.starts_with("v1:") => {
                *text = format!("opened:{}", cipher.open(text).unwrap().expose());
            }
            Value::Array(items) => items.iter_mut().for_each(|v| open_all(v, cipher)),
            Value::Object(fields) => fields.values_mut().for_each(|v| open_all(v, cipher)),
            _ => {}
        }
    }
    document.as_object_mut().unwrap().remove("sealed");
    open_all(&mut document, &cipher);
    document
}

fn actions(report: &Value) -> Vec<(String, String, String)> {
    let changes = report["changes"].as_array().unwrap_or_else(|| panic!("a report: {report}"));
    changes
        .iter()
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (text("kind"), text("name"), text("action"))
        })
        .collect()
}

async fn server_names(app: &TestApp) -> Vec<String> {
    let servers = app.get(SERVERS, &app.admin_key).await.body;
    let mut names: Vec<String> =
        servers.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

/// A tenant with one of everything an export holds.
async fn furnish(app: &TestApp) {
    let admin = &app.admin_key;
    let fixture = json!({
        "name": "fixture", "display_name": "Fixture", "transport_type": "stdio", "category": "demo",
        "command": toolhub_test_support::fixture_bin().display().to_string(),
        "env": {"API_TOKEN": "s3cret-token", "MODE": "test"},
    });
    let created = app.post(SERVERS, admin, fixture).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let tools = app.get(&format!("{SERVERS}/{id}/tools"), admin).await.body;
    let tool =
        |name: &str| tools["tools"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["id"].clone();
    let disabled = app
        .post(&format!("/api/v1/toolservers/tools/{}/disable", tool("hang").as_str().unwrap()), admin, json!({}))
        .await;
    assert!(disabled.status.is_success(), "{}", disabled.body);
    let kit = app.post("/api/v1/toolkits", admin, json!({"name": "kit", "description": "A kit"})).await;
    let kit_id = kit.body["id"].as_str().unwrap().to_owned();
    let member = json!({"tool_id": tool("echo"), "name": "say"});
    assert_eq!(app.post(&format!("/api/v1/toolkits/{kit_id}/tools"), admin, member).await.status, StatusCode::CREATED);
    let custom = json!({"name": "status", "config": {"method": "GET", "url": "http://127.0.0.1:9/status", "headers": {"Authorization": "Bearer kit-secret"}}});
    let custom = app.post(&format!("/api/toolkits/{kit_id}/tools"), admin, custom).await;
    assert_eq!(custom.status, StatusCode::CREATED, "{}", custom.body);
    for grant in [
        json!({"subject": "user:alice", "server_id": id, "access_level": "execute", "rate_limit_per_hour": 5}),
        json!({"subject": "user:bob", "tool_id": tool("echo"), "access_level": "read"}),
        json!({"subject": "group:eng", "toolkit_id": kit_id, "access_level": "execute"}),
    ] {
        let made = app.post("/api/v1/grants", admin, grant).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    }
    let rule = json!({"role": "power_user", "server_pattern": "fix*", "access_level": "execute"});
    assert!(app.post("/api/v1/toolservers/role-access", admin, rule).await.status.is_success());
    let off = app.put("/api/tools/category/demo/toggle", admin, json!({"enabled": false})).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
}

async fn an_export_imports_into_an_empty_toolhub_as_the_same_document(backend: Backend) {
    let source = spawn_app(backend).await;
    furnish(&source).await;

    // Without a passphrase, secret values are left out; with one, they are sealed.
    let plain = export(&source, None).await;
    let text = plain.to_string();
    assert!(!text.contains("s3cret") && !text.contains("kit-secret"), "{plain}");
    let server = &plain["servers"][0];
    assert_eq!((&server["name"], &server["secret_env"]), (&json!("fixture"), &json!({"API_TOKEN": null})));
    assert_eq!((&server["env"], &server["disabled_tools"]), (&json!({"MODE": "test"}), &json!(["hang"])));
    assert_eq!(plain["grants"].as_array().unwrap().len(), 3, "{plain}");
    assert_eq!(plain["categories"], json!([{"name": "demo", "enabled": false}]));
    let sealed = export(&source, Some(PASSPHRASE)).await;
    assert!(!sealed.to_string().contains("s3cret"), "{sealed}");
    assert!(opened(sealed.clone(), PASSPHRASE).to_string().contains("opened:s3cret-token"));

    // Into an empty Toolhub: a dry run changes nothing; the import then makes the same document.
    let target = spawn_app(backend).await;
    let empty = export(&target, None).await;
    let (status, report) = import(&target, "dry_run=true", Some(PASSPHRASE), &sealed).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["dry_run"], true);
    assert!(actions(&report).iter().all(|(_, _, action)| action == "create"), "{report}");
    assert_eq!(export(&target, None).await, empty, "a dry run writes nothing");
    let (status, report) = import(&target, "", Some(PASSPHRASE), &sealed).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let again = export(&target, Some(PASSPHRASE)).await;
    assert_eq!(opened(again, PASSPHRASE), opened(sealed.clone(), PASSPHRASE), "the round trip holds");
    assert_eq!(export(&target, None).await, plain);

    // The imported configuration works: alice's grant lets her call, hang is disabled.
    let alice = target.key("alice", Role::User, "default").await;
    let on = target.put("/api/tools/category/demo/toggle", &target.admin_key, json!({"enabled": true})).await;
    assert_eq!(on.status, StatusCode::OK);
    let call = json!({"server_name": "fixture", "tool_name": "echo", "arguments": {"message": "moved"}});
    let called = target.post("/api/v1/toolservers/call", &alice, call).await;
    assert_eq!(called.status, StatusCode::OK, "{}", called.body);
    assert_eq!(called.headers.get("x-tool-quota-remaining-hour").unwrap(), "4", "the quota came along");
    target.put("/api/tools/category/demo/toggle", &target.admin_key, json!({"enabled": false})).await;

    // Conflicts: skip by default, rename on demand (reported in a dry run).
    let (_, skipped) = import(&target, "", Some(PASSPHRASE), &sealed).await;
    assert!(actions(&skipped).iter().all(|(_, _, action)| action == "skip"), "{skipped}");
    let (_, renamed) = import(&target, "dry_run=true&conflicts=rename", Some(PASSPHRASE), &sealed).await;
    let first = &renamed["changes"][0];
    assert_eq!((&first["action"], &first["renamed_to"]), (&json!("rename"), &json!("fixture-2")), "{renamed}");
    let (status, _) = import(&target, "conflicts=sideways", None, &plain).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // All or nothing: an entry that fails undoes the writes before it.
    let broken = json!({"format": "toolhub-export/1",
        "servers": [{"name": "extra", "display_name": "Extra", "transport_type": "http",
                     "base_url": "http://127.0.0.1:9/mcp", "auto_start": false}],
        "grants": [{"subject": "user:zed", "server": "extra", "tool": "nothing", "access_level": "read"}]});
    let (status, answer) = import(&target, "", None, &broken).await;
    assert_eq!((status, answer["code"].as_str()), (StatusCode::NOT_FOUND, Some("TOOL_NOT_FOUND")), "{answer}");
    assert!(!server_names(&target).await.contains(&"extra".to_owned()), "the server it made is gone");
    let invalid = json!({"format": "toolhub-export/1",
        "servers": [{"name": "extra", "display_name": "Extra", "transport_type": "http", "base_url": "http://127.0.0.1:9/mcp"}],
        "grants": [{"subject": "robot:r2", "server": "extra", "access_level": "read"}]});
    let (status, _) = import(&target, "", None, &invalid).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!server_names(&target).await.contains(&"extra".to_owned()), "checked before anything is written");

    // Sealed documents need their passphrase; only administrators import.
    let (status, answer) = import(&target, "", Some("wrong"), &sealed).await;
    assert_eq!((status, answer["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("passphrase")));
    let (status, _) = import(&target, "", None, &sealed).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = target.request(Method::POST, "/api/v1/import", Some(&alice), Some(plain.clone())).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "ACCESS_DENIED"));
    assert_eq!(target.get("/api/v1/export", &alice).await.status, StatusCode::FORBIDDEN);

    // Claude Desktop's mcpServers: stdio by command, remote by URL.
    let python = toolhub_test_support::time_server_python();
    let desktop = json!({"mcpServers": {
        "time": {"command": python, "args": ["-m", "mcp_server_time"]},
        "remote": {"url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "Bearer desk"}, "disabled": true},
    }});
    let (status, report) = import(&target, "", None, &desktop).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        actions(&report),
        [("server".into(), "remote".into(), "create".into()), ("server".into(), "time".into(), "create".into())]
    );
    let servers = target.get(SERVERS, &target.admin_key).await.body;
    let named = |name: &str| servers.as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone();
    assert_eq!((&named("time")["transport_type"], &named("time")["status"]), (&json!("stdio"), &json!("enabled")));
    assert_eq!((&named("remote")["transport_type"], &named("remote")["status"]), (&json!("http"), &json!("disabled")));
    assert_eq!(named("remote")["headers"]["Authorization"], "********");
}
