//! Permission, grant, role rule, access check and user bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use toolhub_domain::{
    Patch,
    access::{AccessLevel, Conditions, DecidedBy, Grant, RoleRule, Subject, Target},
    principal::User,
    services::{AccessReport, GrantPatch, NewGrant, RuleInput, UserPatch},
    validation::FieldError,
};
use utoipa::{IntoParams, ToSchema};

use super::{ToolAccessLevel, UserRole};

impl From<ToolAccessLevel> for AccessLevel {
    fn from(l: ToolAccessLevel) -> Self {
        match l {
            ToolAccessLevel::None => Self::None,
            ToolAccessLevel::Read => Self::Read,
            ToolAccessLevel::Execute => Self::Execute,
            ToolAccessLevel::Admin => Self::Admin,
        }
    }
}

impl From<AccessLevel> for ToolAccessLevel {
    fn from(l: AccessLevel) -> Self {
        match l {
            AccessLevel::None => Self::None,
            AccessLevel::Read => Self::Read,
            AccessLevel::Execute => Self::Execute,
            AccessLevel::Admin => Self::Admin,
        }
    }
}

/// Checks hours (0-23) or days (0-6) given as integers.
fn small_list(field: &str, values: Option<Vec<i32>>, max: i32, errors: &mut Vec<FieldError>) -> Option<Vec<u8>> {
    let values = values?;
    if values.iter().any(|v| !(0..=max).contains(v)) {
        errors.push(FieldError::new(field, format!("values must be 0 to {max}")));
        return None;
    }
    Some(values.into_iter().map(|v| v as u8).collect())
}

fn limit(field: &str, value: Option<i64>, errors: &mut Vec<FieldError>) -> Option<u32> {
    let value = value?;
    match u32::try_from(value) {
        Ok(v) if v >= 1 => Some(v),
        _ => {
            errors.push(FieldError::new(field, "must be at least 1 (or null for no limit)"));
            None
        }
    }
}

fn target_of(tool_id: Option<String>, server_id: Option<String>, errors: &mut Vec<FieldError>) -> Option<Target> {
    match (tool_id, server_id) {
        (Some(tool), None) => Some(Target::Tool(tool)),
        (None, Some(server)) => Some(Target::Server(server)),
        _ => {
            errors.push(FieldError::new("tool_id", "give exactly one of tool_id and server_id"));
            None
        }
    }
}

/// Grants a user access to one tool or one whole server (exactly one of `tool_id`, `server_id`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ToolPermissionCreate {
    #[schema(min_length = 1, max_length = 200)]
    pub user_id: String,
    pub tool_id: Option<String>,
    pub server_id: Option<String>,
    pub access_level: ToolAccessLevel,
    #[schema(minimum = 1)]
    pub rate_limit_per_hour: Option<i64>,
    #[schema(minimum = 1)]
    pub rate_limit_per_day: Option<i64>,
    /// UTC hours (0-23) in which the grant applies; empty or null means always.
    pub allowed_hours: Option<Vec<i32>>,
    /// Weekdays (0 = Monday to 6) in which the grant applies; empty or null means always.
    pub allowed_days: Option<Vec<i32>>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl ToolPermissionCreate {
    pub fn into_domain(self) -> Result<NewGrant, Vec<FieldError>> {
        let subject = format!("user:{}", self.user_id);
        GrantCreate {
            subject,
            tool_id: self.tool_id,
            server_id: self.server_id,
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

/// Grants a user (`user:<id>`), a group (`group:<name>`) or everyone (`*`) access to one tool or
/// one server.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GrantCreate {
    /// `user:<id>`, `group:<name>` or `*`.
    #[schema(example = "group:engineering")]
    pub subject: String,
    pub tool_id: Option<String>,
    pub server_id: Option<String>,
    pub access_level: ToolAccessLevel,
    #[schema(minimum = 1)]
    pub rate_limit_per_hour: Option<i64>,
    #[schema(minimum = 1)]
    pub rate_limit_per_day: Option<i64>,
    pub allowed_hours: Option<Vec<i32>>,
    pub allowed_days: Option<Vec<i32>>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl GrantCreate {
    pub fn into_domain(self) -> Result<NewGrant, Vec<FieldError>> {
        let mut errors = Vec::new();
        let subject = self.subject.parse::<Subject>().map_err(|e| errors.push(FieldError::new("subject", e))).ok();
        let target = target_of(self.tool_id, self.server_id, &mut errors);
        let conditions = Conditions {
            rate_limit_per_hour: limit("rate_limit_per_hour", self.rate_limit_per_hour, &mut errors),
            rate_limit_per_day: limit("rate_limit_per_day", self.rate_limit_per_day, &mut errors),
            allowed_hours: small_list("allowed_hours", self.allowed_hours, 23, &mut errors),
            allowed_days: small_list("allowed_days", self.allowed_days, 6, &mut errors),
        };
        match (subject, target) {
            (Some(subject), Some(target)) if errors.is_empty() => Ok(NewGrant {
                subject,
                target,
                access_level: self.access_level.into(),
                conditions,
                expires_at: self.expires_at,
            }),
            _ => Err(errors),
        }
    }
}

/// Changes a permission or grant: fields present are applied, `null` clears a limit or window.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ToolPermissionUpdate {
    pub access_level: Option<ToolAccessLevel>,
    #[serde(default)]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub rate_limit_per_hour: Patch<i64>,
    #[serde(default)]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub rate_limit_per_day: Patch<i64>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<i32>>)]
    pub allowed_hours: Patch<Vec<i32>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<i32>>)]
    pub allowed_days: Patch<Vec<i32>>,
    #[serde(default)]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Patch<DateTime<Utc>>,
}

