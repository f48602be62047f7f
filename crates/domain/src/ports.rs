//! Ports: what the domain needs from the outside world. Adapters implement them; the domain's
//! services use them through `Arc<dyn Port>`.
//!
//! # Errors
//! Every method returns [`DomainError::Storage`] when its backend fails. Inserts return
//! [`DomainError::Conflict`] when a uniqueness rule is broken.

use async_trait::async_trait;

use crate::{
    DomainError, Role, Timestamp,
    access::{Grant, RoleRule, Subject, Target},
    api_key::ApiKey,
    calls::{CallFilter, CallRecord, CallStatus},
    principal::User,
    replica::{Mine, Replica, ReplicaRuntime, Running},
    secret::Secret,
    server::{RuntimeState, ServerFilter, ServerStatus, ToolServer},
    tool::{Reconciliation, Tool, ToolStatus},
    toolkit::{Toolkit, ToolkitTool},
    upstream::ServerRef,
};

/// What every port method returns: the value, or a [`DomainError`] (see the module docs).
pub type PortResult<T> = Result<T, DomainError>;

/// Tool servers, by tenant. Secrets in a server are the adapter's to seal at rest.
#[async_trait]
pub trait ServerRepository: Send + Sync {
    /// Conflict when the tenant already has a server of that name.
    async fn insert(&self, server: &ToolServer) -> PortResult<()>;
    /// The tenant's server of that id, if any (another tenant's is `None`).
    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<ToolServer>>;
    /// Ordered by creation time, then id.
    async fn list(&self, tenant: &str, filter: ServerFilter) -> PortResult<Vec<ToolServer>>;
    /// The tenant's servers that pass `query` ([`crate::server::SERVER_FIELDS`]), in its order
    /// (then creation time, id), its page of them if it has one, and how many passed. Runs in
    /// the database.
    async fn query(&self, tenant: &str, query: &crate::query::ListQuery) -> PortResult<(Vec<ToolServer>, u64)>;
    /// Writes `server` if the stored row is still at `expected_version`; the caller has already
    /// incremented `server.version`. Returns false when the row changed or disappeared.
    async fn update(&self, server: &ToolServer, expected_version: i64) -> PortResult<bool>;
    /// Deletes the server and its tools. Returns false when it did not exist.
    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool>;
    /// Records a replica's runtime report and writes the server's runtime fields (status,
    /// health, failures) with the status [`RuntimeReport::status_to_store`] gives, in one step
    /// that replicas take one at a time per server. The configuration and its version are left
    /// alone: background supervision must not conflict with an administrator's edit. Returns
    /// the status stored, `None` when the server no longer exists.
    async fn update_runtime(&self, server: &ServerRef, report: &RuntimeReport<'_>) -> PortResult<Option<ServerStatus>>;
    /// Servers of every tenant that should run when Toolhub starts: `auto_start` and last seen
    /// `enabled` or `starting`.
    async fn list_to_resume(&self) -> PortResult<Vec<ToolServer>>;
}

/// The tools servers offer, as discovery stored them, by tenant.
#[async_trait]
pub trait ToolRepository: Send + Sync {
    /// Conflict when the server already has a tool of that name.
    async fn insert(&self, tool: &Tool) -> PortResult<()>;
    /// The tools of these servers, ordered by server, sort order, then name.
    async fn list_for_servers(&self, tenant: &str, server_ids: &[String]) -> PortResult<Vec<Tool>>;
    /// Every tool of the tenant, in the same order.
    async fn list_all(&self, tenant: &str) -> PortResult<Vec<Tool>>;
    /// The tenant's tools of that name (one per server at most), in the same order.
    async fn find_by_name(&self, tenant: &str, name: &str) -> PortResult<Vec<Tool>>;
    /// One page of a server's tools (sort order, then name) and the total count.
    async fn page(&self, tenant: &str, server_id: &str, limit: u64, offset: u64) -> PortResult<(Vec<Tool>, u64)>;
    /// The tenant's tools that pass `query` ([`crate::tool::TOOL_FIELDS`]), in its order (then
    /// server, sort order, name), its page of them if it has one, and how many passed. Runs in
    /// the database.
    async fn query(&self, tenant: &str, query: &crate::query::ListQuery) -> PortResult<(Vec<Tool>, u64)>;
    /// The tenant's tool of that id, if any.
    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<Tool>>;
    /// Enables or disables a tool (an administrator's choice, kept across discoveries).
    /// Returns false when the tool does not exist.
    async fn set_status(&self, tenant: &str, id: &str, status: ToolStatus, at: Timestamp) -> PortResult<bool>;
    /// Writes a discovery's inserts and updates atomically.
    async fn apply(&self, changes: &Reconciliation) -> PortResult<()>;
}

/// Principals Toolhub has seen or administrators manage: role, groups, display name.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// The tenant's user of that id, if any.
    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<User>>;
    /// Inserts the user unless one with the same tenant and id exists; returns the stored user.
    async fn insert_if_absent(&self, user: &User) -> PortResult<User>;
    /// The tenant's users, by id.
    async fn list(&self, tenant: &str) -> PortResult<Vec<User>>;
    /// Writes role, groups, display name and disabled. Returns false when the user is unknown.
    async fn update(&self, user: &User) -> PortResult<bool>;
}

