//! Field-level validation shared by every entity: the limits live here, once.

use serde::Serialize;

/// One invalid field, as reported in a 422 problem's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Collects field errors, so one response lists every problem of a request.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn check(&mut self, ok: bool, field: &str, message: impl FnOnce() -> String) {
        if !ok {
            self.error(field, message());
        }
    }

    /// Length counted in characters, as clients count it; also refuses control characters.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min || len > max {
            self.error(field, format!("length must be between {min} and {max} characters"));
        } else if min > 0 && value.trim().is_empty() {
            self.error(field, "must not be blank");
        } else if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            self.error(field, "must not contain control characters");
        }
    }

    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if value < min || value > max {
            self.error(field, format!("must be between {min} and {max}"));
        }
    }

    /// An absolute URL with one of the given schemes, at most `MAX_URL_LEN` characters.
    pub fn url(&mut self, field: &str, value: &str, schemes: &[&str]) {
        if value.len() > MAX_URL_LEN {
            self.error(field, format!("must be at most {MAX_URL_LEN} characters"));
            return;
        }
        match url::Url::parse(value) {
            Ok(url) if schemes.contains(&url.scheme()) && url.host().is_some() => {}
            Ok(_) => self.error(field, format!("must be an absolute {} URL", schemes.join("/"))),
            Err(e) => self.error(field, format!("is not a valid URL: {e}")),
        }
    }

    pub fn finish(self) -> Result<(), crate::DomainError> {
        if self.errors.is_empty() { Ok(()) } else { Err(crate::DomainError::Validation(self.errors)) }
    }
}

pub const MAX_URL_LEN: usize = 2083;
