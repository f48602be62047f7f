//! Tool servers, their tools, users and API keys.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ToolServers {
    Table,
    Id,
    Tenant,
    Name,
    DisplayName,
    Description,
    BaseUrl,
    TransportType,
    Command,
    Args,
    Env,
    Headers,
    OauthConfig,
    Timeout,
    AutoStart,
    AutoUpdate,
    MaxFailures,
    Status,
    IsBuiltin,
    LastHealthCheck,
    LastStartupSuccess,
    LastStartupError,
    ConsecutiveFailures,
    Category,
    Tags,
    Version,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Tools {
    Table,
    Id,
    Tenant,
    ServerId,
    Name,
    DisplayName,
    Description,
    ArgsSchema,
    OutputSchema,
    Annotations,
    Status,
    IsAvailable,
    BypassWhenUnavailable,
    Category,
    SortOrder,
    DiscoveredAt,
    DiscoveredBy,
    TotalCalls,
    TotalErrors,
    LastCalled,
    LastError,
    AvgResponseTimeMs,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Tenant,
    Id,
    Role,
    Groups,
    DisplayName,
    Disabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Tenant,
    PrincipalId,
    Role,
    Name,
    KeyHash,
    KeyPrefix,
    ExpiresAt,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ToolServers::Table)
                    .col(string_len(ToolServers::Id, 26).primary_key())
                    .col(string_len(ToolServers::Tenant, 100))
                    .col(string_len(ToolServers::Name, 100))
                    .col(string_len(ToolServers::DisplayName, 200))
                    .col(text_null(ToolServers::Description))
                    .col(string_len_null(ToolServers::BaseUrl, 2083))
                    .col(string_len(ToolServers::TransportType, 20))
                    .col(text_null(ToolServers::Command))
                    .col(json_binary(ToolServers::Args))
                    .col(json_binary(ToolServers::Env))
                    .col(json_binary(ToolServers::Headers))
                    .col(json_binary_null(ToolServers::OauthConfig))
                    .col(integer(ToolServers::Timeout))
                    .col(boolean(ToolServers::AutoStart))
                    .col(boolean(ToolServers::AutoUpdate))
                    .col(integer(ToolServers::MaxFailures))
                    .col(string_len(ToolServers::Status, 20))
                    .col(boolean(ToolServers::IsBuiltin))
                    .col(timestamp_with_time_zone_null(ToolServers::LastHealthCheck))
                    .col(timestamp_with_time_zone_null(ToolServers::LastStartupSuccess))
                    .col(text_null(ToolServers::LastStartupError))
                    .col(integer(ToolServers::ConsecutiveFailures))
                    .col(string_len_null(ToolServers::Category, 100))
                    .col(json_binary(ToolServers::Tags))
                    .col(big_integer(ToolServers::Version))
                    .col(timestamp_with_time_zone(ToolServers::CreatedAt))
                    .col(timestamp_with_time_zone(ToolServers::UpdatedAt))
                    .col(string_len_null(ToolServers::CreatedBy, 200))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_tool_servers_tenant_name")
                    .table(ToolServers::Table)
                    .col(ToolServers::Tenant)
                    .col(ToolServers::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tools::Table)
                    .col(string_len(Tools::Id, 26).primary_key())
                    .col(string_len(Tools::Tenant, 100))
                    .col(string_len(Tools::ServerId, 26))
                    .col(string_len(Tools::Name, 200))
                    .col(string_len(Tools::DisplayName, 200))
                    .col(text_null(Tools::Description))
                    .col(json_binary_null(Tools::ArgsSchema))
                    .col(json_binary_null(Tools::OutputSchema))
                    .col(json_binary_null(Tools::Annotations))
                    .col(string_len(Tools::Status, 20))
                    .col(boolean(Tools::IsAvailable))
                    .col(boolean(Tools::BypassWhenUnavailable))
                    .col(string_len_null(Tools::Category, 100))
                    .col(integer(Tools::SortOrder))
                    .col(timestamp_with_time_zone_null(Tools::DiscoveredAt))
                    .col(string_len_null(Tools::DiscoveredBy, 50))
                    .col(big_integer(Tools::TotalCalls))
                    .col(big_integer(Tools::TotalErrors))
                    .col(timestamp_with_time_zone_null(Tools::LastCalled))
                    .col(text_null(Tools::LastError))
                    .col(double_null(Tools::AvgResponseTimeMs))
                    .col(timestamp_with_time_zone(Tools::CreatedAt))
                    .col(timestamp_with_time_zone(Tools::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tools_server")
                            .from(Tools::Table, Tools::ServerId)
                            .to(ToolServers::Table, ToolServers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_tools_server_name")
                    .table(Tools::Table)
                    .col(Tools::ServerId)
                    .col(Tools::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(string_len(Users::Tenant, 100))
                    .col(string_len(Users::Id, 200))
                    .col(string_len(Users::Role, 20))
                    .col(json_binary(Users::Groups))
                    .col(string_len_null(Users::DisplayName, 200))
                    .col(boolean(Users::Disabled))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .primary_key(Index::create().col(Users::Tenant).col(Users::Id))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(string_len(ApiKeys::Id, 26).primary_key())
                    .col(string_len(ApiKeys::Tenant, 100))
                    .col(string_len(ApiKeys::PrincipalId, 200))
                    .col(string_len(ApiKeys::Role, 20))
                    .col(string_len(ApiKeys::Name, 200))
                    .col(string_len_uniq(ApiKeys::KeyHash, 64))
                    .col(string_len(ApiKeys::KeyPrefix, 16))
                    .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ApiKeys::Table.into_iden(),
            Users::Table.into_iden(),
            Tools::Table.into_iden(),
            ToolServers::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
