//! The real application over real HTTP on a free loopback port, on SQLite and PostgreSQL,
//! and the real binary end to end.

mod access;
mod auth;
mod binary;
mod calls;
mod harness;
mod lifecycle;
mod platform;
mod servers;

/// Declares each listed `async fn(Backend)` as one test per database.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::harness::Backend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                super::$name($crate::harness::Backend::Postgres).await
            }
        }
    )*};
}
