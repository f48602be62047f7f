//! Calls under limits counted per key and minute instead of one row per call: counting a
//! key's day then reads at most 1,441 rows however many calls it made (docs/operations.md,
//! Replicas). Counts of `quota_calls` carry over on PostgreSQL (the only backend that used it).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum QuotaBuckets {
    Table,
    Key,
    Minute,
    Calls,
}

#[derive(DeriveIden)]
enum QuotaCalls {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(QuotaBuckets::Table)
                    .col(string_len(QuotaBuckets::Key, 400))
                    .col(timestamp_with_time_zone(QuotaBuckets::Minute))
                    .col(integer(QuotaBuckets::Calls))
                    .primary_key(Index::create().col(QuotaBuckets::Key).col(QuotaBuckets::Minute))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "INSERT INTO quota_buckets (key, minute, calls) \
                     SELECT key, date_trunc('minute', called_at), count(*) FROM quota_calls GROUP BY 1, 2",
                )
                .await?;
        }
        manager.drop_table(Table::drop().table(QuotaCalls::Table).to_owned()).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("the per-call quota rows cannot be restored from per-minute counts".into()))
    }
}