/// Which grants a listing returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    /// Only grants to this subject.
    pub subject: Option<Subject>,
    /// Only grants on this tool or server.
    pub target: Option<Target>,
}

impl GrantFilter {
    /// `query` with the filter's terms added.
    pub fn into_query(&self, query: crate::query::ListQuery) -> crate::query::ListQuery {
        use crate::query::{Scalar, Test};
        let fields = crate::access::model::GRANT_FIELDS;
        let equals = |text: &str| Test::Equals(Scalar::Text(text.to_owned()));
        let mut query = query;
        if let Some(subject) = &self.subject {
            query = query.and(fields, "subject", equals(&subject.to_string()));
        }
        if let Some(target) = &self.target {
            let (field, id) = match target {
                Target::Tool(id) => ("tool_id", id),
                Target::Server(id) => ("server_id", id),
                Target::Toolkit(id) => ("toolkit_id", id),
            };
            query = query.and(fields, field, equals(id));
        }
        query
    }
}

/// Grants, by tenant.
#[async_trait]
pub trait GrantRepository: Send + Sync {
    /// Conflict when the subject already has a grant on that target.
    async fn insert(&self, grant: &Grant) -> PortResult<()>;
    /// The tenant's grant of that id, if any.
    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<Grant>>;
    /// Returns false when the grant is unknown.
    async fn update(&self, grant: &Grant) -> PortResult<bool>;
    /// Returns false when the grant is unknown.
    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool>;
    /// Ordered by grant time, then id.
    async fn list(&self, tenant: &str, filter: &GrantFilter) -> PortResult<Vec<Grant>>;
    /// The tenant's grants that pass `query` ([`crate::access::model::GRANT_FIELDS`]), in its
    /// order (then grant time, id), its page of them if it has one, and how many passed.
    async fn query(&self, tenant: &str, query: &crate::query::ListQuery) -> PortResult<(Vec<Grant>, u64)>;
    /// Every tenant's grants (to build the decision index).
    async fn list_all(&self) -> PortResult<Vec<Grant>>;
    /// Deletes the grants on a server and on these tools of it; returns the deleted ids.
    async fn delete_for_targets(&self, tenant: &str, targets: &[Target]) -> PortResult<Vec<String>>;
}

/// Role rules, by tenant.
#[async_trait]
pub trait RoleRuleRepository: Send + Sync {
    /// Conflict when the tenant has a rule with the same role and patterns.
    async fn insert(&self, rule: &RoleRule) -> PortResult<()>;
    /// The tenant's rule of that id, if any.
    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<RoleRule>>;
    /// Returns false when the rule is unknown.
    async fn update(&self, rule: &RoleRule) -> PortResult<bool>;
    /// Returns false when the rule is unknown.
    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool>;
    /// Ordered by creation time, then id.
    async fn list(&self, tenant: &str, role: Option<Role>) -> PortResult<Vec<RoleRule>>;
    /// The tenant's rules that pass `query` ([`crate::access::model::RULE_FIELDS`]), in its
    /// order (then creation time, id), its page of them if it has one, and how many passed.
    async fn query(&self, tenant: &str, query: &crate::query::ListQuery) -> PortResult<(Vec<RoleRule>, u64)>;
    /// Every tenant's rules (to build the decision index).
    async fn list_all(&self) -> PortResult<Vec<RoleRule>>;
}

