//! Permission, grant, role rule, access check and user bodies.

use crate::dto::common::UtcTime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use toolhub_domain::{
    Patch,
    access::{Conditions, DecidedBy, Grant, RoleRule, Subject, Target},
    ports::GrantFilter,
    principal::User,
    services::{AccessReport, GrantPatch, NewGrant, RuleInput, UserPatch},
    validation::FieldError,
};
use utoipa::{IntoParams, ToSchema};

use super::{ToolAccessLevel, UserRole};

/// The target named by exactly one of `tool_id`, `server_id` and `toolkit_id`.
fn target_of(
    tool_id: Option<String>,
    server_id: Option<String>,
    toolkit_id: Option<String>,
) -> Result<Target, FieldError> {
    match (tool_id, server_id, toolkit_id) {
        (Some(tool), None, None) => Ok(Target::Tool(tool)),
        (None, Some(server), None) => Ok(Target::Server(server)),
        (None, None, Some(toolkit)) => Ok(Target::Toolkit(toolkit)),
        (_, _, None) => Err(FieldError::new("tool_id", "give exactly one of tool_id and server_id")),
        _ => Err(FieldError::new("toolkit_id", "give exactly one of tool_id, server_id and toolkit_id")),
    }
}

/// Grants a user access to one tool or one whole server (exactly one of `tool_id`, `server_id`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolPermissionCreate {
    pub user_id: String,
    pub tool_id: Option<String>,
    pub server_id: Option<String>,
    pub access_level: ToolAccessLevel,
    pub rate_limit_per_hour: Option<u32>,
    pub rate_limit_per_day: Option<u32>,
    /// UTC hours (0-23) in which the grant applies; empty or null means always.
    pub allowed_hours: Option<Vec<u8>>,
    /// Weekdays (0 = Monday to 6) in which the grant applies; empty or null means always.
    pub allowed_days: Option<Vec<u8>>,
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<UtcTime>,
}

impl ToolPermissionCreate {
    pub fn into_domain(self) -> Result<NewGrant, Vec<FieldError>> {
        let subject = format!("user:{}", self.user_id);
        GrantCreate {
            subject,
            tool_id: self.tool_id,
            server_id: self.server_id,
            toolkit_id: None,
            access_level: self.access_level,
            rate_limit_per_hour: self.rate_limit_per_hour,
            rate_limit_per_day: self.rate_limit_per_day,
            allowed_hours: self.allowed_hours,
            allowed_days: self.allowed_days,
            expires_at: self.expires_at,
        }
        .into_domain()
        .map_err(|errors| {
            errors
                .into_iter()
                .map(|e| if e.field == "subject" { FieldError::new("user_id", e.message) } else { e })
                .collect()
        })
    }
}

/// Grants a user (`user:<id>`), a group (`group:<name>`) or everyone (`*`) access to one tool,
/// one server or one toolkit (exactly one of `tool_id`, `server_id`, `toolkit_id`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantCreate {
    /// `user:<id>`, `group:<name>` or `*`.
    #[schema(example = "group:engineering")]
    pub subject: String,
    pub tool_id: Option<String>,
    pub server_id: Option<String>,
    /// A toolkit: `read` sees it, `execute` calls its tools, `admin` edits it.
    pub toolkit_id: Option<String>,
    pub access_level: ToolAccessLevel,
    pub rate_limit_per_hour: Option<u32>,
    pub rate_limit_per_day: Option<u32>,
    /// UTC hours (0-23) in which the grant applies; empty or null means always.
    pub allowed_hours: Option<Vec<u8>>,
    /// Weekdays (0 = Monday to 6) in which the grant applies; empty or null means always.
    pub allowed_days: Option<Vec<u8>>,
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<UtcTime>,
}

impl GrantCreate {
    pub fn into_domain(self) -> Result<NewGrant, Vec<FieldError>> {
        let subject = self.subject.parse::<Subject>().map_err(|e| FieldError::new("subject", e));
        let target = target_of(self.tool_id, self.server_id, self.toolkit_id);
        match (subject, target) {
            (Ok(subject), Ok(target)) => Ok(NewGrant {
                subject,
                target,
                access_level: self.access_level.into(),
                conditions: Conditions {
                    rate_limit_per_hour: self.rate_limit_per_hour,
                    rate_limit_per_day: self.rate_limit_per_day,
                    allowed_hours: self.allowed_hours,
                    allowed_days: self.allowed_days,
                },
                expires_at: self.expires_at.map(Into::into),
            }),
            (subject, target) => Err(subject.err().into_iter().chain(target.err()).collect()),
        }
    }
}

/// Changes a permission or grant: fields present are applied, `null` clears a limit or window.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolPermissionUpdate {
    pub access_level: Option<ToolAccessLevel>,
    #[serde(default)]
    #[schema(value_type = Option<u32>)]
    pub rate_limit_per_hour: Patch<u32>,
    #[serde(default)]
    #[schema(value_type = Option<u32>)]
    pub rate_limit_per_day: Patch<u32>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<u8>>)]
    pub allowed_hours: Patch<Vec<u8>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<u8>>)]
    pub allowed_days: Patch<Vec<u8>>,
    #[serde(default)]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Patch<UtcTime>,
}

