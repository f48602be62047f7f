//! Grants, role rules and user management on sea-orm.

use async_trait::async_trait;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde_json::json;
use toolhub_domain::{
    DomainError, Role,
    access::{AccessLevel, Conditions, Grant, RoleRule, Subject, Target},
    ports::{GrantFilter, GrantRepository, PortResult, RoleRuleRepository},
    query::ListQuery,
};

use crate::{
    Store, db_error,
    entities::{grants, role_rules},
    mapping::{corrupt, from_json},
};

fn subject_parts(subject: &Subject) -> (&'static str, String) {
    match subject {
        Subject::User(id) => ("user", id.clone()),
        Subject::Group(name) => ("group", name.clone()),
        Subject::Public => ("public", "*".into()),
    }
}

fn target_parts(target: &Target) -> (&'static str, String) {
    match target {
        Target::Tool(id) => ("tool", id.clone()),
        Target::Server(id) => ("server", id.clone()),
        Target::Toolkit(id) => ("toolkit", id.clone()),
    }
}

fn limit_in(value: Option<u32>) -> Option<i32> {
    value.map(|v| i32::try_from(v).unwrap_or(i32::MAX))
}

fn limit_out(value: Option<i32>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok())
}

fn list_in(value: &Option<Vec<u8>>) -> Option<serde_json::Value> {
    value.as_ref().map(|v| json!(v))
}

fn list_out(value: Option<serde_json::Value>, what: &str) -> Result<Option<Vec<u8>>, DomainError> {
    value.map(|v| from_json(v, what)).transpose()
}

/// A grant's API fields made of its subject and target columns.
fn grant_columns(field: &str) -> Option<&'static str> {
    Some(match field {
        "subject" => "CASE subject_kind WHEN 'public' THEN '*' ELSE subject_kind || ':' || subject_id END",
        "tool_id" => "CASE WHEN target_kind = 'tool' THEN target_id END",
        "server_id" => "CASE WHEN target_kind = 'server' THEN target_id END",
        "toolkit_id" => "CASE WHEN target_kind = 'toolkit' THEN target_id END",
        _ => return None,
    })
}

/// A rule's patterns are stored empty when absent.
fn rule_columns(field: &str) -> Option<&'static str> {
    Some(match field {
        "tool_pattern" => "NULLIF(tool_pattern, '')",
        "server_pattern" => "NULLIF(server_pattern, '')",
        _ => return None,
    })
}

fn grant_to_row(g: &Grant) -> grants::Model {
    let (subject_kind, subject_id) = subject_parts(&g.subject);
    let (target_kind, target_id) = target_parts(&g.target);
    grants::Model {
        id: g.id.clone(),
        tenant: g.tenant.clone(),
        subject_kind: subject_kind.into(),
        subject_id,
        target_kind: target_kind.into(),
        target_id,
        access_level: g.access_level.as_str().into(),
        rate_limit_per_hour: limit_in(g.conditions.rate_limit_per_hour),
        rate_limit_per_day: limit_in(g.conditions.rate_limit_per_day),
        allowed_hours: list_in(&g.conditions.allowed_hours),
        allowed_days: list_in(&g.conditions.allowed_days),
        expires_at: g.expires_at,
        granted_by: g.granted_by.clone(),
        granted_at: g.granted_at,
        updated_at: g.updated_at,
        usage_count: g.usage_count,
        last_used: g.last_used,
    }
}

