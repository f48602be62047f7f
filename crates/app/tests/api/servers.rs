//! The tool-server registry API: every operation, every error path, on both databases.

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolhub_domain::Role;

use crate::harness::{Backend, server_body, spawn_app, spawn_app_with};

toolhub_test_support::on_both_databases!(
    registers_with_seed_defaults_and_lists_it,
    get_update_delete_round_trip,
    invalid_input_is_422_and_changes_nothing,
    duplicate_names_conflict_per_tenant,
    unknown_ids_are_404,
    stale_versions_are_refused,
    secrets_are_masked_and_kept,
    listing_filters_by_status_and_builtin,
    users_see_what_they_may_read_and_only_managers_write,
    tenants_never_see_each_other,
    only_the_operator_decides_which_commands_run_on_the_host,
    readers_do_not_see_configuration,
    concurrent_unversioned_updates_all_apply,
);

const SERVERS: &str = "/api/v1/toolservers/servers";

async fn registers_with_seed_defaults_and_lists_it(backend: Backend) {
    let app = spawn_app(backend).await;
    // Nothing listens on the discard port: auto_start (the default) tries and records the failure.
    let body = json!({"name": "weather", "display_name": "weather server", "base_url": "http://127.0.0.1:9/mcp"});
    let created = app.post(SERVERS, &app.admin_key, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let created = created.body;
    assert_eq!(created["id"].as_str().unwrap().len(), 26, "a ULID");
    for (field, expected) in [
        ("transport_type", json!("http")),
        ("timeout", json!(30)),
        ("max_failures", json!(3)),
        ("auto_start", json!(true)),
        ("auto_update", json!(true)),
        ("status", json!("error")),
        ("is_builtin", json!(false)),
        ("consecutive_failures", json!(1)),
        ("created_by", json!("admin")),
        ("tools", json!([])),
        ("version", json!(1)),
    ] {
        assert_eq!(created[field], expected, "{field}");
    }
    let list = app.get(&format!("{SERVERS}?include_builtin=false"), &app.admin_key).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["name"], "weather");
}

async fn get_update_delete_round_trip(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.create_server("files").await["id"].as_str().unwrap().to_owned();
    let path = format!("{SERVERS}/{id}");

    let got = app.get(&path, &app.admin_key).await;
    assert_eq!((got.status, got.body["name"].as_str()), (StatusCode::OK, Some("files")));

    let updated = app
        .put(&path, &app.admin_key, json!({"display_name": "Files", "timeout": 120, "description": "Shared files"}))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["display_name"], "Files");
    assert_eq!(updated.body["timeout"], 120);
    assert_eq!(updated.body["max_failures"], 3, "absent fields are kept");
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.body["name"], "files");

    let cleared = app.put(&path, &app.admin_key, json!({"description": null})).await;
    assert_eq!(cleared.body["description"], Value::Null);

    let switched =
        app.put(&path, &app.admin_key, json!({"transport_type": "stdio", "command": "npx", "args": ["-y", "x"]})).await;
    assert_eq!(switched.status, StatusCode::OK, "{}", switched.body);
    assert_eq!(switched.body["args"], json!(["-y", "x"]));

    let deleted = app.delete(&path, &app.admin_key).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.body["message"], "Tool server deleted successfully");
    assert_eq!(app.get(&path, &app.admin_key).await.status, StatusCode::NOT_FOUND);
    assert!(
        app.get(&format!("{SERVERS}?include_builtin=false"), &app.admin_key).await.body.as_array().unwrap().is_empty()
    );
}