impl From<ToolPermissionUpdate> for GrantPatch {
    fn from(u: ToolPermissionUpdate) -> Self {
        Self {
            access_level: u.access_level.map(Into::into),
            rate_limit_per_hour: u.rate_limit_per_hour,
            rate_limit_per_day: u.rate_limit_per_day,
            allowed_hours: u.allowed_hours,
            allowed_days: u.allowed_days,
            expires_at: u.expires_at.map(Into::into),
        }
    }
}

fn hours_out(v: Option<Vec<u8>>) -> Option<Vec<i32>> {
    v.map(|v| v.into_iter().map(i32::from).collect())
}

/// A user's permission.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolPermissionResponse {
    pub id: String,
    /// The user id (for group and public grants read through this API: `group:<name>` or `*`).
    pub user_id: String,
    pub tool_id: Option<String>,
    pub server_id: Option<String>,
    pub access_level: ToolAccessLevel,
    pub rate_limit_per_hour: Option<i64>,
    pub rate_limit_per_day: Option<i64>,
    pub allowed_hours: Option<Vec<i32>>,
    pub allowed_days: Option<Vec<i32>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
    pub usage_count: i64,
    pub last_used: Option<DateTime<Utc>>,
}

/// A grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantResponse {
    pub id: String,
    /// `user:<id>`, `group:<name>` or `*`.
    pub subject: String,
    pub tool_id: Option<String>,
    pub server_id: Option<String>,
    pub toolkit_id: Option<String>,
    pub access_level: ToolAccessLevel,
    pub rate_limit_per_hour: Option<i64>,
    pub rate_limit_per_day: Option<i64>,
    pub allowed_hours: Option<Vec<i32>>,
    pub allowed_days: Option<Vec<i32>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub usage_count: i64,
    pub last_used: Option<DateTime<Utc>>,
}

fn targets(target: Target) -> (Option<String>, Option<String>, Option<String>) {
    match target {
        Target::Tool(id) => (Some(id), None, None),
        Target::Server(id) => (None, Some(id), None),
        Target::Toolkit(id) => (None, None, Some(id)),
    }
}

impl From<Grant> for GrantResponse {
    fn from(g: Grant) -> Self {
        let (tool_id, server_id, toolkit_id) = targets(g.target);
        Self {
            id: g.id,
            subject: g.subject.to_string(),
            tool_id,
            server_id,
            toolkit_id,
            access_level: g.access_level.into(),
            rate_limit_per_hour: g.conditions.rate_limit_per_hour.map(i64::from),
            rate_limit_per_day: g.conditions.rate_limit_per_day.map(i64::from),
            allowed_hours: hours_out(g.conditions.allowed_hours),
            allowed_days: hours_out(g.conditions.allowed_days),
            expires_at: g.expires_at,
            granted_by: g.granted_by,
            granted_at: g.granted_at,
            updated_at: g.updated_at,
            usage_count: g.usage_count,
            last_used: g.last_used,
        }
    }
}

impl From<Grant> for ToolPermissionResponse {
    fn from(g: Grant) -> Self {
        let user_id = match &g.subject {
            Subject::User(id) => id.clone(),
            other => other.to_string(),
        };
        let r = GrantResponse::from(g);
        Self {
            id: r.id,
            user_id,
            tool_id: r.tool_id,
            server_id: r.server_id,
            access_level: r.access_level,
            rate_limit_per_hour: r.rate_limit_per_hour,
            rate_limit_per_day: r.rate_limit_per_day,
            allowed_hours: r.allowed_hours,
            allowed_days: r.allowed_days,
            expires_at: r.expires_at,
            granted_by: r.granted_by,
            granted_at: r.granted_at,
            usage_count: r.usage_count,
            last_used: r.last_used,
        }
    }
}

/// Filters of the grant listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantsQuery {
    /// `user:<id>`, `group:<name>` or `*`.
    pub subject: Option<String>,
    pub tool_id: Option<String>,
    pub server_id: Option<String>,
    pub toolkit_id: Option<String>,
}

impl GrantsQuery {
    /// The filter; `None` when nothing can match: a grant has one target, so none has both
    /// the tool and the server asked for.
    pub fn into_domain(self) -> Result<Option<GrantFilter>, Vec<FieldError>> {
        let subject =
            self.subject.map(|s| s.parse::<Subject>()).transpose().map_err(|e| vec![FieldError::new("subject", e)])?;
        let named = [&self.tool_id, &self.server_id, &self.toolkit_id].iter().filter(|t| t.is_some()).count();
        if named > 1 {
            return Ok(None);
        }
        let target = target_of(self.tool_id, self.server_id, self.toolkit_id).ok();
        Ok(Some(GrantFilter { subject, target }))
    }
}

