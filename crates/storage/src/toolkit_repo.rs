//! Toolkits and their tools on sea-orm. A custom tool's config is sealed whole.

use async_trait::async_trait;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect};
use toolhub_domain::{
    DomainError,
    ports::{PortResult, SecretCipher, ToolkitRepository},
    secret::Secret,
    toolkit::{ToolConfig, Toolkit, ToolkitTool},
};

use crate::{
    Store, db_error,
    entities::{toolkit_tools, toolkits},
    mapping::corrupt,
};

fn toolkit_to_row(k: &Toolkit) -> toolkits::Model {
    toolkits::Model {
        id: k.id.clone(),
        tenant: k.tenant.clone(),
        name: k.name.clone(),
        display_name: k.display_name.clone(),
        description: k.description.clone(),
        owner_id: k.owner_id.clone(),
        server_id: k.server_id.clone(),
        version: k.version,
        created_by: k.created_by.clone(),
        created_at: k.created_at,
        updated_at: k.updated_at,
    }
}

fn toolkit_from_row(r: toolkits::Model) -> Toolkit {
    Toolkit {
        id: r.id,
        tenant: r.tenant,
        name: r.name,
        display_name: r.display_name,
        description: r.description,
        owner_id: r.owner_id,
        server_id: r.server_id,
        version: r.version,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn tool_to_row(t: &ToolkitTool, cipher: &dyn SecretCipher) -> toolkit_tools::Model {
    toolkit_tools::Model {
        id: t.id.clone(),
        tenant: t.tenant.clone(),
        toolkit_id: t.toolkit_id.clone(),
        tool_id: t.tool_id.clone(),
        name: t.name.clone(),
        description: t.description.clone(),
        kind: t.kind.clone(),
        parameters: t.parameters.clone(),
        config_sealed: t.config.as_ref().map(|c| cipher.seal(&Secret::new(c.expose().to_string()))),
        sort_order: t.sort_order,
        discovered_at: t.discovered_at,
        discovered_by: t.discovered_by.clone(),
        created_at: t.created_at,
        updated_at: t.updated_at,
    }
}

fn tool_from_row(r: toolkit_tools::Model, cipher: &dyn SecretCipher) -> Result<ToolkitTool, DomainError> {
    let config = match r.config_sealed {
        Some(sealed) => {
            let clear = cipher.open(&sealed)?;
            Some(ToolConfig::new(serde_json::from_str(clear.expose()).map_err(|_| corrupt("toolkit tool config"))?))
        }
        None => None,
    };
    Ok(ToolkitTool {
        id: r.id,
        tenant: r.tenant,
        toolkit_id: r.toolkit_id,
        tool_id: r.tool_id,
        name: r.name,
        description: r.description,
        kind: r.kind,
        parameters: r.parameters,
        config,
        sort_order: r.sort_order,
        discovered_at: r.discovered_at,
        discovered_by: r.discovered_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

#[async_trait]
impl ToolkitRepository for Store {
    async fn insert(&self, toolkit: &Toolkit) -> PortResult<()> {
        let row = toolkit_to_row(toolkit).into_active_model().reset_all();
        toolkits::Entity::insert(row).exec_without_returning(&self.db).await.map_err(db_error)?;
        Ok(())
    }

    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<Toolkit>> {
        let row = toolkits::Entity::find_by_id(id.to_owned())
            .filter(toolkits::Column::Tenant.eq(tenant))
            .one(&self.db)
            .await
            .map_err(db_error)?;
        Ok(row.map(toolkit_from_row))
    }

    async fn find_by_name(&self, tenant: &str, name: &str) -> PortResult<Option<Toolkit>> {
        let row = toolkits::Entity::find()
            .filter(toolkits::Column::Tenant.eq(tenant))
            .filter(toolkits::Column::Name.eq(name))
            .one(&self.db)
            .await
            .map_err(db_error)?;
        Ok(row.map(toolkit_from_row))
    }

    async fn list(&self, tenant: &str) -> PortResult<Vec<Toolkit>> {
        let rows = toolkits::Entity::find()
            .filter(toolkits::Column::Tenant.eq(tenant))
            .order_by_asc(toolkits::Column::Name)
            .all(&self.db)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(toolkit_from_row).collect())
    }

    async fn query(&self, tenant: &str, query: &toolhub_domain::query::ListQuery) -> PortResult<(Vec<Toolkit>, u64)> {
        let select = toolkits::Entity::find().filter(toolkits::Column::Tenant.eq(tenant));
        let then = |s: sea_orm::Select<toolkits::Entity>| s.order_by_asc(toolkits::Column::Name);
        let (rows, total) = crate::query::run(&self.db, (select, crate::query::columns), query, then).await?;
        Ok((rows.into_iter().map(toolkit_from_row).collect(), total))
    }

    async fn update(&self, toolkit: &Toolkit, expected_version: i64) -> PortResult<bool> {
        let row = toolkit_to_row(toolkit).into_active_model().reset_all();
        let result = toolkits::Entity::update_many()
            .set(row)
            .filter(toolkits::Column::Id.eq(toolkit.id.as_str()))
            .filter(toolkits::Column::Tenant.eq(toolkit.tenant.as_str()))
            .filter(toolkits::Column::Version.eq(expected_version))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool> {
        let txn = crate::begin_write(&self.db).await?;
        toolkit_tools::Entity::delete_many()
            .filter(toolkit_tools::Column::Tenant.eq(tenant))
            .filter(toolkit_tools::Column::ToolkitId.eq(id))
            .exec(&txn)
            .await
            .map_err(db_error)?;
        let result = toolkits::Entity::delete_many()
            .filter(toolkits::Column::Id.eq(id))
            .filter(toolkits::Column::Tenant.eq(tenant))
            .exec(&txn)
            .await
            .map_err(db_error)?;
        txn.commit().await.map_err(db_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn tools(&self, tenant: &str, toolkit_id: &str) -> PortResult<Vec<ToolkitTool>> {
        toolkit_tools::Entity::find()
            .filter(toolkit_tools::Column::Tenant.eq(tenant))
            .filter(toolkit_tools::Column::ToolkitId.eq(toolkit_id))
            .order_by_asc(toolkit_tools::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|r| tool_from_row(r, self.cipher.as_ref()))
            .collect()
    }

    async fn insert_tool(&self, tool: &ToolkitTool) -> PortResult<()> {
        let row = tool_to_row(tool, self.cipher.as_ref()).into_active_model().reset_all();
        toolkit_tools::Entity::insert(row).exec_without_returning(&self.db).await.map_err(db_error)?;
        Ok(())
    }

    async fn update_tool(&self, tool: &ToolkitTool) -> PortResult<bool> {
        let row = tool_to_row(tool, self.cipher.as_ref()).into_active_model().reset_all();
        let result = toolkit_tools::Entity::update_many()
            .set(row)
            .filter(toolkit_tools::Column::Id.eq(tool.id.as_str()))
            .filter(toolkit_tools::Column::Tenant.eq(tool.tenant.as_str()))
            .filter(toolkit_tools::Column::ToolkitId.eq(tool.toolkit_id.as_str()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn delete_tool(&self, tenant: &str, toolkit_id: &str, id: &str) -> PortResult<bool> {
        let result = toolkit_tools::Entity::delete_many()
            .filter(toolkit_tools::Column::Id.eq(id))
            .filter(toolkit_tools::Column::Tenant.eq(tenant))
            .filter(toolkit_tools::Column::ToolkitId.eq(toolkit_id))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn replace_tools(&self, tenant: &str, toolkit_id: &str, tools: &[ToolkitTool]) -> PortResult<()> {
        let txn = crate::begin_write(&self.db).await?;
        toolkit_tools::Entity::delete_many()
            .filter(toolkit_tools::Column::Tenant.eq(tenant))
            .filter(toolkit_tools::Column::ToolkitId.eq(toolkit_id))
            .exec(&txn)
            .await
            .map_err(db_error)?;
        for tool in tools {
            let row = tool_to_row(tool, self.cipher.as_ref()).into_active_model().reset_all();
            toolkit_tools::Entity::insert(row).exec_without_returning(&txn).await.map_err(db_error)?;
        }
        txn.commit().await.map_err(db_error)
    }

    async fn memberships(&self) -> PortResult<Vec<(String, String, String)>> {
        // Only the ids: the index needs no names, schemas or sealed configs.
        let rows: Vec<(String, String, Option<String>, String)> = toolkit_tools::Entity::find()
            .select_only()
            .column(toolkit_tools::Column::Tenant)
            .column(toolkit_tools::Column::Id)
            .column(toolkit_tools::Column::ToolId)
            .column(toolkit_tools::Column::ToolkitId)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(tenant, id, tool_id, toolkit_id)| (tenant, tool_id.unwrap_or(id), toolkit_id))
            .collect())
    }

    async fn delete_references(&self, tenant: &str, tool_ids: &[String]) -> PortResult<()> {
        for chunk in tool_ids.chunks(500) {
            toolkit_tools::Entity::delete_many()
                .filter(toolkit_tools::Column::Tenant.eq(tenant))
                .filter(toolkit_tools::Column::ToolId.is_in(chunk.iter().cloned()))
                .exec(&self.db)
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }
}
