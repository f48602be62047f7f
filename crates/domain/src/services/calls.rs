//! Calling tools: every call passes the access engine, the quota, the argument check and the
//! tool's and server's state, runs under the server's deadline, and is recorded.

use std::{sync::Arc, time::Instant};

use serde_json::{Map, Value};

use crate::{
    DomainError, Principal, ResourceKind,
    access::{AccessLevel, Quota, ToolRef},
    calls::{CallFilter, CallRecord, CallStatus, check_with, redact, summarize},
    circuit::Circuits,
    error::DomainResult,
    new_id,
    ports::{CallLog, CallLogRepository, Clock, Metrics},
    server::ServerStatus,
    services::{
        AccessService, Ports, Settings, ToolkitService,
        catalogue_cache::{CallTarget, CatalogueCache, ToolSelector},
        lifecycle::timeout_of,
    },
    tool::ToolStatus,
    upstream::{ProgressSink, UpstreamConnector, UpstreamError},
};

/// What a caller hands to a call besides the tool.
struct Call {
    arguments: Option<Map<String, Value>>,
    correlation_id: Option<String>,
    progress: Option<ProgressSink>,
}

/// What a call names: a server's tool, or a toolkit's.
#[derive(Clone, Copy)]
enum Named<'a> {
    Server(ToolSelector<'a>),
    Toolkit { toolkit: &'a str, tool: &'a str },
}

/// A finished call: the upstream's MCP result and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutcome {
    /// The MCP `CallToolResult`, as JSON.
    pub result: Value,
    /// Whether the tool reported an error.
    pub is_error: bool,
    /// How long the call took, in milliseconds.
    pub duration_ms: f64,
    /// What remains of the deciding grant's or rule's quota.
    pub quota: Quota,
}

/// Calls tools (one path for every front door) and reads the call log.
pub struct CallService {
    calls: Arc<dyn CallLogRepository>,
    catalogue: Arc<CatalogueCache>,
    access: Arc<AccessService>,
    /// Resolves toolkits' tools and decides on the toolkit's own.
    toolkits: Arc<ToolkitService>,
    upstream: Arc<dyn UpstreamConnector>,
    log: Arc<dyn CallLog>,
    metrics: Arc<dyn Metrics>,
    clock: Arc<dyn Clock>,
    circuits: Circuits,
}

impl CallService {
    /// Calls through `ports`' upstream, recorded in its call log; tools resolved through
    /// `catalogue` (and `toolkits`) and authorized by `access`; circuits as `settings` say.
    pub fn new(
        ports: &Ports,
        catalogue: Arc<CatalogueCache>,
        access: Arc<AccessService>,
        toolkits: Arc<ToolkitService>,
        settings: &Settings,
    ) -> Self {
        Self {
            calls: ports.call_records.clone(),
            catalogue,
            access,
            toolkits,
            upstream: ports.upstream.clone(),
            log: ports.call_log.clone(),
            metrics: ports.metrics.clone(),
            clock: ports.clock.clone(),
            circuits: Circuits::new(settings.circuits),
        }
    }

    /// The call log, newest first: administrators see every call of the tenant, others their own.
    pub async fn history(
        &self,
        actor: &Principal,
        mut filter: CallFilter,
        query: &crate::query::ListQuery,
    ) -> DomainResult<(Vec<CallRecord>, u64)> {
        if !actor.is_admin() {
            if filter.user.as_ref().is_some_and(|u| *u != actor.id) {
                return Err(DomainError::Forbidden("only administrators may read other users' calls".into()));
            }
            filter.user = Some(actor.id.clone());
        }
        self.calls.list(&actor.tenant, &filter, query).await
    }

    /// Counts again the last day's calls against the grants' limits, from the call log (at
    /// start-up: a restart does not reset quotas); returns how many calls it counted.
    pub async fn restore_quotas(&self) -> DomainResult<usize> {
        self.access.restore_quotas(self.calls.as_ref()).await
    }

    /// Deletes the records older than `retention` (by the service's clock); returns how many.
    pub async fn prune(&self, retention: chrono::Duration) -> DomainResult<u64> {
        self.calls.prune(self.clock.now() - retention).await
    }

    /// Writes every queued record (at shutdown).
    pub async fn flush(&self) {
        self.log.flush().await;
    }

    /// Calls a tool for `actor` and records the call, whatever its outcome.
    pub async fn call(
        &self,
        actor: &Principal,
        selector: ToolSelector<'_>,
        arguments: Option<Map<String, Value>>,
        correlation_id: Option<String>,
    ) -> DomainResult<CallOutcome> {
        self.call_until(actor, selector, arguments, correlation_id, std::future::pending(), None).await
    }

    /// As [`Self::call`], giving up when `cancelled` resolves while the upstream works: the
    /// upstream call is dropped (the connector tells the server) and the call is recorded as
    /// failed with `CALL_CANCELLED`. The upstream's progress reports go to `progress`.
    pub async fn call_until(
        &self,
        actor: &Principal,
        selector: ToolSelector<'_>,
        arguments: Option<Map<String, Value>>,
        correlation_id: Option<String>,
        cancelled: impl Future<Output = ()> + Send,
        progress: Option<ProgressSink>,
    ) -> DomainResult<CallOutcome> {
        let call = Call { arguments, correlation_id, progress };
        self.recorded(actor, Named::Server(selector), call, cancelled).await
    }

