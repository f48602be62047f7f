//! The vocabulary of access: levels, subjects, targets, conditions, grants and role rules.

use std::{fmt, str::FromStr};

use chrono::{Datelike, Timelike};

use super::{ToolRef, glob_match};
use crate::{Role, Timestamp, validation::Validator};

crate::wire_enum! {
    /// What a grant allows, least to most: `read` to see a tool, `execute` to call it, `admin` to
    /// manage it. `none` is an explicit denial.
    AccessLevel { None = "none", Read = "read", Execute = "execute", Admin = "admin" }
}

/// Who a grant is for: `user:<id>`, `group:<name>`, or everyone (`*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// One user, by id.
    User(String),
    /// Every member of a group, by name.
    Group(String),
    /// Everyone in the tenant.
    Public,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::Group(name) => write!(f, "group:{name}"),
            Self::Public => f.write_str("*"),
        }
    }
}

impl FromStr for Subject {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let valid =
            |v: &str| !v.is_empty() && v.chars().count() <= limits::SUBJECT_ID_MAX && !v.chars().any(char::is_control);
        match s.split_once(':') {
            _ if s == "*" => Ok(Self::Public),
            Some(("user", id)) if valid(id) => Ok(Self::User(id.to_owned())),
            Some(("group", name)) if valid(name) => Ok(Self::Group(name.to_owned())),
            _ => Err(format!("'{s}' is not user:<id>, group:<name> or *")),
        }
    }
}

/// What a grant covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// One tool, by id.
    Tool(String),
    /// Every tool of one server, by id.
    Server(String),
    /// A toolkit: its members, in the tier of a server grant of the same subject kind.
    Toolkit(String),
}

/// When a grant or rule applies, and how often it may be used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// Calls allowed per sliding hour; `None` for no limit.
    pub rate_limit_per_hour: Option<u32>,
    /// Calls allowed per sliding day; `None` for no limit.
    pub rate_limit_per_day: Option<u32>,
    /// UTC hours (0-23); empty or unset means any hour.
    pub allowed_hours: Option<Vec<u8>>,
    /// Weekdays, 0 = Monday to 6; empty or unset means any day.
    pub allowed_days: Option<Vec<u8>>,
}

impl Conditions {
    /// Checks the limits, hours and days, reporting each bad field to `v`.
    pub fn validate(&self, v: &mut Validator) {
        for (field, limit) in
            [("rate_limit_per_hour", self.rate_limit_per_hour), ("rate_limit_per_day", self.rate_limit_per_day)]
        {
            v.check(
                limit.is_none_or(|l| (limits::RATE_LIMIT_MIN..=limits::RATE_LIMIT_MAX).contains(&l)),
                field,
                || format!("must be {} to {} (or null for no limit)", limits::RATE_LIMIT_MIN, limits::RATE_LIMIT_MAX),
            );
        }
        if let Some(hours) = &self.allowed_hours {
            v.check(
                hours.len() <= limits::HOURS_MAX_ITEMS && hours.iter().all(|h| *h <= limits::HOUR_MAX),
                "allowed_hours",
                || format!("at most {} hours, each 0 to {} (UTC)", limits::HOURS_MAX_ITEMS, limits::HOUR_MAX),
            );
        }
        if let Some(days) = &self.allowed_days {
            v.check(
                days.len() <= limits::DAYS_MAX_ITEMS && days.iter().all(|d| *d <= limits::DAY_MAX),
                "allowed_days",
                || format!("at most {} days, each 0 (Monday) to {} (Sunday)", limits::DAYS_MAX_ITEMS, limits::DAY_MAX),
            );
        }
    }

    /// Whether `now` (UTC) is inside the hours and days.
    pub fn in_window(&self, now: Timestamp) -> bool {
        self.window().contains(&Moment::of(now))
    }

    /// The hours and days as bit masks, for checking many moments (or many grants) fast.
    pub fn window(&self) -> Window {
        let mask = |allowed: &Option<Vec<u8>>, all: u32| match allowed {
            Some(values) if !values.is_empty() => values.iter().filter(|v| **v < 32).fold(0, |m, v| m | 1 << v),
            _ => all,
        };
        Window { hours: mask(&self.allowed_hours, u32::MAX), days: mask(&self.allowed_days, u32::MAX) as u8 }
    }
}

/// A point in time with its UTC hour and weekday worked out once (a decision weighs many grants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    /// The time.
    pub at: Timestamp,
    /// Its UTC hour, 0 to 23.
    pub hour: u8,
    /// Its weekday, 0 (Monday) to 6.
    pub day: u8,
}

impl Moment {
    /// The moment `at`.
    pub fn of(at: Timestamp) -> Self {
        Self { at, hour: at.hour() as u8, day: at.weekday().num_days_from_monday() as u8 }
    }
}

/// The hours and days of [`Conditions`] as bit masks (bit n: hour n, day n).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    hours: u32,
    days: u8,
}