async fn invalid_input_is_422_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let bad_bodies = [
        (json!({"name": "", "display_name": "x", "base_url": "https://a.example"}), "name"),
        (json!({"name": "x".repeat(101), "display_name": "x", "base_url": "https://a.example"}), "name"),
        (json!({"name": "a", "display_name": "", "base_url": "https://a.example"}), "display_name"),
        (json!({"name": "a", "display_name": "A", "base_url": "https://a.example", "timeout": 4}), "timeout"),
        (json!({"name": "a", "display_name": "A", "base_url": "https://a.example", "timeout": 301}), "timeout"),
        (json!({"name": "a", "display_name": "A", "base_url": "https://a.example", "max_failures": 0}), "max_failures"),
        (
            json!({"name": "a", "display_name": "A", "base_url": "https://a.example", "max_failures": 11}),
            "max_failures",
        ),
        (
            json!({"name": "a", "display_name": "A", "base_url": "https://a.example", "transport_type": "ftp"}),
            "transport_type",
        ),
        (json!({"name": "a", "display_name": "A"}), "base_url"),
        (json!({"name": "a", "display_name": "A", "base_url": "not a url"}), "base_url"),
        (json!({"name": "a", "display_name": "A", "transport_type": "stdio"}), "command"),
        (
            json!({"name": "a", "display_name": "A", "base_url": "https://a.example", "headers": {"Bad Name": "v"}}),
            "headers.Bad Name",
        ),
        (
            json!({"name": "a", "display_name": "A", "base_url": "https://a.example",
                "oauth_config": {"client_id": "c", "client_secret": "s", "token_url": "nope"}}),
            "oauth_config.token_url",
        ),
        (json!({"name": "a", "display_name": "A", "base_url": "https://a.example", "timeout": "soon"}), "timeout"),
        (json!({"display_name": "A", "base_url": "https://a.example"}), "name"),
    ];
    for (body, field) in bad_bodies {
        let reply = app.post(SERVERS, &app.admin_key, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.code(), "VALIDATION_FAILED");
        assert_eq!(reply.header("content-type"), Some("application/problem+json"));
        let fields: Vec<&str> =
            reply.body["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
        assert!(fields.contains(&field), "{body}: expected an error on {field}, got {fields:?}");
    }

    let malformed = app
        .client
        .post(format!("{}{SERVERS}", app.base))
        .bearer_auth(&app.admin_key)
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let not_json = app
        .client
        .post(format!("{}{SERVERS}", app.base))
        .bearer_auth(&app.admin_key)
        .header("content-type", "text/plain")
        .body(server_body("a").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = json!({"name": "a", "display_name": "A", "base_url": "https://a.example", "description": "x".repeat(2 * 1024 * 1024)});
    assert_eq!(app.post(SERVERS, &app.admin_key, huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let listed = app.get(&format!("{SERVERS}?include_builtin=false"), &app.admin_key).await;
    assert!(listed.body.as_array().unwrap().is_empty(), "nothing was created");

    let id = app.create_server("kept").await["id"].as_str().unwrap().to_owned();
    let path = format!("{SERVERS}/{id}");
    for body in [
        json!({"timeout": 1}),
        json!({"display_name": null}),
        json!({"timeout": null}),
        json!({"transport_type": "stdio"}),
        json!({"base_url": "ftp://x.example"}),
        json!({"display_name": "New", "max_failures": 99}),
    ] {
        let reply = app.put(&path, &app.admin_key, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let after = app.get(&path, &app.admin_key).await.body;
    assert_eq!((after["display_name"].as_str(), after["timeout"].as_i64()), (Some("kept server"), Some(30)));
    assert_eq!(after["version"], 1, "refused updates change nothing");
}

async fn duplicate_names_conflict_per_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_server("dup").await;
    let again = app.post(SERVERS, &app.admin_key, server_body("dup")).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "CONFLICT"));
    assert!(again.body["detail"].as_str().unwrap().contains("dup"));
    let other_admin = app.key("boss", Role::Admin, "globex").await;
    assert_eq!(app.post(SERVERS, &other_admin, server_body("dup")).await.status, StatusCode::CREATED);
}

async fn unknown_ids_are_404(backend: Backend) {
    let app = spawn_app(backend).await;
    for id in ["01JAAAAAAAAAAAAAAAAAAAAAAA", "not-an-id", "%20"] {
        let path = format!("{SERVERS}/{id}");
        for reply in [
            app.get(&path, &app.admin_key).await,
            app.put(&path, &app.admin_key, json!({"timeout": 60})).await,
            app.delete(&path, &app.admin_key).await,
        ] {
            assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "SERVER_NOT_FOUND"), "{id}");
        }
    }
}

