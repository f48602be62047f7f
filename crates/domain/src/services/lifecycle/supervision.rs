//! Supervision: what a running server's connection reports, and the failure counting that decides
//! whether it is reconnected (with backoff) or given up (`error`).

use std::time::Duration;

use async_trait::async_trait;

use super::LifecycleService;
use crate::{
    DomainError,
    replica::{Mine, Running},
    server::ServerStatus,
    upstream::{DiscoveredTool, ServerRef, UpstreamNotice, UpstreamObserver},
};

#[async_trait]
impl UpstreamObserver for LifecycleService {
    async fn failed(&self, server: &ServerRef, error: String, ran_for: Duration) -> Option<u32> {
        self.uptime.down(&server.id, self.clock.now());
        let mut stored = self.load_ref(server).await?;
        let mut state = stored.runtime();
        state.consecutive_failures = if ran_for >= self.stable_after { 1 } else { state.consecutive_failures + 1 };
        let give_up = state.consecutive_failures >= stored.max_failures;
        let error = stored.redact_secrets(&error);
        state.status = if give_up { ServerStatus::Error } else { ServerStatus::Starting };
        state.last_startup_error = Some(if give_up {
            format!("failed {} times in a row; last: {error}", state.consecutive_failures)
        } else {
            error
        });
        let failures = state.consecutive_failures.max(1) as u32;
        let mine = Mine::Now(if give_up { Running::Failed } else { Running::Starting });
        if let Err(e) = self.report(&mut stored, state, mine, false).await {
            log_failure(&e);
        }
        (!give_up).then_some(failures)
    }

    async fn reconnected(&self, server: &ServerRef, tools: Vec<DiscoveredTool>) {
        self.uptime.up(&server.id, self.clock.now());
        let Some(mut stored) = self.load_ref(server).await else { return };
        self.metrics.upstream_restart(&stored.name);
        let mut state = stored.runtime();
        state.status = ServerStatus::Enabled;
        state.last_startup_success = Some(self.clock.now());
        state.last_startup_error = None;
        let result = async {
            self.report(&mut stored, state, Mine::Now(Running::Running), false).await?;
            self.sync_tools(&stored, &tools, "restart").await
        };
        if let Err(e) = result.await {
            log_failure(&e);
        }
    }

    async fn tools_changed(&self, server: &ServerRef, tools: Vec<DiscoveredTool>) {
        if let Some(stored) = self.load_ref(server).await
            && let Err(e) = self.sync_tools(&stored, &tools, "list_changed").await
        {
            log_failure(&e);
        }
    }

    async fn notice(&self, server: &ServerRef, notice: UpstreamNotice) {
        self.notices.publish(server, &notice);
    }
}

fn log_failure(error: &DomainError) {
    tracing::error!(%error, "supervision could not record a state change");
}
