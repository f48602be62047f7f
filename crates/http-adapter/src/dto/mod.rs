//! The API's request and response bodies, named as in the seed SDK so generated clients match.

pub mod access;
pub mod calls;
pub mod chatai;
pub mod common;
pub mod emporix;
pub mod keys;
pub mod lifecycle;
pub mod openwebui;
pub mod query;
pub mod servers;
pub mod toolkits;

pub use access::*;
pub use calls::*;
pub use chatai::*;
pub use common::*;
pub use emporix::*;
pub use keys::*;
pub use lifecycle::*;
pub use openwebui::*;
pub use query::*;
pub use servers::*;
pub use toolkits::*;

use toolhub_domain::validation::FieldError;

/// Flattens `validator`'s nested report into field errors with readable messages.
pub fn field_errors(errors: &validator::ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    // validator reports in hash order; sort so responses are stable.
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn collect(errors: &validator::ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    use validator::ValidationErrorsKind as Kind;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            Kind::Field(list) => out.extend(list.iter().map(|e| FieldError::new(path.clone(), describe(e)))),
            Kind::Struct(inner) => collect(inner, &path, out),
            Kind::List(items) => {
                for (index, inner) in items {
                    collect(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

fn describe(e: &validator::ValidationError) -> String {
    if let Some(message) = &e.message {
        return message.to_string();
    }
    let param = |name: &str| e.params.get(name).map(|v| v.to_string());
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("length must be between {min} and {max} characters"),
            (Some(min), None) => format!("length must be at least {min} characters"),
            (None, Some(max)) => format!("length must be at most {max} characters"),
            _ => "invalid length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            _ => "out of range".into(),
        },
        "url" => "must be a valid URL".into(),
        code => format!("invalid ({code})"),
    }
}
