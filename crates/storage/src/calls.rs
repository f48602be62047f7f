//! The call log: records stored in batches off the call path, with the usage counters of their
//! tools and grants updated in the same transaction.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, TransactionTrait,
};
use serde_json::json;
use tokio::sync::{Notify, mpsc, oneshot};
use toolhub_domain::{
    DomainError, Timestamp,
    calls::{CallFilter, CallRecord, ToolCounters, Usage},
    ports::{CallLog, CallLogRepository, PortResult},
};

use crate::{
    Store, db_error,
    entities::{call_records, grants, tools},
    mapping::{corrupt, from_json},
};

fn to_row(r: &CallRecord) -> call_records::Model {
    call_records::Model {
        id: r.id.clone(),
        tenant: r.tenant.clone(),
        tool_id: r.tool_id.clone(),
        tool_name: r.tool_name.chars().take(200).collect(),
        server_id: r.server_id.clone(),
        server_name: r.server_name.chars().take(100).collect(),
        principal_id: r.principal_id.clone(),
        groups: json!(r.groups),
        arguments: r.arguments.clone(),
        result_summary: r.result_summary.clone(),
        status: r.status.as_str().to_owned(),
        error_code: r.error_code.clone(),
        duration_ms: r.duration_ms,
        correlation_id: r.correlation_id.clone(),
        grant_id: r.grant_id.clone(),
        called_at: r.called_at,
    }
}

fn from_row(r: call_records::Model) -> Result<CallRecord, DomainError> {
    Ok(CallRecord {
        status: r.status.parse().map_err(|_| corrupt("call status"))?,
        groups: from_json(r.groups, "call groups")?,
        id: r.id,
        tenant: r.tenant,
        tool_id: r.tool_id,
        tool_name: r.tool_name,
        server_id: r.server_id,
        server_name: r.server_name,
        principal_id: r.principal_id,
        arguments: r.arguments,
        result_summary: r.result_summary,
        error_code: r.error_code,
        duration_ms: r.duration_ms,
        correlation_id: r.correlation_id,
        grant_id: r.grant_id,
        called_at: r.called_at,
    })
}

#[async_trait]
impl CallLogRepository for Store {
    async fn store(&self, records: &[CallRecord]) -> PortResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let usage = Usage::of(records);
        let txn = self.db.begin().await.map_err(db_error)?;
        let rows: Vec<call_records::ActiveModel> =
            records.iter().map(|r| to_row(r).into_active_model().reset_all()).collect();
        call_records::Entity::insert_many(rows).exec_without_returning(&txn).await.map_err(db_error)?;
        for (tool_id, u) in &usage.tools {
            let Some(tool) = tools::Entity::find_by_id(tool_id.clone()).one(&txn).await.map_err(db_error)? else {
                continue;
            };
            let counters = u.apply_to(&ToolCounters {
                total_calls: tool.total_calls,
                total_errors: tool.total_errors,
                avg_response_time_ms: tool.avg_response_time_ms,
                last_called: tool.last_called,
                last_error: tool.last_error,
            });
            let row = tools::ActiveModel {
                id: Set(tool.id),
                total_calls: Set(counters.total_calls),
                total_errors: Set(counters.total_errors),
                avg_response_time_ms: Set(counters.avg_response_time_ms),
                last_called: Set(counters.last_called),
                last_error: Set(counters.last_error),
                ..Default::default()
            };
            row.update(&txn).await.map_err(db_error)?;
        }
        for ((tenant, grant_id), u) in &usage.grants {
            let Some(grant) = grants::Entity::find_by_id(grant_id.clone())
                .filter(grants::Column::Tenant.eq(tenant.as_str()))
                .one(&txn)
                .await
                .map_err(db_error)?
            else {
                continue;
            };
            let row = grants::ActiveModel {
                id: Set(grant.id),
                usage_count: Set(grant.usage_count + u.uses),
                last_used: Set(Some(u.last_used.max(grant.last_used.unwrap_or(u.last_used)))),
                ..Default::default()
            };
            row.update(&txn).await.map_err(db_error)?;
        }
        txn.commit().await.map_err(db_error)
    }

    async fn list(
        &self,
        tenant: &str,
        filter: &CallFilter,
        limit: u64,
        offset: u64,
    ) -> PortResult<(Vec<CallRecord>, u64)> {
        let mut query = call_records::Entity::find().filter(call_records::Column::Tenant.eq(tenant));
        if let Some(tool) = &filter.tool {
            query = query.filter(
                sea_orm::Condition::any()
                    .add(call_records::Column::ToolId.eq(tool.as_str()))
                    .add(call_records::Column::ToolName.eq(tool.as_str())),
            );
        }
        if let Some(server) = &filter.server {
            query = query.filter(
                sea_orm::Condition::any()
                    .add(call_records::Column::ServerId.eq(server.as_str()))
                    .add(call_records::Column::ServerName.eq(server.as_str())),
            );
        }
        if let Some(user) = &filter.user {
            query = query.filter(call_records::Column::PrincipalId.eq(user.as_str()));
        }
        if let Some(status) = filter.status {
            query = query.filter(call_records::Column::Status.eq(status.as_str()));
        }
        if let Some(since) = filter.since {
            query = query.filter(call_records::Column::CalledAt.gte(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(call_records::Column::CalledAt.lt(until));
        }
        let total = query.clone().count(&self.db).await.map_err(db_error)?;
        let page = query
            .order_by_desc(call_records::Column::CalledAt)
            .order_by_desc(call_records::Column::Id)
            .limit(limit)
            .offset(offset)
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((page, total))
    }

    async fn prune(&self, before: Timestamp) -> PortResult<u64> {
        let result = call_records::Entity::delete_many()
            .filter(call_records::Column::CalledAt.lt(before))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected)
    }
}

