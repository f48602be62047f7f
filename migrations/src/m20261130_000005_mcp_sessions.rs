//! The MCP gateway's sessions, so they outlive a restart and reach every replica.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum McpSessions {
    Table,
    Id,
    State,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(McpSessions::Table)
                    .col(string_len(McpSessions::Id, 128).primary_key())
                    .col(json_binary(McpSessions::State))
                    .col(timestamp_with_time_zone(McpSessions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_mcp_sessions_created_at")
                    .table(McpSessions::Table)
                    .col(McpSessions::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(McpSessions::Table).to_owned()).await
    }
}
