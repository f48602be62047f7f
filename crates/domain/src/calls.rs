//! Tool calls as records: what was called, by whom, with what (secrets redacted, size capped),
//! and how it went. Also the argument check against a tool's JSON Schema.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::{Timestamp, secret::looks_secret, validation::FieldError};

crate::wire_enum! {
    /// How a call ended.
    CallStatus {
        /// The tool ran and answered.
        Success = "success",
        /// The tool ran and reported an error (`isError`).
        ToolError = "tool_error",
        /// Toolhub or the upstream failed the call (timeout, unreachable, protocol error).
        Failed = "failed",
        /// Refused before reaching the tool (access, quota, arguments, state).
        Rejected = "rejected",
    }
}

impl CallStatus {
    /// Whether the call counts as an error of the tool in its usage counters.
    pub fn is_error(self) -> bool {
        matches!(self, Self::ToolError | Self::Failed)
    }
}

/// One tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// The record's id (a ULID).
    pub id: String,
    /// The tenant of the call.
    pub tenant: String,
    /// The tool called, when the call named an existing one.
    pub tool_id: Option<String>,
    /// The tool's name (as named when the tool was unknown).
    pub tool_name: String,
    /// The tool's server, when known.
    pub server_id: Option<String>,
    /// The server's name (as named when unknown).
    pub server_name: String,
    /// Who called.
    pub principal_id: String,
    /// The caller's groups at the time.
    pub groups: Vec<String>,
    /// Redacted and size-capped.
    pub arguments: Value,
    /// A short account of the result or the failure.
    pub result_summary: Option<String>,
    /// How the call ended.
    pub status: CallStatus,
    /// The stable error code of a failed or refused call.
    pub error_code: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: f64,
    /// The request's correlation id (`mcp:<client>/<version>@<session>` from the gateway).
    pub correlation_id: Option<String>,
    /// The grant whose quota and usage the call counted against.
    pub grant_id: Option<String>,
    /// When the call was made.
    pub called_at: Timestamp,
}

/// What a batch of calls adds to one tool's usage counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolUsage {
    /// Calls that reached the tool.
    pub calls: i64,
    /// Of those, the ones that failed or that the tool reported as errors.
    pub errors: i64,
    /// Their summed duration.
    pub total_ms: f64,
    /// The latest of them.
    pub last_called: Option<Timestamp>,
    /// The summary of the latest failed one.
    pub last_error: Option<String>,
}

/// The counters of a tool, as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolCounters {
    /// Calls counted so far.
    pub total_calls: i64,
    /// Errors counted so far.
    pub total_errors: i64,
    /// The running average duration of the counted calls.
    pub avg_response_time_ms: Option<f64>,
    /// The latest counted call.
    pub last_called: Option<Timestamp>,
    /// The summary of the latest counted error.
    pub last_error: Option<String>,
}

impl ToolUsage {
    /// The counters after adding this usage: totals add up, the average runs over every call.
    pub fn apply_to(&self, c: &ToolCounters) -> ToolCounters {
        let calls = c.total_calls + self.calls;
        let average = if calls == 0 {
            c.avg_response_time_ms
        } else {
            Some((c.avg_response_time_ms.unwrap_or(0.0) * c.total_calls as f64 + self.total_ms) / calls as f64)
        };
        ToolCounters {
            total_calls: calls,
            total_errors: c.total_errors + self.errors,
            avg_response_time_ms: average,
            last_called: self.last_called.max(c.last_called),
            last_error: self.last_error.clone().or_else(|| c.last_error.clone()),
        }
    }
}

/// What a batch of calls adds to a grant's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantUsage {
    /// Calls the grant decided.
    pub uses: i64,
    /// The latest of them.
    pub last_used: Timestamp,
}

/// The usage a batch of call records adds, per tool id and per (tenant, grant id). Only calls
/// that reached the tool count (refusals do not); a grant counts every call it let through.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    /// By tool id.
    pub tools: HashMap<String, ToolUsage>,
    /// By tenant and grant id.
    pub grants: HashMap<(String, String), GrantUsage>,
}

