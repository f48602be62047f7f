//! Replicas sharing one database (docs/operations.md, Replicas). A server's stored status is
//! shared: what the operator asked for (`disabled` when stopped) combined with what the live
//! replicas report of their own connections to it. Each replica keeps a runtime record per
//! server it runs and heartbeats; a replica not heard from for [`Liveness::expiry`] is dead,
//! its records are removed and no longer count.

use std::time::Duration;

use crate::{Timestamp, server::ServerStatus};

crate::wire_enum! {
    /// One replica's own connection to a server.
    Running {
        /// Connecting, or reconnecting after a failure.
        Starting = "starting",
        /// Connected; calls through this replica reach the server.
        Running = "running",
        /// Given up after failures (or a start that failed).
        Failed = "failed",
    }
}

impl Running {
    /// What this replica alone would make the server's status.
    pub fn of(status: ServerStatus) -> Option<Self> {
        match status {
            ServerStatus::Starting => Some(Self::Starting),
            ServerStatus::Enabled => Some(Self::Running),
            ServerStatus::Error => Some(Self::Failed),
            ServerStatus::Stopping | ServerStatus::Disabled => None,
        }
    }

    fn status(self) -> ServerStatus {
        match self {
            Self::Starting => ServerStatus::Starting,
            Self::Running => ServerStatus::Enabled,
            Self::Failed => ServerStatus::Error,
        }
    }
}

/// The status of a server the operator wants running, from its live replicas' states: `enabled`
/// while any replica runs it, else `starting` while any is starting it, else `error` (every
/// live replica failed). `None` without live states.
pub fn combined(states: impl IntoIterator<Item = Running>) -> Option<ServerStatus> {
    let rank = |state: &Running| match state {
        Running::Running => 2,
        Running::Starting => 1,
        Running::Failed => 0,
    };
    states.into_iter().max_by_key(rank).map(Running::status)
}

/// Whether the server's status says the operator wants it running (a stop writes `stopping`
/// then `disabled`).
pub fn wanted_running(status: ServerStatus) -> bool {
    Running::of(status).is_some()
}

/// What a replica reports about its own connection to a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mine {
    /// Nothing changed (a health check's timestamp).
    Same,
    /// Its connection is now in this state.
    Now(Running),
    /// It holds no connection (stopped, deleted).
    Gone,
}

/// A replica's runtime record of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaRuntime {
    /// The replica.
    pub replica: String,
    /// Its connection's state.
    pub state: Running,
    /// Why it failed or is retrying (secrets redacted), if it did.
    pub error: Option<String>,
    /// When the replica reported this state.
    pub since: Timestamp,
}

/// A replica, as its heartbeats say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    /// Chosen at start-up, unique.
    pub id: String,
    /// Where it runs: host name and process id.
    pub label: String,
    /// When it started.
    pub started_at: Timestamp,
    /// Its last heartbeat.
    pub heartbeat_at: Timestamp,
}

/// How often replicas heartbeat, and when one that stopped counts as dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    /// Between heartbeats.
    pub heartbeat: Duration,
}

impl Liveness {
    /// Three heartbeats missed: dead. Its records are removed then.
    pub fn expiry(&self) -> Duration {
        self.heartbeat * 3
    }

    /// Heartbeats at or after this are live.
    pub fn live_since(&self, now: Timestamp) -> Timestamp {
        now - chrono::Duration::from_std(self.expiry()).unwrap_or(chrono::Duration::MAX)
    }
}

impl Default for Liveness {
    fn default() -> Self {
        Self { heartbeat: Duration::from_secs(5) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_running_replica_keeps_the_server_enabled_and_error_needs_every_one() {
        let (running, starting, failed) = (Running::Running, Running::Starting, Running::Failed);
        assert_eq!(combined([failed, running, starting]), Some(ServerStatus::Enabled));
        assert_eq!(combined([failed, starting]), Some(ServerStatus::Starting));
        assert_eq!(combined([failed, failed]), Some(ServerStatus::Error));
        assert_eq!(combined([]), None);
    }

    fn report(state: &crate::server::RuntimeState, mine: Running, asked: bool) -> crate::ports::RuntimeReport<'_> {
        let at = chrono::Utc::now();
        crate::ports::RuntimeReport { replica: "b", mine: Mine::Now(mine), state, asked, at, live_since: at }
    }

    #[test]
    fn the_stored_status_is_the_operators_wish_with_the_live_replicas_states() {
        let state = |status| crate::server::RuntimeState {
            status,
            last_health_check: None,
            last_startup_success: None,
            last_startup_error: None,
            consecutive_failures: 0,
        };
        let starting = state(ServerStatus::Starting);
        let failed = state(ServerStatus::Error);
        // B resuming while A runs the server: it stays enabled (A serves calls meanwhile).
        let resuming = report(&starting, Running::Starting, false);
        assert_eq!(
            resuming.status_to_store(ServerStatus::Enabled, [Running::Running, Running::Starting]),
            ServerStatus::Enabled
        );
        // B's crash loop gave up while A runs it: still enabled; once A failed too: error.
        let gave_up = report(&failed, Running::Failed, false);
        assert_eq!(
            gave_up.status_to_store(ServerStatus::Enabled, [Running::Running, Running::Failed]),
            ServerStatus::Enabled
        );
        assert_eq!(
            gave_up.status_to_store(ServerStatus::Enabled, [Running::Failed, Running::Failed]),
            ServerStatus::Error
        );
        // Supervision never starts what the operator stopped; the operator's start does.
        assert_eq!(resuming.status_to_store(ServerStatus::Disabled, [Running::Starting]), ServerStatus::Disabled);
        let start = report(&starting, Running::Starting, true);
        assert_eq!(start.status_to_store(ServerStatus::Disabled, [Running::Starting]), ServerStatus::Starting);
        // The operator's stop is stored as asked.
        let stopped = state(ServerStatus::Disabled);
        let stop = crate::ports::RuntimeReport { mine: Mine::Gone, ..report(&stopped, Running::Running, true) };
        assert_eq!(stop.status_to_store(ServerStatus::Enabled, [Running::Running]), ServerStatus::Disabled);
    }

    #[test]
    fn a_stop_is_not_a_wish_to_run() {
        assert!(wanted_running(ServerStatus::Error));
        assert!(!wanted_running(ServerStatus::Stopping));
        assert!(!wanted_running(ServerStatus::Disabled));
    }
}