    /// Calls a tool of a toolkit (by its name there, or its id): a server tool it stands for
    /// takes the same path as [`Self::call_until`]; an `api-request` tool is the HTTP request
    /// its config describes, sent through the upstream port. The same engine, quota, argument
    /// check, circuit and call log either way.
    pub async fn call_in_toolkit(
        &self,
        actor: &Principal,
        (toolkit, tool): (&str, &str),
        arguments: Option<Map<String, Value>>,
        correlation_id: Option<String>,
        cancelled: impl Future<Output = ()> + Send,
        progress: Option<ProgressSink>,
    ) -> DomainResult<CallOutcome> {
        let call = Call { arguments, correlation_id, progress };
        self.recorded(actor, Named::Toolkit { toolkit, tool }, call, cancelled).await
    }

    /// Runs a call and records it, whatever its outcome.
    async fn recorded(
        &self,
        actor: &Principal,
        named: Named<'_>,
        call: Call,
        cancelled: impl Future<Output = ()> + Send,
    ) -> DomainResult<CallOutcome> {
        let Call { arguments, correlation_id, progress } = call;
        let started = Instant::now();
        let args_value = Value::Object(arguments.clone().unwrap_or_default());
        let mut record = CallRecord {
            id: new_id(),
            tenant: actor.tenant.clone(),
            tool_id: None,
            tool_name: String::new(),
            server_id: None,
            server_name: String::new(),
            principal_id: actor.id.clone(),
            groups: actor.groups.clone(),
            arguments: redact(&args_value),
            result_summary: None,
            status: CallStatus::Rejected,
            error_code: None,
            duration_ms: 0.0,
            correlation_id,
            grant_id: None,
            called_at: self.clock.now(),
        };
        match named {
            Named::Server(ToolSelector::Name { server, tool }) => {
                record.server_name = server.unwrap_or_default().to_owned();
                record.tool_name = tool.to_owned();
            }
            Named::Toolkit { toolkit, tool } => {
                record.server_name = toolkit.to_owned();
                record.tool_name = tool.to_owned();
            }
            Named::Server(ToolSelector::Id(_)) => {}
        }
        let result = match named {
            Named::Server(selector) => {
                self.run(actor, selector, arguments, &args_value, &mut record, cancelled, progress).await
            }
            Named::Toolkit { toolkit, tool } => {
                self.run_in_toolkit(actor, (toolkit, tool), arguments, &args_value, &mut record, cancelled, progress)
                    .await
            }
        };
        record.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        match &result {
            Ok(outcome) => {
                record.status = if outcome.is_error { CallStatus::ToolError } else { CallStatus::Success };
                record.result_summary = summarize(&outcome.result);
            }
            Err(error) => {
                // `run` marked the record `Failed` if the call reached the upstream; refusals
                // before that stay `Rejected`.
                record.error_code = Some(error.code().as_str().to_owned());
                record.result_summary = Some(error.to_string());
            }
        }
        // Metric labels name only what exists: a call that named no known tool is `unknown`.
        let (server, tool) = match record.tool_id {
            Some(_) => (record.server_name.as_str(), record.tool_name.as_str()),
            None => ("unknown", "unknown"),
        };
        self.metrics.tool_call(server, tool, record.status, record.duration_ms / 1000.0);
        let duration_ms = record.duration_ms;
        self.log.record(record);
        result.map(|outcome| CallOutcome { duration_ms, ..outcome })
    }

    /// A toolkit's tool: its server tool through [`Self::run`], or its own HTTP request.
    #[allow(clippy::too_many_arguments)]
    async fn run_in_toolkit(
        &self,
        actor: &Principal,
        (toolkit, tool): (&str, &str),
        arguments: Option<Map<String, Value>>,
        args_value: &Value,
        record: &mut CallRecord,
        cancelled: impl Future<Output = ()> + Send,
        progress: Option<ProgressSink>,
    ) -> DomainResult<CallOutcome> {
        let resolved = self.toolkits.readable_tool(actor, toolkit, tool).await?;
        let (kit, view) = (&resolved.toolkit, &resolved.view);
        if let Some((server_tool, _)) = &view.target {
            let selector = ToolSelector::Id(&server_tool.id);
            return self.run(actor, selector, arguments, args_value, record, cancelled, progress).await;
        }
        record.tool_id = Some(view.entry.id.clone());
        record.tool_name = view.name().to_owned();
        record.server_name = kit.name.clone();
        let decision = self.toolkits.decide(actor, kit, view, AccessLevel::Execute, true);
        self.metrics.access_decision(decision.allowed);
        if !decision.allowed {
            let reason = decision.reason.unwrap_or(std::borrow::Cow::Borrowed("access denied"));
            return Err(DomainError::Forbidden(reason.into_owned()));
        }
        if !view.is_callable() {
            return Err(DomainError::Upstream(UpstreamError::Unavailable(format!(
                "'{}' is a tool of type {} that Toolhub lists but does not run",
                view.name(),
                view.entry.kind
            ))));
        }
        let request = resolved
            .request()
            .map_err(|e| DomainError::Upstream(UpstreamError::Unavailable(format!("the tool cannot run: {e}"))))?;
        if let Some(validator) = resolved.arguments_validator() {
            check_with(validator, args_value).map_err(DomainError::InvalidArguments)?;
        }
        if let crate::access::DecidedBy::Grant { id, .. } = &decision.decided_by {
            record.grant_id = Some(id.clone());
        }
        let http = request
            .render(arguments.as_ref().unwrap_or(&Map::new()))
            .map_err(|e| DomainError::invalid("arguments", e))?;
        let sent = self.upstream.send_request(&actor.tenant, &http);
        let (answer, quota) =
            self.dispatch(actor, &decision, (&view.entry.id, &kit.name), record, sent, cancelled).await?;
        let (result, is_error) = request.result(&answer);
        Ok(CallOutcome { result, is_error, duration_ms: 0.0, quota })
    }

