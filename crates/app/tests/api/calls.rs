//! Calling tools through the API: every error code on a real upstream (our fixture), quotas,
//! the call log, usage counters and server metrics, on both databases.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolhub_domain::Role;
use toolhub_test_support as support;

use toolhub_test_support::eventually_some;

use crate::harness::{Backend, TestApp, spawn_app, spawn_app_on};

toolhub_test_support::on_both_databases!(
    calls_answer_every_error_code,
    quotas_logs_and_counters_follow_calls,
    quotas_free_up_as_their_windows_slide,
    an_unhealthy_server_trips_its_circuit_until_a_trial_succeeds
);

const TS: &str = "/api/v1/toolservers";

/// Starts the fixture over stdio and returns (server id, tool name -> id).
async fn fixture(app: &TestApp, timeout: i64) -> (String, std::collections::HashMap<String, String>) {
    let body = json!({
        "name": "fixture", "display_name": "Fixture", "transport_type": "stdio",
        "command": support::fixture_bin().display().to_string(), "timeout": timeout,
    });
    let created = app.post(&format!("{TS}/servers"), &app.admin_key, body).await;
    assert_eq!(created.body["status"], "enabled", "{}", created.body);
    let tools = created.body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t["id"].as_str().unwrap().to_owned()))
        .collect();
    (created.body["id"].as_str().unwrap().to_owned(), tools)
}

async fn call(app: &TestApp, token: &str, tool_id: &str, arguments: Value) -> crate::harness::Reply {
    app.post(&format!("{TS}/tools/{tool_id}/call"), token, json!({"arguments": arguments})).await
}

/// Waits until the batched call log has written `count` records visible to the admin.
async fn logged(app: &TestApp, query: &str, count: i64) -> Value {
    let url = format!("{TS}/calls?{query}");
    let page = eventually_some(Duration::from_secs(5), || async {
        let page = app.get(&url, &app.admin_key).await.body;
        (page["total"] == count).then_some(page)
    })
    .await;
    page.unwrap_or_else(|| panic!("expected {count} calls for {query}"))
}

