//! The real application over real HTTP on a free loopback port, on SQLite and PostgreSQL,
//! and the real binary end to end.

mod access;
mod auth;
mod binary;
mod calls;
mod harness;
mod lifecycle;
mod matrix;
mod mcp_gateway;
mod openapi_servers;
mod platform;
mod portability;
mod queries;
mod seed_surfaces;
mod servers;
mod toolkits;
