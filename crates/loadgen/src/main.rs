//! Bounded load: `connections` workers call one tool in a loop for `seconds`, then report
//! calls per second and latency percentiles.
//!
//! toolhub-loadgen direct  URL TOOL ARGS_JSON CONNECTIONS SECONDS
//!     MCP Streamable HTTP straight to the upstream (one session per worker)
//! toolhub-loadgen toolhub URL TOKEN ARGS_JSON CONNECTIONS SECONDS
//!     POST URL (a Toolhub `/tools/{id}/call`) with a bearer token

use std::time::{Duration, Instant};

use rmcp::{
    ServiceExt,
    model::CallToolRequestParams,
    transport::{StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig},
};
use serde_json::{Map, Value};

fn report(label: &str, mut latencies: Vec<Duration>, errors: usize, elapsed: Duration) {
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{label}: {} calls, {errors} errors, {:.0} calls/s, p50 {:.3} ms, p99 {:.3} ms",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 7 {
        eprintln!(
            "usage: toolhub-loadgen direct URL TOOL ARGS CONNECTIONS SECONDS | toolhub URL TOKEN ARGS CONNECTIONS SECONDS"
        );
        std::process::exit(2);
    }
    let (mode, url, third, arguments) = (&args[1], args[2].clone(), args[3].clone(), args[4].clone());
    let connections: usize = args[5].parse()?;
    let seconds: u64 = args[6].parse()?;
    let arguments: Map<String, Value> = serde_json::from_str(&arguments)?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (mode, url, third, arguments) = (mode.clone(), url.clone(), third.clone(), arguments.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                if mode == "direct" {
                    let transport =
                        StreamableHttpClientTransport::from_config(StreamableHttpClientTransportConfig::with_uri(url));
                    let Ok(client) = ().serve(transport).await else { return (latencies, 1) };
                    while Instant::now() < deadline {
                        let mut params = CallToolRequestParams::new(third.clone());
                        params.arguments = Some(arguments.clone());
                        let t = Instant::now();
                        match client.call_tool(params).await {
                            Ok(_) => latencies.push(t.elapsed()),
                            Err(_) => errors += 1,
                        }
                    }
                    let _ = client.cancel().await;
                } else {
                    let http = reqwest::Client::new();
                    let body = serde_json::json!({"arguments": arguments});
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        match http.post(&url).bearer_auth(&third).json(&body).send().await {
                            Ok(r) if r.status().is_success() => {
                                let _ = r.bytes().await;
                                latencies.push(t.elapsed());
                            }
                            _ => errors += 1,
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in futures::future::join_all(workers).await {
        let (l, e) = worker?;
        latencies.extend(l);
        errors += e;
    }
    report(&format!("{mode} c={connections}"), latencies, errors, started.elapsed());
    Ok(())
}
