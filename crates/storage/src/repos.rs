//! The repository ports on sea-orm.

use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, sea_query::OnConflict,
};
use toolhub_domain::{
    Timestamp,
    api_key::ApiKey,
    category::CategorySwitch,
    ports::{
        ApiKeyRepository, CategoryRepository, PortResult, RuntimeReport, ServerRepository, SessionRepository,
        ToolRepository, UserRepository,
    },
    principal::User,
    query::ListQuery,
    server::{ServerFilter, ServerStatus, ToolServer},
    tool::{Reconciliation, Tool, ToolStatus},
    upstream::ServerRef,
};

use crate::{
    Store, db_error,
    entities::{api_keys, mcp_sessions, tool_categories, tool_servers, tools, users},
    mapping,
};

#[async_trait]
impl ServerRepository for Store {
    async fn insert(&self, server: &ToolServer) -> PortResult<()> {
        let row = mapping::server_to_row(server, self.cipher.as_ref()).into_active_model().reset_all();
        tool_servers::Entity::insert(row).exec_without_returning(&self.db).await.map_err(db_error)?;
        Ok(())
    }

    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<ToolServer>> {
        tool_servers::Entity::find_by_id(id.to_owned())
            .filter(tool_servers::Column::Tenant.eq(tenant))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(|row| mapping::server_from_row(row, self.cipher.as_ref()))
            .transpose()
    }

    async fn list(&self, tenant: &str, filter: ServerFilter) -> PortResult<Vec<ToolServer>> {
        let mut query = tool_servers::Entity::find().filter(tool_servers::Column::Tenant.eq(tenant));
        if let Some(status) = filter.status {
            query = query.filter(tool_servers::Column::Status.eq(status.as_str()));
        }
        if !filter.include_builtin {
            query = query.filter(tool_servers::Column::IsBuiltin.eq(false));
        }
        query
            .order_by_asc(tool_servers::Column::CreatedAt)
            .order_by_asc(tool_servers::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|row| mapping::server_from_row(row, self.cipher.as_ref()))
            .collect()
    }

    async fn query(&self, tenant: &str, query: &ListQuery) -> PortResult<(Vec<ToolServer>, u64)> {
        let select = tool_servers::Entity::find().filter(tool_servers::Column::Tenant.eq(tenant));
        let then = |s: sea_orm::Select<tool_servers::Entity>| {
            s.order_by_asc(tool_servers::Column::CreatedAt).order_by_asc(tool_servers::Column::Id)
        };
        let (rows, total) = crate::query::run(&self.db, (select, crate::query::columns), query, then).await?;
        let servers = rows.into_iter().map(|row| mapping::server_from_row(row, self.cipher.as_ref()));
        Ok((servers.collect::<PortResult<_>>()?, total))
    }

    async fn update(&self, server: &ToolServer, expected_version: i64) -> PortResult<bool> {
        let row = mapping::server_to_row(server, self.cipher.as_ref()).into_active_model().reset_all();
        let result = tool_servers::Entity::update_many()
            .set(row)
            .filter(tool_servers::Column::Id.eq(server.id.as_str()))
            .filter(tool_servers::Column::Tenant.eq(server.tenant.as_str()))
            .filter(tool_servers::Column::Version.eq(expected_version))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool> {
        let result = tool_servers::Entity::delete_many()
            .filter(tool_servers::Column::Id.eq(id))
            .filter(tool_servers::Column::Tenant.eq(tenant))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        if result.rows_affected == 1 {
            // The replicas' records of it go with it.
            crate::entities::server_runtimes::Entity::delete_many()
                .filter(crate::entities::server_runtimes::Column::ServerId.eq(id))
                .exec(&self.db)
                .await
                .map_err(db_error)?;
        }
        Ok(result.rows_affected == 1)
    }

    async fn update_runtime(&self, server: &ServerRef, report: &RuntimeReport<'_>) -> PortResult<Option<ServerStatus>> {
        self.report_runtime(server, report).await
    }

    async fn list_to_resume(&self) -> PortResult<Vec<ToolServer>> {
        tool_servers::Entity::find()
            .filter(tool_servers::Column::AutoStart.eq(true))
            .filter(
                tool_servers::Column::Status.is_in([ServerStatus::Enabled.as_str(), ServerStatus::Starting.as_str()]),
            )
            .order_by_asc(tool_servers::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|row| mapping::server_from_row(row, self.cipher.as_ref()))
            .collect()
    }
}

fn ordered_tools(query: sea_orm::Select<tools::Entity>) -> sea_orm::Select<tools::Entity> {
    query.order_by_asc(tools::Column::ServerId).order_by_asc(tools::Column::SortOrder).order_by_asc(tools::Column::Name)
}

#[async_trait]
impl ToolRepository for Store {
    async fn insert(&self, tool: &Tool) -> PortResult<()> {
        let row = mapping::tool_to_row(tool).into_active_model().reset_all();
        tools::Entity::insert(row).exec_without_returning(&self.db).await.map_err(db_error)?;
        Ok(())
    }

