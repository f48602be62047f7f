//! Toolkits through the native API, the Informer surface (seed 004) and their MCP endpoint, on
//! both databases: who may make and edit them, toolkit grants in the server tier, names and
//! order, syncs, custom tools' masked config, forced deletes.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolhub_domain::Role;

use crate::{
    harness::{Backend, TestApp, spawn_app},
    mcp_gateway::{Fixture, call, connect, names},
};

toolhub_test_support::on_both_databases!(
    toolkits_bundle_server_tools_under_their_own_names_and_grants,
    the_informer_surface_as_the_seed_shows_it,
    custom_api_request_tools_call_http_apis,
);

const KITS: &str = "/api/v1/toolkits";

async fn grant(app: &TestApp, body: Value) -> String {
    let reply = app.post("/api/v1/grants", &app.admin_key, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

async fn toolkits_bundle_server_tools_under_their_own_names_and_grants(backend: Backend) {
    let app = spawn_app(backend).await;
    let fixture = Fixture::register(&app).await;
    let pat = app.key("pat", Role::PowerUser, "default").await;
    let alice = app.key("alice", Role::User, "default").await;

    // Power users and above make toolkits; names are slugs, unique in the tenant.
    let denied = app.post(KITS, &alice, json!({"name": "kit"})).await;
    assert_eq!((denied.status, denied.code()), (StatusCode::FORBIDDEN, "ACCESS_DENIED"));
    let bad = app.post(KITS, &pat, json!({"name": "a kit"})).await;
    assert_eq!((bad.status, bad.body["errors"][0]["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("name")));
    let made = app.post(KITS, &pat, json!({"name": "kit", "description": "curated"})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(
        (&made.body["owner_id"], &made.body["display_name"], &made.body["version"]),
        (&json!("pat"), &json!("kit"), &json!(1))
    );
    let kit = made.body["id"].as_str().unwrap().to_owned();
    let again = app.post(KITS, &pat, json!({"name": "kit"})).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "CONFLICT"));

    // Putting a server tool in a toolkit needs admin on the tool: a toolkit never hands out
    // more than its editors could.
    let tools = format!("{KITS}/{kit}/tools");
    let echo = json!({"tool_id": fixture.tool_id("echo"), "name": "say", "sort_order": 2});
    let hidden = app.post(&tools, &pat, echo.clone()).await;
    assert_eq!((hidden.status, hidden.code()), (StatusCode::NOT_FOUND, "TOOL_NOT_FOUND"), "a tool pat cannot see");
    let on_server = grant(&app, json!({"subject": "user:pat", "server_id": fixture.id, "access_level": "read"})).await;
    let refused = app.post(&tools, &pat, echo.clone()).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "ACCESS_DENIED"), "{}", refused.body);
    let raised =
        app.put(&format!("/api/v1/grants/{on_server}"), &app.admin_key, json!({"access_level": "admin"})).await;
    assert_eq!(raised.status, StatusCode::OK);
    let added = app.post(&tools, &pat, echo).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(
        (&added.body["name"], &added.body["server_name"], &added.body["type"]),
        (&json!("say"), &json!("fixture"), &json!("mcp"))
    );
    let add = json!({"tool_id": fixture.tool_id("add"), "sort_order": 1, "description": "Adds two numbers"});
    assert_eq!(app.post(&tools, &pat, add).await.status, StatusCode::CREATED);
    // Where Toolhub sends requests is an administrator's to write, as for servers.
    let request = json!({"name": "probe", "config": {"url": "http://127.0.0.1:9/"}});
    let custom = app.post(&format!("/api/toolkits/{kit}/tools"), &pat, request).await;
    assert_eq!((custom.status, custom.code()), (StatusCode::FORBIDDEN, "ACCESS_DENIED"), "{}", custom.body);
    let clash = app.post(&tools, &pat, json!({"tool_id": fixture.tool_id("fail"), "name": "say"})).await;
    assert_eq!((clash.status, clash.code()), (StatusCode::CONFLICT, "CONFLICT"));
    let unknown = app.post(&tools, &pat, json!({"tool_id": "01NOSUCHTOOL000000000000000"})).await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "TOOL_NOT_FOUND"));
    let listed = app.get(&tools, &pat).await.body;
    let order: Vec<&str> = listed.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(order, ["add", "say"], "sort_order, then name");

    // Invisible to a user without a grant: the toolkit and its endpoint are 404s.
    assert_eq!(app.get(&format!("{KITS}/kit"), &alice).await.code(), "TOOLKIT_NOT_FOUND");
    let endpoint = app
        .client
        .post(format!("{}/mcp/toolkits/kit", app.base))
        .bearer_auth(&alice)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(endpoint.status(), StatusCode::NOT_FOUND);
    assert!(app.get(KITS, &alice).await.body.as_array().unwrap().is_empty());

    // A toolkit grant reaches every member, in the tier of a server grant, and says so.
    let shared = grant(&app, json!({"subject": "user:alice", "toolkit_id": kit, "access_level": "execute"})).await;
    assert_eq!(app.get(&format!("{KITS}/pat:kit"), &alice).await.body["id"], json!(kit), "owner:name finds it");
    assert_eq!(app.get(&format!("{KITS}/other:kit"), &alice).await.code(), "TOOLKIT_NOT_FOUND", "another owner's");
    let as_alice = connect(&app, "/mcp/toolkits/kit", &alice).await;
    let listed = as_alice.list_all_tools().await.unwrap();
    let in_order: Vec<&str> = listed.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(in_order, ["add", "say"]);
    assert_eq!(listed[0].description.as_deref(), Some("Adds two numbers"), "the toolkit's description");
    let said = call(&as_alice, "say", json!({"message": "hi"})).await.unwrap();
    assert_eq!(said["content"][0]["text"], "hi", "{said}");
    assert!(call(&as_alice, "echo", json!({"message": "hi"})).await.is_err(), "only the toolkit's names");
    let everywhere = connect(&app, "/mcp", &alice).await;
    assert_eq!(names(&everywhere).await, BTreeSet::from(["fixture__add".to_owned(), "fixture__echo".to_owned()]));
    let check = app
        .post("/api/v1/toolservers/access-check", &app.admin_key, json!({"user_id": "alice", "tool_name": "echo"}))
        .await
        .body;
    assert_eq!((&check["allowed"], &check["decided_by_id"]), (&json!(true), &json!(shared)), "{check}");
    assert!(check["explanation"].to_string().contains("user+toolkit"), "{check}");
    // A user grant on the tool itself is a more specific tier: its `none` wins over the
    // toolkit's grant, and hides the tool.
    grant(&app, json!({"subject": "user:alice", "tool_id": fixture.tool_id("echo"), "access_level": "none"})).await;
    let hidden = call(&as_alice, "say", json!({"message": "hi"})).await.unwrap_err();
    assert!(hidden.contains("unknown tool"), "{hidden}");
    assert_eq!(names(&as_alice).await, BTreeSet::from(["add".to_owned()]));

    // Only editors edit; versions guard against lost updates.
    let by_alice = app.put(&format!("{KITS}/{kit}"), &alice, json!({"description": "mine"})).await;
    assert_eq!(by_alice.status, StatusCode::FORBIDDEN);
    let stale = app.put(&format!("{KITS}/{kit}"), &pat, json!({"description": "new", "version": 7})).await;
    assert_eq!((stale.status, stale.code()), (StatusCode::CONFLICT, "VERSION_MISMATCH"));
    let updated = app.put(&format!("{KITS}/{kit}"), &pat, json!({"description": "new", "version": 1})).await;
    assert_eq!((&updated.body["description"], &updated.body["version"]), (&json!("new"), &json!(2)));

    // Shared by a grant: deleting needs force, which removes the grants too.
    let kept = app.delete(&format!("{KITS}/{kit}"), &pat).await;
    assert_eq!((kept.status, kept.code()), (StatusCode::CONFLICT, "CONFLICT"));
    assert_eq!(app.delete(&format!("{KITS}/{kit}?force=true"), &pat).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/grants/{shared}"), &app.admin_key).await.status, StatusCode::NOT_FOUND);
    assert_eq!(names(&everywhere).await, BTreeSet::new(), "the toolkit's grant went with it");
    app.stop().await;
}

async fn the_informer_surface_as_the_seed_shows_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let fixture = Fixture::register(&app).await;
    let admin = &app.admin_key;
    let made = app.post(KITS, admin, json!({"name": "github-toolkit", "server_id": fixture.id})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let base = "/api/toolkits/github-toolkit/tools";

    // A custom tool, as the seed's table describes it: type defaults to api-request; the
    // config's credentials never come back.
    let custom = json!({
        "name": "create_issue", "description": "Create a new GitHub issue",
        "config": "{\"url\": \"https://api.github.example/issues\", \"botToken\": \"s3cr3t\"}",
        "parameters": {"type": "object", "properties": {"title": {"type": "string"}, "body": {"type": "string"}}, "required": ["title"]},
    });
    let created = app.post(base, admin, custom).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!((&created.body["type"], &created.body["sortOrder"]), (&json!("api-request"), &json!(0)));
    assert_eq!(created.body["toolkitId"], made.body["id"]);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let one = app.get(&format!("{base}/{id}"), admin).await.body;
    assert!(!one.to_string().contains("s3cr3t"), "{one}");
    assert!(one["config"].as_str().unwrap().contains("https://api.github.example/issues"), "{one}");

    let page = app.get(base, admin).await.body;
    assert_eq!(page["_links"]["self"]["href"], base);
    assert_eq!((&page["start"], &page["count"], &page["total"]), (&json!(0), &json!(1), &json!(1)));
    assert_eq!(page["_embedded"]["inf:tool"][0]["name"], "create_issue");

    // A sync replaces every tool: the seed's example, plus a name the linked server has.
    let sync = json!({"tools": [
        {"name": "get_repo", "description": "Get repository details", "inputSchema": {"type": "object",
            "properties": {"owner": {"type": "string"}, "repo": {"type": "string"}}, "required": ["owner", "repo"]}},
        {"name": "echo", "description": "Echo back"},
    ], "discoveredBy": "server"});
    let synced = app.put(base, admin, sync).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.body);
    let items = synced.body["_embedded"]["inf:tool"].as_array().unwrap().clone();
    assert_eq!(items.iter().map(|t| t["name"].as_str().unwrap()).collect::<Vec<_>>(), ["get_repo", "echo"]);
    assert!(items.iter().all(|t| t["type"] == "mcp" && t["discoveredBy"] == "server" && t["discoveredAt"].is_string()));
    assert_eq!(app.get(&format!("{base}/{id}"), admin).await.code(), "TOOL_NOT_FOUND", "the custom tool is gone");
    // The linked server's name became its tool (callable); the other is listed only.
    let native = app.get(&format!("{KITS}/github-toolkit/tools"), admin).await.body;
    let linked: Vec<(Value, Value)> =
        native.as_array().unwrap().iter().map(|t| (t["name"].clone(), t["tool_id"].clone())).collect();
    assert_eq!(linked, [(json!("get_repo"), Value::Null), (json!("echo"), fixture.tool_id("echo"))]);

    let second = app.get(&format!("{base}?start=1&limit=1"), admin).await.body;
    assert_eq!((&second["start"], &second["count"], &second["total"]), (&json!(1), &json!(1), &json!(2)));
    assert_eq!(second["_embedded"]["inf:tool"][0]["name"], "echo");
    let bad_page = app.get(&format!("{base}?start=-1"), admin).await;
    assert_eq!(
        (bad_page.status, bad_page.body["errors"][0]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("start"))
    );
    let twice = app.put(base, admin, json!({"tools": [{"name": "a"}, {"name": "a"}]})).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", twice.body);

    // One tool: renamed, then deleted (204).
    let echo_id = items[1]["id"].as_str().unwrap().to_owned();
    let renamed = app.put(&format!("{base}/{echo_id}"), admin, json!({"name": "say", "sortOrder": 5})).await;
    assert_eq!(
        (renamed.status, &renamed.body["name"], &renamed.body["sortOrder"]),
        (StatusCode::OK, &json!("say"), &json!(5))
    );
    let with_config = app.put(&format!("{base}/{echo_id}"), admin, json!({"name": "say", "config": "x"})).await;
    assert_eq!(with_config.status, StatusCode::UNPROCESSABLE_ENTITY, "a server tool's stand-in has no config");
    assert_eq!(app.delete(&format!("{base}/{echo_id}"), admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("{base}/{echo_id}"), admin).await.status, StatusCode::NOT_FOUND);

    // Deleting a server takes its tools out of every toolkit.
    let synced = app.put(base, admin, json!({"tools": [{"name": "echo"}, {"name": "get_repo"}]})).await;
    assert_eq!(synced.body["total"], 2);
    assert_eq!(app.delete(&format!("/api/v1/toolservers/servers/{}", fixture.id), admin).await.status, StatusCode::OK);
    let left = app.get(base, admin).await.body;
    assert_eq!(left["_embedded"]["inf:tool"].as_array().unwrap().len(), 1, "{left}");
    assert_eq!(left["_embedded"]["inf:tool"][0]["name"], "get_repo");
    app.stop().await;
}