impl Window {
    /// Whether the moment is inside the window.
    pub fn contains(self, moment: &Moment) -> bool {
        self.hours & (1 << moment.hour) != 0 && self.days & (1 << moment.day) != 0
    }
}

/// A grant: a subject's access to one tool, one server or one toolkit.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// The grant's id (a ULID).
    pub id: String,
    /// The tenant it belongs to.
    pub tenant: String,
    /// Who it is for.
    pub subject: Subject,
    /// What it covers.
    pub target: Target,
    /// What it allows; `none` denies.
    pub access_level: AccessLevel,
    /// Its quotas and time windows.
    pub conditions: Conditions,
    /// When it stops applying.
    pub expires_at: Option<Timestamp>,
    /// Who made it.
    pub granted_by: String,
    /// When it was made.
    pub granted_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Calls made under it.
    pub usage_count: i64,
    /// When a call last used it.
    pub last_used: Option<Timestamp>,
}

impl Grant {
    /// A grant made now by `granted_by`, with no conditions, no expiry and no usage yet.
    pub fn new(
        tenant: impl Into<String>,
        subject: Subject,
        target: Target,
        access_level: AccessLevel,
        granted_by: impl Into<String>,
        now: Timestamp,
    ) -> Self {
        Self {
            id: crate::new_id(),
            tenant: tenant.into(),
            subject,
            target,
            access_level,
            conditions: Conditions::default(),
            expires_at: None,
            granted_by: granted_by.into(),
            granted_at: now,
            updated_at: now,
            usage_count: 0,
            last_used: None,
        }
    }
}

/// A role rule: a role's access to the tools whose names match glob patterns.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleRule {
    /// The rule's id (a ULID).
    pub id: String,
    /// The tenant it belongs to.
    pub tenant: String,
    /// The role it is for.
    pub role: Role,
    /// A glob the tool's name must match; `None` matches every tool.
    pub tool_pattern: Option<String>,
    /// A glob the server's name must match; `None` matches every server.
    pub server_pattern: Option<String>,
    /// What it allows; `none` denies.
    pub access_level: AccessLevel,
    /// Its quotas and time windows (the seed's default limits).
    pub conditions: Conditions,
    /// Who made it.
    pub created_by: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl RoleRule {
    /// A rule made now by `created_by`, with no conditions; `None` patterns match everything.
    pub fn new(
        tenant: impl Into<String>,
        role: Role,
        tool_pattern: Option<String>,
        server_pattern: Option<String>,
        access_level: AccessLevel,
        created_by: impl Into<String>,
        now: Timestamp,
    ) -> Self {
        Self {
            id: crate::new_id(),
            tenant: tenant.into(),
            role,
            tool_pattern,
            server_pattern,
            access_level,
            conditions: Conditions::default(),
            created_by: created_by.into(),
            created_at: now,
            updated_at: now,
        }
    }

    /// How specific the rule is, for ranking rules of one role: both patterns set beat one
    /// (a pattern of exactly `*` counts as unset, since it matches everything), then the longer
    /// literal text (characters other than `*`, `?`) wins.
    pub(crate) fn specificity(&self) -> (u8, usize) {
        let patterns = [&self.tool_pattern, &self.server_pattern];
        let set = patterns.iter().filter(|p| p.as_deref().is_some_and(|p| p != "*")).count() as u8;
        let literal = patterns
            .iter()
            .filter_map(|p| p.as_deref())
            .map(|p| p.chars().filter(|c| *c != '*' && *c != '?').count())
            .sum();
        (set, literal)
    }

    pub(crate) fn matches(&self, tool: &ToolRef) -> bool {
        self.tool_pattern.as_deref().is_none_or(|p| glob_match(p, tool.tool_name))
            && self.server_pattern.as_deref().is_none_or(|p| glob_match(p, tool.server_name))
    }
}

/// Limits of grants and role rules.
pub mod limits {
    /// Characters of a role rule's tool or server pattern.
    pub const PATTERN_MAX: usize = 200;
    /// Characters of the id or group name in a grant's subject.
    pub const SUBJECT_ID_MAX: usize = 200;
    /// The smallest hourly or daily call limit (`null` for none).
    pub const RATE_LIMIT_MIN: u32 = 1;
    /// The largest call quota: what a 32-bit signed integer holds (as clients read the schema).
    pub const RATE_LIMIT_MAX: u32 = i32::MAX as u32;
    /// The last UTC hour of a window.
    pub const HOUR_MAX: u8 = 23;
    /// The last weekday of a window (0 is Monday).
    pub const DAY_MAX: u8 = 6;
    /// Hours one window lists (each at most once).
    pub const HOURS_MAX_ITEMS: usize = HOUR_MAX as usize + 1;
    /// Days one window lists (each at most once).
    pub const DAYS_MAX_ITEMS: usize = DAY_MAX as usize + 1;
}

/// Checks a role rule's patterns: at most [`limits::PATTERN_MAX`] characters, no control characters.
pub fn validate_pattern(v: &mut Validator, field: &str, pattern: &Option<String>) {
    if let Some(p) = pattern {
        v.text(field, p, 1, limits::PATTERN_MAX);
    }
}

