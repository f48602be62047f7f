//! The access check: what a call by a user to a named tool would get now, explained.

use super::AccessService;
use crate::{
    DomainError, Principal,
    access::{AccessLevel, Decision, Quota, ToolRef},
    error::DomainResult,
    services::ToolSelector,
};

/// The answer of the access check.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessReport {
    /// The engine's decision, explained tier by tier.
    pub decision: Decision,
    /// What remains of the deciding grant's or rule's quota.
    pub quota: Quota,
}

impl AccessReport {
    /// The verdict: the decision allows the call and its quota is not used up.
    pub fn allowed(&self) -> bool {
        self.decision.allowed && !self.quota.exhausted()
    }

    /// Why the call would be refused, if it would.
    pub fn reason(&self) -> Option<String> {
        match &self.decision.reason {
            Some(reason) => Some(reason.to_string()),
            None if self.quota.exhausted() => Some("Rate limit exceeded".into()),
            None => None,
        }
    }
}

impl AccessService {
    /// The principal a user id stands for in the tenant (its stored role and groups), if the
    /// user exists.
    pub async fn principal_of(&self, tenant: &str, user_id: &str) -> DomainResult<Option<Principal>> {
        let user = self.users.get(tenant, user_id).await?;
        Ok(user.map(|u| Principal { id: u.id, tenant: u.tenant, role: u.role, groups: u.groups }))
    }

    /// What a call by `user_id` to the named tool would get now; counts nothing. Users check
    /// themselves; administrators check anyone of their tenant (whatever the admin bypass). A
    /// user Toolhub has never seen is not allowed ("user not found"), as in the seed.
    pub async fn check(
        &self,
        actor: &Principal,
        user_id: &str,
        tool_name: &str,
        server_name: Option<&str>,
    ) -> DomainResult<AccessReport> {
        let subject = if actor.id == user_id {
            Some(actor.clone())
        } else if actor.is_admin() {
            self.principal_of(&actor.tenant, user_id).await?
        } else {
            return Err(DomainError::Forbidden("only administrators may check another user's access".into()));
        };
        let target = self
            .catalogue
            .call_target(&actor.tenant, ToolSelector::Name { server: server_name, tool: tool_name })
            .await?;
        let Some(subject) = subject else {
            return Ok(AccessReport { decision: Decision::unknown_user(), quota: Quota::default() });
        };
        let decision = self.explain(&subject, &ToolRef::of(&target.tool, &target.server), AccessLevel::Execute);
        let quota = self.remaining_quota(&subject, &decision).await?;
        Ok(AccessReport { decision, quota })
    }
}
