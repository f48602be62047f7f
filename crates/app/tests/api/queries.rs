//! List queries over HTTP (`q`, `sort`, `pageSize`, `pageNumber`, `fields`, `X-Total-Count`,
//! `POST .../search`): what the caller may see, filtered, sorted and paged.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use toolhub_domain::Role;

use crate::{
    harness::{Backend, TestApp, spawn_app},
    mcp_gateway::Fixture,
};

toolhub_test_support::on_both_databases!(the_tool_list_answers_queries);

const TOOLS: &str = "/api/v1/toolservers/tools/all";

fn names(body: &Value) -> Vec<&str> {
    body.as_array().unwrap_or_else(|| panic!("a list: {body}")).iter().map(|t| t["name"].as_str().unwrap()).collect()
}

/// GET with `X-Total-Count: true`: the status, the body and the count header.
async fn counted(app: &TestApp, path: &str, key: &str) -> (StatusCode, Value, Option<u64>) {
    let reply = app
        .client
        .request(Method::GET, format!("{}{path}", app.base))
        .bearer_auth(key)
        .header("X-Total-Count", "true")
        .send()
        .await
        .unwrap();
    let total = reply.headers().get("x-total-count").map(|v| v.to_str().unwrap().parse().unwrap());
    (reply.status(), reply.json().await.unwrap(), total)
}