    async fn list_for_servers(&self, tenant: &str, server_ids: &[String]) -> PortResult<Vec<Tool>> {
        if server_ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = tools::Entity::find()
            .filter(tools::Column::Tenant.eq(tenant))
            .filter(tools::Column::ServerId.is_in(server_ids.iter().cloned()));
        self.tools(ordered_tools(query)).await
    }

    async fn list_all(&self, tenant: &str) -> PortResult<Vec<Tool>> {
        self.tools(ordered_tools(tools::Entity::find().filter(tools::Column::Tenant.eq(tenant)))).await
    }

    async fn find_by_name(&self, tenant: &str, name: &str) -> PortResult<Vec<Tool>> {
        let query = tools::Entity::find().filter(tools::Column::Tenant.eq(tenant)).filter(tools::Column::Name.eq(name));
        self.tools(ordered_tools(query)).await
    }

    async fn page(&self, tenant: &str, server_id: &str, limit: u64, offset: u64) -> PortResult<(Vec<Tool>, u64)> {
        let query = tools::Entity::find()
            .filter(tools::Column::Tenant.eq(tenant))
            .filter(tools::Column::ServerId.eq(server_id));
        let total = query.clone().count(&self.db).await.map_err(db_error)?;
        let page = self.tools(ordered_tools(query).limit(limit).offset(offset)).await?;
        Ok((page, total))
    }

    async fn query(&self, tenant: &str, query: &ListQuery) -> PortResult<(Vec<Tool>, u64)> {
        let select = tools::Entity::find().filter(tools::Column::Tenant.eq(tenant));
        let (rows, total) = crate::query::run(&self.db, (select, crate::query::columns), query, ordered_tools).await?;
        Ok((rows.into_iter().map(mapping::tool_from_row).collect::<PortResult<_>>()?, total))
    }

    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<Tool>> {
        tools::Entity::find_by_id(id.to_owned())
            .filter(tools::Column::Tenant.eq(tenant))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(mapping::tool_from_row)
            .transpose()
    }

    async fn set_status(&self, tenant: &str, id: &str, status: ToolStatus, at: Timestamp) -> PortResult<bool> {
        let row =
            tools::ActiveModel { status: Set(status.as_str().to_owned()), updated_at: Set(at), ..Default::default() };
        let result = tools::Entity::update_many()
            .set(row)
            .filter(tools::Column::Id.eq(id))
            .filter(tools::Column::Tenant.eq(tenant))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn apply(&self, changes: &Reconciliation) -> PortResult<()> {
        let txn = crate::begin_write(&self.db).await?;
        for tool in &changes.inserted {
            let row = mapping::tool_to_row(tool).into_active_model().reset_all();
            tools::Entity::insert(row).exec_without_returning(&txn).await.map_err(db_error)?;
        }
        for tool in &changes.updated {
            // The administrator's status and the usage counters are not discovery's to write.
            let row = tools::ActiveModel {
                description: Set(tool.description.clone()),
                args_schema: Set(tool.args_schema.clone()),
                output_schema: Set(tool.output_schema.clone()),
                annotations: Set(tool.annotations.clone()),
                is_available: Set(tool.is_available),
                sort_order: Set(tool.sort_order),
                discovered_at: Set(tool.discovered_at),
                updated_at: Set(tool.updated_at),
                ..Default::default()
            };
            tools::Entity::update_many()
                .set(row)
                .filter(tools::Column::Id.eq(tool.id.as_str()))
                .exec(&txn)
                .await
                .map_err(db_error)?;
        }
        txn.commit().await.map_err(db_error)
    }
}

impl Store {
    async fn tools(&self, query: sea_orm::Select<tools::Entity>) -> PortResult<Vec<Tool>> {
        query.all(&self.db).await.map_err(db_error)?.into_iter().map(mapping::tool_from_row).collect()
    }
}

#[async_trait]
impl UserRepository for Store {
    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<User>> {
        users::Entity::find_by_id((tenant.to_owned(), id.to_owned()))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(mapping::user_from_row)
            .transpose()
    }

