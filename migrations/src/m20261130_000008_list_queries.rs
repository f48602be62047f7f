//! Indexes for list queries (`q`, `sort`, pages): the tool list's own order and its name, and
//! the server list's order, each within the tenant. On PostgreSQL text is sorted by bytes
//! (`COLLATE "C"`, as list queries ask), so the name index is made that way to serve them.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name, table, and columns (`{C}` marks where PostgreSQL's byte collation goes).
const INDEXES: [(&str, &str, &str); 2] = [
    ("ix_tools_tenant_order", "tools", "tenant, server_id, sort_order, name{C}"),
    ("ix_tool_servers_tenant_created", "tool_servers", "tenant, created_at, id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let collate = match manager.get_database_backend() {
            DbBackend::Postgres => " COLLATE \"C\"",
            _ => "",
        };
        for (name, table, columns) in INDEXES {
            let columns = columns.replace("{C}", collate);
            let sql = format!("CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})");
            manager.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _, _) in INDEXES {
            manager.get_connection().execute_unprepared(&format!("DROP INDEX IF EXISTS {name}")).await?;
        }
        Ok(())
    }
}
