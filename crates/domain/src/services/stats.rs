//! Server stats: a server's usage figures from its tools' counters, and the uptime this process
//! observed (the seed's "metrics" endpoint; Prometheus metrics are another thing, see `Metrics`).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crate::{
    Principal, Timestamp, error::DomainResult, ports::Clock, server::ToolServer, services::AccessService,
    tool::ToolStatus,
};

/// Usage figures of a server (the seed's `ToolServerMetrics`; not the Prometheus metrics).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerStats {
    /// The server (as the caller may see it).
    pub server: ToolServer,
    /// Its tools.
    pub total_tools: usize,
    /// Its enabled tools.
    pub enabled_tools: usize,
    /// Calls recorded to its tools.
    pub total_calls: i64,
    /// Of which failed or returned a tool error.
    pub total_errors: i64,
    /// 1.0 with no calls: nothing has failed.
    pub success_rate: f64,
    /// The mean call duration, in milliseconds.
    pub avg_response_time_ms: Option<f64>,
    /// When one of its tools was last called.
    pub last_activity: Option<crate::Timestamp>,
    /// Share (0-1) of the time since this Toolhub first started the server that it was connected.
    pub uptime_percentage: Option<f64>,
}

/// How long a server has been connected since this process first started it.
#[derive(Debug, Clone, Copy, Default)]
struct Uptime {
    since: Option<Timestamp>,
    up_since: Option<Timestamp>,
    up_total: chrono::Duration,
}

impl Uptime {
    fn up(&mut self, now: Timestamp) {
        self.since.get_or_insert(now);
        self.up_since.get_or_insert(now);
    }

    fn down(&mut self, now: Timestamp) {
        if let Some(start) = self.up_since.take() {
            self.up_total += now - start;
        }
    }

    fn ratio(&self, now: Timestamp) -> Option<f64> {
        let since = self.since?;
        let up = self.up_total + self.up_since.map(|s| now - s).unwrap_or_default();
        let total = (now - since).num_milliseconds();
        Some(if total <= 0 { 1.0 } else { (up.num_milliseconds() as f64 / total as f64).clamp(0.0, 1.0) })
    }
}

/// When each server went up and down in this process, for [`ServerStats::uptime_percentage`].
#[derive(Debug, Default)]
pub struct UptimeLog(Mutex<HashMap<String, Uptime>>);

impl UptimeLog {
    fn with(&self, server_id: &str, f: impl FnOnce(&mut Uptime)) {
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(log.entry(server_id.to_owned()).or_default());
    }

    /// The server connected at `now`.
    pub fn up(&self, server_id: &str, now: Timestamp) {
        self.with(server_id, |u| u.up(now));
    }

    /// The server disconnected or failed at `now`.
    pub fn down(&self, server_id: &str, now: Timestamp) {
        self.with(server_id, |u| u.down(now));
    }

    /// The share of the time since the server first came up that it was up.
    pub fn ratio(&self, server_id: &str, now: Timestamp) -> Option<f64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(server_id).and_then(|u| u.ratio(now))
    }
}

/// Computes server stats for whoever may see the server.
pub struct StatsService {
    access: Arc<AccessService>,
    uptime: Arc<UptimeLog>,
    clock: Arc<dyn Clock>,
}

impl StatsService {
    /// Stats of the servers `access` lets a principal see, with the uptime noted in `uptime`.
    pub fn new(access: Arc<AccessService>, uptime: Arc<UptimeLog>, clock: Arc<dyn Clock>) -> Self {
        Self { access, uptime, clock }
    }

    /// Usage figures computed from the tools' counters, and the uptime this process observed.
    pub async fn server_stats(&self, actor: &Principal, id: &str) -> DomainResult<ServerStats> {
        let (server, tools) = self.access.visible_server_and_tools(actor, id).await?;
        let (server, tools) = self.access.shown_to(actor, server, tools);
        let total_calls: i64 = tools.iter().map(|t| t.total_calls).sum();
        let total_errors: i64 = tools.iter().map(|t| t.total_errors).sum();
        let weighted: f64 = tools.iter().filter_map(|t| t.avg_response_time_ms.map(|a| a * t.total_calls as f64)).sum();
        let uptime = self.uptime.ratio(&server.id, self.clock.now());
        Ok(ServerStats {
            total_tools: tools.len(),
            enabled_tools: tools.iter().filter(|t| t.status == ToolStatus::Enabled).count(),
            total_calls,
            total_errors,
            success_rate: if total_calls == 0 { 1.0 } else { (total_calls - total_errors) as f64 / total_calls as f64 },
            avg_response_time_ms: (total_calls > 0).then(|| weighted / total_calls as f64),
            last_activity: tools.iter().filter_map(|t| t.last_called).max(),
            uptime_percentage: uptime,
            server,
        })
    }
}
