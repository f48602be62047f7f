//! Category switches: a disabled category disables its tools for users and calls.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ToolCategories {
    Table,
    Tenant,
    Name,
    Enabled,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ToolCategories::Table)
                    .col(string_len(ToolCategories::Tenant, 100))
                    .col(string_len(ToolCategories::Name, 100))
                    .col(boolean(ToolCategories::Enabled))
                    .col(timestamp_with_time_zone(ToolCategories::UpdatedAt))
                    .primary_key(Index::create().col(ToolCategories::Tenant).col(ToolCategories::Name))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ToolCategories::Table).to_owned()).await
    }
}
