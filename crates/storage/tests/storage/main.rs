//! The storage adapter against real databases: a SQLite file and a PostgreSQL server.
//! Every test runs on both (`<test>::sqlite`, `<test>::postgres`).

mod access;
mod calls;
mod harness;
mod keys_and_users;
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
