//! The batching call log over a real database: nothing lost, batches capped, flush waits.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use toolhub_domain::{
    Timestamp,
    calls::{CallFilter, CallRecord, CallStatus},
    ports::{CallLog, CallLogRepository, PortResult},
};
use toolhub_storage::BatchingCallLog;

use crate::harness::{Backend, fresh};

crate::on_both_databases!(the_batching_log_writes_every_record_in_capped_batches);

/// The store, noting the size of every batch written through it.
struct Counting {
    store: toolhub_storage::Store,
    batches: Mutex<Vec<usize>>,
}

#[async_trait]
impl CallLogRepository for Counting {
    async fn store(&self, records: &[CallRecord]) -> PortResult<()> {
        self.batches.lock().unwrap().push(records.len());
        self.store.store(records).await
    }

    async fn list(
        &self,
        tenant: &str,
        filter: &CallFilter,
        limit: u64,
        offset: u64,
    ) -> PortResult<(Vec<CallRecord>, u64)> {
        self.store.list(tenant, filter, limit, offset).await
    }

    async fn prune(&self, before: Timestamp) -> PortResult<u64> {
        self.store.prune(before).await
    }
}

/// A call record of the default tenant (tests override what they need).
pub fn record(n: usize) -> CallRecord {
    CallRecord {
        id: toolhub_domain::new_id(),
        tenant: "default".into(),
        tool_id: None,
        tool_name: "echo".into(),
        server_id: None,
        server_name: "fixture".into(),
        principal_id: format!("user-{}", n % 7),
        groups: vec![],
        arguments: serde_json::json!({"n": n}),
        result_summary: None,
        status: CallStatus::Rejected,
        error_code: Some("TOOL_NOT_FOUND".into()),
        duration_ms: 0.1,
        correlation_id: None,
        grant_id: None,
        called_at: chrono::Utc::now(),
    }
}

async fn the_batching_log_writes_every_record_in_capped_batches(backend: Backend) {
    let db = fresh(backend).await;
    let counting = Arc::new(Counting { store: db.store.clone(), batches: Mutex::default() });
    let log = BatchingCallLog::start(counting.clone());
    let total = |counting: Arc<Counting>| async move {
        counting.list("default", &CallFilter::default(), 1, 0).await.unwrap().1
    };

    // Four writers at once; the flush that follows them waits for every one of their records.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move { (0..300).for_each(|n| log.record(record(w * 1000 + n))) })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    log.flush().await;
    assert_eq!(total(counting.clone()).await, 1200);
    let batches = counting.batches.lock().unwrap().clone();
    assert!(batches.iter().all(|&n| (1..=500).contains(&n)), "{batches:?}");
    assert_eq!(batches.iter().sum::<usize>(), 1200);

    log.flush().await;
    log.record(record(1));
    log.flush().await;
    assert_eq!(total(counting.clone()).await, 1201, "a flush with nothing queued, then one record");
}
