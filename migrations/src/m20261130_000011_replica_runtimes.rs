//! Replicas and their runtime records (docs/operations.md, Replicas): each replica heartbeats
//! in `replicas` and keeps a row per server it runs in `server_runtimes`; a server's stored
//! status combines the live replicas' rows.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Replicas {
    Table,
    Id,
    Label,
    StartedAt,
    HeartbeatAt,
}

#[derive(DeriveIden)]
enum ServerRuntimes {
    Table,
    ServerId,
    ReplicaId,
    Tenant,
    State,
    Error,
    Since,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Replicas::Table)
                    .col(string_len(Replicas::Id, 64).primary_key())
                    .col(string_len(Replicas::Label, 200))
                    .col(timestamp_with_time_zone(Replicas::StartedAt))
                    .col(timestamp_with_time_zone(Replicas::HeartbeatAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServerRuntimes::Table)
                    .col(string_len(ServerRuntimes::ServerId, 64))
                    .col(string_len(ServerRuntimes::ReplicaId, 64))
                    .col(string_len(ServerRuntimes::Tenant, 100))
                    .col(string_len(ServerRuntimes::State, 16))
                    .col(text_null(ServerRuntimes::Error))
                    .col(timestamp_with_time_zone(ServerRuntimes::Since))
                    .primary_key(Index::create().col(ServerRuntimes::ServerId).col(ServerRuntimes::ReplicaId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_server_runtimes_replica_id")
                    .table(ServerRuntimes::Table)
                    .col(ServerRuntimes::ReplicaId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ServerRuntimes::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Replicas::Table).to_owned()).await
    }
}
