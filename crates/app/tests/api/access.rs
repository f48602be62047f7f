//! Permissions, role rules, grants, users and the access check through the API, against the
//! built-in server's tools (calculator, get_time), on both databases.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolhub_domain::Role;

use crate::harness::{Backend, TestApp, spawn_app};

toolhub_test_support::on_both_databases!(
    permissions_follow_the_seed_with_correct_errors,
    the_access_check_explains_tiers_expiry_and_quota,
    role_rules_and_groups_decide_and_filter_listings,
    users_are_managed_by_administrators,
);

const TS: &str = "/api/v1/toolservers";

/// The built-in server and its tools' ids, once its background start has discovered them.
async fn builtin(app: &TestApp) -> (String, String, String) {
    let found = toolhub_test_support::eventually_some(Duration::from_secs(5), || async {
        let servers = app.get(&format!("{TS}/servers?status=enabled"), &app.admin_key).await.body;
        let server = servers.as_array()?.iter().find(|s| s["name"] == "builtin_tools")?.clone();
        let tools = server["tools"].as_array()?;
        let id = |name: &str| tools.iter().find(|t| t["name"] == name).map(|t| t["id"].as_str().unwrap().to_owned());
        Some((server["id"].as_str()?.to_owned(), id("calculator")?, id("get_time")?))
    })
    .await;
    found.expect("the built-in server did not start")
}