async fn custom_api_request_tools_call_http_apis(backend: Backend) {
    let app = spawn_app(backend).await;
    let bot = app.key("bot", Role::Admin, "default").await;
    let made = app.post(KITS, &app.admin_key, json!({"name": "ops"})).await;
    assert_eq!(made.status, StatusCode::CREATED);
    let servers = app.get("/api/v1/toolservers/servers", &app.admin_key).await.body;
    let builtin = servers[0]["id"].as_str().unwrap().to_owned();

    // An api-request tool reading Toolhub's own API: the path filled from an argument, a secret
    // header, a JSON pointer selecting the answer's part.
    let tool = json!({
        "name": "server_name", "description": "The name of a server",
        "parameters": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
        "config": {"url": format!("{}/api/v1/toolservers/servers/{{id}}", app.base),
                   "headers": {"Authorization": format!("Bearer {bot}")}, "result": "/name"},
    });
    let created = app.post("/api/toolkits/ops/tools", &app.admin_key, tool).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["config"]["headers"]["Authorization"], "********");
    assert!(!created.body.to_string().contains(&bot), "the secret never comes back");
    let unconfigured = app.post("/api/toolkits/ops/tools", &app.admin_key, json!({"name": "later"})).await;
    assert_eq!(unconfigured.status, StatusCode::CREATED);

    // A user with a grant on the toolkit calls it over REST and MCP; others do not see it.
    let alice = app.key("alice", Role::User, "default").await;
    let bob = app.key("bob", Role::User, "default").await;
    let calls = format!("{KITS}/ops/tools/server_name/call");
    assert_eq!(app.post(&calls, &alice, json!({"arguments": {"id": builtin}})).await.code(), "TOOLKIT_NOT_FOUND");
    grant(&app, json!({"subject": "user:alice", "toolkit_id": made.body["id"], "access_level": "execute"})).await;
    let answer = app.post(&calls, &alice, json!({"arguments": {"id": builtin}})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!((&answer.body["content"][0]["text"], &answer.body["isError"]), (&json!("builtin_tools"), &json!(false)));
    let missing = app.post(&calls, &alice, json!({"arguments": {}})).await;
    assert_eq!((missing.status, missing.code()), (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_ARGS"));
    let absent = app.post(&calls, &alice, json!({"arguments": {"id": "01NOSUCHSERVER0000000000000"}})).await;
    assert!(
        absent.body["isError"] == true && absent.body["content"][0]["text"].as_str().unwrap().starts_with("HTTP 404")
    );
    let later = app.post(&format!("{KITS}/ops/tools/later/call"), &alice, json!({"arguments": {}})).await;
    assert_eq!(
        (later.status, later.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
        "{}",
        later.body
    );
    assert_eq!(app.post(&calls, &bob, json!({"arguments": {"id": builtin}})).await.status, StatusCode::NOT_FOUND);

    let as_alice = connect(&app, "/mcp/toolkits/ops", &alice).await;
    let listed = as_alice.list_all_tools().await.unwrap();
    assert_eq!(listed.iter().map(|t| t.name.as_ref()).collect::<Vec<_>>(), ["later", "server_name"]);
    assert_eq!(listed[1].input_schema["required"], json!(["id"]));
    let over_mcp = call(&as_alice, "server_name", json!({"id": builtin})).await.unwrap();
    assert_eq!(over_mcp["content"][0]["text"], "builtin_tools", "{over_mcp}");

    // Recorded like every call: the tool, the toolkit as its server, the principal.
    let logged = toolhub_test_support::eventually_async(std::time::Duration::from_secs(5), || async {
        let log = app.get("/api/v1/toolservers/calls?user=alice", &app.admin_key).await.body;
        log["items"].as_array().unwrap().iter().any(|r| r["tool_name"] == "server_name" && r["server_name"] == "ops")
    })
    .await;
    assert!(logged, "the custom tool's calls are in the call log");

    // Another tenant's custom tool cannot reach Toolhub's own host (the egress policy).
    let acme = app.key("acme-admin", Role::Admin, "acme").await;
    assert_eq!(app.post(KITS, &acme, json!({"name": "probe"})).await.status, StatusCode::CREATED);
    let probe = json!({"name": "local", "config": {"url": format!("{}/healthz", app.base)}});
    assert_eq!(app.post("/api/toolkits/probe/tools", &acme, probe).await.status, StatusCode::CREATED);
    let refused = app.post(&format!("{KITS}/probe/tools/local/call"), &acme, json!({"arguments": {}})).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "EGRESS_DENIED"), "{}", refused.body);
    app.stop().await;
}
