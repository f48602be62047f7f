//! Indexes for the call log's filters: by user (what a non-administrator's listing always
//! filters on), by tool and by server, each newest first within the tenant.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CallRecords {
    Table,
    Tenant,
    PrincipalId,
    ToolName,
    ServerName,
    CalledAt,
}

const INDEXES: [(&str, CallRecords); 3] = [
    ("ix_call_records_tenant_principal_called_at", CallRecords::PrincipalId),
    ("ix_call_records_tenant_tool_called_at", CallRecords::ToolName),
    ("ix_call_records_tenant_server_called_at", CallRecords::ServerName),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(CallRecords::Table)
                        .col(CallRecords::Tenant)
                        .col(column)
                        .col(CallRecords::CalledAt)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager.drop_index(Index::drop().name(name).table(CallRecords::Table).to_owned()).await?;
        }
        Ok(())
    }
}