async fn check(app: &TestApp, token: &str, user: &str, tool: &str) -> Value {
    let reply = app.post(&format!("{TS}/access-check"), token, json!({"user_id": user, "tool_name": tool})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

async fn permissions_follow_the_seed_with_correct_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let (server, calc, _) = builtin(&app).await;
    let body = json!({"user_id": "alice", "tool_id": calc, "access_level": "execute", "rate_limit_per_hour": 5, "allowed_days": [0, 1, 2, 3, 4, 5, 6]});
    let granted = app.post(&format!("{TS}/permissions"), &app.admin_key, body.clone()).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    for (field, expected) in [
        ("user_id", json!("alice")),
        ("tool_id", json!(calc)),
        ("server_id", Value::Null),
        ("access_level", json!("execute")),
        ("granted_by", json!("admin")),
        ("usage_count", json!(0)),
        ("rate_limit_per_hour", json!(5)),
    ] {
        assert_eq!(granted.body[field], expected, "{field}");
    }
    let id = granted.body["id"].as_str().unwrap().to_owned();

    let duplicate = app.post(&format!("{TS}/permissions"), &app.admin_key, body).await;
    assert_eq!((duplicate.status, duplicate.code()), (StatusCode::CONFLICT, "CONFLICT"));
    for (bad, field) in [
        (json!({"user_id": "alice", "access_level": "read"}), "tool_id"),
        (json!({"user_id": "alice", "tool_id": calc, "server_id": server, "access_level": "read"}), "tool_id"),
        (json!({"user_id": "alice", "server_id": server, "access_level": "sudo"}), "access_level"),
        (
            json!({"user_id": "alice", "server_id": server, "access_level": "read", "rate_limit_per_hour": 0}),
            "rate_limit_per_hour",
        ),
        (
            json!({"user_id": "alice", "server_id": server, "access_level": "read", "allowed_hours": [24]}),
            "allowed_hours",
        ),
        (
            json!({"user_id": "alice", "server_id": server, "access_level": "read", "allowed_days": [-1]}),
            "allowed_days",
        ),
        (json!({"user_id": "", "server_id": server, "access_level": "read"}), "user_id"),
    ] {
        let reply = app.post(&format!("{TS}/permissions"), &app.admin_key, bad.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let named = reply.body["errors"][0]["field"].as_str().unwrap_or_default();
        assert!(named == field || named.starts_with(&format!("{field}[")), "{bad}: {}", reply.body);
    }
    let unknown = app
        .post(
            &format!("{TS}/permissions"),
            &app.admin_key,
            json!({"user_id": "a", "tool_id": "01JAAAAAAAAAAAAAAAAAAAAAAA", "access_level": "read"}),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "TOOL_NOT_FOUND"));
    let unknown = app
        .post(
            &format!("{TS}/permissions"),
            &app.admin_key,
            json!({"user_id": "a", "server_id": "nope", "access_level": "read"}),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "SERVER_NOT_FOUND"));

    let updated = app
        .put(
            &format!("{TS}/permissions/{id}"),
            &app.admin_key,
            json!({"access_level": "read", "rate_limit_per_hour": null}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(
        (updated.body["access_level"].as_str(), updated.body["rate_limit_per_hour"].clone()),
        (Some("read"), Value::Null)
    );
    assert_eq!(
        app.put(&format!("{TS}/permissions/missing"), &app.admin_key, json!({"access_level": "read"})).await.status,
        StatusCode::NOT_FOUND
    );

    let alice = app.key("alice", Role::User, "default").await;
    let bob = app.key("bob", Role::User, "default").await;
    let own = app.get(&format!("{TS}/users/alice/permissions"), &alice).await;
    assert_eq!((own.status, own.body.as_array().unwrap().len()), (StatusCode::OK, 1));
    assert_eq!(app.get(&format!("{TS}/users/alice/permissions"), &bob).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&format!("{TS}/users/alice/permissions"), &app.admin_key).await.body.as_array().unwrap().len(),
        1
    );
    assert!(
        app.get(&format!("{TS}/users/nobody/permissions"), &app.admin_key).await.body.as_array().unwrap().is_empty()
    );
    let by_user = app
        .post(
            &format!("{TS}/permissions"),
            &alice,
            json!({"user_id": "alice", "server_id": server, "access_level": "admin"}),
        )
        .await;
    assert_eq!(by_user.status, StatusCode::FORBIDDEN, "users cannot grant themselves");

    let revoked = app.delete(&format!("{TS}/permissions/{id}"), &app.admin_key).await;
    assert_eq!(revoked.body, json!({"message": "Permission revoked successfully"}));
    assert_eq!(app.delete(&format!("{TS}/permissions/{id}"), &app.admin_key).await.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn the_access_check_explains_tiers_expiry_and_quota(backend: Backend) {
    let app = spawn_app(backend).await;
    let (server, calc, _) = builtin(&app).await;
    let alice = app.key("alice", Role::User, "default").await;

    let none = check(&app, &alice, "alice", "calculator").await;
    assert_eq!(
        (none["allowed"].as_bool(), none["access_level"].as_str(), none["decided_by"].as_str()),
        (Some(false), Some("none"), Some("none"))
    );
    assert!(none["restriction_reason"].as_str().unwrap().contains("no grant"));

    // A server grant for alice's group, then a tool grant for alice herself that wins.
    let admin = &app.admin_key;
    app.put("/api/v1/users/alice", admin, json!({"groups": ["math"]})).await;
    let group = app
        .post("/api/v1/grants", admin, json!({"subject": "group:math", "server_id": server, "access_level": "read"}))
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    let read = check(&app, &alice, "alice", "calculator").await;
    assert_eq!(
        (read["allowed"].as_bool(), read["access_level"].as_str(), read["decided_by_id"].as_str()),
        (Some(false), Some("read"), group.body["id"].as_str()),
        "read is not execute: {read}"
    );

    let soon = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let personal = app
        .post(&format!("{TS}/permissions"), admin, json!({"user_id": "alice", "tool_id": calc, "access_level": "execute", "rate_limit_per_hour": 3, "rate_limit_per_day": 10, "expires_at": soon}))
        .await;
    let allowed = check(&app, &alice, "alice", "calculator").await;
    assert_eq!(
        (allowed["allowed"].as_bool(), allowed["decided_by"].as_str()),
        (Some(true), Some("grant")),
        "{allowed}"
    );
    assert_eq!(
        (allowed["rate_limit_remaining_hour"].as_i64(), allowed["rate_limit_remaining_day"].as_i64()),
        (Some(3), Some(10))
    );
    assert!(allowed["expires_at"].is_string());
    let again = check(&app, &alice, "alice", "calculator").await;
    assert_eq!(again["rate_limit_remaining_hour"], 3, "checking uses no quota");

    // Expired: falls through to the group grant.
    let past = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339();
    let pid = personal.body["id"].as_str().unwrap();
    app.put(&format!("{TS}/permissions/{pid}"), admin, json!({"expires_at": past})).await;
    let fallen = check(&app, &alice, "alice", "calculator").await;
    assert_eq!((fallen["allowed"].as_bool(), fallen["access_level"].as_str()), (Some(false), Some("read")));
    assert!(
        fallen["explanation"].as_array().unwrap().iter().any(|e| e.as_str().unwrap().contains("expired")),
        "{fallen}"
    );

    // An explicit none for the user denies even with the group's access.
    app.put(&format!("{TS}/permissions/{pid}"), admin, json!({"expires_at": null, "access_level": "none"})).await;
    let denied = check(&app, &alice, "alice", "calculator").await;
    assert_eq!(
        (denied["allowed"].as_bool(), denied["restriction_reason"].as_str()),
        (Some(false), Some("access is explicitly denied"))
    );

    // Who may check whom; unknown tools are 404.
    let bob = app.key("bob", Role::User, "default").await;
    let other =
        app.post(&format!("{TS}/access-check"), &bob, json!({"user_id": "alice", "tool_name": "calculator"})).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert_eq!(check(&app, admin, "alice", "calculator").await["allowed"], false, "admins check anyone");
    assert_eq!(check(&app, admin, "admin", "calculator").await["decided_by"], "admin");
    let missing =
        app.post(&format!("{TS}/access-check"), admin, json!({"user_id": "alice", "tool_name": "nope"})).await;
    assert_eq!((missing.status, missing.code()), (StatusCode::NOT_FOUND, "TOOL_NOT_FOUND"));
    let wrong_server = app
        .post(
            &format!("{TS}/access-check"),
            admin,
            json!({"user_id": "alice", "tool_name": "calculator", "server_name": "other"}),
        )
        .await;
    assert_eq!(wrong_server.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn role_rules_and_groups_decide_and_filter_listings(backend: Backend) {
    let app = spawn_app(backend).await;
    let (server, _, _) = builtin(&app).await;
    let admin = &app.admin_key;
    let carol = app.key("carol", Role::PowerUser, "default").await;
    assert!(app.get(&format!("{TS}/tools/all"), &carol).await.body.as_array().unwrap().is_empty());

    let rule = app.post(&format!("{TS}/role-access"), admin, json!({"role": "power_user", "tool_pattern": "calc*", "server_pattern": "builtin_*", "access_level": "execute"})).await;
    assert_eq!(rule.status, StatusCode::OK, "{}", rule.body);
    assert_eq!((rule.body["role"].as_str(), rule.body["created_by"].as_str()), (Some("power_user"), Some("admin")));
    let dup = app.post(&format!("{TS}/role-access"), admin, json!({"role": "power_user", "tool_pattern": "calc*", "server_pattern": "builtin_*", "access_level": "read"})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(
        app.post(&format!("{TS}/role-access"), admin, json!({"role": "root", "access_level": "read"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let decided = check(&app, &carol, "carol", "calculator").await;
    assert_eq!((decided["allowed"].as_bool(), decided["decided_by"].as_str()), (Some(true), Some("role_rule")));
    assert_eq!(check(&app, &carol, "carol", "get_time").await["allowed"], false, "the pattern does not match get_time");

    // Listings show carol only what she may read.
    let all = app.get(&format!("{TS}/tools/all"), &carol).await.body;
    assert_eq!(all.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect::<Vec<_>>(), ["calculator"]);
    let servers = app.get(&format!("{TS}/servers"), &carol).await.body;
    assert_eq!(servers.as_array().unwrap().len(), 1);
    assert_eq!(servers[0]["tools"].as_array().unwrap().len(), 1, "only readable tools");
    let page = app.get(&format!("{TS}/servers/{server}/tools"), &carol).await.body;
    assert_eq!(page["total_count"], 1);

    let listed = app.get(&format!("{TS}/role-access?role=power_user"), admin).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(app.get(&format!("{TS}/role-access?role=user"), admin).await.body.as_array().unwrap().is_empty());
    assert_eq!(app.get(&format!("{TS}/role-access?role=root"), admin).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get(&format!("{TS}/role-access"), &carol).await.status, StatusCode::FORBIDDEN);

    let rule_id = rule.body["id"].as_str().unwrap();
    let changed = app
        .put(
            &format!("{TS}/role-access/{rule_id}"),
            admin,
            json!({"role": "power_user", "tool_pattern": "*", "access_level": "read"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(check(&app, &carol, "carol", "get_time").await["access_level"], "read");
    assert_eq!(app.delete(&format!("{TS}/role-access/{rule_id}"), admin).await.status, StatusCode::OK);
    assert_eq!(app.delete(&format!("{TS}/role-access/{rule_id}"), admin).await.status, StatusCode::NOT_FOUND);
    assert_eq!(check(&app, &carol, "carol", "calculator").await["allowed"], false);

    // Public and group grants through /api/v1/grants.
    let public =
        app.post("/api/v1/grants", admin, json!({"subject": "*", "server_id": server, "access_level": "read"})).await;
    assert_eq!(public.status, StatusCode::CREATED);
    assert_eq!(check(&app, &carol, "carol", "get_time").await["decided_by_id"], public.body["id"]);
    let bad_subject = app
        .post("/api/v1/grants", admin, json!({"subject": "team:x", "server_id": server, "access_level": "read"}))
        .await;
    assert_eq!(bad_subject.status, StatusCode::UNPROCESSABLE_ENTITY);
    let listed = app.get("/api/v1/grants?subject=*", admin).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let gid = public.body["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/v1/grants/{gid}"), admin).await.status, StatusCode::OK);
    assert_eq!(app.delete(&format!("/api/v1/grants/{gid}"), admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/grants/{gid}"), admin).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/grants", &carol).await.status, StatusCode::FORBIDDEN);
    app.stop().await;
}

async fn users_are_managed_by_administrators(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = &app.admin_key;
    let dave = app.key("dave", Role::User, "default").await;
    let me = app.get("/api/v1/users/dave", &dave).await;
    assert_eq!((me.status, me.body["role"].as_str()), (StatusCode::OK, Some("user")));
    assert_eq!(app.get("/api/v1/users/admin", &dave).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/users", &dave).await.status, StatusCode::FORBIDDEN);
    let all = app.get("/api/v1/users", admin).await.body;
    let ids: Vec<&str> = all.as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["admin", "dave"]);

    // Promote dave: his next request is an admin's.
    let promoted =
        app.put("/api/v1/users/dave", admin, json!({"role": "admin", "groups": ["ops"], "display_name": "Dave"})).await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);
    assert_eq!(
        (promoted.body["groups"][0].as_str(), promoted.body["display_name"].as_str()),
        (Some("ops"), Some("Dave"))
    );
    assert_eq!(
        app.post(&format!("{TS}/servers"), &dave, crate::harness::server_body("by-dave")).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.put("/api/v1/users/dave", &dave, json!({"role": "super_admin"})).await.status,
        StatusCode::FORBIDDEN,
        "admins cannot make super admins"
    );

    // Disable him: his key stops working.
    app.put("/api/v1/users/dave", admin, json!({"disabled": true})).await;
    assert_eq!(app.get("/api/v1/users/dave", &dave).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.put("/api/v1/users/nobody", admin, json!({"disabled": true})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.put("/api/v1/users/dave", admin, json!({"groups": [""]})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    app.stop().await;
}