/// A rule giving a role access to the tools and servers whose names match glob patterns
/// (`*`, `?`; other characters literal; both patterns must match when both are set).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleToolAccessCreate {
    pub role: UserRole,
    pub tool_pattern: Option<String>,
    pub server_pattern: Option<String>,
    pub access_level: ToolAccessLevel,
    pub default_rate_limit_per_hour: Option<u32>,
    pub default_rate_limit_per_day: Option<u32>,
    /// UTC hours (0-23) in which the rule applies; empty or null means always.
    pub allowed_hours: Option<Vec<u8>>,
    /// Weekdays (0 = Monday to 6) in which the rule applies; empty or null means always.
    pub allowed_days: Option<Vec<u8>>,
}

impl From<RoleToolAccessCreate> for RuleInput {
    fn from(r: RoleToolAccessCreate) -> Self {
        Self {
            role: r.role.into(),
            tool_pattern: r.tool_pattern,
            server_pattern: r.server_pattern,
            access_level: r.access_level.into(),
            conditions: Conditions {
                rate_limit_per_hour: r.default_rate_limit_per_hour,
                rate_limit_per_day: r.default_rate_limit_per_day,
                allowed_hours: r.allowed_hours,
                allowed_days: r.allowed_days,
            },
        }
    }
}

/// A role access rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleToolAccessResponse {
    pub id: String,
    pub role: UserRole,
    pub tool_pattern: Option<String>,
    pub server_pattern: Option<String>,
    pub access_level: ToolAccessLevel,
    pub default_rate_limit_per_hour: Option<i64>,
    pub default_rate_limit_per_day: Option<i64>,
    pub allowed_hours: Option<Vec<i32>>,
    pub allowed_days: Option<Vec<i32>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<RoleRule> for RoleToolAccessResponse {
    fn from(r: RoleRule) -> Self {
        Self {
            id: r.id,
            role: r.role.into(),
            tool_pattern: r.tool_pattern,
            server_pattern: r.server_pattern,
            access_level: r.access_level.into(),
            default_rate_limit_per_hour: r.conditions.rate_limit_per_hour.map(i64::from),
            default_rate_limit_per_day: r.conditions.rate_limit_per_day.map(i64::from),
            allowed_hours: hours_out(r.conditions.allowed_hours),
            allowed_days: hours_out(r.conditions.allowed_days),
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

/// Filter of the role rule listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleRulesQuery {
    /// Only rules for this role (`guest`, `user`, `power_user`, `admin`, `super_admin`).
    pub role: Option<UserRole>,
}

/// Asks what a call by a user to a tool would get (by tool name; `server_name` disambiguates).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserToolAccessCheck {
    pub user_id: String,
    pub tool_name: String,
    pub server_name: Option<String>,
}

/// The access decision, with remaining quota, the reason of a refusal, and what decided.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolAccessResult {
    pub allowed: bool,
    pub access_level: ToolAccessLevel,
    pub rate_limit_remaining_hour: Option<i64>,
    pub rate_limit_remaining_day: Option<i64>,
    pub restriction_reason: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// `admin`, `grant`, `role_rule`, `unavailable`, `none` or `unknown_user`.
    pub decided_by: String,
    /// The id of the deciding grant or rule.
    pub decided_by_id: Option<String>,
    /// How each tier was weighed, in order.
    pub explanation: Vec<String>,
}

impl From<AccessReport> for ToolAccessResult {
    fn from(r: AccessReport) -> Self {
        let (allowed, restriction_reason) = (r.allowed(), r.reason());
        let d = r.decision;
        let (decided_by, decided_by_id) = match d.decided_by {
            DecidedBy::Admin => ("admin", None),
            DecidedBy::Grant { id, .. } => ("grant", Some(id)),
            DecidedBy::RoleRule { id } => ("role_rule", Some(id)),
            DecidedBy::Unavailable => ("unavailable", None),
            DecidedBy::NoGrant => ("none", None),
            DecidedBy::UnknownUser => ("unknown_user", None),
        };
        Self {
            allowed,
            access_level: d.level.into(),
            rate_limit_remaining_hour: r.quota.remaining_hour.map(i64::from),
            rate_limit_remaining_day: r.quota.remaining_day.map(i64::from),
            restriction_reason,
            expires_at: d.expires_at,
            decided_by: decided_by.into(),
            decided_by_id,
            explanation: d.explanation,
        }
    }
}

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: String,
    pub tenant: String,
    pub role: UserRole,
    pub groups: Vec<String>,
    pub display_name: Option<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            tenant: u.tenant,
            role: u.role.into(),
            groups: u.groups,
            display_name: u.display_name,
            disabled: u.disabled,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// Changes a user: role, groups (replacing them), display name, disabled.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub role: Option<UserRole>,
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub display_name: Patch<String>,
    pub disabled: Option<bool>,
}

impl From<UserUpdate> for UserPatch {
    fn from(u: UserUpdate) -> Self {
        Self { role: u.role.map(Into::into), groups: u.groups, display_name: u.display_name, disabled: u.disabled }
    }
}
