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
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set};
use serde_json::json;
use tokio::sync::{Notify, mpsc, oneshot};
use toolhub_domain::{
    DomainError, Timestamp,
    calls::{CallFilter, CallRecord, CallStatus, CountedCall, ToolCounters, Usage},
    ports::{CallLog, CallLogRepository, PortResult},
};

use crate::{
    Store, db_error,
    entities::{call_records, grants, tools},
    mapping::{corrupt, from_json},
};

/// Text as both databases store it: PostgreSQL refuses NUL in `text` and `jsonb`, so it
/// becomes U+FFFD (what a client sent is kept, readably, rather than failing the batch).
fn storable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

/// A JSON value without NUL in any string or key (see [`storable`]).
fn storable_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(storable(s)),
        Value::Array(items) => Value::Array(items.iter().map(storable_json).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (storable(k), storable_json(v))).collect()),
        other => other.clone(),
    }
}

fn to_row(r: &CallRecord) -> call_records::Model {
    let text = |t: &Option<String>| t.as_deref().map(storable);
    call_records::Model {
        id: r.id.clone(),
        tenant: r.tenant.clone(),
        tool_id: r.tool_id.clone(),
        tool_name: storable(&r.tool_name.chars().take(200).collect::<String>()),
        server_id: r.server_id.clone(),
        server_name: storable(&r.server_name.chars().take(100).collect::<String>()),
        principal_id: storable(&r.principal_id),
        groups: storable_json(&json!(r.groups)),
        arguments: storable_json(&r.arguments),
        result_summary: text(&r.result_summary),
        status: r.status.as_str().to_owned(),
        error_code: text(&r.error_code),
        duration_ms: r.duration_ms,
        correlation_id: text(&r.correlation_id),
        grant_id: r.grant_id.clone(),
        called_at: r.called_at,
    }
}

/// A record's API fields kept in columns of other names.
fn call_columns(field: &str) -> Option<&'static str> {
    (field == "user_id").then_some("principal_id")
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
        let txn = crate::begin_write(&self.db).await?;
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
        list_query: &toolhub_domain::query::ListQuery,
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
        let newest_first = |s: sea_orm::Select<call_records::Entity>| {
            s.order_by_desc(call_records::Column::CalledAt).order_by_desc(call_records::Column::Id)
        };
        let (rows, total) = crate::query::run(&self.db, (query, call_columns), list_query, newest_first).await?;
        Ok((rows.into_iter().map(from_row).collect::<Result<Vec<_>, _>>()?, total))
    }

    async fn counted_calls(&self, grant_ids: &[String], since: Timestamp) -> PortResult<Vec<CountedCall>> {
        let mut counted = Vec::new();
        // A few hundred grants per statement keeps the IN list within every database's limits.
        for chunk in grant_ids.chunks(500) {
            let rows = call_records::Entity::find()
                .filter(call_records::Column::GrantId.is_in(chunk.iter().cloned()))
                .filter(call_records::Column::Status.ne(CallStatus::Rejected.as_str()))
                .filter(call_records::Column::CalledAt.gte(since))
                .all(&self.db)
                .await
                .map_err(db_error)?;
            counted.extend(rows.into_iter().filter_map(|r| {
                Some(CountedCall {
                    tenant: r.tenant,
                    principal_id: r.principal_id,
                    grant_id: r.grant_id?,
                    called_at: r.called_at,
                })
            }));
        }
        counted.sort_by_key(|c| c.called_at);
        Ok(counted)
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

/// Queues records on the call path and writes them in batches in a background task. The queue
/// is bounded ([`QUEUE_MAX`]); a batch that fails is retried record by record, and what still
/// cannot be stored, or finds the queue full, is counted ([`BatchingCallLog::lost`]) and logged.
pub struct BatchingCallLog {
    queue: mpsc::UnboundedSender<Message>,
    /// Records that could not be stored or queued, since start.
    lost: Arc<AtomicUsize>,
    /// Records queued and not yet taken by the writer.
    queued: Arc<AtomicUsize>,
    /// Wakes the writer before its batch is due: a flush, or a full batch waiting.
    urgent: Arc<Notify>,
}

/// A batch is written when it holds this many records, or this long after its first one.
const BATCH_MAX: usize = 500;
/// Records waiting at most; past it, new records are counted as lost rather than held in memory.
pub const QUEUE_MAX: usize = 100_000;
const BATCH_WAIT: Duration = Duration::from_millis(100);

impl BatchingCallLog {
    /// Starts the writer task (on the current Tokio runtime).
    ///
    /// The writer waits on the queue only for the first record of a batch, then sleeps until the
    /// batch is due and takes what queued up meanwhile: records do not wake it one by one.
    pub fn start(repository: Arc<dyn CallLogRepository>) -> Arc<Self> {
        let (queue, mut inbox) = mpsc::unbounded_channel::<Message>();
        let queued = Arc::new(AtomicUsize::new(0));
        let lost = Arc::new(AtomicUsize::new(0));
        let urgent = Arc::new(Notify::new());
        let (counter, wake, losses) = (queued.clone(), urgent.clone(), lost.clone());
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
                    store_each_if_need_be(&*repository, &batch, &losses).await;
                    batch.clear();
                }
                for done in waiting.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        Arc::new(Self { queue, lost, queued, urgent })
    }

    /// Records lost since start: refused by the database even alone, or dropped on a full queue.
    pub fn lost(&self) -> usize {
        self.lost.load(Ordering::Relaxed)
    }
}

/// Writes a batch; when the batch fails (one bad record fails the transaction), writes its
/// records one by one, so only the records that truly cannot be stored are lost, and counted.
async fn store_each_if_need_be(repository: &dyn CallLogRepository, batch: &[CallRecord], lost: &AtomicUsize) {
    let Err(error) = repository.store(batch).await else { return };
    tracing::warn!(%error, records = batch.len(), "a batch of call records failed; writing them one by one");
    for record in batch {
        if let Err(error) = repository.store(std::slice::from_ref(record)).await {
            lost.fetch_add(1, Ordering::Relaxed);
            tracing::error!(%error, call = %record.id, "a call record cannot be stored and is lost");
        }
    }
}

#[async_trait]
impl CallLog for BatchingCallLog {
    fn record(&self, record: CallRecord) {
        // Counted before it is sent, so the writer never takes a record it has not seen counted.
        let queued = self.queued.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        if queued > QUEUE_MAX {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            if self.lost.fetch_add(1, Ordering::Relaxed).is_multiple_of(1000) {
                tracing::error!(call = %record.id, "the call log queue is full: call records are lost");
            }
            return;
        }
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