/// API keys, stored by the SHA-256 hash of their secret (never the secret).
/// The switches of tool categories.
#[async_trait]
pub trait CategoryRepository: Send + Sync {
    /// Every stored switch, in every tenant (for the access index).
    async fn list_all(&self) -> PortResult<Vec<crate::category::CategorySwitch>>;
    /// Stores a category's switch, replacing the one it had.
    async fn set(&self, switch: &crate::category::CategorySwitch) -> PortResult<()>;
}

/// Toolkits and their tools.
#[async_trait]
pub trait ToolkitRepository: Send + Sync {
    /// Stores a new toolkit; [`DomainError::Conflict`] when its name is taken in the tenant.
    async fn insert(&self, toolkit: &Toolkit) -> PortResult<()>;
    /// The toolkit with this id in the tenant.
    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<Toolkit>>;
    /// The toolkit with this name in the tenant.
    async fn find_by_name(&self, tenant: &str, name: &str) -> PortResult<Option<Toolkit>>;
    /// The tenant's toolkits, by name.
    async fn list(&self, tenant: &str) -> PortResult<Vec<Toolkit>>;
    /// The tenant's toolkits that pass `query` ([`crate::toolkit::TOOLKIT_FIELDS`]), in its
    /// order (then name), its page of them if it has one, and how many passed.
    async fn query(&self, tenant: &str, query: &crate::query::ListQuery) -> PortResult<(Vec<Toolkit>, u64)>;
    /// Replaces a toolkit if it is still at `expected_version`; false when it is not (or gone).
    async fn update(&self, toolkit: &Toolkit, expected_version: i64) -> PortResult<bool>;
    /// Deletes a toolkit and its tools; false when it did not exist.
    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool>;
    /// A toolkit's tools, in no particular order.
    async fn tools(&self, tenant: &str, toolkit_id: &str) -> PortResult<Vec<ToolkitTool>>;
    /// Stores a new tool of a toolkit.
    async fn insert_tool(&self, tool: &ToolkitTool) -> PortResult<()>;
    /// Replaces a tool of a toolkit; false when it does not exist.
    async fn update_tool(&self, tool: &ToolkitTool) -> PortResult<bool>;
    /// Deletes a tool of a toolkit; false when it did not exist.
    async fn delete_tool(&self, tenant: &str, toolkit_id: &str, id: &str) -> PortResult<bool>;
    /// Replaces every tool of a toolkit at once (a sync): all or nothing.
    async fn replace_tools(&self, tenant: &str, toolkit_id: &str, tools: &[ToolkitTool]) -> PortResult<()>;
    /// Every tool of every toolkit, in every tenant: `(tenant, member id, toolkit id)` where the
    /// member id is the server tool's id for a reference and the toolkit tool's own id
    /// otherwise, for the access index.
    async fn memberships(&self) -> PortResult<Vec<(String, String, String)>>;
    /// Removes the toolkit tools that stand for these server tools (their server was deleted).
    async fn delete_references(&self, tenant: &str, tool_ids: &[String]) -> PortResult<()>;
}

#[async_trait]
/// API keys, stored by their hash only.
pub trait ApiKeyRepository: Send + Sync {
    /// Conflict when a key has the same id or hash.
    async fn insert(&self, key: &ApiKey) -> PortResult<()>;
    /// The key whose secret hashes to `key_hash`, revoked or not.
    async fn find_by_hash(&self, key_hash: &str) -> PortResult<Option<ApiKey>>;
    /// Number of keys in all tenants, revoked ones included.
    async fn count(&self) -> PortResult<u64>;
    /// Notes that the key was used at `at` (best effort; an unknown id is no error).
    async fn touch(&self, id: &str, at: Timestamp) -> PortResult<()>;
    /// The tenant's keys (revoked ones included), by creation time.
    async fn list(&self, tenant: &str) -> PortResult<Vec<ApiKey>>;
    /// Marks a key revoked at `at`. Returns false when the tenant has no such unrevoked key.
    async fn revoke(&self, tenant: &str, id: &str, at: Timestamp) -> PortResult<bool>;
}

/// Where call records go. `record` must not block the call path (queue, batch, write later);
/// `flush` writes everything queued (at shutdown).
#[async_trait]
pub trait CallLog: Send + Sync {
    /// Takes a record, without waiting for storage.
    fn record(&self, record: CallRecord);
    /// Writes every record taken so far.
    async fn flush(&self);
}