async fn the_tool_list_answers_queries(backend: Backend) {
    let app = spawn_app(backend).await;
    let fixture = Fixture::register(&app).await;
    let admin = &app.admin_key;

    let reply = app.get(&format!("{TOOLS}?q=name:echo"), admin).await;
    assert_eq!((reply.status, names(&reply.body)), (StatusCode::OK, vec!["echo"]));
    let reply = app.get(&format!("{TOOLS}?q=name:~%5Es%20name:~(ow%7Cet)&sort=name:desc"), admin).await;
    assert_eq!(names(&reply.body), ["slow", "set_tools"], "{}", reply.body);

    let of_fixture = format!("q=server_id:{}", fixture.id);
    let (status, body, total) =
        counted(&app, &format!("{TOOLS}?{of_fixture}&sort=name&pageSize=3&pageNumber=2"), admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&body), ["echo", "fail", "hang"], "the second page of three, by name");
    assert_eq!(total, Some(toolhub_test_support::FIXTURE_TOOLS as u64));
    let reply = app.get(&format!("{TOOLS}?q=name:echo"), admin).await;
    assert!(reply.headers.get("x-total-count").is_none(), "counted only when asked");

    // Field selection keeps the id.
    let reply = app.get(&format!("{TOOLS}?q=name:echo&fields=name,server_name"), admin).await;
    let item = reply.body[0].as_object().unwrap();
    assert_eq!(item.keys().map(String::as_str).collect::<Vec<_>>(), ["id", "name", "server_name"], "{item:?}");

    // The search takes the filter in its body, the rest in the query.
    let reply =
        app.post("/api/v1/toolservers/tools/search?sort=name:desc", admin, json!({"q": "name:(add,pid)"})).await;
    assert_eq!((reply.status, names(&reply.body)), (StatusCode::OK, vec!["pid", "add"]), "{}", reply.body);

    // Bad queries are a 400 that names what is wrong, and change nothing.
    for (query, says) in [
        ("q=colour:red", "unknown field 'colour'"),
        ("q=last_error:~secret", "unknown field 'last_error'"),
        ("q=total_calls:many", "not a whole number"),
        ("q=name:~(%3Fi)echo", "PostgreSQL"),
        ("sort=colour", "unknown field"),
        ("fields=secret", "unknown field 'secret'"),
        ("pageSize=0", "pageSize"),
        ("pageNumber=0", "pageNumber"),
    ] {
        let reply = app.get(&format!("{TOOLS}?{query}"), admin).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}: {}", reply.body);
        assert_eq!(reply.body["code"], "INVALID_QUERY", "{query}: {}", reply.body);
        assert!(reply.body["detail"].as_str().unwrap().contains(says), "{query}: {}", reply.body);
    }

    // The server list takes the same parameters, beside its own.
    app.create_server("remote-b").await;
    app.create_server("remote-a").await;
    let (status, body, total) =
        counted(&app, "/api/v1/toolservers/servers?q=name:~^remote&sort=name&pageSize=1&fields=name", admin).await;
    assert_eq!((status, total), (StatusCode::OK, Some(2)));
    assert_eq!((body.as_array().unwrap().len(), &body[0]["name"]), (1, &json!("remote-a")));
    assert!(body[0].get("description").is_none(), "an optional field not asked for is left out: {body}");
    assert!(body[0]["id"].is_string() && body[0]["transport_type"].is_string(), "fields every server has stay");
    let reply = app
        .post(
            "/api/v1/toolservers/servers/search?include_builtin=false",
            admin,
            json!({"q": "name:(fixture,remote-b)"}),
        )
        .await;
    assert_eq!(names(&reply.body), ["fixture", "remote-b"], "{}", reply.body);
    let reply = app.get("/api/v1/toolservers/servers?q=command:x", admin).await;
    assert_eq!(reply.body["code"], "INVALID_QUERY", "a manager's field is not a query field: {}", reply.body);

    // Grants and rules: administrators' lists, by their API fields.
    let grant = json!({"subject": "group:ops", "server_id": fixture.id, "access_level": "read"});
    assert_eq!(app.post("/api/v1/grants", admin, grant).await.status, StatusCode::CREATED);
    let (status, body, total) =
        counted(&app, &format!("/api/v1/grants?q=subject:~^group:%20server_id:{}&fields=subject", fixture.id), admin)
            .await;
    assert_eq!((status, total), (StatusCode::OK, Some(1)), "{body}");
    assert_eq!(body[0]["subject"], "group:ops");
    let reply = app.post("/api/v1/grants/search?subject=group:ops", admin, json!({"q": "access_level:execute"})).await;
    assert_eq!(reply.body, json!([]), "the list's own filter and q both hold");
    let rule = json!({"role": "user", "tool_pattern": "read_*", "access_level": "read"});
    assert!(app.post("/api/v1/toolservers/role-access", admin, rule).await.status.is_success());
    let reply =
        app.post("/api/v1/toolservers/role-access/search?role=user", admin, json!({"q": "tool_pattern:~^read"})).await;
    assert_eq!(reply.body.as_array().map(Vec::len), Some(1), "{}", reply.body);

    // Toolkits and the call log.
    for name in ["kit-b", "kit-a"] {
        assert_eq!(app.post("/api/v1/toolkits", admin, json!({"name": name})).await.status, StatusCode::CREATED);
    }
    let reply =
        app.post("/api/v1/toolkits/search?sort=name:desc&fields=name", admin, json!({"q": "name:~^kit-"})).await;
    assert_eq!(names(&reply.body), ["kit-b", "kit-a"], "{}", reply.body);
    for message in ["one", "two"] {
        let call = json!({"arguments": {"message": message}});
        let path = format!("/api/v1/toolservers/tools/{}/call", fixture.tool_id("echo").as_str().unwrap());
        assert_eq!(app.post(&path, admin, call).await.status, StatusCode::OK);
    }
    let logged = toolhub_test_support::eventually_async(std::time::Duration::from_secs(5), || async {
        app.get("/api/v1/toolservers/calls?tool=echo", admin).await.body["total"] == 2
    })
    .await;
    assert!(logged, "both calls are in the call log");
    let (status, body, total) =
        counted(&app, "/api/v1/toolservers/calls?q=tool_name:echo%20status:success&pageSize=1&fields=tool_name", admin)
            .await;
    assert_eq!((status, total, &body["total"], &body["limit"]), (StatusCode::OK, Some(2), &json!(2), &json!(1)));
    let item = body["items"][0].as_object().unwrap();
    assert!(item.contains_key("tool_name") && !item.contains_key("correlation_id"), "{item:?}");
    let reply = app.post("/api/v1/toolservers/calls/search", admin, json!({"q": "user_id:nobody"})).await;
    assert_eq!(reply.body["total"], 0, "{}", reply.body);

    // A reader's list is what it may read, counted and paged after its view.
    let reader = app.key("reader", Role::User, "default").await;
    for tool in ["echo", "add", "pid"] {
        let grant = json!({"subject": "user:reader", "tool_id": fixture.tool_id(tool), "access_level": "read"});
        assert_eq!(app.post("/api/v1/grants", admin, grant).await.status, StatusCode::CREATED);
    }
    let (_, body, total) = counted(&app, &format!("{TOOLS}?sort=name&pageSize=2&pageNumber=2"), &reader).await;
    assert_eq!((names(&body), total), (vec!["pid"], Some(3)));
    let (_, body, total) = counted(&app, &format!("{TOOLS}?q=name:~^[a-e]&sort=name"), &reader).await;
    assert_eq!((names(&body), total), (vec!["add", "echo"], Some(2)));
    let reply = app.get("/api/v1/toolservers/calls?q=tool_name:echo", &reader).await;
    assert_eq!(reply.body["total"], 0, "a user's call log holds its own calls only: {}", reply.body);
    let (_, body, total) = counted(&app, "/api/v1/toolkits?q=name:~kit", &reader).await;
    assert_eq!((body, total), (json!([]), Some(0)), "nor may it see the administrator's toolkits");
    let reply = app.get("/api/v1/grants?q=subject:~x", &reader).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "grants are administrators' to list");
    let (_, body, total) = counted(&app, "/api/v1/toolservers/servers?q=name:~^remote", &reader).await;
    assert_eq!((body, total), (json!([]), Some(0)), "the reader may see no remote server");
    app.stop().await;
}
