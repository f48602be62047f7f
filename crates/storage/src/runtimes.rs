//! Replicas' heartbeats and runtime records, and the server status they combine into
//! (toolhub_domain::replica). On PostgreSQL a report takes a transaction-scoped advisory lock
//! per server, so that two replicas' reports on one server combine one after the other.

use async_trait::async_trait;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, QueryOrder, Set, Statement,
    sea_query::OnConflict,
};
use toolhub_domain::{
    Timestamp,
    ports::{PortResult, ReplicaRegistry, RuntimeReport},
    replica::{Mine, Replica, ReplicaRuntime},
    server::ServerStatus,
    upstream::ServerRef,
};

use crate::{
    Store, db_error,
    entities::{replicas, server_runtimes, tool_servers},
};

impl Store {
    /// See [`toolhub_domain::ports::ServerRepository::update_runtime`].
    pub(crate) async fn report_runtime(
        &self,
        server: &ServerRef,
        report: &RuntimeReport<'_>,
    ) -> PortResult<Option<ServerStatus>> {
        let txn = crate::begin_write(&self.db).await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            let lock = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
            let key = format!("runtime:{}", server.id);
            txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, lock, [key.into()]))
                .await
                .map_err(db_error)?;
        }
        if let Some(record) = report.record() {
            let row = server_runtimes::ActiveModel {
                server_id: Set(server.id.clone()),
                replica_id: Set(record.replica),
                tenant: Set(server.tenant.clone()),
                state: Set(record.state.as_str().to_owned()),
                error: Set(record.error),
                since: Set(record.since),
            };
            let upsert = OnConflict::columns([server_runtimes::Column::ServerId, server_runtimes::Column::ReplicaId])
                .update_columns([
                    server_runtimes::Column::State,
                    server_runtimes::Column::Error,
                    server_runtimes::Column::Since,
                ])
                .to_owned();
            server_runtimes::Entity::insert(row).on_conflict(upsert).exec(&txn).await.map_err(db_error)?;
        } else if report.mine == Mine::Gone {
            server_runtimes::Entity::delete_many()
                .filter(server_runtimes::Column::ServerId.eq(server.id.as_str()))
                .filter(server_runtimes::Column::ReplicaId.eq(report.replica))
                .exec(&txn)
                .await
                .map_err(db_error)?;
        }
        let stored = tool_servers::Entity::find_by_id(server.id.as_str())
            .filter(tool_servers::Column::Tenant.eq(server.tenant.as_str()))
            .one(&txn)
            .await
            .map_err(db_error)?;
        let Some(stored) = stored else {
            txn.commit().await.map_err(db_error)?;
            return Ok(None);
        };
        let stored_status = stored.status.parse::<ServerStatus>().map_err(toolhub_domain::DomainError::Storage)?;
        let live = live_runtimes(&txn, &server.id, report.live_since).await?;
        let status = report.status_to_store(stored_status, live.into_iter().map(|r| r.state));
        let state = report.state;
        let row = tool_servers::ActiveModel {
            status: Set(status.as_str().to_owned()),
            last_health_check: Set(state.last_health_check),
            last_startup_success: Set(state.last_startup_success),
            last_startup_error: Set(state.last_startup_error.clone()),
            consecutive_failures: Set(state.consecutive_failures),
            ..Default::default()
        };
        tool_servers::Entity::update_many()
            .set(row)
            .filter(tool_servers::Column::Id.eq(server.id.as_str()))
            .exec(&txn)
            .await
            .map_err(db_error)?;
        txn.commit().await.map_err(db_error)?;
        Ok(Some(status))
    }
}

