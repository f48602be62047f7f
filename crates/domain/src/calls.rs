//! Tool calls as records: what was called, by whom, with what (secrets redacted, size capped),
//! and how it went. Also the argument check against a tool's JSON Schema.

use serde_json::{Map, Value, json};

use crate::{Timestamp, secret::looks_secret, validation::FieldError};

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallStatus {
    /// The tool ran and answered.
    Success,
    /// The tool ran and reported an error (`isError`).
    ToolError,
    /// Toolhub or the upstream failed the call (timeout, unreachable, protocol error).
    Failed,
    /// Refused before reaching the tool (access, quota, arguments, state).
    Rejected,
}

impl CallStatus {
    pub const ALL: [CallStatus; 4] = [Self::Success, Self::ToolError, Self::Failed, Self::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::ToolError => "tool_error",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
        }
    }

    /// Whether the call counts as an error of the tool in its usage counters.
    pub fn is_error(self) -> bool {
        matches!(self, Self::ToolError | Self::Failed)
    }
}

impl std::str::FromStr for CallStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| format!("unknown call status '{s}'"))
    }
}

/// One tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    pub id: String,
    pub tenant: String,
    pub tool_id: Option<String>,
    pub tool_name: String,
    pub server_id: Option<String>,
    pub server_name: String,
    pub principal_id: String,
    pub groups: Vec<String>,
    /// Redacted and size-capped.
    pub arguments: Value,
    pub result_summary: Option<String>,
    pub status: CallStatus,
    pub error_code: Option<String>,
    pub duration_ms: f64,
    pub correlation_id: Option<String>,
    /// The grant whose quota and usage the call counted against.
    pub grant_id: Option<String>,
    pub called_at: Timestamp,
}

/// Which calls a listing returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFilter {
    pub tool: Option<String>,
    pub server: Option<String>,
    pub user: Option<String>,
    pub status: Option<CallStatus>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// Stored arguments are capped at this many bytes of JSON.
pub const ARGUMENTS_MAX: usize = 8 * 1024;
/// Result summaries are capped at this many characters.
pub const SUMMARY_MAX: usize = 500;

/// Replaces the values of secret-looking keys, at any depth, and caps the size.
pub fn redact(arguments: &Value) -> Value {
    fn walk(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = if looks_secret(k) { json!(crate::secret::MASK) } else { walk(v) };
                        (k.clone(), v)
                    })
                    .collect::<Map<_, _>>(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(walk).collect()),
            other => other.clone(),
        }
    }
    let redacted = walk(arguments);
    let text = redacted.to_string();
    if text.len() <= ARGUMENTS_MAX {
        redacted
    } else {
        let cut: String = text.chars().take(ARGUMENTS_MAX).collect();
        json!({"truncated": true, "bytes": text.len(), "prefix": cut})
    }
}

/// The text of a tool result, shortened, for the log.
pub fn summarize(result: &Value) -> Option<String> {
    let text = result["content"]
        .as_array()
        .map(|blocks| blocks.iter().filter_map(|b| b["text"].as_str()).collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| result.to_string());
    Some(text.chars().take(SUMMARY_MAX).collect())
}

/// A tool's input schema, compiled once for many calls.
pub type ArgumentsValidator = jsonschema::Validator;

/// Compiles a schema; a schema the validator cannot compile is the upstream's problem, not the
/// caller's, so it checks nothing.
pub fn compile_schema(schema: Option<&Value>) -> Option<ArgumentsValidator> {
    jsonschema::validator_for(schema?).ok()
}

/// Checks arguments against a tool's input schema; each failure names its path.
pub fn check_arguments(schema: Option<&Value>, arguments: &Value) -> Result<(), Vec<FieldError>> {
    match compile_schema(schema) {
        Some(validator) => check_with(&validator, arguments),
        None => Ok(()),
    }
}

/// Checks arguments with a compiled schema.
pub fn check_with(validator: &ArgumentsValidator, arguments: &Value) -> Result<(), Vec<FieldError>> {
    let errors: Vec<FieldError> = validator
        .iter_errors(arguments)
        .map(|e| {
            let path = e.instance_path.to_string();
            let field =
                if path.is_empty() { "arguments".to_owned() } else { format!("arguments{}", path.replace('/', ".")) };
            FieldError::new(field, e.to_string())
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth_and_size_is_capped() {
        let redacted =
            redact(&json!({"query": "x", "api_key": "k1", "nested": {"Password": "p", "list": [{"token": "t"}]}}));
        assert_eq!(
            redacted,
            json!({"query": "x", "api_key": "********", "nested": {"Password": "********", "list": [{"token": "********"}]}})
        );
        let big = redact(&json!({"blob": "x".repeat(20_000)}));
        assert_eq!(big["truncated"], true);
        assert!(big.to_string().len() < ARGUMENTS_MAX + 200);
    }

    #[test]
    fn arguments_are_checked_with_paths() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "object", "properties": {"c": {"type": "string"}}}}, "required": ["a"]});
        assert!(check_arguments(Some(&schema), &json!({"a": 1})).is_ok());
        let errors = check_arguments(Some(&schema), &json!({"a": "one", "b": {"c": 2}})).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"arguments.a") && fields.contains(&"arguments.b.c"), "{fields:?}");
        let missing = check_arguments(Some(&schema), &json!({})).unwrap_err();
        assert_eq!(missing[0].field, "arguments");
        assert!(check_arguments(None, &json!({"anything": true})).is_ok());
    }

    #[test]
    fn summaries_join_text_and_are_short() {
        assert_eq!(
            summarize(&json!({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]})).unwrap(),
            "a b"
        );
        assert_eq!(
            summarize(&json!({"content": [{"type": "text", "text": "x".repeat(1000)}]})).unwrap().len(),
            SUMMARY_MAX
        );
    }
}
