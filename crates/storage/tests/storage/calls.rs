//! The batching call log over a real database: nothing lost, batches capped, flush waits.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use toolhub_domain::{
    Timestamp,
    calls::{CallFilter, CallRecord, CallStatus},
    ports::{CallLog, CallLogRepository, PortResult},
    query::{ListQuery, Page},
};
use toolhub_storage::BatchingCallLog;

use crate::harness::{Backend, fresh};

toolhub_test_support::on_both_databases!(
    the_batching_log_writes_every_record_in_capped_batches,
    one_bad_record_never_costs_a_batch
);
toolhub_test_support::on_every_store!(
    stored_calls_count_usage_filter_page_and_prune,
    counted_calls_are_the_allowed_ones_of_the_grants
);

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

    async fn list(&self, tenant: &str, filter: &CallFilter, query: &ListQuery) -> PortResult<(Vec<CallRecord>, u64)> {
        self.store.list(tenant, filter, query).await
    }

    async fn counted_calls(
        &self,
        grant_ids: &[String],
        since: Timestamp,
    ) -> PortResult<Vec<toolhub_domain::calls::CountedCall>> {
        self.store.counted_calls(grant_ids, since).await
    }

    async fn prune(&self, before: Timestamp) -> PortResult<u64> {
        self.store.prune(before).await
    }
}

