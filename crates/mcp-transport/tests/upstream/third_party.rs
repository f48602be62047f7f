//! Published MCP servers: npm `@modelcontextprotocol/server-everything` (stdio, Streamable HTTP
//! and the legacy HTTP+SSE transport) and PyPI `mcp-server-time` (stdio).

use std::time::Duration;

use serde_json::json;
use toolhub_domain::{server::TransportType, upstream::UpstreamConnector};
use toolhub_test_support as support;

use crate::harness::{Recorder, args, http_server, manager, stdio_server, text};

const CALL: Duration = Duration::from_secs(20);

#[tokio::test]
async fn server_everything_over_stdio() {
    let manager = manager();
    let server = stdio_server(&support::everything_bin(), &["stdio"], &[]);
    let tools = manager.start(&server, Recorder::allowing(0)).await.unwrap();
    assert_eq!(tools.len(), 13, "{:?}", tools.iter().map(|t| &t.name).collect::<Vec<_>>());
    let echoed = manager.call_tool(&server.id, "echo", args(json!({"message": "hello"})), CALL).await.unwrap();
    assert!(text(&echoed.result).contains("hello"), "{}", echoed.result);
    manager.stop(&server.id).await;
}

#[tokio::test]
async fn server_everything_over_streamable_http() {
    let port = support::free_port();
    let _node = support::spawn(&support::everything_bin(), &["streamableHttp"], &[("PORT", &port.to_string())]);
    assert!(support::wait_for_port(port, Duration::from_secs(30)).await, "server-everything listens");
    let manager = manager();
    let server = http_server(&format!("http://127.0.0.1:{port}/mcp"), TransportType::Http);
    let tools = manager.start(&server, Recorder::allowing(0)).await.unwrap();
    assert_eq!(tools.len(), 13);
    let sum = manager.call_tool(&server.id, "get-sum", args(json!({"a": 2, "b": 40})), CALL).await.unwrap();
    assert!(text(&sum.result).contains("42"), "{}", sum.result);
    manager.stop(&server.id).await;
}

#[tokio::test]
async fn server_everything_over_legacy_sse() {
    let port = support::free_port();
    let _node = support::spawn(&support::everything_bin(), &["sse"], &[("PORT", &port.to_string())]);
    assert!(support::wait_for_port(port, Duration::from_secs(30)).await, "server-everything listens");
    let manager = manager();
    let server = http_server(&format!("http://127.0.0.1:{port}/sse"), TransportType::Sse);
    let tools = manager.start(&server, Recorder::allowing(0)).await.unwrap();
    assert_eq!(tools.len(), 13);
    // Concurrent calls: each answer comes back on the one event stream, to its own request.
    let calls = (0..8).map(|i| {
        let manager = &manager;
        let id = server.id.clone();
        async move { manager.call_tool(&id, "get-sum", args(json!({"a": i, "b": 40})), CALL).await.unwrap() }
    });
    let answers = futures::future::join_all(calls).await;
    for (i, answer) in answers.iter().enumerate() {
        assert!(text(&answer.result).contains(&(i + 40).to_string()), "{}", answer.result);
    }
    manager.stop(&server.id).await;
}

#[tokio::test]
async fn mcp_server_time_over_stdio() {
    let manager = manager();
    let python = support::time_server_python();
    let server = stdio_server(&python, &["-m", "mcp_server_time", "--local-timezone", "UTC"], &[]);
    let tools = manager.start(&server, Recorder::allowing(0)).await.unwrap();
    assert!(tools.iter().any(|t| t.name == "get_current_time"), "{tools:?}");
    let now = manager.call_tool(&server.id, "get_current_time", args(json!({"timezone": "UTC"})), CALL).await.unwrap();
    assert!(!now.is_error && text(&now.result).contains("UTC"), "{}", now.result);
    manager.stop(&server.id).await;
}
