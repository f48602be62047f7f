//! Toolkits (named bundles of tools across servers) and their tools.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Toolkits {
    Table,
    Id,
    Tenant,
    Name,
    DisplayName,
    Description,
    OwnerId,
    ServerId,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ToolkitTools {
    Table,
    Id,
    Tenant,
    ToolkitId,
    /// The server tool this stands for; null for a custom or unmatched discovered tool.
    ToolId,
    Name,
    Description,
    Kind,
    Parameters,
    /// The custom tool's config, sealed whole (it may hold credentials).
    ConfigSealed,
    SortOrder,
    DiscoveredAt,
    DiscoveredBy,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Toolkits::Table)
                    .col(string_len(Toolkits::Id, 26).primary_key())
                    .col(string_len(Toolkits::Tenant, 100))
                    .col(string_len(Toolkits::Name, 100))
                    .col(string_len(Toolkits::DisplayName, 200))
                    .col(text_null(Toolkits::Description))
                    .col(string_len(Toolkits::OwnerId, 200))
                    .col(string_len_null(Toolkits::ServerId, 26))
                    .col(big_integer(Toolkits::Version))
                    .col(string_len(Toolkits::CreatedBy, 200))
                    .col(timestamp_with_time_zone(Toolkits::CreatedAt))
                    .col(timestamp_with_time_zone(Toolkits::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_toolkits_tenant_name")
                    .table(Toolkits::Table)
                    .col(Toolkits::Tenant)
                    .col(Toolkits::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ToolkitTools::Table)
                    .col(string_len(ToolkitTools::Id, 26).primary_key())
                    .col(string_len(ToolkitTools::Tenant, 100))
                    .col(string_len(ToolkitTools::ToolkitId, 26))
                    .col(string_len_null(ToolkitTools::ToolId, 26))
                    .col(string_len_null(ToolkitTools::Name, 128))
                    .col(text_null(ToolkitTools::Description))
                    .col(string_len(ToolkitTools::Kind, 64))
                    .col(json_binary_null(ToolkitTools::Parameters))
                    .col(text_null(ToolkitTools::ConfigSealed))
                    .col(integer(ToolkitTools::SortOrder))
                    .col(timestamp_with_time_zone_null(ToolkitTools::DiscoveredAt))
                    .col(string_len_null(ToolkitTools::DiscoveredBy, 100))
                    .col(timestamp_with_time_zone(ToolkitTools::CreatedAt))
                    .col(timestamp_with_time_zone(ToolkitTools::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_toolkit_tools_toolkit")
                    .table(ToolkitTools::Table)
                    .col(ToolkitTools::Tenant)
                    .col(ToolkitTools::ToolkitId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_toolkit_tools_tool")
                    .table(ToolkitTools::Table)
                    .col(ToolkitTools::Tenant)
                    .col(ToolkitTools::ToolId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ToolkitTools::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Toolkits::Table).to_owned()).await
    }
}