/// `limit` records after `offset`.
fn paged(limit: u64, offset: u64) -> ListQuery {
    ListQuery { page: Some(Page { size: limit, offset }), ..Default::default() }
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
    let counting = Arc::new(Counting { store: db.store().clone(), batches: Mutex::default() });
    let log = BatchingCallLog::start(counting.clone());
    let total = |counting: Arc<Counting>| async move {
        counting.list("default", &CallFilter::default(), &paged(1, 0)).await.unwrap().1
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

/// The call log's contract: stored records add to their tool's counters (refusals do not, the
/// average runs over every call, the last error is the latest failure's), list newest first
/// under filters with a total, and are pruned by age.
async fn stored_calls_count_usage_filter_page_and_prune(backend: Backend) {
    use toolhub_domain::{
        server::{NewToolServer, ToolServer},
        tool::reconcile,
        upstream::DiscoveredTool,
    };
    let t = fresh(backend).await;
    let now = chrono::Utc::now();
    let input = NewToolServer {
        name: "fixture".into(),
        display_name: "Fixture".into(),
        base_url: Some("https://fixture.example/mcp".into()),
        ..Default::default()
    };
    let server = ToolServer::register(input, toolhub_domain::new_id(), "default".into(), None, now).unwrap();
    t.servers().insert(&server).await.unwrap();
    let listed = DiscoveredTool::new("echo", "echoes", serde_json::json!({"type": "object"}));
    t.tools().apply(&reconcile(&server, &[], &[listed], "test", now)).await.unwrap();
    let tool = t.tools().find_by_name("default", "echo").await.unwrap().remove(0);

    let call = |n: usize, status: CallStatus, ms: f64, ago: i64| CallRecord {
        tool_id: Some(tool.id.clone()),
        server_id: Some(server.id.clone()),
        status,
        duration_ms: ms,
        result_summary: Some(format!("call {n}")),
        called_at: now - chrono::Duration::minutes(ago),
        ..record(n)
    };
    t.calls()
        .store(&[
            call(1, CallStatus::Success, 10.0, 30),
            call(2, CallStatus::Failed, 30.0, 20),
            call(3, CallStatus::Rejected, 1000.0, 10),
        ])
        .await
        .unwrap();
    t.calls().store(&[call(4, CallStatus::ToolError, 20.0, 5)]).await.unwrap();

    let counted = t.tools().get("default", &tool.id).await.unwrap().unwrap();
    assert_eq!((counted.total_calls, counted.total_errors), (3, 2), "the refusal is not the tool's usage");
    assert_eq!(counted.avg_response_time_ms, Some(20.0));
    assert_eq!(counted.last_error.as_deref(), Some("call 4"));
    assert_eq!(counted.last_called.map(|t| t.timestamp()), Some((now - chrono::Duration::minutes(5)).timestamp()));

    let all = CallFilter::default();
    let (page, total) = t.calls().list("default", &all, &paged(2, 0)).await.unwrap();
    assert_eq!(total, 4);
    let summaries: Vec<_> = page.iter().map(|r| r.result_summary.clone().unwrap()).collect();
    assert_eq!(summaries, ["call 4", "call 3"], "newest first");
    let failed = CallFilter { status: Some(CallStatus::Failed), ..Default::default() };
    assert_eq!(t.calls().list("default", &failed, &paged(10, 0)).await.unwrap().1, 1);
    let by_name = CallFilter { tool: Some("echo".into()), ..Default::default() };
    assert_eq!(t.calls().list("default", &by_name, &paged(10, 0)).await.unwrap().1, 4, "a tool by name");
    let by_id = CallFilter { tool: Some(tool.id.clone()), ..Default::default() };
    assert_eq!(t.calls().list("default", &by_id, &paged(10, 0)).await.unwrap().1, 4, "a tool by id");
    assert_eq!(t.calls().list("other", &all, &paged(10, 0)).await.unwrap().1, 0, "tenants stay apart");

    assert_eq!(t.calls().prune(now - chrono::Duration::minutes(15)).await.unwrap(), 2);
    assert_eq!(t.calls().list("default", &all, &paged(10, 0)).await.unwrap().1, 2);
}

/// PostgreSQL refuses NUL in text and JSON: such a record is stored with U+FFFD instead, and a
/// record that truly cannot be stored (here, an id written twice) is lost alone and counted,
/// not with its batch.
async fn one_bad_record_never_costs_a_batch(backend: Backend) {
    let db = fresh(backend).await;
    let log = BatchingCallLog::start(Arc::new(db.store().clone()));
    let with_nul = CallRecord {
        tool_name: "ec\u{0}ho".into(),
        arguments: serde_json::json!({"k\u{0}": "v\u{0}", "list": ["\u{0}"]}),
        result_summary: Some("bad\u{0}".into()),
        ..record(1)
    };
    let first = record(2);
    let again = CallRecord { arguments: serde_json::json!({"n": "the same id again"}), ..first.clone() };
    for r in [with_nul.clone(), first, again, record(3)] {
        log.record(r);
    }
    log.flush().await;
    let (stored, total) = db.calls().list("default", &CallFilter::default(), &paged(10, 0)).await.unwrap();
    assert_eq!(total, 3, "everything but the duplicate");
    assert_eq!(log.lost(), 1);
    let kept = stored.iter().find(|r| r.id == with_nul.id).expect("the record with NUL");
    assert_eq!(kept.tool_name, "ec\u{FFFD}ho");
    assert_eq!(kept.arguments, serde_json::json!({"k\u{FFFD}": "v\u{FFFD}", "list": ["\u{FFFD}"]}));
}

/// What quotas count again after a restart: allowed calls under the named grants since a time.
async fn counted_calls_are_the_allowed_ones_of_the_grants(backend: Backend) {
    let t = fresh(backend).await;
    let now = chrono::Utc::now();
    let made = |n: usize, grant: Option<&str>, status: CallStatus, ago_hours: i64| CallRecord {
        grant_id: grant.map(Into::into),
        status,
        called_at: now - chrono::Duration::hours(ago_hours),
        ..record(n)
    };
    let records = [
        made(1, Some("g1"), CallStatus::Success, 1),
        made(2, Some("g1"), CallStatus::Failed, 2),
        made(3, Some("g1"), CallStatus::Rejected, 1),
        made(4, Some("g2"), CallStatus::Success, 1),
        made(5, Some("g1"), CallStatus::ToolError, 30),
        made(6, None, CallStatus::Success, 1),
    ];
    t.calls().store(&records).await.unwrap();
    let counted = t.calls().counted_calls(&["g1".into()], now - chrono::Duration::days(1)).await.unwrap();
    let who: Vec<&str> = counted.iter().map(|c| c.principal_id.as_str()).collect();
    assert_eq!(who, ["user-2", "user-1"], "g1's allowed calls of the last day, oldest first");
    assert!(counted.iter().all(|c| c.grant_id == "g1" && c.tenant == "default"));
}
