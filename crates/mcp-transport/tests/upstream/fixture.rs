//! Faults, on our own rmcp fixture server.

use std::time::Duration;

use serde_json::json;
use toolhub_domain::{
    server::TransportType,
    upstream::{UpstreamConnector, UpstreamError},
};
use toolhub_test_support as support;

use crate::harness::{Event, Recorder, args, http_server, manager, stdio_server, text};

const CALL: Duration = Duration::from_secs(10);

async fn pid_of(manager: &toolhub_mcp::UpstreamManager, id: &str) -> i32 {
    let outcome = manager.call_tool(id, "pid", None, CALL).await.unwrap();
    text(&outcome.result).parse().unwrap()
}

#[tokio::test]
async fn stdio_server_lists_calls_and_stops_with_its_whole_tree() {
    let manager = manager();
    let server = stdio_server(&support::fixture_bin(), &[], &[]);
    let tools = manager.start(&server, Recorder::allowing(0)).await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"echo") && names.contains(&"set_tools"), "{names:?}");
    assert!(tools[0].input_schema["properties"]["message"].is_object(), "schemas are kept");
    assert!(manager.is_running(&server.id));

    let echoed = manager.call_tool(&server.id, "echo", args(json!({"message": "hi"})), CALL).await.unwrap();
    assert_eq!((text(&echoed.result).as_str(), echoed.is_error), ("hi", false));
    let failed = manager.call_tool(&server.id, "fail", args(json!({"message": "nope"})), CALL).await.unwrap();
    assert!(failed.is_error, "a tool error is a result, not a transport failure");

    let leader = pid_of(&manager, &server.id).await;
    let grandchild: i32 =
        text(&manager.call_tool(&server.id, "spawn_child", None, CALL).await.unwrap().result).parse().unwrap();
    assert!(support::pid_alive(grandchild));
    assert_eq!(support::live_in_group(leader).len(), 2, "server and its child share a process group");

    manager.stop(&server.id).await;
    assert!(!manager.is_running(&server.id));
    assert!(support::live_in_group(leader).is_empty(), "{:?}", support::live_in_group(leader));
    assert!(!support::pid_alive(grandchild), "the grandchild is gone too");
    assert!(support::own_zombies().is_empty(), "no zombie children: {:?}", support::own_zombies());
    assert_eq!(manager.call_tool(&server.id, "echo", None, CALL).await, Err(UpstreamError::NotRunning));
    manager.stop(&server.id).await; // idempotent
}

#[tokio::test]
async fn a_hung_call_hits_its_deadline_and_the_connection_survives() {
    let manager = manager();
    let server = stdio_server(&support::fixture_bin(), &[], &[]);
    manager.start(&server, Recorder::allowing(0)).await.unwrap();
    let hung = manager.call_tool(&server.id, "hang", None, Duration::from_millis(300)).await;
    assert_eq!(hung, Err(UpstreamError::Timeout(Duration::from_millis(300))));
    let slow = manager.call_tool(&server.id, "slow", args(json!({"ms": 50})), CALL).await.unwrap();
    assert_eq!(text(&slow.result), "done", "the shared connection still serves");
    manager.stop(&server.id).await;
}

#[tokio::test]
async fn a_crashed_server_is_reported_and_restarted() {
    let manager = manager();
    let recorder = Recorder::allowing(5);
    let server = stdio_server(&support::fixture_bin(), &[], &[]);
    manager.start(&server, recorder.clone()).await.unwrap();
    let first = pid_of(&manager, &server.id).await;

    // Kill it by hand, as an operator might.
    support::kill_process(first);
    let restarted =
        support::eventually(Duration::from_secs(15), || recorder.count(|e| matches!(e, Event::Reconnected(_))) == 1)
            .await;
    assert!(restarted, "{:?}", recorder.events());
    assert!(
        matches!(&recorder.events()[0], Event::Failed(reason) if reason.contains("closed") || reason.contains("exited")),
        "{:?}",
        recorder.events()
    );
    assert!(support::eventually(Duration::from_secs(5), || manager.is_running(&server.id)).await);
    let second = pid_of(&manager, &server.id).await;
    assert_ne!(first, second, "a new process serves");
    manager.stop(&server.id).await;
    assert!(support::live_in_group(second).is_empty());
}

#[tokio::test]
async fn a_crash_loop_ends_when_the_observer_gives_up() {
    let manager = manager();
    let recorder = Recorder::allowing(2);
    let server = stdio_server(&support::fixture_bin(), &[], &[("FIXTURE_CRASH_AFTER_MS", "150")]);
    manager.start(&server, recorder.clone()).await.unwrap();
    let gave_up = support::eventually(Duration::from_secs(20), || {
        recorder.count(|e| matches!(e, Event::Failed(_))) == 3 && !manager.is_running(&server.id)
    })
    .await;
    assert!(gave_up, "{:?}", recorder.events());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(recorder.count(|e| matches!(e, Event::Failed(_))), 3, "no more attempts after giving up");
    assert!(support::own_zombies().is_empty());
    manager.stop(&server.id).await;
}

#[tokio::test]
async fn a_server_that_exits_at_once_fails_to_start_with_its_stderr() {
    let manager = manager();
    let server = stdio_server(
        &support::fixture_bin(),
        &[],
        &[("FIXTURE_EXIT_ON_START", "2"), ("FIXTURE_STDERR", "fatal: missing API_TOKEN")],
    );
    match manager.start(&server, Recorder::allowing(0)).await {
        Err(UpstreamError::Unavailable(reason)) => assert!(reason.contains("missing API_TOKEN"), "{reason}"),
        other => panic!("expected a start failure, got {other:?}"),
    }
    assert!(!manager.is_running(&server.id));
    let missing = stdio_server(std::path::Path::new("/nonexistent/server"), &[], &[]);
    assert!(matches!(manager.start(&missing, Recorder::allowing(0)).await, Err(UpstreamError::Unavailable(_))));
}

