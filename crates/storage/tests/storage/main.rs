//! The storage adapter against real databases: a SQLite file and a PostgreSQL server.
//! The port contract (what every implementation of a repository port keeps) runs on the
//! domain's in-memory store too (`<test>::memory`, `<test>::sqlite`, `<test>::postgres`).

mod access;
mod calls;
mod harness;
mod keys_and_users;
mod queries;
mod replicas;
mod servers;
mod toolkits;