enum Message {
    Record(Box<CallRecord>),
    Flush(oneshot::Sender<()>),
}

/// Queues records on the call path and writes them in batches in a background task.
pub struct BatchingCallLog {
    queue: mpsc::UnboundedSender<Message>,
    /// Records queued and not yet taken by the writer.
    queued: Arc<AtomicUsize>,
    /// Wakes the writer before its batch is due: a flush, or a full batch waiting.
    urgent: Arc<Notify>,
}

/// A batch is written when it holds this many records, or this long after its first one.
const BATCH_MAX: usize = 500;
const BATCH_WAIT: Duration = Duration::from_millis(100);

impl BatchingCallLog {
    /// Starts the writer task (on the current Tokio runtime).
    ///
    /// The writer waits on the queue only for the first record of a batch, then sleeps until the
    /// batch is due and takes what queued up meanwhile: records do not wake it one by one.
    pub fn start(repository: Arc<dyn CallLogRepository>) -> Arc<Self> {
        let (queue, mut inbox) = mpsc::unbounded_channel::<Message>();
        let queued = Arc::new(AtomicUsize::new(0));
        let urgent = Arc::new(Notify::new());
        let (counter, wake) = (queued.clone(), urgent.clone());
        tokio::spawn(async move {
            let mut batch: Vec<CallRecord> = Vec::new();
            let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
            while let Some(first) = inbox.recv().await {
                let deadline = tokio::time::Instant::now() + BATCH_WAIT;
                let mut next = Some(first);
                let mut due = false;
                loop {
                    while batch.len() < BATCH_MAX
                        && let Some(message) = next.take().or_else(|| inbox.try_recv().ok())
                    {
                        match message {
                            Message::Record(record) => {
                                counter.fetch_sub(1, Ordering::Relaxed);
                                batch.push(*record);
                            }
                            Message::Flush(done) => waiting.push(done),
                        }
                    }
                    if due || !waiting.is_empty() || batch.len() >= BATCH_MAX {
                        break;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep_until(deadline) => due = true,
                        _ = wake.notified() => {}
                    }
                }
                if !batch.is_empty() {
                    if let Err(error) = repository.store(&batch).await {
                        tracing::error!(%error, records = batch.len(), "cannot write call records");
                    }
                    batch.clear();
                }
                for done in waiting.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        Arc::new(Self { queue, queued, urgent })
    }
}

#[async_trait]
impl CallLog for BatchingCallLog {
    fn record(&self, record: CallRecord) {
        // Counted before it is sent, so the writer never takes a record it has not seen counted.
        let queued = self.queued.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        if self.queue.send(Message::Record(Box::new(record))).is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        } else if queued == BATCH_MAX {
            self.urgent.notify_one();
        }
    }

    async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).is_ok() {
            self.urgent.notify_one();
            let _ = wait.await;
        }
    }
}
