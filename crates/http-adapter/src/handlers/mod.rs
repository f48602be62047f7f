//! Thin handlers: parse, call a domain service, map the result.

pub mod access;
pub mod calls;
pub mod health;
pub mod lifecycle;
pub mod servers;
