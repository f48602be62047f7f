//! Thin handlers: parse, call a domain service, map the result.

pub mod health;
pub mod pending;
pub mod servers;