async fn stale_versions_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.create_server("v").await["id"].as_str().unwrap().to_owned();
    let path = format!("{SERVERS}/{id}");
    assert_eq!(app.put(&path, &app.admin_key, json!({"timeout": 40, "version": 1})).await.status, StatusCode::OK);
    let stale = app.put(&path, &app.admin_key, json!({"timeout": 50, "version": 1})).await;
    assert_eq!((stale.status, stale.code()), (StatusCode::CONFLICT, "VERSION_MISMATCH"));
    assert_eq!(app.get(&path, &app.admin_key).await.body["timeout"], 40);
}

async fn secrets_are_masked_and_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({
        "name": "secretive",
        "display_name": "Secretive",
        "base_url": "https://s.example/mcp",
        "auto_start": false,
        "headers": {"Authorization": "Bearer hdr-secret-1", "X-Region": "eu", "X-Custom": "custom-secret-2"},
        "secret_headers": ["X-Custom"],
        "oauth_config": {"client_id": "cid", "client_secret": "oauth-secret-3", "token_url": "https://auth.example/token"},
    });
    let created = app.post(SERVERS, &app.admin_key, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let text = created.body.to_string();
    for secret in ["hdr-secret-1", "custom-secret-2", "oauth-secret-3"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert_eq!(created.body["headers"]["Authorization"], "********");
    assert_eq!(created.body["headers"]["X-Region"], "eu");
    assert_eq!(created.body["oauth_config"]["client_secret"], "********");
    assert_eq!(created.body["secret_headers"], json!(["Authorization", "X-Custom"]));

    // Sending back what was read keeps the secrets; a new value replaces one.
    let id = created.body["id"].as_str().unwrap();
    let mut echo = created.body.clone();
    echo["headers"]["X-Custom"] = json!("custom-secret-4");
    let updated = app
        .put(
            &format!("{SERVERS}/{id}"),
            &app.admin_key,
            json!({"headers": echo["headers"], "oauth_config": echo["oauth_config"]}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert!(!updated.body.to_string().contains("custom-secret-4"));

    let store = toolhub_app::open_store(&app.storage).await.unwrap();
    let server = toolhub_domain::ports::ServerRepository::get(&store, "default", id).await.unwrap().unwrap();
    assert_eq!(server.headers["Authorization"].expose(), "Bearer hdr-secret-1");
    assert_eq!(server.headers["X-Custom"].expose(), "custom-secret-4");
    assert!(server.headers["X-Custom"].is_secret(), "stays secret once marked");
    assert_eq!(server.oauth_config.unwrap().client_secret.expose(), "oauth-secret-3");
}

async fn listing_filters_by_status_and_builtin(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_server("remote").await;
    let names = |reply: crate::harness::Reply| -> Vec<String> {
        reply.body.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect()
    };
    // The built-in server is registered at start-up, before anything else.
    assert_eq!(names(app.get(SERVERS, &app.admin_key).await), ["builtin_tools", "remote"]);
    assert_eq!(names(app.get(&format!("{SERVERS}?include_builtin=false"), &app.admin_key).await), ["remote"]);
    // It is (re)connected in the background at start-up: `starting` for a moment, then `enabled`.
    let enabled = toolhub_test_support::eventually_some(std::time::Duration::from_secs(5), || async {
        Some(names(app.get(&format!("{SERVERS}?status=enabled"), &app.admin_key).await)).filter(|n| !n.is_empty())
    })
    .await;
    assert_eq!(enabled.unwrap_or_default(), ["builtin_tools"]);
    assert_eq!(
        names(app.get(&format!("{SERVERS}?status=disabled&include_builtin=true"), &app.admin_key).await),
        ["remote"]
    );
    for bad in ["?status=running", "?include_builtin=maybe"] {
        let reply = app.get(&format!("{SERVERS}{bad}"), &app.admin_key).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"), "{bad}");
    }
}

async fn users_see_what_they_may_read_and_only_managers_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.create_server("shared").await["id"].as_str().unwrap().to_owned();
    let path = format!("{SERVERS}/{id}");
    let keys = [
        app.key("u-guest", Role::Guest, "default").await,
        app.key("u-user", Role::User, "default").await,
        app.key("u-power", Role::PowerUser, "default").await,
    ];
    for key in &keys {
        let listed = app.get(&format!("{SERVERS}?include_builtin=false"), key).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert!(listed.body.as_array().unwrap().is_empty(), "nothing is visible without a grant");
        assert_eq!(app.get(&path, key).await.status, StatusCode::NOT_FOUND);
        let created = app.post(SERVERS, key, server_body("mine")).await;
        assert_eq!((created.status, created.code()), (StatusCode::FORBIDDEN, "ACCESS_DENIED"));
        // Changing what one cannot see is a 404 too: it tells nothing of the server.
        for reply in [app.put(&path, key, json!({"timeout": 60})).await, app.delete(&path, key).await] {
            assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "SERVER_NOT_FOUND"));
        }
    }

    // A read grant on the server shows it; an admin grant lets its holder manage it.
    let grant = json!({"subject": "user:u-user", "server_id": id, "access_level": "read"});
    let created = app.post("/api/v1/grants", &app.admin_key, grant).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(app.get(&path, &keys[1]).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("{SERVERS}?include_builtin=false"), &keys[1]).await.body.as_array().unwrap().len(), 1);
    assert_eq!(app.put(&path, &keys[1], json!({"timeout": 60})).await.status, StatusCode::FORBIDDEN);
    let grant_id = created.body["id"].as_str().unwrap();
    let upgraded =
        app.put(&format!("/api/v1/grants/{grant_id}"), &app.admin_key, json!({"access_level": "admin"})).await;
    assert_eq!(upgraded.status, StatusCode::OK, "{}", upgraded.body);
    assert_eq!(app.put(&path, &keys[1], json!({"timeout": 60})).await.status, StatusCode::OK);
    assert_eq!(app.get(&path, &keys[2]).await.status, StatusCode::NOT_FOUND, "others still see nothing");

    let other_admin = app.key("admin2", Role::Admin, "default").await;
    assert_eq!(app.put(&path, &other_admin, json!({"timeout": 90})).await.status, StatusCode::OK);
    assert_eq!(app.get(&path, &app.admin_key).await.body["timeout"], 90);
    assert_eq!(app.delete(&path, &keys[1]).await.status, StatusCode::OK, "a server admin may delete it");
    let grants = app.get(&format!("/api/v1/grants?server_id={id}"), &app.admin_key).await;
    assert!(grants.body.as_array().unwrap().is_empty(), "its grants went with it");
}