async fn calls_answer_every_error_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let (server, tools) = fixture(&app, 5).await;
    let admin = app.admin_key.clone();

    let echoed = call(&app, &admin, &tools["echo"], json!({"message": "hi"})).await;
    assert_eq!(echoed.status, StatusCode::OK, "{}", echoed.body);
    assert_eq!(echoed.body["content"][0]["text"], "hi");
    assert!(echoed.body["duration_ms"].as_f64().unwrap() > 0.0);
    let by_name = app
        .post(
            &format!("{TS}/call"),
            &admin,
            json!({"server_name": "fixture", "tool_name": "add", "arguments": {"a": 2, "b": 40}}),
        )
        .await;
    assert_eq!(by_name.body["content"][0]["text"], "42");
    let tool_error = call(&app, &admin, &tools["fail"], json!({"message": "nope"})).await;
    assert_eq!(
        (tool_error.status, tool_error.body["isError"].as_bool()),
        (StatusCode::OK, Some(true)),
        "a tool's error is its result"
    );

    let cases: Vec<(Value, crate::harness::Reply, StatusCode, &str)> = vec![
        (
            json!("unknown id"),
            call(&app, &admin, "01JAAAAAAAAAAAAAAAAAAAAAAA", json!({})).await,
            StatusCode::NOT_FOUND,
            "TOOL_NOT_FOUND",
        ),
        (
            json!("unknown name"),
            app.post(&format!("{TS}/call"), &admin, json!({"server_name": "fixture", "tool_name": "nope"})).await,
            StatusCode::NOT_FOUND,
            "TOOL_NOT_FOUND",
        ),
        (
            json!("bad arguments"),
            call(&app, &admin, &tools["add"], json!({"a": "two"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_ARGS",
        ),
        (
            json!("protocol error"),
            call(&app, &admin, &tools["reject"], json!({})).await,
            StatusCode::BAD_GATEWAY,
            "EXECUTION_ERROR",
        ),
        (
            json!("hang"),
            call(&app, &admin, &tools["hang"], json!({})).await,
            StatusCode::GATEWAY_TIMEOUT,
            "UPSTREAM_TIMEOUT",
        ),
    ];
    for (what, reply, status, code) in cases {
        assert_eq!((reply.status, reply.code()), (status, code), "{what}: {}", reply.body);
    }
    let invalid = call(&app, &admin, &tools["add"], json!({"a": "two"})).await;
    assert_eq!(invalid.body["errors"][0]["field"], "arguments.a", "{}", invalid.body);

    app.post(&format!("{TS}/tools/{}/disable", tools["echo"]), &admin, json!({})).await;
    let disabled = call(&app, &admin, &tools["echo"], json!({"message": "x"})).await;
    assert_eq!((disabled.status, disabled.code()), (StatusCode::CONFLICT, "TOOL_DISABLED"));

    // Readers may not call; others do not see the tool at all.
    let reader = app.key("reader", Role::User, "default").await;
    let stranger = app.key("stranger", Role::User, "default").await;
    app.post("/api/v1/grants", &admin, json!({"subject": "user:reader", "server_id": server, "access_level": "read"}))
        .await;
    let denied = call(&app, &reader, &tools["add"], json!({"a": 1, "b": 2})).await;
    assert_eq!((denied.status, denied.code()), (StatusCode::FORBIDDEN, "ACCESS_DENIED"));
    assert_eq!(call(&app, &stranger, &tools["add"], json!({"a": 1, "b": 2})).await.code(), "TOOL_NOT_FOUND");

    app.post(&format!("{TS}/servers/{server}/stop"), &admin, json!({})).await;
    let stopped = call(&app, &admin, &tools["add"], json!({"a": 1, "b": 2})).await;
    assert_eq!((stopped.status, stopped.code()), (StatusCode::SERVICE_UNAVAILABLE, "UPSTREAM_UNAVAILABLE"));

    // Every call is in the log, refusals included.
    let rejected = logged(&app, "status=rejected", 8).await;
    let codes: Vec<&str> =
        rejected["items"].as_array().unwrap().iter().map(|c| c["error_code"].as_str().unwrap()).collect();
    for code in ["TOOL_NOT_FOUND", "INVALID_ARGS", "TOOL_DISABLED", "ACCESS_DENIED", "UPSTREAM_UNAVAILABLE"] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    let failed = logged(&app, "status=failed", 2).await;
    assert_eq!(failed["items"][0]["error_code"], "UPSTREAM_TIMEOUT", "newest first");
    app.stop().await;
}

async fn quotas_logs_and_counters_follow_calls(backend: Backend) {
    let app = spawn_app(backend).await;
    let (server, tools) = fixture(&app, 20).await;
    let admin = app.admin_key.clone();
    let alice = app.key("alice", Role::User, "default").await;
    let grant = app
        .post(
            &format!("{TS}/permissions"),
            &admin,
            json!({"user_id": "alice", "server_id": server, "access_level": "execute", "rate_limit_per_hour": 4}),
        )
        .await;
    assert_eq!(grant.status, StatusCode::OK, "{}", grant.body);

    // A known sequence: echo three times, fail once.
    let mut remaining = Vec::new();
    for message in ["a", "b", "c"] {
        let reply = call(&app, &alice, &tools["echo"], json!({"message": message, "api_token": "tok-secret"})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        remaining.push(reply.header("x-tool-quota-remaining-hour").unwrap().to_owned());
    }
    assert_eq!(remaining, ["3", "2", "1"]);
    assert_eq!(call(&app, &alice, &tools["fail"], json!({})).await.body["isError"], true);
    let limited = call(&app, &alice, &tools["echo"], json!({"message": "d"})).await;
    assert_eq!((limited.status, limited.code()), (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"));
    assert_eq!(limited.header("x-tool-quota-remaining-hour"), Some("0"));
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600 + quota_slack(backend)).contains(&retry), "{retry}");
    let check = app.post(&format!("{TS}/access-check"), &alice, json!({"user_id": "alice", "tool_name": "echo"})).await;
    assert_eq!(
        (check.body["allowed"].as_bool(), check.body["rate_limit_remaining_hour"].as_i64()),
        (Some(false), Some(0))
    );
    assert_eq!(
        call(&app, &admin, &tools["echo"], json!({"message": "admin"})).await.status,
        StatusCode::OK,
        "quotas are per principal"
    );

    // The log: filters, paging, redaction, the user's own view.
    let alice_calls = logged(&app, "user=alice", 5).await;
    assert_eq!(alice_calls["items"].as_array().unwrap().len(), 5);
    let first = logged(&app, "user=alice&tool=echo&status=success&limit=2&offset=1", 3).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["items"][0]["arguments"]["api_token"], "********", "secrets are redacted");
    assert_eq!(first["items"][0]["arguments"]["message"], "b");
    assert!(first["items"][0]["correlation_id"].is_string());
    logged(&app, "server=fixture&status=tool_error", 1).await;
    logged(&app, "status=rejected", 1).await;
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339().replace('+', "%2B");
    logged(&app, &format!("since={future}"), 0).await;
    let own = app.get(&format!("{TS}/calls"), &alice).await.body;
    assert_eq!(own["total"], 5, "alice sees her own calls only");
    assert_eq!(app.get(&format!("{TS}/calls?user=admin"), &alice).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("{TS}/calls?status=weird"), &admin).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get(&format!("{TS}/calls?limit=0"), &admin).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Counters: echo 4 calls (3 + admin's), fail 1 with its error; the grant counted 4 uses.
    let page = app.get(&format!("{TS}/servers/{server}/tools?limit=100"), &admin).await.body;
    let tool = |name: &str| page["tools"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap().clone();
    assert_eq!((tool("echo")["total_calls"].as_i64(), tool("echo")["total_errors"].as_i64()), (Some(4), Some(0)));
    assert_eq!((tool("fail")["total_calls"].as_i64(), tool("fail")["total_errors"].as_i64()), (Some(1), Some(1)));
    assert!(tool("fail")["last_error"].as_str().unwrap().contains("failed on purpose"));
    assert!(tool("echo")["avg_response_time_ms"].as_f64().unwrap() > 0.0);
    assert!(tool("echo")["last_called"].is_string());
    let permissions = app.get(&format!("{TS}/users/alice/permissions"), &admin).await.body;
    assert_eq!(permissions[0]["usage_count"], 4, "{permissions}");
    assert!(permissions[0]["last_used"].is_string());

    let metrics = app.get(&format!("{TS}/servers/{server}/metrics"), &admin).await.body;
    assert_eq!((metrics["total_calls"].as_i64(), metrics["total_errors"].as_i64()), (Some(5), Some(1)));
    assert_eq!(metrics["success_rate"], 0.8);
    assert_eq!(
        (metrics["total_tools"].as_i64(), metrics["enabled_tools"].as_i64()),
        (Some(support::FIXTURE_TOOLS as i64), Some(support::FIXTURE_TOOLS as i64))
    );
    let uptime = metrics["uptime_percentage"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&uptime) && uptime > 0.5, "{uptime}");
    let fresh = app.post(&format!("{TS}/servers"), &admin, crate::harness::server_body("idle")).await.body;
    let idle = app.get(&format!("{TS}/servers/{}/metrics", fresh["id"].as_str().unwrap()), &admin).await.body;
    assert_eq!(
        (idle["success_rate"].as_f64(), idle["total_calls"].as_i64(), idle["uptime_percentage"].clone()),
        (Some(1.0), Some(0), Value::Null)
    );

    let text =
        app.client.get(format!("{}/metrics", app.base)).bearer_auth(&admin).send().await.unwrap().text().await.unwrap();
    assert!(
        text.contains("toolhub_tool_calls_total{outcome=\"success\",server=\"fixture\",tool=\"echo\"} 4"),
        "{text}"
    );
    assert!(text.contains("toolhub_access_decisions_total{outcome=\"allowed\"}"));
    app.stop().await;
}

/// Quota reset over HTTP, with the application's clock moved by hand.
async fn quotas_free_up_as_their_windows_slide(backend: Backend) {
    let clock = std::sync::Arc::new(toolhub_domain::testing::FixedClock::new(chrono::Utc::now()));
    let app = spawn_app_on(backend, |_| {}, clock.clone()).await;
    let (server, tools) = fixture(&app, 20).await;
    let alice = app.key("alice", Role::User, "default").await;
    let grant = json!({"user_id": "alice", "server_id": server, "access_level": "execute",
        "rate_limit_per_hour": 2, "rate_limit_per_day": 3});
    assert_eq!(app.post(&format!("{TS}/permissions"), &app.admin_key, grant).await.status, StatusCode::OK);
    let echo = || call(&app, &alice, &tools["echo"], json!({"message": "hi"}));
    let refused = |reply: &crate::harness::Reply| {
        assert_eq!((reply.status, reply.code()), (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"), "{}", reply.body);
        reply.header("retry-after").unwrap().parse::<u64>().unwrap()
    };
    let minutes = |m: i64| chrono::Duration::minutes(m);
    let slack = quota_slack(backend);
    let waits =
        |got: u64, exact: u64| assert!((exact..=exact + slack).contains(&got), "Retry-After {got}, {exact} exact");

    assert_eq!(echo().await.status, StatusCode::OK);
    clock.advance(minutes(10));
    assert_eq!(echo().await.status, StatusCode::OK);
    waits(refused(&echo().await), 3600 - 600); // the first call leaves the hour 50 minutes on
    clock.advance(minutes(50) + chrono::Duration::seconds(slack as i64));
    let freed = echo().await;
    assert_eq!(freed.status, StatusCode::OK, "{}", freed.body);
    assert_eq!(
        (freed.header("x-tool-quota-remaining-hour"), freed.header("x-tool-quota-remaining-day")),
        (Some("0"), Some("0"))
    );
    clock.advance(minutes(60));
    // The day is used up until the first call is a day old.
    waits(refused(&echo().await), 24 * 3600 - 120 * 60 - slack);
    clock.advance(minutes(22 * 60) + chrono::Duration::seconds(slack as i64));
    assert_eq!(echo().await.status, StatusCode::OK, "a day after the first call");
}

/// How much later than by its own time a call may leave a quota's window, in seconds: the
/// shared ledger (PostgreSQL) counts calls per minute (docs/operations.md, Replicas).
fn quota_slack(backend: Backend) -> u64 {
    if backend == Backend::Postgres { 60 } else { 0 }
}

/// A timed-out call opens the circuit (threshold 1 here): calls fail fast with 503 and
/// Retry-After until the cool-down ends, then a successful trial closes it.
async fn an_unhealthy_server_trips_its_circuit_until_a_trial_succeeds(backend: Backend) {
    let clock = std::sync::Arc::new(toolhub_domain::testing::FixedClock::new(chrono::Utc::now()));
    let app = spawn_app_on(backend, |serve| serve.upstream.circuit_failures = 1, clock.clone()).await;
    let (_, tools) = fixture(&app, 5).await;
    let admin = app.admin_key.clone();
    let hung = call(&app, &admin, &tools["hang"], json!({})).await;
    assert_eq!(hung.code(), "UPSTREAM_TIMEOUT", "{}", hung.body);

    let refused = call(&app, &admin, &tools["echo"], json!({"message": "hi"})).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::SERVICE_UNAVAILABLE, "UPSTREAM_UNAVAILABLE"));
    assert_eq!(refused.header("retry-after"), Some("30"), "{}", refused.body);
    let metrics = app.get("/metrics", &admin).await.body;
    assert!(metrics.as_str().unwrap().contains(r#"toolhub_circuit_opens_total{server="fixture"} 1"#), "{metrics}");
    clock.advance(chrono::Duration::seconds(29));
    assert_eq!(call(&app, &admin, &tools["echo"], json!({"message": "hi"})).await.header("retry-after"), Some("1"));
    let log = logged(&app, "status=rejected", 2).await;
    assert_eq!(log["items"][0]["error_code"], "UPSTREAM_UNAVAILABLE", "the refusals never reached the server");

    clock.advance(chrono::Duration::seconds(1));
    let trial = call(&app, &admin, &tools["echo"], json!({"message": "trial"})).await;
    assert_eq!((trial.status, &trial.body["content"][0]["text"]), (StatusCode::OK, &json!("trial")));
    assert_eq!(call(&app, &admin, &tools["echo"], json!({"message": "again"})).await.status, StatusCode::OK);
}
