//! Custom HTTP tools (`type: api-request`): the request a tool's `config` describes, filled
//! from the call's arguments, and how the answer becomes the tool's result. Pure: the request
//! is sent by the upstream port ([`crate::upstream::UpstreamConnector::send_request`]).
//!
//! The config, as JSON (or JSON text):
//!
//! ```json
//! {
//!   "method": "POST",
//!   "url": "https://api.example/repos/{owner}/{repo}/issues",
//!   "query": {"state": "{state}"},
//!   "headers": {"Authorization": "Bearer ghp_..."},
//!   "body": {"title": "{title}", "labels": "{labels}"},
//!   "accept_status": [201],
//!   "result": "/number",
//!   "timeout": 30
//! }
//! ```
//!
//! `{name}` in the URL's path, query and header values is the argument's text (URL values
//! percent-encoded); in `body`, a string that is exactly `{name}` is the argument's JSON value,
//! other strings are filled as text. `"arguments_as_body": true` sends the arguments as the body
//! instead. Placeholders may not stand in the URL's scheme or host: a call chooses values, not
//! destinations. `accept_status` defaults to any 2xx; `result` is a JSON pointer selecting part
//! of a JSON answer; `timeout` is 1 to 300 seconds (default 30).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Limits of api-request configs.
pub mod limits {
    /// The longest deadline of one request, in seconds.
    pub const TIMEOUT_MAX: u64 = 300;
    /// The deadline when the config names none.
    pub const TIMEOUT_DEFAULT: u64 = 30;
    /// Characters of a failed answer quoted in the tool's error.
    pub const ERROR_QUOTE_MAX: usize = 2_000;
}

/// The methods a custom tool may use.
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

/// A request as a custom tool's config describes it (see the module's documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    method: String,
    url: String,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    body: BodyTemplate,
    accept_status: Vec<u16>,
    result: Option<String>,
    timeout_secs: u64,
}

#[derive(Debug, Clone, PartialEq)]
enum BodyTemplate {
    None,
    Template(Value),
    Arguments,
}

/// A request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The absolute URL, query included.
    pub url: String,
    /// Headers to send, as filled.
    pub headers: Vec<(String, String)>,
    /// The JSON body, if any.
    pub body: Option<Value>,
    /// How long the answer may take.
    pub timeout: std::time::Duration,
}

/// What the service answered.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, as received.
    pub body: Vec<u8>,
}

