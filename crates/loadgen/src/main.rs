//! Bounded load: `connections` workers call one tool for `seconds`, then report calls per second
//! and latency percentiles.
//!
//! toolhub-loadgen direct  URL TOOL ARGS_JSON CONNECTIONS SECONDS [RATE]
//!     MCP Streamable HTTP straight to the upstream (one session per worker); with
//!     `LOADGEN_TOKEN` set, sent as a bearer token (Toolhub's MCP gateway)
//! toolhub-loadgen list    URL TOKEN COUNT
//!     `tools/list` (every page) COUNT times in one MCP session, one after the other
//! toolhub-loadgen toolhub URL TOKEN ARGS_JSON CONNECTIONS SECONDS [RATE]
//!     POST URL (a Toolhub `/tools/{id}/call`) with a bearer token
//!
//! Without RATE every worker calls again as soon as its answer arrives (closed loop: the figures
//! show the capacity, and latency grows with queueing once the cores are busy). With RATE the
//! workers together start RATE calls per second on a fixed schedule (open loop), and each latency
//! is measured from the moment its call was due, so a stall is counted, not hidden.

use std::time::{Duration, Instant};

use rmcp::{
    RoleClient, ServiceExt,
    model::CallToolRequestParams,
    service::RunningService,
    transport::{StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig},
};
use serde_json::{Map, Value};

struct Load {
    direct: bool,
    url: String,
    /// The tool name (direct) or the bearer token (toolhub).
    third: String,
    arguments: Map<String, Value>,
    connections: usize,
    seconds: u64,
    /// Calls per second for all workers together; None: as fast as answers come.
    rate: Option<f64>,
}

fn parse() -> Result<Load, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if !(7..=8).contains(&args.len()) || !["direct", "toolhub"].contains(&args[1].as_str()) {
        return Err("usage: toolhub-loadgen direct URL TOOL ARGS CONNECTIONS SECONDS [RATE] \
                    | toolhub URL TOKEN ARGS CONNECTIONS SECONDS [RATE]"
            .into());
    }
    let rate = args.get(7).map(|r| r.parse::<f64>()).transpose()?.filter(|r| *r > 0.0);
    Ok(Load {
        direct: args[1] == "direct",
        url: args[2].clone(),
        third: args[3].clone(),
        arguments: serde_json::from_str(&args[4])?,
        connections: args[5].parse()?,
        seconds: args[6].parse()?,
        rate,
    })
}

/// One worker's way of making a call.
enum Caller {
    Direct(RunningService<RoleClient, ()>),
    Toolhub(reqwest::Client),
}

impl Caller {
    async fn connect(load: &Load) -> Option<Self> {
        if load.direct {
            // A kept-alive connection, as Toolhub's own upstream client (rmcp's default opens one
            // per request).
            let mut config = StreamableHttpClientTransportConfig::with_uri(load.url.clone());
            if let Ok(token) = std::env::var("LOADGEN_TOKEN") {
                config = config.auth_header(token);
            }
            let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
            Some(Self::Direct(().serve(transport).await.ok()?))
        } else {
            Some(Self::Toolhub(reqwest::Client::new()))
        }
    }

    /// Makes one call; true when it succeeded.
    async fn call(&self, load: &Load, body: &Value) -> bool {
        match self {
            Self::Direct(client) => {
                let mut params = CallToolRequestParams::new(load.third.clone());
                params.arguments = Some(load.arguments.clone());
                client.call_tool(params).await.is_ok()
            }
            Self::Toolhub(http) => match http.post(&load.url).bearer_auth(&load.third).json(body).send().await {
                Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                _ => false,
            },
        }
    }
}

/// Connects, waits for every other worker, then calls until the deadline. Returns when it
/// started calling, the latencies of its successful calls and its error count.
async fn worker(load: &Load, index: usize, ready: &tokio::sync::Barrier) -> (Instant, Vec<Duration>, usize) {
    let caller = Caller::connect(load).await;
    ready.wait().await;
    let started = Instant::now();
    let Some(caller) = caller else { return (started, Vec::new(), 1) };
    let (mut latencies, mut errors) = (Vec::new(), 0usize);
    let body = serde_json::json!({"arguments": load.arguments});
    let deadline = started + Duration::from_secs(load.seconds);
    // On a schedule, worker i makes its first call at i/rate, then one every connections/rate.
    let interval = load.rate.map(|rate| Duration::from_secs_f64(load.connections as f64 / rate));
    let mut next = started + load.rate.map_or(Duration::ZERO, |rate| Duration::from_secs_f64(index as f64 / rate));
    loop {
        let due = match interval {
            Some(interval) => {
                let due = next;
                next += interval;
                tokio::time::sleep_until(due.into()).await;
                due
            }
            None => Instant::now(),
        };
        if due >= deadline {
            break;
        }
        if caller.call(load, &body).await {
            latencies.push(due.elapsed());
        } else {
            errors += 1;
        }
    }
    if let Caller::Direct(client) = caller {
        let _ = client.cancel().await;
    }
    (started, latencies, errors)
}

fn report(load: &Load, mut latencies: Vec<Duration>, errors: usize, elapsed: Duration) {
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let mode = if load.direct { "direct" } else { "toolhub" };
    let pace = load.rate.map(|r| format!(" at {r:.0}/s")).unwrap_or_default();
    println!(
        "{mode} c={}{pace}: {} calls, {errors} errors, {:.0} calls/s, p50 {:.3} ms, p99 {:.3} ms",
        load.connections,
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
}

/// `list URL TOKEN COUNT`: the latency of whole `tools/list` answers.
async fn list(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let (url, token, count) = (&args[2], &args[3], args[4].parse::<usize>()?);
    let config = StreamableHttpClientTransportConfig::with_uri(url.clone()).auth_header(token.clone());
    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
    let client = ().serve(transport).await?;
    let mut latencies = Vec::with_capacity(count);
    let mut tools = 0;
    for _ in 0..count {
        let started = Instant::now();
        tools = client.list_all_tools().await?.len();
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let pct =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64() * 1000.0;
    println!("tools/list of {tools} tools, {count} times: p50 {:.3} ms, p99 {:.3} ms", pct(0.5), pct(0.99));
    let _ = client.cancel().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 5 && args[1] == "list" {
        return list(&args).await;
    }
    let load: &'static Load = Box::leak(Box::new(parse()?));
    let ready: &'static tokio::sync::Barrier = Box::leak(Box::new(tokio::sync::Barrier::new(load.connections)));
    let workers: Vec<_> =
        (0..load.connections).map(|index| tokio::spawn(async move { worker(load, index, ready).await })).collect();
    let (mut latencies, mut errors, mut started) = (Vec::new(), 0, None::<Instant>);
    for worker in futures::future::join_all(workers).await {
        let (start, l, e) = worker?;
        started = Some(started.map_or(start, |s| s.min(start)));
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.map(|s| s.elapsed()).unwrap_or_default();
    report(load, latencies, errors, elapsed);
    Ok(())
}