/// The MCP gateway's sessions as their clients opened them (what each `initialize` said), so
/// a session outlives a restart of Toolhub and is known to every replica sharing the database.
/// The state is opaque here: the gateway writes and reads it.
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Stores (or replaces) a session's state, opened at `at`.
    async fn save(&self, id: &str, state: &serde_json::Value, at: Timestamp) -> PortResult<()>;
    /// A session's state, if it is stored.
    async fn load(&self, id: &str) -> PortResult<Option<serde_json::Value>>;
    /// Forgets a session (an unknown id is no error).
    async fn delete(&self, id: &str) -> PortResult<()>;
    /// Forgets the sessions saved before `before`; returns how many.
    async fn prune(&self, before: Timestamp) -> PortResult<u64>;
}

/// Stored call records: the call log's reading side, and where usage counters are added up.
#[async_trait]
pub trait CallLogRepository: Send + Sync {
    /// Stores the records and adds them to the usage counters of their tools and grants.
    async fn store(&self, records: &[CallRecord]) -> PortResult<()>;
    /// The records that pass the filter and `query` ([`crate::calls::CALL_FIELDS`]), in its
    /// order (then newest first), its page of them if it has one, and how many passed.
    async fn list(
        &self,
        tenant: &str,
        filter: &CallFilter,
        query: &crate::query::ListQuery,
    ) -> PortResult<(Vec<CallRecord>, u64)>;
    /// The calls counted against these grants' quotas since `since` (allowed ones: every status
    /// but `rejected`), oldest first.
    async fn counted_calls(&self, grant_ids: &[String], since: Timestamp)
    -> PortResult<Vec<crate::calls::CountedCall>>;
    /// Deletes records older than `before`; returns how many.
    async fn prune(&self, before: Timestamp) -> PortResult<u64>;
}

/// Operational counters (Prometheus, or nothing).
pub trait Metrics: Send + Sync {
    /// A tool call ended with `status` after `seconds` (`unknown` names for unknown tools).
    fn tool_call(&self, _server: &str, _tool: &str, _status: CallStatus, _seconds: f64) {}
    /// The engine decided a call.
    fn access_decision(&self, _allowed: bool) {}
    /// A server was restarted after a failure.
    fn upstream_restart(&self, _server: &str) {}
    /// A server's circuit opened.
    fn circuit_opened(&self, _server: &str) {}
}

/// Metrics that go nowhere.
pub struct NoMetrics;

impl Metrics for NoMetrics {}

/// Seals secrets for storage (AEAD) and opens them again.
pub trait SecretCipher: Send + Sync {
    /// The secret sealed, as text to store.
    fn seal(&self, secret: &Secret) -> String;
    /// Fails when the text was not sealed with this key or was tampered with.
    fn open(&self, sealed: &str) -> PortResult<Secret>;
}

/// The current time; a port so tests can stand still or travel.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }
}

/// Whether the service can take traffic (database reachable, schema up to date).
#[async_trait]
pub trait ReadinessProbe: Send + Sync {
    /// Ok when ready; otherwise why not (shown to operators, never a secret).
    async fn check(&self) -> Result<(), String>;
}

/// What one replica tells the others that share its database, so that writes and commands
/// take effect on every replica at once (docs/operations.md, Replicas). Each event names what
/// to refresh, not the change itself: a replica that hears one reads storage again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplicaEvent {
    /// Grants, role rules, toolkit memberships or category switches changed: reload the access
    /// index.
    Access,
    /// Servers or tools changed: drop the copies of the catalogue.
    Catalogue,
    /// Users or API keys changed: drop cached authentications.
    Auth,
    /// A server was started (`run`: also restarted, or reconfigured while running) or stopped:
    /// start anew or stop this replica's connection to it.
    Runtime {
        /// The server's tenant.
        tenant: String,
        /// The server.
        server_id: String,
        /// Whether it runs now.
        run: bool,
    },
}

/// Carries [`ReplicaEvent`]s between the replicas sharing a database. Publishing never waits
/// and may drop events under pressure: the periodic reload is the safety net.
pub trait ReplicaBus: Send + Sync {
    /// Tells the other replicas.
    fn publish(&self, event: ReplicaEvent);
}