fn grant_from_row(r: grants::Model) -> Result<Grant, DomainError> {
    let subject = match r.subject_kind.as_str() {
        "user" => Subject::User(r.subject_id),
        "group" => Subject::Group(r.subject_id),
        "public" => Subject::Public,
        _ => return Err(corrupt("grant subject")),
    };
    let target = match r.target_kind.as_str() {
        "tool" => Target::Tool(r.target_id),
        "server" => Target::Server(r.target_id),
        "toolkit" => Target::Toolkit(r.target_id),
        _ => return Err(corrupt("grant target")),
    };
    Ok(Grant {
        id: r.id,
        tenant: r.tenant,
        subject,
        target,
        access_level: r.access_level.parse::<AccessLevel>().map_err(|_| corrupt("access level"))?,
        conditions: Conditions {
            rate_limit_per_hour: limit_out(r.rate_limit_per_hour),
            rate_limit_per_day: limit_out(r.rate_limit_per_day),
            allowed_hours: list_out(r.allowed_hours, "allowed_hours")?,
            allowed_days: list_out(r.allowed_days, "allowed_days")?,
        },
        expires_at: r.expires_at,
        granted_by: r.granted_by,
        granted_at: r.granted_at,
        updated_at: r.updated_at,
        usage_count: r.usage_count,
        last_used: r.last_used,
    })
}

