//! Toolhub's schema. Every change is a new migration; applied migrations are never edited.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_initial;
mod m20261124_000002_access;
mod m20261124_000003_calls;
mod m20261130_000004_call_filters;
mod m20261130_000005_mcp_sessions;
mod m20261130_000006_toolkits;
mod m20261130_000007_openapi_servers;
mod m20261130_000008_list_queries;
mod m20261130_000009_categories;
mod m20261130_000010_quota_calls;
mod m20261130_000011_replica_runtimes;
mod m20261130_000012_quota_buckets;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            Box::new(m20261124_000002_access::Migration),
            Box::new(m20261124_000003_calls::Migration),
            Box::new(m20261130_000004_call_filters::Migration),
            Box::new(m20261130_000005_mcp_sessions::Migration),
            Box::new(m20261130_000006_toolkits::Migration),
            Box::new(m20261130_000007_openapi_servers::Migration),
            Box::new(m20261130_000008_list_queries::Migration),
            Box::new(m20261130_000009_categories::Migration),
            Box::new(m20261130_000010_quota_calls::Migration),
            Box::new(m20261130_000011_replica_runtimes::Migration),
            Box::new(m20261130_000012_quota_buckets::Migration),
        ]
    }
}
