//! Replica events over PostgreSQL's LISTEN/NOTIFY: every replica sharing a database publishes
//! on one channel and listens to it, skipping its own events (docs/operations.md, Replicas).

use std::{collections::BTreeSet, future::Future, sync::Arc};

use sea_orm::{DatabaseConnection, sqlx};
use serde::{Deserialize, Serialize};
use toolhub_domain::ports::{ReplicaBus, ReplicaEvent};

/// The PostgreSQL channel of replica events.
pub const CHANNEL: &str = "toolhub_replicas";

/// Events waiting to be published at most; past this they are dropped (the periodic reload
/// catches up).
const QUEUE: usize = 1024;

#[derive(Serialize, Deserialize)]
struct Envelope {
    origin: String,
    event: ReplicaEvent,
}

/// Publishes this replica's events with `NOTIFY` and hands the others' to a follower.
pub struct PgReplicaBus {
    origin: String,
    queue: tokio::sync::mpsc::Sender<ReplicaEvent>,
    pool: sqlx::PgPool,
}

impl PgReplicaBus {
    /// A bus when `db` is PostgreSQL (which replicas may share); none for SQLite (one process).
    pub fn for_database(db: &DatabaseConnection) -> Option<Arc<Self>> {
        (db.get_database_backend() == sea_orm::DbBackend::Postgres).then(|| Self::start(db))
    }

    /// A bus on `db`'s pool (a PostgreSQL connection), with a name of its own; events are
    /// sent from a task, identical ones of a burst once.
    pub fn start(db: &DatabaseConnection) -> Arc<Self> {
        let pool = db.get_postgres_connection_pool().clone();
        let origin = ulid::Ulid::new().to_string();
        let (queue, mut events) = tokio::sync::mpsc::channel::<ReplicaEvent>(QUEUE);
        let (sender_pool, sender_origin) = (pool.clone(), origin.clone());
        tokio::spawn(async move {
            while let Some(first) = events.recv().await {
                let mut burst = vec![first];
                while let Ok(more) = events.try_recv() {
                    burst.push(more);
                }
                let unique: BTreeSet<String> = burst
                    .into_iter()
                    .filter_map(|event| serde_json::to_string(&Envelope { origin: sender_origin.clone(), event }).ok())
                    .collect();
                for payload in unique {
                    let sent =
                        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(&payload).execute(&sender_pool);
                    if let Err(error) = sent.await {
                        tracing::warn!(%error, "cannot tell the other replicas");
                    }
                }
            }
        });
        Arc::new(Self { origin, queue, pool })
    }

    /// Listens for the other replicas' events and hands each to `follow`, in order. After a
    /// lost connection (events may have been missed) it hands `Access`, `Catalogue` and `Auth`,
    /// so that everything is read again.
    pub async fn listen<F, Fut>(&self, follow: F) -> Result<(), sqlx::Error>
    where
        F: Fn(ReplicaEvent) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        let origin = self.origin.clone();
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(notification)) => match serde_json::from_str::<Envelope>(notification.payload()) {
                        Ok(envelope) if envelope.origin != origin => follow(envelope.event).await,
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "an unreadable replica event"),
                    },
                    // The connection was lost and is made again: read everything again.
                    Ok(None) => {
                        for event in [ReplicaEvent::Access, ReplicaEvent::Catalogue, ReplicaEvent::Auth] {
                            follow(event).await;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "replica events: the listener failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(())
    }
}

impl ReplicaBus for PgReplicaBus {
    fn publish(&self, event: ReplicaEvent) {
        if self.queue.try_send(event).is_err() {
            tracing::debug!("replica event queue full; the periodic reload will catch up");
        }
    }
}