/// The fields a grant list can be queried and sorted by (as the API names them: `subject` is
/// `user:<id>`, `group:<name>` or `*`; one of `tool_id`, `server_id`, `toolkit_id` has a value).
pub const GRANT_FIELDS: crate::query::Fields = {
    use crate::query::{Field, FieldKind::*};
    &[
        Field::new("id", Text),
        Field::new("subject", Text),
        Field::new("tool_id", Text),
        Field::new("server_id", Text),
        Field::new("toolkit_id", Text),
        Field::new("access_level", Text),
        Field::new("rate_limit_per_hour", Integer),
        Field::new("rate_limit_per_day", Integer),
        Field::new("expires_at", Time),
        Field::new("granted_by", Text),
        Field::new("granted_at", Time),
        Field::new("updated_at", Time),
        Field::new("usage_count", Integer),
        Field::new("last_used", Time),
    ]
};

fn limit(value: Option<u32>) -> Option<crate::query::Scalar> {
    value.map(|v| crate::query::Scalar::Integer(v.into()))
}

impl crate::query::Queryable for Grant {
    fn value(&self, field: &str) -> Option<crate::query::Scalar> {
        use crate::query::Scalar;
        let text = Scalar::text;
        let target = |kind: fn(&Target) -> Option<&String>| kind(&self.target).and_then(|id| text(id));
        match field {
            "id" => text(&self.id),
            "subject" => text(&self.subject.to_string()),
            "tool_id" => target(|t| if let Target::Tool(id) = t { Some(id) } else { None }),
            "server_id" => target(|t| if let Target::Server(id) = t { Some(id) } else { None }),
            "toolkit_id" => target(|t| if let Target::Toolkit(id) = t { Some(id) } else { None }),
            "access_level" => text(self.access_level.as_str()),
            "rate_limit_per_hour" => limit(self.conditions.rate_limit_per_hour),
            "rate_limit_per_day" => limit(self.conditions.rate_limit_per_day),
            "expires_at" => self.expires_at.map(Scalar::Time),
            "granted_by" => text(&self.granted_by),
            "granted_at" => Some(Scalar::Time(self.granted_at)),
            "updated_at" => Some(Scalar::Time(self.updated_at)),
            "usage_count" => Some(Scalar::Integer(self.usage_count)),
            "last_used" => self.last_used.map(Scalar::Time),
            _ => None,
        }
    }
}

/// The fields a role rule list can be queried and sorted by.
pub const RULE_FIELDS: crate::query::Fields = {
    use crate::query::{Field, FieldKind::*};
    &[
        Field::new("id", Text),
        Field::new("role", Text),
        Field::new("tool_pattern", Text),
        Field::new("server_pattern", Text),
        Field::new("access_level", Text),
        Field::new("rate_limit_per_hour", Integer),
        Field::new("rate_limit_per_day", Integer),
        Field::new("created_by", Text),
        Field::new("created_at", Time),
        Field::new("updated_at", Time),
    ]
};

impl crate::query::Queryable for RoleRule {
    fn value(&self, field: &str) -> Option<crate::query::Scalar> {
        use crate::query::Scalar;
        let text = Scalar::text;
        match field {
            "id" => text(&self.id),
            "role" => text(self.role.as_str()),
            "tool_pattern" => self.tool_pattern.as_deref().and_then(text),
            "server_pattern" => self.server_pattern.as_deref().and_then(text),
            "access_level" => text(self.access_level.as_str()),
            "rate_limit_per_hour" => limit(self.conditions.rate_limit_per_hour),
            "rate_limit_per_day" => limit(self.conditions.rate_limit_per_day),
            "created_by" => text(&self.created_by),
            "created_at" => Some(Scalar::Time(self.created_at)),
            "updated_at" => Some(Scalar::Time(self.updated_at)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_masks_agree_with_the_lists() {
        // The lists' meaning, written out: empty or unset means any.
        let fits =
            |allowed: &Option<Vec<u8>>, value: u8| allowed.as_ref().is_none_or(|a| a.is_empty() || a.contains(&value));
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-30T00:30:00Z").unwrap().to_utc();
        let cases = [
            Conditions::default(),
            Conditions { allowed_hours: Some(vec![]), allowed_days: Some(vec![]), ..Default::default() },
            Conditions { allowed_hours: Some(vec![0, 9, 17, 23]), ..Default::default() },
            Conditions { allowed_days: Some(vec![0, 6]), ..Default::default() },
            Conditions { allowed_hours: Some(vec![12]), allowed_days: Some(vec![3]), ..Default::default() },
        ];
        for conditions in cases {
            for hour in 0..24 * 7 {
                let moment = Moment::of(start + chrono::Duration::hours(hour));
                assert_eq!(
                    conditions.window().contains(&moment),
                    fits(&conditions.allowed_hours, moment.hour) && fits(&conditions.allowed_days, moment.day),
                    "{conditions:?} {moment:?}"
                );
            }
        }
    }
}