/// The live replicas' records of a server, by replica start time.
async fn live_runtimes(
    db: &impl ConnectionTrait,
    server_id: &str,
    live_since: Timestamp,
) -> PortResult<Vec<ReplicaRuntime>> {
    let live = live_replicas(db, live_since).await?;
    let rows = server_runtimes::Entity::find()
        .filter(server_runtimes::Column::ServerId.eq(server_id))
        .all(db)
        .await
        .map_err(db_error)?;
    let mut runtimes = Vec::new();
    for replica in live {
        if let Some(row) = rows.iter().find(|row| row.replica_id == replica.id) {
            runtimes.push(ReplicaRuntime {
                replica: row.replica_id.clone(),
                state: row.state.parse().map_err(toolhub_domain::DomainError::Storage)?,
                error: row.error.clone(),
                since: row.since,
            });
        }
    }
    Ok(runtimes)
}

async fn live_replicas(db: &impl ConnectionTrait, live_since: Timestamp) -> PortResult<Vec<Replica>> {
    let rows = replicas::Entity::find()
        .filter(replicas::Column::HeartbeatAt.gte(live_since))
        .order_by_asc(replicas::Column::StartedAt)
        .order_by_asc(replicas::Column::Id)
        .all(db)
        .await
        .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|row| Replica { id: row.id, label: row.label, started_at: row.started_at, heartbeat_at: row.heartbeat_at })
        .collect())
}

/// Removes the replicas of `ids` and their records; the servers they had records of.
async fn remove_replicas(txn: &DatabaseTransaction, ids: Vec<String>) -> PortResult<Vec<ServerRef>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let records = server_runtimes::Entity::find()
        .filter(server_runtimes::Column::ReplicaId.is_in(ids.clone()))
        .all(txn)
        .await
        .map_err(db_error)?;
    server_runtimes::Entity::delete_many()
        .filter(server_runtimes::Column::ReplicaId.is_in(ids.clone()))
        .exec(txn)
        .await
        .map_err(db_error)?;
    replicas::Entity::delete_many().filter(replicas::Column::Id.is_in(ids)).exec(txn).await.map_err(db_error)?;
    let mut servers: Vec<ServerRef> =
        records.into_iter().map(|row| ServerRef { tenant: row.tenant, id: row.server_id }).collect();
    servers.sort_by(|a, b| a.id.cmp(&b.id));
    servers.dedup();
    Ok(servers)
}

#[async_trait]
impl ReplicaRegistry for Store {
    async fn heartbeat(&self, replica: &Replica) -> PortResult<()> {
        let row = replicas::ActiveModel {
            id: Set(replica.id.clone()),
            label: Set(replica.label.chars().take(200).collect()),
            started_at: Set(replica.started_at),
            heartbeat_at: Set(replica.heartbeat_at),
        };
        let upsert = OnConflict::column(replicas::Column::Id).update_column(replicas::Column::HeartbeatAt).to_owned();
        replicas::Entity::insert(row).on_conflict(upsert).exec(&self.db).await.map_err(db_error)?;
        Ok(())
    }

    async fn live(&self, live_since: Timestamp) -> PortResult<Vec<Replica>> {
        live_replicas(&self.db, live_since).await
    }

    async fn runtimes(&self, server_id: &str, live_since: Timestamp) -> PortResult<Vec<ReplicaRuntime>> {
        live_runtimes(&self.db, server_id, live_since).await
    }

    async fn expire(&self, live_since: Timestamp) -> PortResult<Vec<ServerRef>> {
        let txn = crate::begin_write(&self.db).await?;
        let dead: Vec<String> = replicas::Entity::find()
            .filter(replicas::Column::HeartbeatAt.lt(live_since))
            .all(&txn)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|row| row.id)
            .collect();
        let servers = remove_replicas(&txn, dead).await?;
        txn.commit().await.map_err(db_error)?;
        Ok(servers)
    }

    async fn leave(&self, replica: &str) -> PortResult<()> {
        let txn = crate::begin_write(&self.db).await?;
        remove_replicas(&txn, vec![replica.to_owned()]).await?;
        txn.commit().await.map_err(db_error)
    }
}