impl ApiRequest {
    /// Reads a config (an object, or JSON text holding one); the message says what is wrong.
    pub fn parse(config: &Value) -> Result<Self, String> {
        let parsed;
        let config = match config {
            Value::String(text) => {
                parsed = serde_json::from_str::<Value>(text).map_err(|e| format!("is not JSON: {e}"))?;
                &parsed
            }
            other => other,
        };
        let Some(map) = config.as_object() else { return Err("must be an object".into()) };
        const KNOWN: [&str; 9] =
            ["method", "url", "query", "headers", "body", "arguments_as_body", "accept_status", "result", "timeout"];
        if let Some(unknown) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(format!("{unknown}: unknown field (known: {})", KNOWN.join(", ")));
        }
        let method = match map.get("method") {
            None => "GET".to_owned(),
            Some(Value::String(m)) if METHODS.contains(&m.to_ascii_uppercase().as_str()) => m.to_ascii_uppercase(),
            Some(_) => return Err(format!("method: must be one of {}", METHODS.join(", "))),
        };
        let url = map.get("url").and_then(Value::as_str).ok_or("url: required, a text")?.to_owned();
        check_url_template(&url)?;
        let texts = |field: &str| -> Result<BTreeMap<String, String>, String> {
            match map.get(field) {
                None => Ok(BTreeMap::new()),
                Some(Value::Object(values)) => values
                    .iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => Ok((k.clone(), s.clone())),
                        other => Ok((k.clone(), other.to_string())),
                    })
                    .collect(),
                Some(_) => Err(format!("{field}: must be an object of texts")),
            }
        };
        let query = texts("query")?;
        let headers = texts("headers")?;
        if let Some(name) = headers.keys().find(|n| !crate::server::is_header_name(n)) {
            return Err(format!("headers.{name}: not an HTTP header name"));
        }
        let body = match (map.get("body"), map.get("arguments_as_body")) {
            (Some(_), Some(Value::Bool(true))) => return Err("body: give a body or arguments_as_body, not both".into()),
            (_, Some(Value::Bool(true))) => BodyTemplate::Arguments,
            (_, Some(other)) if !other.is_boolean() => return Err("arguments_as_body: must be true or false".into()),
            (Some(template), _) => BodyTemplate::Template(template.clone()),
            (None, _) => BodyTemplate::None,
        };
        let accept_status = match map.get("accept_status") {
            None => Vec::new(),
            Some(Value::Array(codes)) => codes
                .iter()
                .map(|c| c.as_u64().filter(|c| (100..600).contains(c)).map(|c| c as u16))
                .collect::<Option<Vec<u16>>>()
                .ok_or("accept_status: must be a list of HTTP statuses")?,
            Some(_) => return Err("accept_status: must be a list of HTTP statuses".into()),
        };
        let result = match map.get("result") {
            None => None,
            Some(Value::String(p)) if p.is_empty() || p.starts_with('/') => Some(p.clone()),
            Some(_) => return Err("result: must be a JSON pointer (\"/items/0\")".into()),
        };
        let timeout_secs = match map.get("timeout") {
            None => limits::TIMEOUT_DEFAULT,
            Some(t) => t
                .as_u64()
                .filter(|t| (1..=limits::TIMEOUT_MAX).contains(t))
                .ok_or(format!("timeout: must be 1 to {} seconds", limits::TIMEOUT_MAX))?,
        };
        Ok(Self { method, url, query, headers, body, accept_status, result, timeout_secs })
    }

    /// The request these arguments make; the message says which argument is missing or unusable.
    pub fn render(&self, arguments: &Map<String, Value>) -> Result<HttpRequest, String> {
        let path_filled = fill(&self.url, arguments, true)?;
        let mut url = url::Url::parse(&path_filled).map_err(|e| format!("the URL made from the arguments: {e}"))?;
        for (name, template) in &self.query {
            let value = fill(template, arguments, false)?;
            url.query_pairs_mut().append_pair(name, &value);
        }
        let mut headers = Vec::new();
        for (name, template) in &self.headers {
            let value = fill(template, arguments, false)?;
            if value.contains(['\r', '\n', '\0']) {
                return Err(format!("the header {name} would hold a line break"));
            }
            headers.push((name.clone(), value));
        }
        let body = match &self.body {
            BodyTemplate::None => None,
            BodyTemplate::Arguments => Some(Value::Object(arguments.clone())),
            BodyTemplate::Template(template) => Some(fill_json(template, arguments)?),
        };
        Ok(HttpRequest {
            method: self.method.clone(),
            url: url.to_string(),
            headers,
            body,
            timeout: std::time::Duration::from_secs(self.timeout_secs),
        })
    }

    /// The tool's MCP result for an answer: an accepted status gives its JSON (the part
    /// `result` selects) as text and, when an object, as `structuredContent`, or its text; any
    /// other status is a tool error quoting the answer.
    pub fn result(&self, answer: &HttpAnswer) -> (Value, bool) {
        let accepted = if self.accept_status.is_empty() {
            (200..300).contains(&answer.status)
        } else {
            self.accept_status.contains(&answer.status)
        };
        let text = String::from_utf8_lossy(&answer.body);
        if !accepted {
            let quoted: String = text.chars().take(limits::ERROR_QUOTE_MAX).collect();
            return (text_result(&format!("HTTP {}: {quoted}", answer.status), true), true);
        }
        let json = answer
            .content_type
            .as_deref()
            .is_some_and(|t| t.contains("json"))
            .then(|| serde_json::from_slice::<Value>(&answer.body).ok())
            .flatten();
        match (json, &self.result) {
            (Some(value), pointer) => {
                let selected = match pointer {
                    Some(p) => match value.pointer(p) {
                        Some(part) => part.clone(),
                        None => return (text_result(&format!("the answer has nothing at {p}"), true), true),
                    },
                    None => value,
                };
                let text = match &selected {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let mut result = text_result(&text, false);
                if selected.is_object() {
                    result["structuredContent"] = selected;
                }
                (result, false)
            }
            (None, Some(p)) => (text_result(&format!("the answer is not JSON, so nothing is at {p}"), true), true),
            (None, None) => (text_result(&text, false), false),
        }
    }
}

fn text_result(text: &str, is_error: bool) -> Value {
    json!({"content": [{"type": "text", "text": text}], "isError": is_error})
}

/// The scheme and host of the URL are fixed; placeholders may follow.
fn check_url_template(url: &str) -> Result<(), String> {
    let after_scheme = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("url: must start with http:// or https://")?;
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains(['{', '}']) {
        return Err("url: the host must be written out (placeholders may follow it)".into());
    }
    let sample = url.replace(['{', '}'], "");
    url::Url::parse(&sample).map(|_| ()).map_err(|e| format!("url: {e}"))
}

