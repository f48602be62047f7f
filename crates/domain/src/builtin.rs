//! Built-in tools, run in-process: what the seed's `builtin_tools` server offers.

use serde_json::{Map, Value, json};

use crate::{Timestamp, upstream::DiscoveredTool};

/// The name of the built-in server every tenant can use.
pub const SERVER_NAME: &str = "builtin_tools";
/// The stand-in command of built-in servers (never executed).
pub const COMMAND: &str = "toolhub-builtin";

/// The built-in tools, as discovery lists them.
pub fn tools() -> Vec<DiscoveredTool> {
    vec![
        DiscoveredTool {
            name: "calculator".into(),
            title: Some("Calculator".into()),
            description: Some("Evaluate an arithmetic expression: numbers, + - * / % ^ and parentheses".into()),
            input_schema: json!({
                "type": "object",
                "properties": {"expression": {"type": "string", "description": "e.g. (2 + 3) * 4.5"}},
                "required": ["expression"],
            }),
            output_schema: None,
            annotations: Some(json!({"readOnlyHint": true, "idempotentHint": true})),
        },
        DiscoveredTool {
            name: "get_time".into(),
            title: Some("Get Time".into()),
            description: Some("The current date and time in UTC (RFC 3339), or at a fixed UTC offset".into()),
            input_schema: json!({
                "type": "object",
                "properties": {"utc_offset": {"type": "string", "description": "e.g. +02:00; default UTC"}},
            }),
            output_schema: None,
            annotations: Some(json!({"readOnlyHint": true})),
        },
    ]
}

/// Runs a built-in tool. `Err` is a tool error (the call itself succeeded).
pub fn call(name: &str, arguments: &Map<String, Value>, now: Timestamp) -> Result<String, String> {
    match name {
        "calculator" => {
            let expression = arguments.get("expression").and_then(Value::as_str).ok_or("expression is required")?;
            evaluate(expression).map(format_number)
        }
        "get_time" => match arguments.get("utc_offset").and_then(Value::as_str) {
            None | Some("") | Some("UTC") | Some("Z") => Ok(now.to_rfc3339()),
            Some(offset) => {
                let offset = offset.parse::<chrono::FixedOffset>().map_err(|_| format!("bad utc_offset '{offset}'"))?;
                Ok(now.with_timezone(&offset).to_rfc3339())
            }
        },
        other => Err(format!("unknown built-in tool '{other}'")),
    }
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{}", value as i64) } else { value.to_string() }
}

/// Evaluates an arithmetic expression with a small recursive-descent parser.
pub fn evaluate(expression: &str) -> Result<f64, String> {
    if expression.len() > 1000 {
        return Err("expression too long".into());
    }
    let mut parser = Parser { chars: expression.chars().filter(|c| !c.is_whitespace()).collect(), pos: 0, depth: 0 };
    let value = parser.sum()?;
    if parser.pos != parser.chars.len() {
        return Err(format!("unexpected '{}'", parser.chars[parser.pos]));
    }
    if value.is_finite() { Ok(value) } else { Err("the result is not a finite number".into()) }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn sum(&mut self) -> Result<f64, String> {
        let mut value = self.product()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.pos += 1;
            let rhs = self.product()?;
            value = if op == '+' { value + rhs } else { value - rhs };
        }
        Ok(value)
    }

    fn product(&mut self) -> Result<f64, String> {
        let mut value = self.power()?;
        while let Some(op @ ('*' | '/' | '%')) = self.peek() {
            self.pos += 1;
            let rhs = self.power()?;
            if op != '*' && rhs == 0.0 {
                return Err("division by zero".into());
            }
            value = match op {
                '*' => value * rhs,
                '/' => value / rhs,
                _ => value % rhs,
            };
        }
        Ok(value)
    }

    fn power(&mut self) -> Result<f64, String> {
        let base = self.unary()?;
        if self.peek() == Some('^') {
            self.pos += 1;
            let exponent = self.power()?;
            return Ok(base.powf(exponent));
        }
        Ok(base)
    }

    fn unary(&mut self) -> Result<f64, String> {
        match self.peek() {
            Some('-') => {
                self.pos += 1;
                Ok(-self.unary()?)
            }
            Some('+') => {
                self.pos += 1;
                self.unary()
            }
            _ => self.atom(),
        }
    }

    fn atom(&mut self) -> Result<f64, String> {
        match self.peek() {
            Some('(') => {
                self.depth += 1;
                if self.depth > 64 {
                    return Err("too deeply nested".into());
                }
                self.pos += 1;
                let value = self.sum()?;
                if self.peek() != Some(')') {
                    return Err("missing ')'".into());
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(value)
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                text.parse().map_err(|_| format!("bad number '{text}'"))
            }
            Some(c) => Err(format!("unexpected '{c}'")),
            None => Err("unexpected end of expression".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calculator_follows_precedence() {
        for (expression, expected) in [
            ("1 + 2 * 3", 7.0),
            ("(1 + 2) * 3", 9.0),
            ("2 ^ 3 ^ 2", 512.0),
            ("-4 + 10 / 4", -1.5),
            ("7 % 4", 3.0),
            ("--3", 3.0),
        ] {
            assert_eq!(evaluate(expression), Ok(expected), "{expression}");
        }
        for bad in ["", "1 +", "(1", "1 / 0", "2 ** 3", "abc", "1)", &"(".repeat(100)] {
            assert!(evaluate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tools_answer() {
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let args = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(call("calculator", &args(json!({"expression": "6*7"})), now), Ok("42".into()));
        assert_eq!(call("get_time", &args(json!({})), now), Ok("2026-11-23T10:00:00+00:00".into()));
        assert_eq!(
            call("get_time", &args(json!({"utc_offset": "+02:00"})), now),
            Ok("2026-11-23T12:00:00+02:00".into())
        );
        assert!(call("calculator", &args(json!({})), now).is_err());
        assert!(call("nope", &args(json!({})), now).is_err());
    }
}