async fn tenants_never_see_each_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.create_server("acme-only").await["id"].as_str().unwrap().to_owned();
    let path = format!("{SERVERS}/{id}");
    let globex_admin = app.key("g-admin", Role::Admin, "globex").await;
    assert!(app.get(SERVERS, &globex_admin).await.body.as_array().unwrap().is_empty());
    for reply in [
        app.get(&path, &globex_admin).await,
        app.put(&path, &globex_admin, json!({"timeout": 60})).await,
        app.delete(&path, &globex_admin).await,
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(app.get(&path, &app.admin_key).await.body["timeout"], 30, "untouched");

    // X-Tenant: only a super admin may act in another tenant.
    let root = app.key("root", Role::SuperAdmin, "globex").await;
    let as_default = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(&root)
        .header("X-Tenant", "default")
        .send()
        .await
        .unwrap();
    assert_eq!(as_default.status(), StatusCode::OK);
    let refused = app
        .client
        .get(format!("{}{SERVERS}", app.base))
        .bearer_auth(&globex_admin)
        .header("X-Tenant", "default")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

/// A stdio server runs a command on Toolhub's host: super administrators may set any command,
/// tenant administrators only those the operator allowed (`--stdio-allow`), and nobody else.
async fn only_the_operator_decides_which_commands_run_on_the_host(backend: Backend) {
    let app = spawn_app_with(backend, |serve| serve.upstream.stdio_allow = vec!["npx".into()]).await;
    let tenant_admin = app.key("acme-admin", Role::Admin, "acme").await;
    let stdio = |name: &str, command: &str| {
        json!({"name": name, "display_name": name, "transport_type": "stdio", "command": command,
               "args": ["-c", "cat /etc/passwd"], "auto_start": false})
    };
    let refused = app.post(SERVERS, &tenant_admin, stdio("shell", "sh")).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "ACCESS_DENIED"), "{}", refused.body);
    assert!(app.get(SERVERS, &tenant_admin).await.body.as_array().unwrap().is_empty(), "nothing was created");
    let allowed = app.post(SERVERS, &tenant_admin, stdio("tools", "npx")).await;
    assert_eq!(allowed.status, StatusCode::CREATED, "{}", allowed.body);
    let path = format!("{SERVERS}/{}", allowed.body["id"].as_str().unwrap());
    let swapped = app.put(&path, &tenant_admin, json!({"command": "/bin/sh"})).await;
    assert_eq!(swapped.status, StatusCode::FORBIDDEN, "{}", swapped.body);
    assert_eq!(app.put(&path, &tenant_admin, json!({"timeout": 60})).await.status, StatusCode::OK, "other fields");

    // An HTTP server turned into a stdio one is a command too.
    let remote = app.post(SERVERS, &tenant_admin, server_body("remote")).await.body;
    let remote_path = format!("{SERVERS}/{}", remote["id"].as_str().unwrap());
    let turned = app.put(&remote_path, &tenant_admin, json!({"transport_type": "stdio", "command": "sh"})).await;
    assert_eq!(turned.status, StatusCode::FORBIDDEN, "{}", turned.body);

    // Nor may a tenant's server reach the host or its networks, however the address is written.
    for url in ["http://127.0.0.1:9/mcp", "http://[::ffff:127.0.0.1]:9/mcp", "http://[64:ff9b::7f00:1]:9/mcp"] {
        let name = format!("local{}", url.len());
        let body = json!({"name": name, "display_name": "local", "base_url": url});
        let local = app.post(SERVERS, &tenant_admin, body).await.body;
        assert_eq!(local["status"], "error", "{local}");
        assert!(local["last_startup_error"].as_str().unwrap().contains("egress policy refuses"), "{local}");
    }

    // The operator's key (a super administrator) may run what it likes, in any tenant.
    let operator = app.post(SERVERS, &app.admin_key, stdio("shell", "sh")).await;
    assert_eq!(operator.status, StatusCode::CREATED, "{}", operator.body);
}

