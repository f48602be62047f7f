//! Thin handlers: parse, call a domain service, map the result.

pub mod access;
pub mod health;
pub mod lifecycle;
pub mod pending;
pub mod servers;
