//! Partial updates that tell "field absent" from "field set to null".

use serde::{Deserialize, Deserializer};

/// One field of a partial update. Use with `#[serde(default)]` so an absent field is `Absent`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    /// The field was not sent: keep the value.
    Absent,
    /// The field was sent as `null`: clear the value.
    Null,
    /// The field was sent with this value.
    Value(T),
}

impl<T> Patch<T> {
    /// Whether the field was not sent.
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    /// The value set, if any (absent and null alike give `None`).
    pub fn as_value(&self) -> Option<&T> {
        match self {
            Self::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The patch, borrowing its value.
    pub fn as_ref(&self) -> Patch<&T> {
        match self {
            Self::Absent => Patch::Absent,
            Self::Null => Patch::Null,
            Self::Value(v) => Patch::Value(v),
        }
    }

    /// The patch with its value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Self::Absent => Patch::Absent,
            Self::Null => Patch::Null,
            Self::Value(v) => Patch::Value(f(v)),
        }
    }

    /// Converts a present value; a value that does not convert (`None`) leaves the field absent,
    /// so the caller reports the error and nothing is changed.
    pub fn filter_map<U>(self, f: impl FnOnce(T) -> Option<U>) -> Patch<U> {
        match self {
            Self::Absent => Patch::Absent,
            Self::Null => Patch::Null,
            Self::Value(v) => f(v).map_or(Patch::Absent, Patch::Value),
        }
    }

    /// Applies the patch to a nullable field.
    pub fn apply_to(self, target: &mut Option<T>) {
        match self {
            Self::Absent => {}
            Self::Null => *target = None,
            Self::Value(v) => *target = Some(v),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Self::Value(value),
            None => Self::Null,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        field: Patch<u32>,
    }

    #[test]
    fn tells_absent_from_null_from_value() {
        let parse = |s: &str| serde_json::from_str::<Body>(s).unwrap().field;
        assert_eq!(parse("{}"), Patch::Absent);
        assert_eq!(parse(r#"{"field":null}"#), Patch::Null);
        assert_eq!(parse(r#"{"field":7}"#), Patch::Value(7));
    }

    #[test]
    fn filter_map_converts_values_and_keeps_null() {
        assert_eq!(Patch::Value("7").filter_map(|v| v.parse::<u8>().ok()), Patch::Value(7));
        assert_eq!(Patch::Value("x").filter_map(|v| v.parse::<u8>().ok()), Patch::Absent);
        assert_eq!(Patch::<&str>::Null.filter_map(|v| v.parse::<u8>().ok()), Patch::Null);
        assert_eq!(Patch::<&str>::Absent.filter_map(|v| v.parse::<u8>().ok()), Patch::Absent);
    }

    #[test]
    fn applies_to_nullable_fields() {
        let mut target = Some(1);
        Patch::Absent.apply_to(&mut target);
        assert_eq!(target, Some(1));
        Patch::Value(2).apply_to(&mut target);
        assert_eq!(target, Some(2));
        Patch::Null.apply_to(&mut target);
        assert_eq!(target, None);
    }
}
