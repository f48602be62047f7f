use std::{
    collections::BTreeMap,
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use toolhub_domain::{
    new_id,
    server::{NewToolServer, ToolServer, TransportType},
    upstream::{DiscoveredTool, ServerRef, UpstreamObserver},
};
use toolhub_mcp::{Settings, UpstreamManager};

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Failed(String),
    Reconnected(Vec<String>),
    ToolsChanged(Vec<String>),
}

/// Records what supervision reports and allows a set number of reconnections.
pub struct Recorder {
    pub events: Mutex<Vec<Event>>,
    retries_left: AtomicUsize,
}

impl Recorder {
    pub fn allowing(retries: usize) -> Arc<Self> {
        Arc::new(Self { events: Mutex::new(Vec::new()), retries_left: AtomicUsize::new(retries) })
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    pub fn count(&self, matches: impl Fn(&Event) -> bool) -> usize {
        self.events().iter().filter(|e| matches(e)).count()
    }
}

fn names(tools: &[DiscoveredTool]) -> Vec<String> {
    tools.iter().map(|t| t.name.clone()).collect()
}

#[async_trait]
impl UpstreamObserver for Recorder {
    async fn failed(&self, _server: &ServerRef, error: String, _ran_for: Duration) -> Option<u32> {
        self.events.lock().unwrap().push(Event::Failed(error));
        let retry = self.retries_left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        retry.then_some(1)
    }

    async fn reconnected(&self, _server: &ServerRef, tools: Vec<DiscoveredTool>) {
        self.events.lock().unwrap().push(Event::Reconnected(names(&tools)));
    }

    async fn tools_changed(&self, _server: &ServerRef, tools: Vec<DiscoveredTool>) {
        self.events.lock().unwrap().push(Event::ToolsChanged(names(&tools)));
    }
}

pub fn manager() -> UpstreamManager {
    UpstreamManager::new(Settings {
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        ..Settings::default()
    })
}

pub fn stdio_server(program: &Path, args: &[&str], env: &[(&str, &str)]) -> ToolServer {
    let input = NewToolServer {
        name: format!("s-{}", new_id().to_lowercase()),
        display_name: "Test server".into(),
        transport_type: Some(TransportType::Stdio),
        command: Some(program.display().to_string()),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
        timeout: Some(20),
        ..Default::default()
    };
    ToolServer::register(input, new_id(), "default".into(), None, chrono::Utc::now()).unwrap()
}

pub fn http_server(url: &str, transport: TransportType) -> ToolServer {
    let input = NewToolServer {
        name: format!("h-{}", new_id().to_lowercase()),
        display_name: "Test server".into(),
        transport_type: Some(transport),
        base_url: Some(url.to_owned()),
        timeout: Some(20),
        ..Default::default()
    };
    ToolServer::register(input, new_id(), "default".into(), None, chrono::Utc::now()).unwrap()
}

/// The text of the first content block of a tool result.
pub fn text(result: &serde_json::Value) -> String {
    result["content"][0]["text"].as_str().unwrap_or_default().to_owned()
}

pub fn args(value: serde_json::Value) -> Option<serde_json::Map<String, serde_json::Value>> {
    value.as_object().cloned()
}
