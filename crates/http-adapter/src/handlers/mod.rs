//! Thin handlers: parse, call a domain service, map the result.

pub mod access;
pub mod calls;
pub mod chatai;
pub mod emporix;
pub mod health;
pub mod keys;
pub mod lifecycle;
pub mod openwebui;
pub mod portability;
pub mod servers;
pub mod toolkits;

use toolhub_domain::validation::FieldError;

use crate::problem::ApiError;

/// Checks a listing's `limit` (1-1000, default 50) and `offset` (at least 0, default 0).
pub fn paging(limit: Option<i64>, offset: Option<i64>) -> Result<(i64, i64), ApiError> {
    paging_as(limit, offset, "offset")
}

/// [`paging`], where the offset parameter has another name.
pub fn paging_as(limit: Option<i64>, offset: Option<i64>, offset_name: &str) -> Result<(i64, i64), ApiError> {
    let (limit, offset) = (limit.unwrap_or(50), offset.unwrap_or(0));
    let mut errors = Vec::new();
    if !(1..=1000).contains(&limit) {
        errors.push(FieldError::new("limit", "must be between 1 and 1000"));
    }
    if offset < 0 {
        errors.push(FieldError::new(offset_name, "must be at least 0"));
    }
    if errors.is_empty() { Ok((limit, offset)) } else { Err(ApiError::validation(errors)) }
}