fn rule_to_row(r: &RoleRule) -> role_rules::Model {
    role_rules::Model {
        id: r.id.clone(),
        tenant: r.tenant.clone(),
        role: r.role.as_str().into(),
        tool_pattern: r.tool_pattern.clone().unwrap_or_default(),
        server_pattern: r.server_pattern.clone().unwrap_or_default(),
        access_level: r.access_level.as_str().into(),
        rate_limit_per_hour: limit_in(r.conditions.rate_limit_per_hour),
        rate_limit_per_day: limit_in(r.conditions.rate_limit_per_day),
        allowed_hours: list_in(&r.conditions.allowed_hours),
        allowed_days: list_in(&r.conditions.allowed_days),
        created_by: r.created_by.clone(),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn rule_from_row(r: role_rules::Model) -> Result<RoleRule, DomainError> {
    let pattern = |p: String| (!p.is_empty()).then_some(p);
    Ok(RoleRule {
        role: r.role.parse::<Role>().map_err(|_| corrupt("role"))?,
        access_level: r.access_level.parse::<AccessLevel>().map_err(|_| corrupt("access level"))?,
        conditions: Conditions {
            rate_limit_per_hour: limit_out(r.rate_limit_per_hour),
            rate_limit_per_day: limit_out(r.rate_limit_per_day),
            allowed_hours: list_out(r.allowed_hours, "allowed_hours")?,
            allowed_days: list_out(r.allowed_days, "allowed_days")?,
        },
        tool_pattern: pattern(r.tool_pattern),
        server_pattern: pattern(r.server_pattern),
        id: r.id,
        tenant: r.tenant,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn target_condition(target: &Target) -> Condition {
    let (kind, id) = target_parts(target);
    Condition::all().add(grants::Column::TargetKind.eq(kind)).add(grants::Column::TargetId.eq(id))
}

#[async_trait]
impl GrantRepository for Store {
    async fn insert(&self, grant: &Grant) -> PortResult<()> {
        let row = grant_to_row(grant).into_active_model().reset_all();
        grants::Entity::insert(row).exec_without_returning(&self.db).await.map_err(db_error)?;
        Ok(())
    }

    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<Grant>> {
        grants::Entity::find_by_id(id.to_owned())
            .filter(grants::Column::Tenant.eq(tenant))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(grant_from_row)
            .transpose()
    }

    async fn update(&self, grant: &Grant) -> PortResult<bool> {
        let row = grant_to_row(grant).into_active_model().reset_all();
        let result = grants::Entity::update_many()
            .set(row)
            .filter(grants::Column::Id.eq(grant.id.as_str()))
            .filter(grants::Column::Tenant.eq(grant.tenant.as_str()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool> {
        let result = grants::Entity::delete_many()
            .filter(grants::Column::Id.eq(id))
            .filter(grants::Column::Tenant.eq(tenant))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn list(&self, tenant: &str, filter: &GrantFilter) -> PortResult<Vec<Grant>> {
        let mut query = grants::Entity::find().filter(grants::Column::Tenant.eq(tenant));
        if let Some(subject) = &filter.subject {
            let (kind, id) = subject_parts(subject);
            query = query.filter(grants::Column::SubjectKind.eq(kind)).filter(grants::Column::SubjectId.eq(id));
        }
        if let Some(target) = &filter.target {
            query = query.filter(target_condition(target));
        }
        query
            .order_by_asc(grants::Column::GrantedAt)
            .order_by_asc(grants::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(grant_from_row)
            .collect()
    }

    async fn query(&self, tenant: &str, query: &ListQuery) -> PortResult<(Vec<Grant>, u64)> {
        let select = grants::Entity::find().filter(grants::Column::Tenant.eq(tenant));
        let then = |s: sea_orm::Select<grants::Entity>| {
            s.order_by_asc(grants::Column::GrantedAt).order_by_asc(grants::Column::Id)
        };
        let (rows, total) = crate::query::run(&self.db, (select, grant_columns), query, then).await?;
        Ok((rows.into_iter().map(grant_from_row).collect::<PortResult<_>>()?, total))
    }

    async fn list_all(&self) -> PortResult<Vec<Grant>> {
        grants::Entity::find().all(&self.db).await.map_err(db_error)?.into_iter().map(grant_from_row).collect()
    }

    async fn delete_for_targets(&self, tenant: &str, targets: &[Target]) -> PortResult<Vec<String>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let any = targets.iter().fold(Condition::any(), |c, t| c.add(target_condition(t)));
        let doomed: Vec<String> = grants::Entity::find()
            .filter(grants::Column::Tenant.eq(tenant))
            .filter(any.clone())
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|g| g.id)
            .collect();
        grants::Entity::delete_many()
            .filter(grants::Column::Tenant.eq(tenant))
            .filter(any)
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(doomed)
    }
}

#[async_trait]
impl RoleRuleRepository for Store {
    async fn insert(&self, rule: &RoleRule) -> PortResult<()> {
        let row = rule_to_row(rule).into_active_model().reset_all();
        role_rules::Entity::insert(row).exec_without_returning(&self.db).await.map_err(db_error)?;
        Ok(())
    }

    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<RoleRule>> {
        role_rules::Entity::find_by_id(id.to_owned())
            .filter(role_rules::Column::Tenant.eq(tenant))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(rule_from_row)
            .transpose()
    }

    async fn update(&self, rule: &RoleRule) -> PortResult<bool> {
        let row = rule_to_row(rule).into_active_model().reset_all();
        let result = role_rules::Entity::update_many()
            .set(row)
            .filter(role_rules::Column::Id.eq(rule.id.as_str()))
            .filter(role_rules::Column::Tenant.eq(rule.tenant.as_str()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool> {
        let result = role_rules::Entity::delete_many()
            .filter(role_rules::Column::Id.eq(id))
            .filter(role_rules::Column::Tenant.eq(tenant))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(result.rows_affected == 1)
    }

    async fn list(&self, tenant: &str, role: Option<Role>) -> PortResult<Vec<RoleRule>> {
        let mut query = role_rules::Entity::find().filter(role_rules::Column::Tenant.eq(tenant));
        if let Some(role) = role {
            query = query.filter(role_rules::Column::Role.eq(role.as_str()));
        }
        query
            .order_by_asc(role_rules::Column::CreatedAt)
            .order_by_asc(role_rules::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(rule_from_row)
            .collect()
    }

    async fn query(&self, tenant: &str, query: &ListQuery) -> PortResult<(Vec<RoleRule>, u64)> {
        let select = role_rules::Entity::find().filter(role_rules::Column::Tenant.eq(tenant));
        let then = |s: sea_orm::Select<role_rules::Entity>| {
            s.order_by_asc(role_rules::Column::CreatedAt).order_by_asc(role_rules::Column::Id)
        };
        let (rows, total) = crate::query::run(&self.db, (select, rule_columns), query, then).await?;
        Ok((rows.into_iter().map(rule_from_row).collect::<PortResult<_>>()?, total))
    }

    async fn list_all(&self) -> PortResult<Vec<RoleRule>> {
        role_rules::Entity::find().all(&self.db).await.map_err(db_error)?.into_iter().map(rule_from_row).collect()
    }
}
