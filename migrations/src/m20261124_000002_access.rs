//! Grants (user, group and public access to tools and servers) and role rules.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Grants {
    Table,
    Id,
    Tenant,
    SubjectKind,
    SubjectId,
    TargetKind,
    TargetId,
    AccessLevel,
    RateLimitPerHour,
    RateLimitPerDay,
    AllowedHours,
    AllowedDays,
    ExpiresAt,
    GrantedBy,
    GrantedAt,
    UpdatedAt,
    UsageCount,
    LastUsed,
}

#[derive(DeriveIden)]
enum RoleRules {
    Table,
    Id,
    Tenant,
    Role,
    /// Empty when unset, so that uniqueness holds on both databases (NULLs are distinct).
    ToolPattern,
    ServerPattern,
    AccessLevel,
    RateLimitPerHour,
    RateLimitPerDay,
    AllowedHours,
    AllowedDays,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Grants::Table)
                    .col(string_len(Grants::Id, 26).primary_key())
                    .col(string_len(Grants::Tenant, 100))
                    .col(string_len(Grants::SubjectKind, 10))
                    .col(string_len(Grants::SubjectId, 200))
                    .col(string_len(Grants::TargetKind, 10))
                    .col(string_len(Grants::TargetId, 26))
                    .col(string_len(Grants::AccessLevel, 10))
                    .col(integer_null(Grants::RateLimitPerHour))
                    .col(integer_null(Grants::RateLimitPerDay))
                    .col(json_binary_null(Grants::AllowedHours))
                    .col(json_binary_null(Grants::AllowedDays))
                    .col(timestamp_with_time_zone_null(Grants::ExpiresAt))
                    .col(string_len(Grants::GrantedBy, 200))
                    .col(timestamp_with_time_zone(Grants::GrantedAt))
                    .col(timestamp_with_time_zone(Grants::UpdatedAt))
                    .col(big_integer(Grants::UsageCount))
                    .col(timestamp_with_time_zone_null(Grants::LastUsed))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_grants_subject_target")
                    .table(Grants::Table)
                    .col(Grants::Tenant)
                    .col(Grants::SubjectKind)
                    .col(Grants::SubjectId)
                    .col(Grants::TargetKind)
                    .col(Grants::TargetId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoleRules::Table)
                    .col(string_len(RoleRules::Id, 26).primary_key())
                    .col(string_len(RoleRules::Tenant, 100))
                    .col(string_len(RoleRules::Role, 20))
                    .col(string_len(RoleRules::ToolPattern, 200))
                    .col(string_len(RoleRules::ServerPattern, 200))
                    .col(string_len(RoleRules::AccessLevel, 10))
                    .col(integer_null(RoleRules::RateLimitPerHour))
                    .col(integer_null(RoleRules::RateLimitPerDay))
                    .col(json_binary_null(RoleRules::AllowedHours))
                    .col(json_binary_null(RoleRules::AllowedDays))
                    .col(string_len(RoleRules::CreatedBy, 200))
                    .col(timestamp_with_time_zone(RoleRules::CreatedAt))
                    .col(timestamp_with_time_zone(RoleRules::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_role_rules_role_patterns")
                    .table(RoleRules::Table)
                    .col(RoleRules::Tenant)
                    .col(RoleRules::Role)
                    .col(RoleRules::ToolPattern)
                    .col(RoleRules::ServerPattern)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RoleRules::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Grants::Table).to_owned()).await
    }
}
