//! Prometheus metrics: tool calls by server, tool and outcome with latency histograms, upstream
//! restarts and circuit openings, HTTP requests by route and status, and access decisions by outcome.

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};
use toolhub_domain::{calls::CallStatus, ports::Metrics};

pub struct PrometheusMetrics {
    registry: Registry,
    tool_calls: IntCounterVec,
    tool_call_seconds: HistogramVec,
    upstream_restarts: IntCounterVec,
    circuit_opens: IntCounterVec,
    http_requests: IntCounterVec,
    http_request_seconds: HistogramVec,
    access_decisions: IntCounterVec,
}

const LATENCY_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0];

impl PrometheusMetrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("toolhub".into()), None)?;
        let tool_calls = IntCounterVec::new(
            Opts::new("tool_calls_total", "Tool calls by server, tool and outcome"),
            &["server", "tool", "outcome"],
        )?;
        let tool_call_seconds = HistogramVec::new(
            HistogramOpts::new("tool_call_duration_seconds", "Tool call latency, as Toolhub saw it")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["server", "tool"],
        )?;
        let upstream_restarts = IntCounterVec::new(
            Opts::new("upstream_restarts_total", "Reconnections of failed upstream servers"),
            &["server"],
        )?;
        let circuit_opens = IntCounterVec::new(
            Opts::new("circuit_opens_total", "Times a server's circuit opened after repeated failed calls"),
            &["server"],
        )?;
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )?;
        let http_request_seconds = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        let access_decisions = IntCounterVec::new(
            Opts::new("access_decisions_total", "Access decisions of tool calls by outcome"),
            &["outcome"],
        )?;
        for collector in [
            Box::new(tool_calls.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(tool_call_seconds.clone()),
            Box::new(upstream_restarts.clone()),
            Box::new(circuit_opens.clone()),
            Box::new(http_requests.clone()),
            Box::new(http_request_seconds.clone()),
            Box::new(access_decisions.clone()),
        ] {
            registry.register(collector)?;
        }
        Ok(Self {
            registry,
            tool_calls,
            tool_call_seconds,
            upstream_restarts,
            circuit_opens,
            http_requests,
            http_request_seconds,
            access_decisions,
        })
    }

    /// Counts a request. Label values come from fixed sets (methods, route patterns, statuses),
    /// so that nothing a client sends adds a label value: any other method is `other`.
    pub fn http_request(&self, method: &actix_web::http::Method, route: &str, status: u16, seconds: f64) {
        let method = match method.as_str() {
            m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => m,
            _ => "other",
        };
        self.http_requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.http_request_seconds.with_label_values(&[method, route]).observe(seconds);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Metrics for PrometheusMetrics {
    fn tool_call(&self, server: &str, tool: &str, status: CallStatus, seconds: f64) {
        self.tool_calls.with_label_values(&[server, tool, status.as_str()]).inc();
        if matches!(status, CallStatus::Success | CallStatus::ToolError) {
            self.tool_call_seconds.with_label_values(&[server, tool]).observe(seconds);
        }
    }

    fn access_decision(&self, allowed: bool) {
        self.access_decisions.with_label_values(&[if allowed { "allowed" } else { "denied" }]).inc();
    }

    fn upstream_restart(&self, server: &str) {
        self.upstream_restarts.with_label_values(&[server]).inc();
    }

    fn circuit_opened(&self, server: &str) {
        self.circuit_opens.with_label_values(&[server]).inc();
    }
}