/// One replica alone (SQLite, or no bus configured): nothing to tell.
pub struct SingleReplica;

impl ReplicaBus for SingleReplica {
    fn publish(&self, _: ReplicaEvent) {}
}

/// Where calls under a grant's or role rule's limits are counted (sliding hour and day). One
/// that every replica shares makes the limits exact across replicas and restarts; the
/// in-memory one ([`crate::access::UsageCounters`]) serves one process, restored from the call
/// log at start-up.
#[async_trait]
pub trait QuotaLedger: Send + Sync {
    /// Counts a call made `now` under `key` if the limits allow it: the quota left after it,
    /// or (not counted) the exhausted quota with its retry-after.
    async fn take(
        &self,
        key: &str,
        conditions: &crate::access::Conditions,
        now: Timestamp,
    ) -> PortResult<Result<crate::access::Quota, crate::access::Quota>>;
    /// What is left under the limits, counting nothing.
    async fn remaining(
        &self,
        key: &str,
        conditions: &crate::access::Conditions,
        now: Timestamp,
    ) -> PortResult<crate::access::Quota>;
    /// Counts again a call the call log recorded at `at` (oldest first), at start-up. A ledger
    /// that keeps its counts needs nothing.
    fn restore(&self, _key: &str, _conditions: &crate::access::Conditions, _at: Timestamp) {}
    /// Forgets counts older than `before` (a day ago: nothing older counts); how many.
    async fn prune(&self, _before: Timestamp) -> PortResult<u64> {
        Ok(0)
    }
}

/// What a replica writes of a server's runtime (see [`crate::replica`]).
#[derive(Debug, Clone)]
pub struct RuntimeReport<'a> {
    /// The replica reporting.
    pub replica: &'a str,
    /// Its own connection's state.
    pub mine: Mine,
    /// The runtime fields; their `status` is what this replica alone would make it.
    pub state: &'a RuntimeState,
    /// An operator's start or stop: its status is the operator's new wish. Otherwise
    /// (supervision, resuming, following another replica) a server the operator stopped stays
    /// stopped.
    pub asked: bool,
    /// When.
    pub at: Timestamp,
    /// Records of replicas not heard from since then do not count.
    pub live_since: Timestamp,
}

impl RuntimeReport<'_> {
    /// The status to store, given the stored one and the live replicas' states (this report's
    /// included): the operator's wish to stop, or the live replicas' combined state when the
    /// server is to run ([`crate::replica::combined`]); this report's own when no replica is
    /// known to live (one that never heartbeats: an embedder's single process).
    pub fn status_to_store(&self, stored: ServerStatus, live: impl IntoIterator<Item = Running>) -> ServerStatus {
        let wish = if self.asked { self.state.status } else { stored };
        if !crate::replica::wanted_running(wish) {
            return wish;
        }
        let own = Some(self.state.status).filter(|status| crate::replica::wanted_running(*status));
        crate::replica::combined(live).or(own).unwrap_or(wish)
    }

    /// This report's own record of `mine`, if it makes one.
    pub fn record(&self) -> Option<ReplicaRuntime> {
        match self.mine {
            Mine::Now(state) => Some(ReplicaRuntime {
                replica: self.replica.to_owned(),
                state,
                error: self.state.last_startup_error.clone().filter(|_| state != Running::Running),
                since: self.at,
            }),
            Mine::Same | Mine::Gone => None,
        }
    }
}

/// The replicas sharing the database and their runtime records (see [`crate::replica`]).
#[async_trait]
pub trait ReplicaRegistry: Send + Sync {
    /// Records a heartbeat of `replica` (registering it the first time).
    async fn heartbeat(&self, replica: &Replica) -> PortResult<()>;
    /// The replicas heard from since `live_since`, by start time.
    async fn live(&self, live_since: Timestamp) -> PortResult<Vec<Replica>>;
    /// The live replicas' records of a server, by replica start time.
    async fn runtimes(&self, server_id: &str, live_since: Timestamp) -> PortResult<Vec<ReplicaRuntime>>;
    /// Removes the replicas not heard from since `live_since`, with their records; returns the
    /// servers they had records of, whose status is to be combined again.
    async fn expire(&self, live_since: Timestamp) -> PortResult<Vec<ServerRef>>;
    /// Removes `replica` and its records (it shuts down).
    async fn leave(&self, replica: &str) -> PortResult<()>;
}