impl ToolPermissionUpdate {
    pub fn into_domain(self) -> Result<GrantPatch, Vec<FieldError>> {
        let mut errors = Vec::new();
        let patch = GrantPatch {
            access_level: self.access_level.map(Into::into),
            rate_limit_per_hour: self
                .rate_limit_per_hour
                .filter_map(|v| limit("rate_limit_per_hour", Some(v), &mut errors)),
            rate_limit_per_day: self
                .rate_limit_per_day
                .filter_map(|v| limit("rate_limit_per_day", Some(v), &mut errors)),
            allowed_hours: self.allowed_hours.filter_map(|v| small_list("allowed_hours", Some(v), 23, &mut errors)),
            allowed_days: self.allowed_days.filter_map(|v| small_list("allowed_days", Some(v), 6, &mut errors)),
            expires_at: self.expires_at,
        };
        if errors.is_empty() { Ok(patch) } else { Err(errors) }
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

fn targets(target: Target) -> (Option<String>, Option<String>) {
    match target {
        Target::Tool(id) => (Some(id), None),
        Target::Server(id) => (None, Some(id)),
    }
}

impl From<Grant> for GrantResponse {
    fn from(g: Grant) -> Self {
        let (tool_id, server_id) = targets(g.target);
        Self {
            id: g.id,
            subject: g.subject.to_string(),
            tool_id,
            server_id,
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
}

/// A rule giving a role access to the tools and servers whose names match glob patterns
/// (`*`, `?`; other characters literal; both patterns must match when both are set).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleToolAccessCreate {
    pub role: UserRole,
    #[schema(max_length = 200)]
    pub tool_pattern: Option<String>,
    #[schema(max_length = 200)]
    pub server_pattern: Option<String>,
    pub access_level: ToolAccessLevel,
    #[schema(minimum = 1)]
    pub default_rate_limit_per_hour: Option<i64>,
    #[schema(minimum = 1)]
    pub default_rate_limit_per_day: Option<i64>,
    pub allowed_hours: Option<Vec<i32>>,
    pub allowed_days: Option<Vec<i32>>,
}

impl RoleToolAccessCreate {
    pub fn into_domain(self) -> Result<RuleInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let conditions = Conditions {
            rate_limit_per_hour: limit("default_rate_limit_per_hour", self.default_rate_limit_per_hour, &mut errors),
            rate_limit_per_day: limit("default_rate_limit_per_day", self.default_rate_limit_per_day, &mut errors),
            allowed_hours: small_list("allowed_hours", self.allowed_hours, 23, &mut errors),
            allowed_days: small_list("allowed_days", self.allowed_days, 6, &mut errors),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(RuleInput {
            role: self.role.into(),
            tool_pattern: self.tool_pattern,
            server_pattern: self.server_pattern,
            access_level: self.access_level.into(),
            conditions,
        })
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
    /// `admin`, `grant`, `role_rule`, `unavailable` or `none`.
    pub decided_by: String,
    /// The id of the deciding grant or rule.
    pub decided_by_id: Option<String>,
    /// How each tier was weighed, in order.
    pub explanation: Vec<String>,
}

impl From<AccessReport> for ToolAccessResult {
    fn from(r: AccessReport) -> Self {
        let d = r.decision;
        let quota_exhausted = d.allowed && r.quota.exhausted();
        let (decided_by, decided_by_id) = match d.decided_by {
            DecidedBy::Admin => ("admin", None),
            DecidedBy::Grant { id, .. } => ("grant", Some(id)),
            DecidedBy::RoleRule { id } => ("role_rule", Some(id)),
            DecidedBy::Unavailable => ("unavailable", None),
            DecidedBy::NoGrant => ("none", None),
        };
        Self {
            allowed: d.allowed && !quota_exhausted,
            access_level: d.level.into(),
            rate_limit_remaining_hour: r.quota.remaining_hour.map(i64::from),
            rate_limit_remaining_day: r.quota.remaining_day.map(i64::from),
            restriction_reason: if quota_exhausted { Some("Rate limit exceeded".into()) } else { d.reason },
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
