//! Secret values: kept in clear in memory (upstreams need them), sealed at rest by the storage
//! adapter, and never shown to clients or logs.

use std::{collections::BTreeMap, fmt};

/// What clients see in place of a secret; sending it back on update keeps the stored value.
pub const MASK: &str = "********";

/// A string that must not leak: `Debug` and `Display` print the mask.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The clear value, for the few places that must send it (upstream connections, sealing).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// One value of a headers or environment map; secret values are sealed at rest and masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    /// A value shown as it is.
    Plain(String),
    /// A value sealed at rest and masked in answers.
    Secret(Secret),
}

impl ConfigValue {
    /// Whether the value is secret.
    pub fn is_secret(&self) -> bool {
        matches!(self, Self::Secret(_))
    }

    /// The value a client may see.
    pub fn masked(&self) -> &str {
        match self {
            Self::Plain(v) => v,
            Self::Secret(_) => MASK,
        }
    }

    /// The clear value (for the upstream connection, and for sealing).
    pub fn expose(&self) -> &str {
        match self {
            Self::Plain(v) => v,
            Self::Secret(s) => s.expose(),
        }
    }
}

/// Upstream headers or child-process environment: name to value, sorted by name.
pub type ConfigMap = BTreeMap<String, ConfigValue>;

/// Names that hold credentials by convention are secret even when the client does not say so.
pub fn looks_secret(name: &str) -> bool {
    const MARKERS: [&str; 9] =
        ["authorization", "cookie", "token", "secret", "password", "passwd", "apikey", "api-key", "api_key"];
    let lower = name.to_ascii_lowercase();
    MARKERS.iter().any(|m| lower.contains(m)) || lower.ends_with("-key") || lower.ends_with("_key")
}

/// Builds a map from a client's plain map and the names it marked secret. A value equal to
/// [`MASK`] keeps the previous value of that name, so a client can send back what it read;
/// a name that was secret stays secret.
pub fn merge_config_map(
    incoming: BTreeMap<String, String>,
    secret_names: &[String],
    previous: Option<&ConfigMap>,
) -> ConfigMap {
    incoming
        .into_iter()
        .map(|(name, value)| {
            let old = previous.and_then(|p| p.get(&name));
            let was_secret = old.is_some_and(ConfigValue::is_secret);
            let value = match old {
                Some(old) if value == MASK => old.clone(),
                _ if was_secret
                    || looks_secret(&name)
                    || secret_names.iter().any(|s| s.eq_ignore_ascii_case(&name)) =>
                {
                    ConfigValue::Secret(Secret::new(value))
                }
                _ => ConfigValue::Plain(value),
            };
            (name, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), format!("{MASK} {MASK}"));
        assert!(!format!("{:?}", ConfigValue::Secret(s)).contains("hunter2"));
    }

    #[test]
    fn credential_names_are_secret() {
        for name in ["Authorization", "X-API-Key", "GITHUB_TOKEN", "db_password", "OPENAI_API_KEY", "x-client-secret"] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["Accept", "X-Region", "PATH", "HOME"] {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn merge_marks_and_keeps_masked_values() {
        let previous = merge_config_map(
            BTreeMap::from([("Authorization".into(), "Bearer a".into()), ("X-Region".into(), "eu".into())]),
            &[],
            None,
        );
        assert!(previous["Authorization"].is_secret());
        assert!(!previous["X-Region"].is_secret());

        let next = merge_config_map(
            BTreeMap::from([
                ("Authorization".into(), MASK.into()),
                ("X-Region".into(), "us".into()),
                ("X-Tenant-Id".into(), "t1".into()),
            ]),
            &["x-tenant-id".to_string()],
            Some(&previous),
        );
        assert_eq!(next["Authorization"].expose(), "Bearer a");
        assert_eq!(next["X-Region"].expose(), "us");
        assert!(next["X-Tenant-Id"].is_secret());

        let again = merge_config_map(BTreeMap::from([("X-Tenant-Id".into(), "t2".into())]), &[], Some(&next));
        assert!(again["X-Tenant-Id"].is_secret(), "once secret, always secret");
    }
}