impl Usage {
    /// Adds up the records (in the order they were made).
    pub fn of(records: &[CallRecord]) -> Self {
        let mut usage = Self::default();
        for r in records.iter().filter(|r| r.status != CallStatus::Rejected) {
            if let Some(tool) = &r.tool_id {
                let u = usage.tools.entry(tool.clone()).or_default();
                u.calls += 1;
                u.total_ms += r.duration_ms;
                u.last_called = u.last_called.max(Some(r.called_at));
                if r.status.is_error() {
                    u.errors += 1;
                    u.last_error = r.result_summary.clone();
                }
            }
            if let Some(grant) = &r.grant_id {
                let g = usage
                    .grants
                    .entry((r.tenant.clone(), grant.clone()))
                    .or_insert(GrantUsage { uses: 0, last_used: r.called_at });
                g.uses += 1;
                g.last_used = g.last_used.max(r.called_at);
            }
        }
        usage
    }
}

/// A call that counted against a grant's quota (it was allowed), as the call log keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct CountedCall {
    /// The caller's tenant.
    pub tenant: String,
    /// The caller.
    pub principal_id: String,
    /// The grant that decided.
    pub grant_id: String,
    /// When.
    pub called_at: Timestamp,
}

/// Which calls a listing returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFilter {
    /// Only calls of this tool name.
    pub tool: Option<String>,
    /// Only calls of this server name.
    pub server: Option<String>,
    /// Only calls of this user.
    pub user: Option<String>,
    /// Only calls that ended so.
    pub status: Option<CallStatus>,
    /// Only calls made at or after this time.
    pub since: Option<Timestamp>,
    /// Only calls made before this time.
    pub until: Option<Timestamp>,
}

/// The fields a call log can be queried and sorted by (as the API names them: `user_id` is
/// the caller).
pub const CALL_FIELDS: crate::query::Fields = {
    use crate::query::{Field, FieldKind::*};
    &[
        Field::new("id", Text),
        Field::new("tool_id", Text),
        Field::new("tool_name", Text),
        Field::new("server_id", Text),
        Field::new("server_name", Text),
        Field::new("user_id", Text),
        Field::new("status", Text),
        Field::new("error_code", Text),
        Field::new("result_summary", Text),
        Field::new("duration_ms", Number),
        Field::new("correlation_id", Text),
        Field::new("called_at", Time),
    ]
};

impl crate::query::Queryable for CallRecord {
    fn value(&self, field: &str) -> Option<crate::query::Scalar> {
        use crate::query::Scalar;
        let text = Scalar::text;
        match field {
            "id" => text(&self.id),
            "tool_id" => self.tool_id.as_deref().and_then(text),
            "tool_name" => text(&self.tool_name),
            "server_id" => self.server_id.as_deref().and_then(text),
            "server_name" => text(&self.server_name),
            "user_id" => text(&self.principal_id),
            "status" => text(self.status.as_str()),
            "error_code" => self.error_code.as_deref().and_then(text),
            "result_summary" => self.result_summary.as_deref().and_then(text),
            "duration_ms" => Some(Scalar::Number(self.duration_ms)),
            "correlation_id" => self.correlation_id.as_deref().and_then(text),
            "called_at" => Some(Scalar::Time(self.called_at)),
            _ => None,
        }
    }
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
#[cfg(feature = "argument-schemas")]
pub type ArgumentsValidator = jsonschema::Validator;

/// Without the `argument-schemas` feature no schema compiles: arguments reach tools unchecked
/// (and the crate does without `jsonschema` and its ~100 dependencies).
#[cfg(not(feature = "argument-schemas"))]
#[derive(Debug)]
pub enum ArgumentsValidator {}

/// Compiles a schema; a schema the validator cannot compile is the upstream's problem, not the
/// caller's, so it checks nothing.
pub fn compile_schema(schema: Option<&Value>) -> Option<ArgumentsValidator> {
    #[cfg(feature = "argument-schemas")]
    return jsonschema::validator_for(schema?).ok();
    #[cfg(not(feature = "argument-schemas"))]
    {
        let _ = schema;
        None
    }
}

/// Checks arguments against a tool's input schema; each failure names its path.
pub fn check_arguments(schema: Option<&Value>, arguments: &Value) -> Result<(), Vec<FieldError>> {
    match compile_schema(schema) {
        Some(validator) => check_with(&validator, arguments),
        None => Ok(()),
    }
}

/// Checks arguments with a compiled schema.
#[cfg(not(feature = "argument-schemas"))]
pub fn check_with(validator: &ArgumentsValidator, _arguments: &Value) -> Result<(), Vec<FieldError>> {
    match *validator {}
}

/// Checks arguments with a compiled schema.
#[cfg(feature = "argument-schemas")]
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
