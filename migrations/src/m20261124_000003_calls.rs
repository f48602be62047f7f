//! The call log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CallRecords {
    Table,
    Id,
    Tenant,
    ToolId,
    ToolName,
    ServerId,
    ServerName,
    PrincipalId,
    Groups,
    Arguments,
    ResultSummary,
    Status,
    ErrorCode,
    DurationMs,
    CorrelationId,
    GrantId,
    CalledAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CallRecords::Table)
                    .col(string_len(CallRecords::Id, 26).primary_key())
                    .col(string_len(CallRecords::Tenant, 100))
                    .col(string_len_null(CallRecords::ToolId, 26))
                    .col(string_len(CallRecords::ToolName, 200))
                    .col(string_len_null(CallRecords::ServerId, 26))
                    .col(string_len(CallRecords::ServerName, 100))
                    .col(string_len(CallRecords::PrincipalId, 200))
                    .col(json_binary(CallRecords::Groups))
                    .col(json_binary(CallRecords::Arguments))
                    .col(text_null(CallRecords::ResultSummary))
                    .col(string_len(CallRecords::Status, 20))
                    .col(string_len_null(CallRecords::ErrorCode, 40))
                    .col(double(CallRecords::DurationMs))
                    .col(string_len_null(CallRecords::CorrelationId, 128))
                    .col(string_len_null(CallRecords::GrantId, 26))
                    .col(timestamp_with_time_zone(CallRecords::CalledAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_call_records_tenant_called_at")
                    .table(CallRecords::Table)
                    .col(CallRecords::Tenant)
                    .col(CallRecords::CalledAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CallRecords::Table).to_owned()).await
    }
}