#[tokio::test]
async fn tool_list_changes_are_relayed() {
    let manager = manager();
    let recorder = Recorder::allowing(0);
    let server = stdio_server(&support::fixture_bin(), &[], &[]);
    manager.start(&server, recorder.clone()).await.unwrap();
    manager.call_tool(&server.id, "set_tools", args(json!({"names": ["weather_now"]})), CALL).await.unwrap();
    let relayed = support::eventually(Duration::from_secs(10), || {
        recorder
            .events()
            .iter()
            .any(|e| matches!(e, Event::ToolsChanged(names) if names.contains(&"weather_now".to_string())))
    })
    .await;
    assert!(relayed, "{:?}", recorder.events());
    let listed = manager.list_tools(&server.id, CALL).await.unwrap();
    assert!(listed.iter().any(|t| t.name == "weather_now"));
    manager.stop(&server.id).await;
}

#[tokio::test]
async fn streamable_http_upstreams_share_one_connection() {
    let (_fixture, url) = support::fixture_http();
    let manager = manager();
    let server = http_server(&url, TransportType::Http);
    let tools = manager.start(&server, Recorder::allowing(0)).await.unwrap();
    assert!(tools.iter().any(|t| t.name == "add"));
    let calls = (0..20).map(|i| manager.call_tool(&server.id, "add", args(json!({"a": i, "b": 1})), CALL));
    let results = futures::future::join_all(calls).await;
    for (i, result) in results.into_iter().enumerate() {
        assert_eq!(text(&result.unwrap().result), (i + 1).to_string());
    }
    let pids: std::collections::HashSet<String> =
        futures::future::join_all((0..3).map(|_| manager.call_tool(&server.id, "pid", None, CALL)))
            .await
            .into_iter()
            .map(|r| text(&r.unwrap().result))
            .collect();
    assert_eq!(pids.len(), 1);
    assert_eq!(manager.probe(&server).await.unwrap().len(), tools.len(), "a probe sees the same tools");
    manager.stop(&server.id).await;
}

#[tokio::test]
async fn egress_policy_and_unreachable_servers_refuse_to_connect() {
    let manager = manager();
    let metadata = http_server("http://169.254.169.254/mcp", TransportType::Http);
    assert!(matches!(manager.start(&metadata, Recorder::allowing(0)).await, Err(UpstreamError::Refused(_))));
    let metadata_sse = http_server("http://169.254.169.254/sse", TransportType::Sse);
    assert!(matches!(manager.start(&metadata_sse, Recorder::allowing(0)).await, Err(UpstreamError::Refused(_))));
    let sse = http_server(&format!("http://127.0.0.1:{}/sse", support::free_port()), TransportType::Sse);
    match manager.start(&sse, Recorder::allowing(0)).await {
        Err(UpstreamError::Unavailable(reason)) => assert!(reason.contains("event stream"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let websocket = http_server("http://127.0.0.1:9/ws", TransportType::Websocket);
    match manager.start(&websocket, Recorder::allowing(0)).await {
        Err(UpstreamError::Unavailable(reason)) => assert!(reason.contains("not supported"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let closed_port = http_server(&format!("http://127.0.0.1:{}/mcp", support::free_port()), TransportType::Http);
    assert!(matches!(manager.start(&closed_port, Recorder::allowing(0)).await, Err(UpstreamError::Unavailable(_))));
}

#[tokio::test]
async fn builtin_tools_run_in_process() {
    let manager = manager();
    let mut server = stdio_server(std::path::Path::new(toolhub_domain::builtin::COMMAND), &[], &[]);
    server.is_builtin = true;
    let tools = manager.start(&server, Recorder::allowing(0)).await.unwrap();
    assert_eq!(tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["calculator", "get_time"]);
    let sum = manager.call_tool(&server.id, "calculator", args(json!({"expression": "(2+3)*4"})), CALL).await.unwrap();
    assert_eq!((text(&sum.result).as_str(), sum.is_error), ("20", false));
    let bad = manager.call_tool(&server.id, "calculator", args(json!({"expression": "1/0"})), CALL).await.unwrap();
    assert!(bad.is_error);
    manager.stop(&server.id).await;
    assert!(!manager.is_running(&server.id));
}

#[tokio::test]
async fn progress_reports_reach_the_sink_of_their_call() {
    let manager = manager();
    let server = stdio_server(&support::fixture_bin(), &[], &[]);
    manager.start(&server, Recorder::allowing(0)).await.unwrap();
    let reports = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = {
        let reports = reports.clone();
        std::sync::Arc::new(move |p: toolhub_domain::upstream::Progress| reports.lock().unwrap().push(p.progress))
    };
    let answer =
        manager.call_tool_reporting(&server.id, "progress", args(json!({"steps": 3})), CALL, sink).await.unwrap();
    assert_eq!(text(&answer.result), "3 steps");
    let got = support::eventually(Duration::from_secs(5), || reports.lock().unwrap().len() == 3).await;
    assert!(got, "{:?}", reports.lock().unwrap());
    assert_eq!(*reports.lock().unwrap(), [1.0, 2.0, 3.0]);
    manager.stop(&server.id).await;
}