    /// Runs the upstream work of an allowed call: through the circuit keyed `circuit` (named
    /// `name` in metrics), counted against the deciding grant's or rule's quota, given up when
    /// `cancelled` resolves; the circuit hears how it went.
    async fn dispatch<T>(
        &self,
        actor: &Principal,
        decision: &crate::access::Decision,
        (circuit, name): (&str, &str),
        record: &mut CallRecord,
        work: impl Future<Output = Result<T, UpstreamError>> + Send,
        cancelled: impl Future<Output = ()> + Send,
    ) -> DomainResult<(T, Quota)> {
        let admission = self
            .circuits
            .admit(circuit, self.clock.now())
            .map_err(|retry_after_secs| DomainError::Upstream(UpstreamError::CircuitOpen { retry_after_secs }))?;
        let quota = self.access.record_call(actor, decision).await?;
        record.status = CallStatus::Failed;
        let result = match futures::future::select(std::pin::pin!(work), std::pin::pin!(cancelled)).await {
            futures::future::Either::Left((result, _)) => result,
            futures::future::Either::Right(((), _)) => Err(UpstreamError::Cancelled),
        };
        if admission.settle(result.as_ref().err().is_none_or(|e| !e.is_unhealthy()), self.clock.now()) {
            self.metrics.circuit_opened(name);
        }
        Ok((result?, quota))
    }

    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        actor: &Principal,
        selector: ToolSelector<'_>,
        arguments: Option<Map<String, Value>>,
        args_value: &Value,
        record: &mut CallRecord,
        cancelled: impl Future<Output = ()> + Send,
        progress: Option<ProgressSink>,
    ) -> DomainResult<CallOutcome> {
        let target = self.catalogue.call_target(&actor.tenant, selector).await?;
        let CallTarget { tool, server, .. } = &*target;
        record.tool_id = Some(tool.id.clone());
        record.tool_name = tool.name.clone();
        record.server_id = Some(server.id.clone());
        record.server_name = server.name.clone();

        // Permission first (ignoring state), so callers without access learn nothing more.
        let permitted = ToolRef::of(tool, server).permission_only();
        let decision = self.access.decide(actor, &permitted, AccessLevel::Execute);
        self.metrics.access_decision(decision.allowed);
        if !decision.allowed {
            if self.access.decide(actor, &permitted, AccessLevel::Read).allowed {
                let reason = decision.reason.unwrap_or(std::borrow::Cow::Borrowed("access denied"));
                return Err(DomainError::Forbidden(reason.into_owned()));
            }
            return Err(DomainError::not_found(ResourceKind::Tool, &tool.id));
        }
        if tool.status != ToolStatus::Enabled {
            return Err(DomainError::ToolDisabled(format!("the tool '{}' is disabled", tool.name)));
        }
        if let Some(category) = crate::category::category_of(tool, server)
            && self.access.category_disabled(&actor.tenant, category)
        {
            return Err(DomainError::ToolDisabled(format!("the category '{category}' of '{}' is disabled", tool.name)));
        }
        if !tool.is_available || server.status != ServerStatus::Enabled {
            return Err(DomainError::Upstream(UpstreamError::NotRunning));
        }
        if let Some(validator) = target.arguments_validator() {
            check_with(validator, args_value).map_err(DomainError::InvalidArguments)?;
        }
        if let crate::access::DecidedBy::Grant { id, .. } = &decision.decided_by {
            record.grant_id = Some(id.clone());
        }
        let call = match progress {
            Some(progress) => {
                self.upstream.call_tool_reporting(&server.id, &tool.name, arguments, timeout_of(server), progress)
            }
            None => self.upstream.call_tool(&server.id, &tool.name, arguments, timeout_of(server)),
        };
        let (outcome, quota) =
            self.dispatch(actor, &decision, (&server.id, &server.name), record, call, cancelled).await?;
        Ok(CallOutcome { result: outcome.result, is_error: outcome.is_error, duration_ms: 0.0, quota })
    }
}
