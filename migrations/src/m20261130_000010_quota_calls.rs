//! Calls counted under grants' and rules' limits, shared by replicas (PostgreSQL): a sliding
//! hour and day need each call's time; rows older than a day are pruned.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum QuotaCalls {
    Table,
    Id,
    Key,
    CalledAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(QuotaCalls::Table)
                    .col(pk_auto(QuotaCalls::Id))
                    .col(string_len(QuotaCalls::Key, 400))
                    .col(timestamp_with_time_zone(QuotaCalls::CalledAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_quota_calls_key_called_at")
                    .table(QuotaCalls::Table)
                    .col(QuotaCalls::Key)
                    .col(QuotaCalls::CalledAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(QuotaCalls::Table).to_owned()).await
    }
}
