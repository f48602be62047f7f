//! Replicas' runtime records and the status they combine into, on every store.

use chrono::Duration;
use toolhub_domain::{
    ports::RuntimeReport,
    replica::{Mine, Replica, Running},
    server::{RuntimeState, ServerStatus},
    upstream::ServerRef,
};

use crate::{
    harness::{Backend, TestDb, fresh},
    servers::server,
};

toolhub_test_support::on_every_store!(
    a_status_combines_the_live_replicas_and_a_dead_ones_records_expire,
    deleting_a_server_deletes_its_runtime_records,
);

fn replica(id: &str, at: chrono::DateTime<chrono::Utc>) -> Replica {
    Replica { id: id.into(), label: format!("host:{id}"), started_at: at, heartbeat_at: at }
}

fn state(status: ServerStatus) -> RuntimeState {
    RuntimeState {
        status,
        last_health_check: None,
        last_startup_success: None,
        last_startup_error: (status == ServerStatus::Error).then(|| "exited".to_owned()),
        consecutive_failures: 0,
    }
}

/// `replica` reports `mine` of `server` (supervision's report: not an operator's).
async fn report(
    db: &TestDb,
    server: &ServerRef,
    replica: &str,
    mine: Running,
    now: chrono::DateTime<chrono::Utc>,
) -> ServerStatus {
    let status = match mine {
        Running::Starting => ServerStatus::Starting,
        Running::Running => ServerStatus::Enabled,
        Running::Failed => ServerStatus::Error,
    };
    let state = state(status);
    let live_since = now - Duration::seconds(15);
    let report = RuntimeReport { replica, mine: Mine::Now(mine), state: &state, asked: false, at: now, live_since };
    db.servers().update_runtime(server, &report).await.unwrap().expect("the server exists")
}

async fn a_status_combines_the_live_replicas_and_a_dead_ones_records_expire(backend: Backend) {
    let db = fresh(backend).await;
    let mut stored = server("acme", "web");
    stored.status = ServerStatus::Enabled;
    db.servers().insert(&stored).await.unwrap();
    let web = ServerRef::from(&stored);
    let now = chrono::Utc::now();
    db.replicas().heartbeat(&replica("a", now)).await.unwrap();
    db.replicas().heartbeat(&replica("b", now)).await.unwrap();

    assert_eq!(report(&db, &web, "a", Running::Running, now).await, ServerStatus::Enabled);
    // B starting, then failing for good, while A runs it: it stays enabled.
    assert_eq!(report(&db, &web, "b", Running::Starting, now).await, ServerStatus::Enabled);
    assert_eq!(report(&db, &web, "b", Running::Failed, now).await, ServerStatus::Enabled);
    let live_since = now - Duration::seconds(15);
    let records = db.replicas().runtimes(&web.id, live_since).await.unwrap();
    let states: Vec<_> = records.iter().map(|r| (r.replica.as_str(), r.state, r.error.as_deref())).collect();
    assert_eq!(states, [("a", Running::Running, None), ("b", Running::Failed, Some("exited"))]);
    // Every live replica failed: error.
    assert_eq!(report(&db, &web, "a", Running::Failed, now).await, ServerStatus::Error);
    assert_eq!(db.servers().get("acme", &web.id).await.unwrap().unwrap().status, ServerStatus::Error);

    // A dies mid-start: its `starting` counts while it lives, not after it expired.
    assert_eq!(report(&db, &web, "a", Running::Starting, now).await, ServerStatus::Starting);
    let later = now + Duration::seconds(60);
    db.replicas().heartbeat(&replica("b", later)).await.unwrap();
    let orphaned = db.replicas().expire(later - Duration::seconds(15)).await.unwrap();
    assert_eq!(orphaned, std::slice::from_ref(&web), "A's records name its servers");
    let live: Vec<String> =
        db.replicas().live(later - Duration::seconds(15)).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(live, ["b"]);
    let same = state(ServerStatus::Starting);
    let recombine = RuntimeReport {
        replica: "b",
        mine: Mine::Same,
        state: &same,
        asked: false,
        at: later,
        live_since: later - Duration::seconds(15),
    };
    assert_eq!(
        db.servers().update_runtime(&web, &recombine).await.unwrap(),
        Some(ServerStatus::Error),
        "only B's failure is left"
    );

    // An operator's stop is stored as asked, and supervision does not undo it.
    let stopped = state(ServerStatus::Disabled);
    let stop = RuntimeReport {
        replica: "b",
        mine: Mine::Gone,
        state: &stopped,
        asked: true,
        at: later,
        live_since: later - Duration::seconds(15),
    };
    assert_eq!(db.servers().update_runtime(&web, &stop).await.unwrap(), Some(ServerStatus::Disabled));
    assert_eq!(report(&db, &web, "b", Running::Running, later).await, ServerStatus::Disabled);

    // Leaving removes the replica and its records.
    db.replicas().leave("b").await.unwrap();
    assert!(db.replicas().live(later - Duration::seconds(15)).await.unwrap().is_empty());
    assert!(db.replicas().runtimes(&web.id, now - Duration::days(1)).await.unwrap().is_empty());
}

async fn deleting_a_server_deletes_its_runtime_records(backend: Backend) {
    let db = fresh(backend).await;
    let stored = server("acme", "web");
    db.servers().insert(&stored).await.unwrap();
    let web = ServerRef::from(&stored);
    let now = chrono::Utc::now();
    db.replicas().heartbeat(&replica("a", now)).await.unwrap();
    report(&db, &web, "a", Running::Running, now).await;
    assert!(db.servers().delete("acme", &web.id).await.unwrap());
    assert!(db.replicas().runtimes(&web.id, now - Duration::days(1)).await.unwrap().is_empty());
    assert_eq!(db.replicas().expire(now + Duration::days(1)).await.unwrap(), [], "no records are left to name it");
}
