//! Enumerations of the wire format, mirrored from the domain so the schema lists their values.

use serde::{Deserialize, Serialize};
use toolhub_domain::{Role, server, tool};
use utoipa::ToSchema;

macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident => $domain:path { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value { $(<$domain>::$variant => Self::$variant),+ }
            }
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value { $($name::$variant => Self::$variant),+ }
            }
        }
    };
}

mirror_enum! {
    /// A server's state; `enabled` means running.
    ServerStatus => server::ServerStatus { Enabled, Disabled, Error, Starting, Stopping }
}

mirror_enum! {
    /// A tool's administrative state.
    ToolStatus => tool::ToolStatus { Enabled, Disabled, Unavailable, Error }
}

mirror_enum! {
    /// What a bulk operation does to each server.
    BulkOperation => toolhub_domain::services::BulkOperation { Start, Stop, Restart, Enable, Disable }
}

mirror_enum! {
    /// A principal's role.
    UserRole => Role { Guest, User, PowerUser, Admin, SuperAdmin }
}

mirror_enum! {
    /// What a grant allows: `read` to see a tool, `execute` to call it, `admin` to manage it;
    /// `none` denies explicitly.
    ToolAccessLevel => toolhub_domain::access::AccessLevel { None, Read, Execute, Admin }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrored_enums_share_the_wire_names() {
        for status in server::ServerStatus::ALL {
            let wire = serde_json::to_value(ServerStatus::from(*status)).unwrap();
            assert_eq!(wire, status.as_str());
        }
        for status in tool::ToolStatus::ALL {
            assert_eq!(serde_json::to_value(ToolStatus::from(*status)).unwrap(), status.as_str());
        }
        for role in Role::ALL {
            assert_eq!(serde_json::to_value(UserRole::from(*role)).unwrap(), role.as_str());
        }
        for level in toolhub_domain::access::AccessLevel::ALL {
            assert_eq!(serde_json::to_value(ToolAccessLevel::from(*level)).unwrap(), level.as_str());
        }
        for op in toolhub_domain::services::BulkOperation::ALL {
            assert_eq!(serde_json::to_value(BulkOperation::from(*op)).unwrap(), op.as_str());
        }
    }
}

/// A point in time as clients send it: RFC 3339 (`2026-01-31T12:00:00Z`, any offset), or
/// without an offset (`2026-01-31T12:00:00`, `T` or a space between date and time), read as
/// UTC: the seed's Python clients send naive UTC datetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime(pub chrono::DateTime<chrono::Utc>);

impl UtcTime {
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
            return Some(Self(time.to_utc()));
        }
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
            .iter()
            .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
            .map(|naive| Self(naive.and_utc()))
    }
}

impl From<UtcTime> for chrono::DateTime<chrono::Utc> {
    fn from(time: UtcTime) -> Self {
        time.0
    }
}

impl<'de> Deserialize<'de> for UtcTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "'{}' is not a date-time such as 2026-01-31T12:00:00Z (without an offset, UTC is assumed)",
                crate::problem::echo(&text)
            ))
        })
    }
}
