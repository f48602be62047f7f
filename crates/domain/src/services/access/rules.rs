//! Role rules: a role's access to the tools whose names match glob patterns.

use super::AccessService;
use crate::{
    DomainError, Principal, ResourceKind, Role,
    access::{AccessLevel, Conditions, RoleRule, validate_pattern},
    error::DomainResult,
    validation::Validator,
};

/// A role rule to make, or the new content of one.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleInput {
    /// The role it is for.
    pub role: Role,
    /// A glob the tool's name must match; `None` (or `*`) matches every tool.
    pub tool_pattern: Option<String>,
    /// A glob the server's name must match; `None` (or `*`) matches every server.
    pub server_pattern: Option<String>,
    /// What it allows; `none` denies.
    pub access_level: AccessLevel,
    /// Its quotas and time windows.
    pub conditions: Conditions,
}

impl AccessService {
    fn validate_rule(input: &RuleInput) -> DomainResult<()> {
        let mut v = Validator::new();
        validate_pattern(&mut v, "tool_pattern", &input.tool_pattern);
        validate_pattern(&mut v, "server_pattern", &input.server_pattern);
        input.conditions.validate(&mut v);
        // A rule's limits are its defaults, and named so on the wire.
        v.finish().map_err(|e| match e {
            DomainError::Validation(errors) => DomainError::Validation(
                errors
                    .into_iter()
                    .map(|mut f| {
                        if f.field.starts_with("rate_limit_") {
                            f.field = format!("default_{}", f.field);
                        }
                        f
                    })
                    .collect(),
            ),
            other => other,
        })
    }

    /// Makes a role rule (administrators only); one per role and pair of patterns.
    pub async fn create_rule(&self, actor: &Principal, input: RuleInput) -> DomainResult<RoleRule> {
        actor.require_admin("create role access rules")?;
        Self::validate_rule(&input)?;
        let rule = RoleRule {
            conditions: input.conditions,
            ..RoleRule::new(
                &actor.tenant,
                input.role,
                input.tool_pattern,
                input.server_pattern,
                input.access_level,
                &actor.id,
                self.clock.now(),
            )
        };
        match self.rules.insert(&rule).await {
            Err(DomainError::Conflict(_)) => {
                return Err(DomainError::Conflict("a rule for that role and patterns exists".into()));
            }
            other => other?,
        }
        self.patch_index(|i| i.put_rule(rule.clone()));
        Ok(rule)
    }

    /// Replaces a role rule's fields (administrators only).
    pub async fn update_rule(&self, actor: &Principal, id: &str, input: RuleInput) -> DomainResult<RoleRule> {
        actor.require_admin("change role access rules")?;
        Self::validate_rule(&input)?;
        let mut rule = self
            .rules
            .get(&actor.tenant, id)
            .await?
            .ok_or_else(|| DomainError::not_found(ResourceKind::RoleRule, id))?;
        rule.role = input.role;
        rule.tool_pattern = input.tool_pattern;
        rule.server_pattern = input.server_pattern;
        rule.access_level = input.access_level;
        rule.conditions = input.conditions;
        rule.updated_at = self.clock.now();
        match self.rules.update(&rule).await {
            Ok(true) => {}
            Ok(false) => return Err(DomainError::not_found(ResourceKind::RoleRule, id)),
            Err(DomainError::Conflict(_)) => {
                return Err(DomainError::Conflict("a rule for that role and patterns exists".into()));
            }
            Err(e) => return Err(e),
        }
        self.patch_index(|i| i.put_rule(rule.clone()));
        Ok(rule)
    }

    /// Deletes a role rule (administrators only).
    pub async fn delete_rule(&self, actor: &Principal, id: &str) -> DomainResult<()> {
        actor.require_admin("delete role access rules")?;
        if !self.rules.delete(&actor.tenant, id).await? {
            return Err(DomainError::not_found(ResourceKind::RoleRule, id));
        }
        self.patch_index(|i| i.remove_rule(&actor.tenant, id));
        Ok(())
    }

    /// The tenant's role rules, of one role or all (administrators only).
    pub async fn list_rules(
        &self,
        actor: &Principal,
        role: Option<Role>,
        query: &crate::query::ListQuery,
    ) -> DomainResult<(Vec<RoleRule>, u64)> {
        use crate::query::{Scalar, Test};
        actor.require_admin("list role access rules")?;
        let mut query = query.clone();
        if let Some(role) = role {
            let fields = crate::access::model::RULE_FIELDS;
            query = query.and(fields, "role", Test::Equals(Scalar::Text(role.as_str().into())));
        }
        self.rules.query(&actor.tenant, &query).await
    }
}