    async fn insert_if_absent(&self, user: &User) -> PortResult<User> {
        let row = mapping::user_to_row(user).into_active_model().reset_all();
        users::Entity::insert(row)
            .on_conflict(OnConflict::columns([users::Column::Tenant, users::Column::Id]).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .or_else(|e| if matches!(e, sea_orm::DbErr::RecordNotInserted) { Ok(0) } else { Err(db_error(e)) })?;
        UserRepository::get(self, &user.tenant, &user.id)
            .await?
            .ok_or_else(|| toolhub_domain::DomainError::Storage("user vanished right after being recorded".into()))
    }

    async fn list(&self, tenant: &str) -> PortResult<Vec<User>> {
        users::Entity::find()
            .filter(users::Column::Tenant.eq(tenant))
            .order_by_asc(users::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(mapping::user_from_row)
            .collect()
    }

    async fn update(&self, user: &User) -> PortResult<bool> {
        let row = users::ActiveModel {
            role: Set(user.role.as_str().to_owned()),
            groups: Set(serde_json::json!(user.groups)),
            display_name: Set(user.display_name.clone()),
            disabled: Set(user.disabled),
            updated_at: Set(user.updated_at),
            ..Default::default()
        };
        let result = users::Entity::update_many()
            .set(row)
            .filter(users::Column::Tenant.eq(user.tenant.as_str()))
            .filter(users::Column::Id.eq(user.id.as_str()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected == 1)
    }
}

#[async_trait]
impl ApiKeyRepository for Store {
    async fn insert(&self, key: &ApiKey) -> PortResult<()> {
        let row = mapping::key_to_row(key).into_active_model().reset_all();
        api_keys::Entity::insert(row).exec_without_returning(&self.db).await.map_err(db_error)?;
        Ok(())
    }

    async fn find_by_hash(&self, key_hash: &str) -> PortResult<Option<ApiKey>> {
        api_keys::Entity::find()
            .filter(api_keys::Column::KeyHash.eq(key_hash))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(mapping::key_from_row)
            .transpose()
    }

    async fn count(&self) -> PortResult<u64> {
        api_keys::Entity::find().count(&self.db).await.map_err(db_error)
    }

    async fn list(&self, tenant: &str) -> PortResult<Vec<ApiKey>> {
        api_keys::Entity::find()
            .filter(api_keys::Column::Tenant.eq(tenant))
            .order_by_asc(api_keys::Column::CreatedAt)
            .order_by_asc(api_keys::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(mapping::key_from_row)
            .collect()
    }

    async fn revoke(&self, tenant: &str, id: &str, at: Timestamp) -> PortResult<bool> {
        let updated = api_keys::Entity::update_many()
            .col_expr(api_keys::Column::RevokedAt, sea_orm::sea_query::Expr::value(at))
            .filter(api_keys::Column::Tenant.eq(tenant))
            .filter(api_keys::Column::Id.eq(id))
            .filter(api_keys::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(updated.rows_affected == 1)
    }

    async fn touch(&self, id: &str, at: Timestamp) -> PortResult<()> {
        let key = api_keys::ActiveModel {
            id: sea_orm::Set(id.to_owned()),
            last_used_at: sea_orm::Set(Some(at)),
            ..Default::default()
        };
        key.update(&self.db).await.map(|_| ()).or_else(|e| match e {
            sea_orm::DbErr::RecordNotUpdated => Ok(()),
            other => Err(db_error(other)),
        })
    }
}

#[async_trait]
impl SessionRepository for Store {
    async fn save(&self, id: &str, state: &serde_json::Value, at: Timestamp) -> PortResult<()> {
        let row = mcp_sessions::ActiveModel { id: Set(id.to_owned()), state: Set(state.clone()), created_at: Set(at) };
        mcp_sessions::Entity::insert(row)
            .on_conflict(
                OnConflict::column(mcp_sessions::Column::Id)
                    .update_columns([mcp_sessions::Column::State, mcp_sessions::Column::CreatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn load(&self, id: &str) -> PortResult<Option<serde_json::Value>> {
        let row = mcp_sessions::Entity::find_by_id(id.to_owned()).one(&self.db).await.map_err(db_error)?;
        Ok(row.map(|r| r.state))
    }

    async fn delete(&self, id: &str) -> PortResult<()> {
        mcp_sessions::Entity::delete_by_id(id.to_owned()).exec(&self.db).await.map_err(db_error)?;
        Ok(())
    }

    async fn prune(&self, before: Timestamp) -> PortResult<u64> {
        let deleted = mcp_sessions::Entity::delete_many()
            .filter(mcp_sessions::Column::CreatedAt.lt(before))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(deleted.rows_affected)
    }
}

#[async_trait]
impl CategoryRepository for Store {
    async fn list_all(&self) -> PortResult<Vec<CategorySwitch>> {
        let rows = tool_categories::Entity::find().all(&self.db).await.map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| CategorySwitch { tenant: r.tenant, name: r.name, enabled: r.enabled, updated_at: r.updated_at })
            .collect())
    }

    async fn set(&self, switch: &CategorySwitch) -> PortResult<()> {
        let row = tool_categories::ActiveModel {
            tenant: Set(switch.tenant.clone()),
            name: Set(switch.name.clone()),
            enabled: Set(switch.enabled),
            updated_at: Set(switch.updated_at),
        };
        let columns = [tool_categories::Column::Tenant, tool_categories::Column::Name];
        let update = [tool_categories::Column::Enabled, tool_categories::Column::UpdatedAt];
        tool_categories::Entity::insert(row)
            .on_conflict(OnConflict::columns(columns).update_columns(update).to_owned())
            .exec_without_returning(&self.db)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}
