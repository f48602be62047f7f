//! OpenAPI tool servers: where a server's OpenAPI document is and which operations become tools.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ToolServers {
    Table,
    /// `{spec, function_filter}`; null for servers of other transports.
    Openapi,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(ToolServers::Table).add_column(json_binary_null(ToolServers::Openapi)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(ToolServers::Table).drop_column(ToolServers::Openapi).to_owned()).await
    }
}