/// Fills `{name}` placeholders with arguments' text (percent-encoded when `encode`).
fn fill(template: &str, arguments: &Map<String, Value>, encode: bool) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &rest[start + 1..start + len];
        let value = match arguments.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => return Err(format!("the argument '{name}' is missing")),
            Some(other) => other.to_string(),
        };
        if encode {
            out.push_str(&percent_encode(&value));
        } else {
            out.push_str(&value);
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A body template filled: `"{name}"` alone is the argument's value; other strings are filled.
fn fill_json(template: &Value, arguments: &Map<String, Value>) -> Result<Value, String> {
    Ok(match template {
        Value::String(s) => {
            let whole = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')).filter(|n| !n.contains(['{', '}']));
            match whole {
                Some(name) => arguments.get(name).cloned().unwrap_or(Value::Null),
                None => Value::String(fill(s, arguments, false)?),
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_json(v, arguments)).collect::<Result<_, _>>()?),
        Value::Object(map) => Value::Object(
            map.iter().map(|(k, v)| Ok((k.clone(), fill_json(v, arguments)?))).collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// RFC 3986 unreserved characters stay; every other byte is `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn arguments_fill_path_query_headers_and_body() {
        let config = json!({
            "method": "post", "url": "https://api.example/repos/{owner}/{repo}/issues",
            "query": {"draft": "{draft}"}, "headers": {"Authorization": "Bearer t", "X-Who": "{who}"},
            "body": {"title": "{title}", "labels": "{labels}", "note": "by {who}"},
        });
        let request = ApiRequest::parse(&config).unwrap();
        let made = request
            .render(&args(
                json!({"owner": "a b", "repo": "x/../y", "draft": true, "who": "ann", "title": "T", "labels": ["l1"]}),
            ))
            .unwrap();
        assert_eq!(made.method, "POST");
        assert_eq!(made.url, "https://api.example/repos/a%20b/x%2F..%2Fy/issues?draft=true");
        assert_eq!(made.headers, [("Authorization".into(), "Bearer t".into()), ("X-Who".into(), "ann".into())]);
        assert_eq!(made.body, Some(json!({"title": "T", "labels": ["l1"], "note": "by ann"})));
        assert_eq!(request.render(&args(json!({"owner": "a"}))).unwrap_err(), "the argument 'repo' is missing");
    }

    #[test]
    fn configs_that_cannot_work_are_refused_with_the_field() {
        for (config, field) in [
            (json!({"url": "https://{host}/x"}), "url"),
            (json!({"url": "ftp://a/x"}), "url"),
            (json!({"url": "https://a", "method": "TRACE"}), "method"),
            (json!({"url": "https://a", "timeout": 0}), "timeout"),
            (json!({"url": "https://a", "accept_status": [99]}), "accept_status"),
            (json!({"url": "https://a", "headers": {"bad name": "x"}}), "headers"),
            (json!({"url": "https://a", "body": {}, "arguments_as_body": true}), "body"),
            (json!({"url": "https://a", "colour": 1}), "colour"),
            (json!("not json"), "is not JSON"),
        ] {
            let error = ApiRequest::parse(&config).unwrap_err();
            assert!(error.starts_with(field), "{config}: {error}");
        }
        assert!(ApiRequest::parse(&json!("{\"url\": \"https://a/{x}\"}")).is_ok(), "JSON text");
    }

    #[test]
    fn answers_become_results() {
        let answer = |status, body: &str| HttpAnswer {
            status,
            content_type: Some("application/json".into()),
            body: body.as_bytes().to_vec(),
        };
        let plain = ApiRequest::parse(&json!({"url": "https://a"})).unwrap();
        let (result, error) = plain.result(&answer(200, r#"{"id": 7}"#));
        assert!(!error);
        assert_eq!(result["structuredContent"], json!({"id": 7}));
        let (result, error) = plain.result(&answer(404, "nope"));
        assert!(error);
        assert_eq!(result["content"][0]["text"], "HTTP 404: nope");
        let selecting =
            ApiRequest::parse(&json!({"url": "https://a", "result": "/items/0/name", "accept_status": [202]})).unwrap();
        let (result, _) = selecting.result(&answer(202, r#"{"items": [{"name": "x"}]}"#));
        assert_eq!(result["content"][0]["text"], "x");
        assert!(selecting.result(&answer(200, "{}")).1, "200 is not accepted here");
    }
}