/// Whoever may read a server but not manage it sees what it offers, not how it is reached:
/// no headers, environment, command, OAuth settings, credentials in the URL, or errors.
async fn readers_do_not_see_configuration(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({"name": "remote", "display_name": "Remote", "auto_start": false,
        "base_url": "https://user:pw@remote.example/mcp?api_key=k3y",
        "headers": {"X-Team": "blue", "Authorization": "Bearer t0ken"},
        "oauth_config": {"client_id": "c", "client_secret": "s", "token_url": "https://auth.example/token"}});
    let created = app.post(SERVERS, &app.admin_key, body).await.body;
    let path = format!("{SERVERS}/{}", created["id"].as_str().unwrap());
    assert_eq!(created["headers"]["X-Team"], "blue", "managers see the configuration");
    let grant = json!({"subject": "user:reader", "server_id": created["id"], "access_level": "read"});
    assert_eq!(app.post("/api/v1/grants", &app.admin_key, grant).await.status, StatusCode::CREATED);
    let reader = app.key("reader", Role::User, "default").await;
    let seen = app.get(&path, &reader).await;
    assert_eq!(seen.status, StatusCode::OK);
    let seen = seen.body;
    assert_eq!(seen["base_url"], "https://remote.example/mcp", "{seen}");
    assert_eq!((seen["headers"].clone(), seen["oauth_config"].clone()), (Value::Null, Value::Null), "{seen}");
    let text = seen.to_string();
    for hidden in ["blue", "pw", "k3y", "auth.example"] {
        assert!(!text.contains(hidden), "{hidden} in {text}");
    }
}

/// Without `version` a caller asked for no locking: twenty concurrent updates of different
/// fields all apply, none answers 409.
async fn concurrent_unversioned_updates_all_apply(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.create_server("busy").await["id"].as_str().unwrap().to_owned();
    let path = format!("{SERVERS}/{id}");
    let updates = (0..20).map(|n| {
        let body =
            if n % 2 == 0 { json!({"description": format!("d{n}")}) } else { json!({"tags": [format!("t{n}")]}) };
        let (app, path) = (&app, &path);
        async move { app.put(path, &app.admin_key, body).await.status }
    });
    let statuses = futures::future::join_all(updates).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    assert_eq!(app.get(&path, &app.admin_key).await.body["version"], 21);
}
